#ifndef PATROND_TALLY_CACHE_H
#define PATROND_TALLY_CACHE_H

/* Rendered tallies kept in memory, so that the readers a hot vote draws
 * (and their conditional GETs) cost no database work. An entry is good
 * while no write that could change a tally has happened since it was
 * computed (a process-wide generation, bumped by this instance's writes
 * and by other instances' notifications, see api/db/tally_notify.c) and
 * its freshness deadline has not passed; the deadline bounds what no
 * write announces, such as a round closing by the clock. */

#include <stdbool.h>
#include <stddef.h>

#define TALLY_ETAG_MAX 72

struct tally_copy {
    char etag[TALLY_ETAG_MAX]; /* quoted strong entity tag */
    bool frozen;               /* a closed round's final tally: it never changes */
    char *body;                /* JSON text, malloc'd, owned by the holder */
    size_t len;
};

/* Read it before asking the database, and hand it to tally_cache_put: a
 * write committed in between then keeps the older result out. */
unsigned long tally_cache_generation(void);

/* Copies the entry for `key` into *out when it is still good at `now_ms`
 * (CLOCK_MONOTONIC milliseconds). The body is copied only when the
 * client's If-None-Match (may be NULL) does not match the entry's ETag;
 * otherwise out->body is NULL and the answer is a 304. The caller frees
 * out->body. */
bool tally_cache_get(const char *key, long long now_ms, const char *if_none_match,
                     struct tally_copy *out);
/* tally_cache_get without the grace: only a copy within its deadline. For
 * the reader whose lookup missed and who is to fetch a new copy (the
 * grace it started would otherwise hand it back the old one, and nobody
 * would fetch until the grace ran out and every reader missed at once). */
bool tally_cache_get_fresh(const char *key, long long now_ms, const char *if_none_match,
                           struct tally_copy *out);

/* Stores a copy of `c` under `key`, good until `fresh_until_ms`, unless
 * the generation has moved past `gen`. False only when memory ran out. */
bool tally_cache_put(const char *key, unsigned long gen, long long fresh_until_ms,
                     const struct tally_copy *c);

/* Something that may change a tally has been committed. */
void tally_cache_invalidate(void);

/* Lookups answered from memory and not, since start (for /metrics). */
void tally_cache_counts(unsigned long *hits, unsigned long *misses);

/* Frees every entry (at shutdown, and between unit tests). */
void tally_cache_clear(void);

#endif
