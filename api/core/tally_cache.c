/* See include/tally_cache.h. A handful of rounds are ever read at once, so
 * the entries are a small array searched linearly under one lock; the
 * generation check needs no lock at all. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "etag.h"
#include "tally_cache.h"

#define SLOTS 32
#define KEY_MAX 40
/* How long past its deadline a copy may still be served while one reader
 * fetches its replacement, so that a popular tally expiring sends one
 * query to the database rather than one per waiting reader. */
#define REFRESH_GRACE_MS 2000

struct slot {
    char key[KEY_MAX];
    unsigned long gen;
    long long fresh_until;
    _Atomic long long refreshing_until; /* a reader is fetching a new copy */
    struct tally_copy copy;
};

static struct slot slots[SLOTS];
static atomic_ulong generation = 1;
static atomic_ulong hits, misses;
static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;

unsigned long tally_cache_generation(void)
{
    return atomic_load(&generation);
}

void tally_cache_invalidate(void)
{
    atomic_fetch_add(&generation, 1);
}

static struct slot *find(const char *key)
{
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].copy.body && !strcmp(slots[i].key, key)) return &slots[i];
    return NULL;
}

/* The copy a conditional GET needs: the validators, and the body only
 * when the client does not have it. False when memory ran out. */
static bool copy_out(const struct tally_copy *from, const char *if_none_match,
                     struct tally_copy *out)
{
    memcpy(out->etag, from->etag, sizeof out->etag);
    out->frozen = from->frozen;
    out->body = NULL;
    out->len = 0;
    if (etag_none_match(if_none_match, from->etag)) return true;
    if (!(out->body = malloc(from->len + 1))) return false;
    memcpy(out->body, from->body, from->len + 1);
    out->len = from->len;
    return true;
}

/* Whether the slot's copy may answer now. Past its deadline, the first
 * reader to ask gets "no" and fetches; the others get the old copy until
 * the new one arrives (or the grace runs out). Only the deadline is
 * stretched so: a copy from an older generation is never served. */
static bool servable(struct slot *s, long long now)
{
    if (now < s->fresh_until) return true;
    if (now >= s->fresh_until + REFRESH_GRACE_MS) return false;
    long long busy = atomic_load(&s->refreshing_until);
    if (now < busy) return true;
    return !atomic_compare_exchange_strong(&s->refreshing_until, &busy, now + REFRESH_GRACE_MS);
}

static bool lookup(const char *key, long long now_ms, const char *if_none_match, bool grace,
                   struct tally_copy *out)
{
    unsigned long gen = atomic_load(&generation);
    bool hit = false;
    pthread_rwlock_rdlock(&lock);
    struct slot *s = find(key);
    if (s && s->gen == gen && (grace ? servable(s, now_ms) : now_ms < s->fresh_until))
        hit = copy_out(&s->copy, if_none_match, out);
    pthread_rwlock_unlock(&lock);
    atomic_fetch_add(hit ? &hits : &misses, 1);
    return hit;
}

bool tally_cache_get(const char *key, long long now_ms, const char *if_none_match,
                     struct tally_copy *out)
{
    return lookup(key, now_ms, if_none_match, true, out);
}

bool tally_cache_get_fresh(const char *key, long long now_ms, const char *if_none_match,
                           struct tally_copy *out)
{
    return lookup(key, now_ms, if_none_match, false, out);
}

void tally_cache_counts(unsigned long *h, unsigned long *m)
{
    *h = atomic_load(&hits);
    *m = atomic_load(&misses);
}

/* The slot to overwrite: the key's own, a free one, or the stalest. */
static struct slot *victim(const char *key)
{
    struct slot *s = find(key);
    if (s) return s;
    struct slot *oldest = &slots[0];
    for (int i = 0; i < SLOTS; i++) {
        if (!slots[i].copy.body) return &slots[i];
        if (slots[i].fresh_until < oldest->fresh_until) oldest = &slots[i];
    }
    return oldest;
}

bool tally_cache_put(const char *key, unsigned long gen, long long fresh_until_ms,
                     const struct tally_copy *c)
{
    if (strlen(key) >= KEY_MAX) return true; /* never a round id: not worth keeping */
    char *body = malloc(c->len + 1);
    if (!body) return false;
    memcpy(body, c->body, c->len);
    body[c->len] = '\0';
    pthread_rwlock_wrlock(&lock);
    if (gen != atomic_load(&generation)) {
        pthread_rwlock_unlock(&lock);
        free(body);
        return true;
    }
    struct slot *s = victim(key);
    free(s->copy.body);
    strcpy(s->key, key);
    s->gen = gen;
    s->fresh_until = fresh_until_ms;
    atomic_store(&s->refreshing_until, 0);
    s->copy = *c;
    s->copy.body = body;
    pthread_rwlock_unlock(&lock);
    return true;
}

void tally_cache_clear(void)
{
    pthread_rwlock_wrlock(&lock);
    for (int i = 0; i < SLOTS; i++) {
        free(slots[i].copy.body);
        slots[i].copy.body = NULL;
    }
    pthread_rwlock_unlock(&lock);
}
