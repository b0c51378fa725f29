/* libFuzzer target: application/x-www-form-urlencoded field lookup. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"data", "signature", "merchantSignature", "a", ""};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char *out = NULL;
        enum form_status st = form_field((const char *)data, size, names[i], &out);
        if (st == FORM_OK) {
            /* a decoded value is never longer than the body and holds no NUL */
            if (!out || strlen(out) > size) abort();
        } else if (out) {
            abort();
        }
        free(out);
    }
    return 0;
}
