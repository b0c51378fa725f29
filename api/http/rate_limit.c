/* Per-instance rate limits (include/rate_limit.h). */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rate_limit.h"

/* The whole table, and its ceiling: 4 096 slots of 72 bytes (288 KiB) in
 * static storage; more clients than that evict each other, never grow it. */
#define RATE_SLOTS 4096
/* Slots searched per key: enough to make eviction rare while the table
 * has room, few enough to keep a check cheap. */
#define RATE_PROBE 16

static uint64_t fnv1a(const char *bucket, const char *key)
{
    uint64_t h = 1469598103934665603u;
    for (const char *s = bucket; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    h = (h ^ 0xffu) * 1099511628211u; /* separates bucket from key */
    for (const char *s = key; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static bool entry_is(const struct rate_entry *e, const char *bucket, const char *key)
{
    return e->bucket && !strcmp(e->bucket, bucket) && !strncmp(e->key, key, RATE_KEY_MAX - 1);
}

/* The entry for (bucket, key), else the slot to (re)use for it: a free
 * one, or the one idle longest. */
static struct rate_entry *find_slot(struct rate_entry *table, size_t n, const char *bucket,
                                    const char *key, bool *found)
{
    size_t start = (size_t)(fnv1a(bucket, key) % n), probe = n < RATE_PROBE ? n : RATE_PROBE;
    struct rate_entry *victim = NULL;
    for (size_t i = 0; i < probe; i++) {
        struct rate_entry *e = &table[(start + i) % n];
        if (entry_is(e, bucket, key)) {
            *found = true;
            return e;
        }
        if (!victim || (victim->bucket && (!e->bucket || e->last_ms < victim->last_ms))) victim = e;
    }
    *found = false;
    return victim;
}

bool rate_check(struct rate_entry *table, size_t n, const char *bucket, const char *key,
                unsigned limit, unsigned window_s, int64_t now_ms, unsigned *retry_after_s)
{
    *retry_after_s = 0;
    if (n == 0 || limit == 0 || window_s == 0) return true;
    int64_t cost = (int64_t)window_s * 1000, full = (int64_t)limit * cost;
    bool found;
    struct rate_entry *e = find_slot(table, n, bucket, key, &found);
    if (!found) {
        e->bucket = bucket;
        snprintf(e->key, sizeof e->key, "%s", key);
        e->level = full;
        e->last_ms = now_ms;
    }
    if (now_ms > e->last_ms) {
        int64_t elapsed = now_ms - e->last_ms;
        /* An entry idle for a window is full; this also bounds the product. */
        e->level = elapsed >= cost ? full : e->level + elapsed * (int64_t)limit;
        if (e->level > full) e->level = full;
        e->last_ms = now_ms;
    }
    if (e->level >= cost) {
        e->level -= cost;
        return true;
    }
    int64_t wait_ms = (cost - e->level + limit - 1) / limit;
    *retry_after_s = (unsigned)((wait_ms + 999) / 1000);
    if (*retry_after_s == 0) *retry_after_s = 1;
    return false;
}

static struct rate_entry table[RATE_SLOTS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

bool rate_limit_allow(const char *bucket, const char *key, unsigned limit, unsigned window_s,
                      unsigned *retry_after_s)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    pthread_mutex_lock(&table_lock);
    bool ok = rate_check(table, RATE_SLOTS, bucket, key, limit, window_s, now_ms, retry_after_s);
    pthread_mutex_unlock(&table_lock);
    return ok;
}

bool rate_ip_key(const char *ip, char *out, size_t len)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, ip, &v4) == 1) return inet_ntop(AF_INET, &v4, out, (socklen_t)len);
    if (inet_pton(AF_INET6, ip, &v6) != 1) return false;
    memset(v6.s6_addr + 8, 0, 8);
    char text[INET6_ADDRSTRLEN];
    if (!inet_ntop(AF_INET6, &v6, text, sizeof text)) return false;
    return snprintf(out, len, "%s/64", text) < (int)len;
}
