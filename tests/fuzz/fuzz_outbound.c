/* libFuzzer target: the outbound webhook URL rules (an admin's endpoint
 * URL, parsed by libcurl) and the address check the sender applies to
 * every address it connects to. Input: the URL; its first 16 bytes are
 * also tried as an IPv6 and its first 4 as an IPv4 address. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "outbound_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_cstr(data, size);
    if (!url) return 0;
    const char *strict = outbound_url_problem(url, false);
    const char *lax = outbound_url_problem(url, true);
    /* what passes the strict rules passes the lax ones */
    if (!strict && lax) abort();
    free(url);
    if (size >= 16) {
        struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};
        memcpy(&v6.sin6_addr, data, 16);
        (void)outbound_addr_public((struct sockaddr *)&v6);
    }
    if (size >= 4) {
        struct sockaddr_in v4 = {.sin_family = AF_INET};
        memcpy(&v4.sin_addr, data, 4);
        (void)outbound_addr_public((struct sockaddr *)&v4);
    }
    return 0;
}
