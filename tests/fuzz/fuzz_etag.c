/* libFuzzer target: If-None-Match against an ETag. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etag.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = fuzz_cstr(data, size);
    if (!h) return 0;
    (void)etag_none_match(h, "\"t-1-42\"");
    /* the tag itself, also behind W/ and in a list, always matches */
    if (!etag_none_match("\"t-1-42\"", "\"t-1-42\"") ||
        !etag_none_match("W/\"x\", \"t-1-42\"", "\"t-1-42\""))
        abort();
    free(h);
    return 0;
}
