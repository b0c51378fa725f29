/* /v1/rounds/{id}/tally and /v1/rounds/current/tally: anyone reads a
 * round's tally, from memory when a good copy is held (SPEC §4). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/rounds.h"
#include "etag.h"
#include "handlers.h"
#include "log.h"
#include "tally_cache.h"

#define UUID_LEN 36

/* An open tally may come from a cache for 5 s: however many readers a hot
 * vote draws, each cache asks once per 5 s (and then mostly gets a 304),
 * while the numbers stay close to live; voters see their own ballot in
 * the PUT's reply. A frozen tally never changes. */
#define TALLY_CACHE_LIVE "public, max-age=5"
#define TALLY_CACHE_FROZEN "public, max-age=86400, immutable"

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long a live tally may be served from memory: no write announces a
 * round closing by the clock, the eligible count's recount or a change
 * another instance failed to announce, so the copy is good for a second
 * at most and never past closes_at. A frozen tally never changes. */
static long long fresh_until(const json_t *tally, bool frozen)
{
    long long now = monotonic_ms();
    if (frozen) return now + 3600 * 1000LL;
    long long until = now + 1000;
    struct tm tm = {0};
    const char *closes = json_string_value(json_object_get(tally, "closes_at"));
    if (closes && sscanf(closes, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                         &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        long long left_ms = ((long long)timegm(&tm) - (long long)time(NULL)) * 1000;
        if (now + left_ms < until) until = now + left_ms;
    }
    return until;
}

/* {etag, tally} from the database as the copy a reply and the cache take. */
static bool tally_copy_of(const json_t *doc, struct tally_copy *c)
{
    const char *hash = json_string_value(json_object_get(doc, "etag"));
    const json_t *tally = json_object_get(doc, "tally");
    const char *status = json_string_value(json_object_get(tally, "status"));
    if (!hash || !status || strlen(hash) > TALLY_ETAG_MAX - 3) return false;
    snprintf(c->etag, sizeof c->etag, "\"%s\"", hash);
    c->frozen = !strcmp(status, "closed");
    c->body = json_dumps(tally, JSON_COMPACT);
    c->len = c->body ? strlen(c->body) : 0;
    return c->body != NULL;
}

/* The tally with its validators; a 304 when the client's copy is current.
 * Takes c->body. */
static void reply_tally(struct req *r, struct tally_copy *c)
{
    reply_header(r, "ETag", c->etag);
    reply_header(r, "Cache-Control", c->frozen ? TALLY_CACHE_FROZEN : TALLY_CACHE_LIVE);
    if (etag_none_match(req_header(r, "If-None-Match"), c->etag)) {
        free(c->body);
        reply_empty(r, 304);
    } else if (c->body) {
        reply_raw(r, 200, "application/json", c->body, c->len);
    } else {
        reply_error(r, ERR_internal_error, "Out of memory.");
    }
}

/* After the HTTP thread's lookup missed: from a copy another reader has
 * stored since, else from the database into memory. The generation is
 * read first, so a ballot committed while we query keeps our (possibly
 * older) answer out of the cache. */
static void tally(struct req *r, const char *key, const char *id)
{
    struct tally_copy c;
    if (tally_cache_get_fresh(key, monotonic_ms(), req_header(r, "If-None-Match"), &c)) {
        reply_tally(r, &c);
        return;
    }
    unsigned long gen = tally_cache_generation();
    json_t *doc = NULL;
    struct db_status st =
        id ? db_round_tally(r->db, id, &doc) : db_round_current_tally(r->db, &doc);
    if (st.rc != DB_OK) {
        json_decref(doc);
        reply_db(r, &st);
        return;
    }
    bool ok = tally_copy_of(doc, &c);
    if (ok && !tally_cache_put(key, gen, fresh_until(json_object_get(doc, "tally"), c.frozen), &c))
        log_warn("tally cache: out of memory");
    json_decref(doc);
    if (ok)
        reply_tally(r, &c);
    else
        reply_error(r, ERR_internal_error, "The tally came back malformed.");
}

/* The cache key of /v1/rounds/{id}/tally; false after a 404. */
static bool round_key(struct req *r, char key[UUID_LEN + 1], const char **id)
{
    if (!(*id = req_uuid_param(r, 0))) return false;
    for (int i = 0; i <= UUID_LEN; i++)
        key[i] = (char)tolower((unsigned char)(*id)[i]);
    return true;
}

/* Without a reply when the cache does not hold a good copy. */
static void tally_from_memory(struct req *r, const char *key)
{
    struct tally_copy c;
    if (tally_cache_get(key, monotonic_ms(), req_header(r, "If-None-Match"), &c))
        reply_tally(r, &c);
}

void rounds_tally_cached(struct req *r)
{
    char key[UUID_LEN + 1];
    const char *id;
    if (round_key(r, key, &id)) tally_from_memory(r, key);
}

void rounds_current_tally_cached(struct req *r)
{
    tally_from_memory(r, "current");
}

void rounds_tally(struct req *r)
{
    char key[UUID_LEN + 1];
    const char *id;
    if (round_key(r, key, &id)) tally(r, key, id);
}

void rounds_current_tally(struct req *r)
{
    tally(r, "current", NULL);
}
