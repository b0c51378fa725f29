/* See include/tally_cache.h. A handful of rounds are ever read at once, so
 * the entries are a small array searched linearly under one lock; the
 * generation check needs no lock at all. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tally_cache.h"

#define SLOTS 32
#define KEY_MAX 40

struct slot {
    char key[KEY_MAX];
    unsigned long gen;
    long long fresh_until;
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

bool tally_cache_get(const char *key, long long now_ms, struct tally_copy *out)
{
    unsigned long gen = atomic_load(&generation);
    bool hit = false;
    pthread_rwlock_rdlock(&lock);
    struct slot *s = find(key);
    if (s && s->gen == gen && now_ms < s->fresh_until && (out->body = malloc(s->copy.len + 1))) {
        memcpy(out->body, s->copy.body, s->copy.len + 1);
        out->len = s->copy.len;
        out->frozen = s->copy.frozen;
        memcpy(out->etag, s->copy.etag, sizeof out->etag);
        hit = true;
    }
    pthread_rwlock_unlock(&lock);
    atomic_fetch_add(hit ? &hits : &misses, 1);
    return hit;
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
