/* libFuzzer target: the providers' answers to the self-service cancel
 * (each module's `cancel->outcome`), any status and any body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the first byte picks the status, so 2xx bodies are the common case */
    long status = size && data[0] >= 192 ? 100 * (data[0] % 5 + 1) + data[0] % 10 : 200;
    const char *body = size ? (const char *)data + 1 : "";
    size_t len = size ? size - 1 : 0;
    for (size_t i = 0; i < PROVIDERS_COUNT; i++) {
        const struct provider *p = provider_table[i];
        if (!p->cancel) continue;
        char why[256] = "";
        enum cancel_outcome out = p->cancel->outcome("sub_1", status, body, len, why, sizeof why);
        if (out != CANCEL_FAILED && out != CANCEL_ENDED && out != CANCEL_AT_PERIOD_END) abort();
        /* a failure always says why, within the buffer */
        if (out == CANCEL_FAILED && (!why[0] || memchr(why, 0, sizeof why) == NULL)) abort();
    }
    return 0;
}
