/* Raw JSON value text for exact amounts (api/core/json_text.c). */
#include <string.h>

#include "check.h"
#include "json_text.h"
#include "money.h"

static char text[64];

/* The literal found for key in json, or "(none)". */
static const char *member(const char *json, const char *key)
{
    const char *start;
    size_t n;
    if (!json_member_text(json, strlen(json), key, &start, &n)) return "(none)";
    memcpy(text, start, n);
    text[n] = '\0';
    return text;
}

static void test_member_text(void)
{
    CHECK_EQ_STR(member("{\"amount\":3.5}", "amount"), "3.5");
    CHECK_EQ_STR(member(" { \"a\" : 1 , \"amount\" :\n 10.00 } ", "amount"), "10.00");
    CHECK_EQ_STR(member("{\"amount\":\"3.50\"}", "amount"), "\"3.50\"");
    /* Nested members of the same name, strings holding quotes and braces. */
    CHECK_EQ_STR(member("{\"x\":{\"amount\":1,\"y\":[{\"amount\":2}]},\"s\":\"}\\\"{\","
                        "\"amount\":7}",
                        "amount"),
                 "7");
    CHECK_EQ_STR(member("{\"amount_x\":1,\"xamount\":2,\"amount\":-0.1}", "amount"), "-0.1");
    CHECK_EQ_STR(member("{\"a\":[1,2,{\"b\":null}],\"amount\":true}", "amount"), "true");
    CHECK_EQ_STR(member("{\"a\":1}", "amount"), "(none)");
    CHECK_EQ_STR(member("{}", "amount"), "(none)");
    CHECK_EQ_STR(member("[{\"amount\":1}]", "amount"), "(none)");
    CHECK_EQ_STR(member("{\"amount\":", "amount"), "(none)");
    CHECK_EQ_STR(member("{\"amount", "amount"), "(none)");
    /* An escaped key is a different spelling: not found. */
    CHECK_EQ_STR(member("{\"\\u0061mount\":1}", "amount"), "(none)");
}

/* json_decimal_text on a document, into text; false → "(refused)". */
static const char *decimal(const char *json)
{
    json_error_t err;
    json_t *root = json_loads(json, JSON_REJECT_DUPLICATES, &err);
    if (!root) return "(bad json)";
    bool ok = json_decimal_text(root, json, strlen(json), "amount", text, 16);
    json_decref(root);
    return ok ? text : "(refused)";
}

static void test_decimal_text(void)
{
    CHECK_EQ_STR(decimal("{\"amount\":3.5,\"currency\":\"UAH\"}"), "3.5");
    CHECK_EQ_STR(decimal("{\"amount\":5.0}"), "5.0");
    CHECK_EQ_STR(decimal("{\"amount\":100}"), "100");
    CHECK_EQ_STR(decimal("{\"amount\":0.1}"), "0.1");
    CHECK_EQ_STR(decimal("{\"amount\":\"12.30\"}"), "12.30");
    CHECK_EQ_STR(decimal("{\"amount\":null}"), "");
    CHECK_EQ_STR(decimal("{\"other\":1}"), "");
    CHECK_EQ_STR(decimal("{\"amount\":true}"), "(refused)");
    CHECK_EQ_STR(decimal("{\"amount\":{\"v\":1}}"), "(refused)");
    /* Longer than the destination. */
    CHECK_EQ_STR(decimal("{\"amount\":1234567890.123456}"), "(refused)");
    CHECK_EQ_STR(decimal("{\"amount\":\"1234567890123456\"}"), "(refused)");
    /* jansson sees the escaped key but the scan cannot: they disagree. */
    CHECK_EQ_STR(decimal("{\"\\u0061mount\":3.5}"), "(refused)");
    /* The nested decoy is skipped; the top-level literal is the one taken. */
    CHECK_EQ_STR(decimal("{\"d\":{\"amount\":9.99},\"amount\":3.5}"), "3.5");

    /* The reason for all this: the double nearest 0.29 is below it. */
    int64_t minor;
    CHECK_EQ_STR(decimal("{\"amount\":0.29}"), "0.29");
    CHECK(money_parse_decimal(text, 2, &minor) && minor == 29);
}

int main(void)
{
    test_member_text();
    test_decimal_text();
    return CHECK_DONE();
}
