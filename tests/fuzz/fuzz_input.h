#ifndef PATROND_FUZZ_INPUT_H
#define PATROND_FUZZ_INPUT_H

/* The fuzzer's bytes as the C string the code under test takes: a copy
 * with a NUL after the last byte (NULL when out of memory), to free. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return NULL;
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
