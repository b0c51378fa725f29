/* /v1/rounds: votes on what the newsroom covers next (SPEC §4). Admins
 * schedule and close rounds; members cast ballots while a round is open;
 * anyone reads rounds and their tallies. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "etag.h"
#include "handlers.h"
#include "log.h"
#include "store_votes.h"
#include "tally_cache.h"
#include "tally_notify.h"

/* No round offers more topics; no ballot can name more. */
#define TOPIC_IDS_MAX 50
#define UUID_LEN 36

/* An open tally may come from a cache for 5 s: however many readers a hot
 * vote draws, each cache asks once per 5 s (and then mostly gets a 304),
 * while the numbers stay close to live; voters see their own ballot in
 * the PUT's reply. A frozen tally never changes. */
#define TALLY_CACHE_LIVE "public, max-age=5"
#define TALLY_CACHE_FROZEN "public, max-age=86400, immutable"

static const char *const round_statuses[] = {"scheduled", "open", "closed", NULL};

/* What is wrong with a topic_ids value, or NULL. `round` lists must be
 * non-empty and distinct here; a ballot's are checked against its round
 * in the database, after membership and the round's state. */
static const char *topic_ids_problem(const json_t *ids, bool round)
{
    if (!json_is_array(ids)) return "must be an array of topic ids";
    size_t n = json_array_size(ids);
    if (n > TOPIC_IDS_MAX) return "must hold at most 50 topic ids";
    if (round && n == 0) return "must hold at least one topic id";
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(ids, i);
        const char *s = json_string_value(v);
        if (!s || json_string_length(v) != UUID_LEN || !valid_uuid(s))
            return "must be an array of topic ids";
        for (size_t j = 0; round && j < i; j++)
            if (!strcasecmp(s, json_string_value(json_array_get(ids, j))))
                return "must not name a topic twice";
    }
    return NULL;
}

/* req_validate for a body that may hold "topic_ids", a list that struct
 * field cannot describe: the other keys are validated strictly, the list
 * here, and all errors are reported together. *ids is NULL when absent. */
static bool validate_with_topic_ids(struct req *r, const struct field *fields, bool required,
                                    bool round, json_t **ids)
{
    *ids = json_object_get(r->json, "topic_ids");
    json_t *rest = json_is_object(r->json) ? json_copy(r->json) : json_incref(r->json);
    if (!rest && r->json) {
        reply_problem(r, 500, "Out of memory.");
        return false;
    }
    json_t *errors = NULL;
    json_object_del(rest, "topic_ids");
    bool ok = validate_object(rest, fields, true, &errors);
    json_decref(rest);
    const char *problem = NULL;
    if (json_is_object(r->json))
        problem = *ids ? topic_ids_problem(*ids, round) : required ? "is required" : NULL;
    if (ok && !problem) return true;
    if (problem) {
        if (!errors) errors = json_array();
        json_array_append_new(errors,
                              json_pack("{s:s, s:s}", "field", "topic_ids", "message", problem));
    }
    reply_invalid(r, errors);
    return false;
}

void rounds_create(struct req *r)
{
    struct round_in in = {.max_choices = 1};
    struct field fields[] = {
        {.name = "title",
         .type = FIELD_STRING,
         .required = true,
         .min = 1,
         .max = 200,
         .out.str = &in.title},
        {.name = "opens_at", .type = FIELD_TIMESTAMP, .required = true, .out.str = &in.opens_at},
        {.name = "closes_at", .type = FIELD_TIMESTAMP, .required = true, .out.str = &in.closes_at},
        {.name = "max_choices",
         .type = FIELD_INT,
         .min = 1,
         .max = TOPIC_IDS_MAX,
         .out.i64 = &in.max_choices},
        {0},
    };
    if (!validate_with_topic_ids(r, fields, true, true, &in.topic_ids)) return;
    json_t *round = NULL;
    enum db_rc rc = db_round_create(r->db, r->caller.id, r->request_id, &in, &round);
    if (rc == DB_OK) tally_changed();
    reply_result(r, rc, 201, round);
}

void rounds_list(struct req *r)
{
    int limit;
    const char *after, *status;
    if (!req_list_params(r, &limit, &after) ||
        !req_query_enum(r, "status", round_statuses, &status))
        return;
    json_t *rows = NULL;
    enum db_rc rc = db_round_list(r->db, status, limit, after, &rows);
    reply_list_result(r, rc, rows, limit);
}

void rounds_get(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    json_t *round = NULL;
    enum db_rc rc = db_round_get(r->db, id, &round);
    reply_result(r, rc, 200, round);
}

void rounds_current(struct req *r)
{
    json_t *round = NULL;
    enum db_rc rc = db_round_current(r->db, &round);
    if (rc == DB_NOT_FOUND)
        reply_problem(r, 404, "No round is open right now.");
    else
        reply_result(r, rc, 200, round);
}

void rounds_update(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    json_t *ids;
    struct field fields[] = {
        {.name = "title", .type = FIELD_STRING, .min = 1, .max = 200},
        {.name = "opens_at", .type = FIELD_TIMESTAMP},
        {.name = "closes_at", .type = FIELD_TIMESTAMP},
        {.name = "max_choices", .type = FIELD_INT, .min = 1, .max = TOPIC_IDS_MAX},
        {0},
    };
    if (!validate_with_topic_ids(r, fields, false, true, &ids)) return;
    json_t *round = NULL;
    enum db_rc rc = db_round_update(r->db, r->caller.id, r->request_id, id, r->json, &round);
    if (rc == DB_OK) tally_changed();
    reply_result(r, rc, 200, round);
}

/* Closing a closed round answers it unchanged (200), so a retried close
 * is harmless. */
void rounds_close(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    json_t *round = NULL;
    enum db_rc rc = db_round_close(r->db, r->caller.id, r->request_id, id, &round);
    if (rc == DB_OK) tally_changed();
    reply_result(r, rc, 200, round);
}

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
        reply_problem(r, 500, "Out of memory.");
    }
}

/* From memory when it can be, else from the database into memory. The
 * generation is read first, so a ballot committed while we query keeps
 * our (possibly older) answer out of the cache. */
static void tally(struct req *r, const char *key, const char *id)
{
    struct tally_copy c;
    if (tally_cache_get(key, monotonic_ms(), req_header(r, "If-None-Match"), &c)) {
        reply_tally(r, &c);
        return;
    }
    unsigned long gen = tally_cache_generation();
    json_t *doc = NULL;
    enum db_rc rc = id ? db_round_tally(r->db, id, &doc) : db_round_current_tally(r->db, &doc);
    if (rc != DB_OK) {
        json_decref(doc);
        reply_db(r, rc);
        return;
    }
    bool ok = tally_copy_of(doc, &c);
    if (ok && !tally_cache_put(key, gen, fresh_until(json_object_get(doc, "tally"), c.frozen), &c))
        log_warn("tally cache: out of memory");
    json_decref(doc);
    if (ok)
        reply_tally(r, &c);
    else
        reply_problem(r, 500, "The tally came back malformed.");
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

void ballots_put(struct req *r)
{
    const char *round_id = req_uuid_param(r, 0);
    if (!round_id) return;
    json_t *ids;
    struct field none[] = {{0}};
    if (!validate_with_topic_ids(r, none, true, false, &ids)) return;
    json_t *ballot = NULL;
    enum db_rc rc = db_ballot_put(r->db, round_id, r->caller.id, ids, &ballot);
    if (rc == DB_OK) tally_changed();
    reply_result(r, rc, 200, ballot);
}

void ballots_get(struct req *r)
{
    const char *round_id = req_uuid_param(r, 0);
    if (!round_id) return;
    json_t *ballot = NULL;
    enum db_rc rc = db_ballot_get(r->db, round_id, r->caller.id, &ballot);
    if (rc == DB_NOT_FOUND)
        reply_problem(r, 404, "You have no ballot in this round.");
    else
        reply_result(r, rc, 200, ballot);
}

void ballots_delete(struct req *r)
{
    const char *round_id = req_uuid_param(r, 0);
    if (!round_id) return;
    enum db_rc rc = db_ballot_delete(r->db, r->request_id, round_id, r->caller.id);
    if (rc == DB_OK) tally_changed();
    if (rc == DB_OK)
        reply_empty(r, 204);
    else
        reply_db(r, rc);
}
