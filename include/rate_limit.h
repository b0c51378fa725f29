#ifndef PATROND_RATE_LIMIT_H
#define PATROND_RATE_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* In-memory rate limits, per instance (SPEC §5): a token bucket per
 * (bucket name, client key) holding `limit` requests that refills evenly
 * over `window_s` seconds. The table is fixed-size; when a neighbourhood
 * of it is full, the entry idle longest is reused, and an entry idle for
 * a whole window has refilled anyway, so forgetting it changes nothing. */

#define RATE_KEY_MAX 48 /* an IPv6 address in text form fits */

struct rate_entry {
    const char *bucket; /* NULL: free slot */
    char key[RATE_KEY_MAX];
    int64_t level;   /* tokens × window_ms */
    int64_t last_ms; /* last refill */
};

/* The pure logic, on a caller's table of n slots at time now_ms (any
 * monotonic clock). True when the request may proceed; otherwise
 * *retry_after_s is the wait in whole seconds (at least 1) until it may. */
bool rate_check(struct rate_entry *table, size_t n, const char *bucket, const char *key,
                unsigned limit, unsigned window_s, int64_t now_ms, unsigned *retry_after_s);

/* rate_check on the process-wide table and clock, thread-safe. `bucket`
 * must be a string with static lifetime (a literal). */
bool rate_limit_allow(const char *bucket, const char *key, unsigned limit, unsigned window_s,
                      unsigned *retry_after_s);

/* The key a client address is limited by: an IPv4 address as is, an IPv6
 * address by its /64, the smallest block one subscriber usually gets, so
 * walking through one's own addresses gains nothing. False when `ip` is
 * no address. */
bool rate_ip_key(const char *ip, char *out, size_t len);

#endif
