#ifndef PATROND_CIDR_H
#define PATROND_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Address blocks (IPv4 and IPv6) and the client address behind trusted
 * reverse proxies (PATROND_TRUSTED_PROXIES). Pure logic, no I/O. */

struct cidr {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network byte order; 4 bytes used for IPv4 */
    unsigned prefix;        /* 0..32 or 0..128 */
};

struct cidr_list {
    struct cidr *v;
    size_t n;
};

/* "192.0.2.1", "192.0.2.0/24", "2001:db8::1", "2001:db8::/32". An
 * IPv4-mapped IPv6 block is stored as the IPv4 block it maps. Host bits
 * past the prefix are ignored. False on anything else. */
bool cidr_parse(const char *s, struct cidr *out);

/* A comma-separated list (spaces around entries and empty entries
 * allowed; NULL or empty gives an empty list). False on a bad entry,
 * which is copied into `bad`, or on out-of-memory, with `bad` empty; the
 * list is then left empty. */
bool cidr_list_parse(const char *s, struct cidr_list *out, char *bad, size_t bad_len);
void cidr_list_free(struct cidr_list *l);

/* Whether the address `ip` (text; IPv4-mapped IPv6 counts as IPv4) lies
 * in one of the blocks. False for text that is no address. */
bool cidr_list_contains(const struct cidr_list *l, const char *ip);

/* The client's address as text into out: `peer` itself unless it is a
 * trusted proxy; then the right-most X-Forwarded-For entry (`xff`, may be
 * NULL) that is not a trusted proxy. Entries left of one that is not an
 * address were written by nobody we trust, so the walk stops there and
 * the nearest trusted hop is the answer. False when `peer` is no address
 * or out is too small. */
bool cidr_client_addr(const struct cidr_list *trusted, const char *peer, const char *xff, char *out,
                      size_t len);

/* An IPv4 address (4 bytes, network order) as a dotted quad into out;
 * false when out is too small. */
bool cidr_ipv4_text(const uint8_t b[4], char *out, size_t len);

#endif
