/* /v1/rounds: votes on what the newsroom covers next (SPEC §4). Admins
 * schedule and close rounds; members cast ballots while a round is open
 * (ballots.c); anyone reads rounds and their tallies (tally.c). */
#include <strings.h>

#include "db/rounds.h"
#include "handlers.h"
#include "tally_notify.h"

/* No round offers more topics; no ballot can name more. */
#define TOPIC_IDS_MAX 50
#define UUID_LEN 36

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
 * here, and all errors are reported together. *ids is NULL when absent.
 * Ballots (ballots.c) take their list through it too. */
bool validate_with_topic_ids(struct req *r, const struct field *fields, bool required, bool round,
                             json_t **ids)
{
    *ids = json_object_get(r->json, "topic_ids");
    json_t *rest = json_is_object(r->json) ? json_copy(r->json) : json_incref(r->json);
    if (!rest && r->json) {
        reply_error(r, ERR_internal_error, "Out of memory.");
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
    struct db_status st = db_round_create(r->db, r->caller.id, r->request_id, &in, &round);
    if (st.rc == DB_OK) tally_changed();
    reply_result(r, &st, 201, round);
}

void rounds_list(struct req *r)
{
    int limit;
    const char *after, *status;
    if (!req_list_params(r, &limit, &after) ||
        !req_query_enum(r, "status", round_statuses, &status))
        return;
    json_t *rows = NULL;
    struct db_status st = db_round_list(r->db, status, limit, after, &rows);
    reply_list_result(r, &st, rows, limit);
}

void rounds_get(struct req *r)
{
    handle_get(r, db_round_get);
}

void rounds_current(struct req *r)
{
    json_t *round = NULL;
    struct db_status st = db_round_current(r->db, &round);
    if (st.rc == DB_NOT_FOUND)
        reply_error(r, ERR_not_found, "No round is open right now.");
    else
        reply_result(r, &st, 200, round);
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
    handle_patch(r, id, db_round_update, true);
}

/* Closing a closed round answers it unchanged (200), so a retried close
 * is harmless. */
void rounds_close(struct req *r)
{
    handle_action(r, db_round_close, true);
}
