/* libFuzzer target: raw member text of a JSON object (exact decimals). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    static const char *const keys[] = {"amount", "value", "id", ""};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *start;
        size_t n;
        if (json_member_text(json, size, keys[i], &start, &n)) {
            if (start < json || start + n > json + size) abort();
        }
    }
    json_t *root = json_loadb(json, size, JSON_DECODE_ANY, NULL);
    if (root) {
        char dst[64];
        if (json_decimal_text(root, json, size, "amount", dst, sizeof dst) &&
            !memchr(dst, '\0', sizeof dst))
            abort();
        json_decref(root);
    }
    return 0;
}
