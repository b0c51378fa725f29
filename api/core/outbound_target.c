/* Outbound webhook targets: which URLs and addresses may be sent to. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "outbound_target.h"

struct block {
    unsigned char prefix[16];
    unsigned bits;
};

/* IANA special-purpose IPv4 blocks no webhook receiver lives in (RFC 6890
 * and successors): this network, private, shared (CGNAT), loopback,
 * link-local, IETF protocol assignments, documentation, benchmarking,
 * multicast, reserved and broadcast. */
static const struct block v4_blocks[] = {
    {{0}, 8},
    {{10}, 8},
    {{100, 64}, 10},
    {{127}, 8},
    {{169, 254}, 16},
    {{172, 16}, 12},
    {{192, 0, 0}, 24},
    {{192, 0, 2}, 24},
    {{192, 88, 99}, 24},
    {{192, 168}, 16},
    {{198, 18}, 15},
    {{198, 51, 100}, 24},
    {{203, 0, 113}, 24},
    {{224}, 4},
    {{240}, 4},
};

/* IPv6: unspecified and loopback (in ::/96, the old IPv4-compatible
 * block, refused whole), discard, documentation, ORCHID, Teredo (an
 * obfuscated IPv4 address inside), unique local, link-local, site-local,
 * multicast, and the local-use NAT64 prefix. */
static const struct block v6_blocks[] = {
    {{0}, 96},
    {{0x01, 0x00}, 64},
    {{0x20, 0x01, 0x0d, 0xb8}, 32},
    {{0x20, 0x01, 0x00, 0x10}, 28},
    {{0x20, 0x01, 0x00, 0x00}, 32},
    {{0xfc}, 7},
    {{0xfe, 0x80}, 10},
    {{0xfe, 0xc0}, 10},
    {{0xff}, 8},
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48},
};

static bool in_block(const unsigned char *addr, const struct block *b)
{
    unsigned full = b->bits / 8, rest = b->bits % 8;
    if (memcmp(addr, b->prefix, full)) return false;
    if (!rest) return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (addr[full] & mask) == (b->prefix[full] & mask);
}

static bool v4_public(const unsigned char a[4])
{
    for (size_t i = 0; i < sizeof v4_blocks / sizeof v4_blocks[0]; i++)
        if (in_block(a, &v4_blocks[i])) return false;
    return true;
}

static bool v6_public(const unsigned char a[16])
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    /* IPv4-mapped and NAT64 (64:ff9b::/96) reach the IPv4 address inside;
     * 6to4 (2002::/16) carries one in its next 32 bits. */
    if (!memcmp(a, mapped, 12) || !memcmp(a, nat64, 12)) return v4_public(a + 12);
    if (a[0] == 0x20 && a[1] == 0x02) return v4_public(a + 2);
    for (size_t i = 0; i < sizeof v6_blocks / sizeof v6_blocks[0]; i++)
        if (in_block(a, &v6_blocks[i])) return false;
    return true;
}

bool outbound_addr_public(const struct sockaddr *sa)
{
    if (!sa) return false;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)sa;
        return v4_public((const unsigned char *)&v4->sin_addr);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)sa;
        return v6_public(v6->sin6_addr.s6_addr);
    }
    return false;
}

/* A literal address in the URL's host (IPv6 in brackets), judged at once. */
static const char *literal_problem(const char *host)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    char buf[64];
    size_t n = strlen(host);
    if (host[0] == '[' && n >= 2 && n - 2 < sizeof buf && host[n - 1] == ']') {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        if (strchr(buf, '%')) return "must not name a link-local (scoped) address";
        if (inet_pton(AF_INET6, buf, &v6->sin6_addr) != 1) return "has an invalid IPv6 address";
        ss.ss_family = AF_INET6;
    } else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        ss.ss_family = AF_INET;
    } else {
        return NULL;
    }
    return outbound_addr_public((struct sockaddr *)&ss)
               ? NULL
               : "must not be a loopback, private or link-local address";
}

static bool is_local_name(const char *host)
{
    size_t n = strlen(host);
    if (n && host[n - 1] == '.') n--;
    if (n == 9 && !strncasecmp(host, "localhost", 9)) return true;
    return n > 10 && !strncasecmp(host + n - 10, ".localhost", 10);
}

static const char *check_parts(CURLU *u, bool allow_private)
{
    char *part = NULL;
    const char *problem = NULL;
    if (curl_url_get(u, CURLUPART_SCHEME, &part, 0) != CURLUE_OK) return "must be an absolute URL";
    if (strcasecmp(part, "https") && (!allow_private || strcasecmp(part, "http")))
        problem = allow_private ? "must be an http or https URL" : "must be an https URL";
    curl_free(part);
    if (problem) return problem;
    part = NULL;
    if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK) {
        curl_free(part);
        return "must not hold a user name or password";
    }
    part = NULL;
    if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK || !part || !*part) {
        curl_free(part);
        return "must name a host";
    }
    if (!allow_private) {
        problem = literal_problem(part);
        if (!problem && is_local_name(part))
            problem = "must not be a loopback, private or link-local address";
    }
    curl_free(part);
    return problem;
}

const char *outbound_url_problem(const char *url, bool allow_private)
{
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return "must not contain spaces or control characters";
    CURLU *u = curl_url();
    if (!u) return "cannot be checked now (out of memory)";
    const char *problem = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK
                              ? check_parts(u, allow_private)
                              : "is not a valid absolute URL";
    curl_url_cleanup(u);
    return problem;
}
