/* libFuzzer target: base64url and hex encoding (length and alphabet). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *b64 = malloc(size * 4 / 3 + 4), *hex = malloc(size * 2 + 1);
    if (!b64 || !hex) goto out;
    base64url_encode(data, size, b64);
    hex_encode(data, size, hex);
    if (strlen(b64) != (size * 4 + 2) / 3) abort();
    if (strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") !=
        strlen(b64))
        abort();
    if (strlen(hex) != size * 2 || strspn(hex, "0123456789abcdef") != size * 2) abort();
    for (size_t i = 0; i < size; i++) {
        unsigned v;
        char two[3] = {hex[2 * i], hex[2 * i + 1], 0};
        v = (unsigned)strtoul(two, NULL, 16);
        if (v != data[i]) abort();
    }
    uint8_t d[32];
    if (!sha256(data, size, d)) abort();
out:
    free(b64);
    free(hex);
    return 0;
}
