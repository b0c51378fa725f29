/* libFuzzer target: decimal amounts to minor units, and back. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[128];
    if (size >= sizeof text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    for (int exponent = 0; exponent <= 3; exponent++) {
        int64_t minor;
        if (!money_parse_decimal(text, exponent, &minor)) continue;
        /* round trip: the formatted value parses back to the same amount */
        char buf[64];
        money_format_decimal(minor, exponent, buf, sizeof buf);
        int64_t again;
        if (!money_parse_decimal(buf, exponent, &again) || again != minor) {
            fprintf(stderr, "%s (exp %d) -> %" PRId64 " -> %s\n", text, exponent, minor, buf);
            abort();
        }
    }
    if (size == 3) (void)currency_exponent(text);
    return 0;
}
