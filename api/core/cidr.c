/* Address blocks and the client address behind trusted proxies
 * (include/cidr.h). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "encode.h"
#include "validate.h"

#define ADDR_TEXT_MAX 64 /* longer than any address in text form */

struct addr {
    int family;
    unsigned char b[16];
};

static const unsigned char v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Parses an address of exactly `len` bytes; an IPv4-mapped IPv6 address
 * becomes IPv4, so one client is one key whichever socket reached us. */
static bool addr_parse(const char *s, size_t len, struct addr *a)
{
    char buf[ADDR_TEXT_MAX];
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, buf, a->b) == 1) {
        a->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, buf, a->b) != 1) return false;
    a->family = AF_INET6;
    if (!memcmp(a->b, v4_mapped_prefix, sizeof v4_mapped_prefix)) {
        memmove(a->b, a->b + 12, 4);
        memset(a->b + 4, 0, 12);
        a->family = AF_INET;
    }
    return true;
}

/* By hand: glibc's inet_ntop goes through sprintf, and this runs on every
 * request. */
bool cidr_ipv4_text(const uint8_t b[4], char *out, size_t len)
{
    char text[16], *at = text;
    for (int i = 0; i < 4; i++) {
        if (i) *at++ = '.';
        if (b[i] >= 100) *at++ = (char)('0' + b[i] / 100);
        if (b[i] >= 10) *at++ = (char)('0' + b[i] / 10 % 10);
        *at++ = (char)('0' + b[i] % 10);
    }
    *at = '\0';
    return text_copy(out, len, text);
}

static bool addr_text(const struct addr *a, char *out, size_t len)
{
    if (a->family == AF_INET) return cidr_ipv4_text(a->b, out, len);
    return inet_ntop(a->family, a->b, out, (socklen_t)len) != NULL;
}

bool cidr_parse(const char *s, struct cidr *out)
{
    const char *slash = strchr(s, '/');
    struct addr a;
    if (!addr_parse(s, slash ? (size_t)(slash - s) : strlen(s), &a)) return false;
    bool mapped = a.family == AF_INET && strchr(s, ':');
    unsigned max = a.family == AF_INET ? 32 : 128;
    int64_t prefix = max;
    if (slash) {
        /* a mapped block's prefix counts the 96 bits of ::ffff:0:0/96 */
        if (slash[1] < '0' || slash[1] > '9') return false;
        if (!parse_int_in(slash + 1, mapped ? 96 : 0, mapped ? 128 : max, &prefix)) return false;
        if (mapped) prefix -= 96;
    }
    out->family = a.family;
    memcpy(out->addr, a.b, sizeof out->addr);
    out->prefix = (unsigned)prefix;
    return true;
}

static bool block_contains(const struct cidr *c, const struct addr *a)
{
    if (c->family != a->family) return false;
    unsigned whole = c->prefix / 8, rest = c->prefix % 8;
    if (memcmp(c->addr, a->b, whole)) return false;
    if (!rest) return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (c->addr[whole] & mask) == (a->b[whole] & mask);
}

static bool list_contains(const struct cidr_list *l, const struct addr *a)
{
    for (size_t i = 0; i < l->n; i++)
        if (block_contains(&l->v[i], a)) return true;
    return false;
}

bool cidr_list_contains(const struct cidr_list *l, const char *ip)
{
    struct addr a;
    return addr_parse(ip, strlen(ip), &a) && list_contains(l, &a);
}

/* [s, e) with spaces and tabs trimmed off both ends. */
static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

static bool list_add(struct cidr_list *l, const char *s, size_t len, char *bad, size_t bad_len)
{
    char entry[ADDR_TEXT_MAX + 8];
    struct cidr c;
    bool fits = len < sizeof entry;
    if (fits) {
        memcpy(entry, s, len);
        entry[len] = '\0';
    }
    if (!fits || !cidr_parse(entry, &c)) {
        if (bad && bad_len) snprintf(bad, bad_len, "%.*s", (int)len, s);
        return false;
    }
    struct cidr *grown = realloc(l->v, (l->n + 1) * sizeof *grown);
    if (!grown) {
        if (bad && bad_len) bad[0] = '\0';
        return false;
    }
    l->v = grown;
    l->v[l->n++] = c;
    return true;
}

bool cidr_list_parse(const char *s, struct cidr_list *out, char *bad, size_t bad_len)
{
    out->v = NULL;
    out->n = 0;
    if (bad && bad_len) bad[0] = '\0';
    for (const char *p = s; p && *p;) {
        size_t len = strcspn(p, ",");
        const char *b = p, *e = p + len;
        trim(&b, &e);
        if (b < e && !list_add(out, b, (size_t)(e - b), bad, bad_len)) {
            cidr_list_free(out);
            return false;
        }
        p += len + (p[len] == ',');
    }
    return true;
}

void cidr_list_free(struct cidr_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

bool cidr_client_addr(const struct cidr_list *trusted, const char *peer, const char *xff, char *out,
                      size_t len)
{
    struct addr hop;
    if (!addr_parse(peer, strlen(peer), &hop)) return false;
    const char *end = xff ? xff + strlen(xff) : NULL;
    /* Right to left: each trusted hop vouches for the entry it appended. */
    while (end && list_contains(trusted, &hop)) {
        const char *start = end;
        while (start > xff && start[-1] != ',')
            start--;
        const char *b = start, *e = end;
        trim(&b, &e);
        struct addr next;
        if (b < e && !addr_parse(b, (size_t)(e - b), &next)) break;
        if (b < e) hop = next;
        end = start > xff ? start - 1 : NULL;
    }
    return addr_text(&hop, out, len);
}
