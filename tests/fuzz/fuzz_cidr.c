/* libFuzzer target: PATROND_TRUSTED_PROXIES parsing and the client address
 * taken from X-Forwarded-For. Input: "list\npeer\nxff"; the header is what a
 * client controls, so it is also tried against a fixed list. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "fuzz_input.h"

static void client_of(const struct cidr_list *l, const char *peer, const char *xff)
{
    char out[64];
    if (cidr_client_addr(l, peer, xff, out, sizeof out) && !memchr(out, '\0', sizeof out)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size);
    if (!in) return 0;
    char *peer = strchr(in, '\n');
    char *xff = NULL;
    if (peer) {
        *peer++ = '\0';
        xff = strchr(peer, '\n');
        if (xff) *xff++ = '\0';
    }
    struct cidr one;
    (void)cidr_parse(in, &one);
    struct cidr_list fixed = {0}, list = {0};
    char bad[64];
    if (!cidr_list_parse("127.0.0.1,10.0.0.0/8,::1", &fixed, bad, sizeof bad)) abort();
    client_of(&fixed, "127.0.0.1", in);
    if (cidr_list_parse(in, &list, bad, sizeof bad)) {
        (void)cidr_list_contains(&list, peer ? peer : "127.0.0.1");
        client_of(&list, peer ? peer : "127.0.0.1", xff);
    } else if (!memchr(bad, '\0', sizeof bad)) {
        abort();
    }
    cidr_list_free(&list);
    cidr_list_free(&fixed);
    free(in);
    return 0;
}
