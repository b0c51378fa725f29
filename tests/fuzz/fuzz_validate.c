/* libFuzzer target: JSON request bodies (parsed as the server does, with
 * duplicate keys rejected) through validate_object with every field type,
 * strict and lenient, and the string validators. The handlers' field tables
 * need a server; these fields mirror theirs. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        char *bad = NULL;
        currency_allowlist_set("UAH,USD,EUR,GBP,PLN", &bad);
        free(bad);
        init = 1;
    }
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!root) return 0;
    static const char *const intervals[] = {"month", "year", NULL};
    const char *name, *email, *uuid, *cur, *iv, *ts, *url;
    int64_t amount;
    bool b;
    struct field fields[] = {
        {"name", FIELD_STRING, true, false, 1, 200, NULL, {.str = &name}, NULL, NULL},
        {"email", FIELD_EMAIL, false, true, 0, 0, NULL, {.str = &email}, NULL, NULL},
        {"id", FIELD_UUID, false, false, 0, 0, NULL, {.str = &uuid}, NULL, NULL},
        {"amount_minor", FIELD_INT, false, false, 1, 100000000, NULL, {.i64 = &amount}, NULL, NULL},
        {"currency", FIELD_CURRENCY, false, false, 0, 0, NULL, {.str = &cur}, NULL, NULL},
        {"interval", FIELD_ENUM, false, false, 0, 0, intervals, {.str = &iv}, NULL, NULL},
        {"starts_at", FIELD_TIMESTAMP, false, true, 0, 0, NULL, {.str = &ts}, NULL, NULL},
        {"url", FIELD_URL, false, false, 0, 0, NULL, {.str = &url}, NULL, NULL},
        {"active", FIELD_BOOL, false, false, 0, 0, NULL, {.b = &b}, NULL, NULL},
        {NULL, 0, false, false, 0, 0, NULL, {.str = NULL}, NULL, NULL},
    };
    for (int strict = 0; strict < 2; strict++) {
        json_t *errors = NULL;
        bool ok = validate_object(root, fields, strict, &errors);
        if (ok && errors && json_array_size(errors)) abort();
        json_decref(errors);
    }
    if (json_is_string(root)) {
        const char *s = json_string_value(root);
        (void)valid_email(s);
        (void)valid_uuid(s);
        (void)valid_rfc3339(s);
    }
    json_decref(root);
    return 0;
}
