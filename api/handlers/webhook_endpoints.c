/* /v1/webhook-endpoints: where patrond sends its own signed webhooks
 * (SPEC §4b). Admin only. The secret is answered by create and
 * rotate-secret only. Their replies are kept for an idempotent replay
 * like any POST's (SPEC §2): a retry whose first reply was lost must get
 * that secret, not make a second endpoint or rotate twice, and the table
 * of endpoints holds the secret in clear already. */
#include <string.h>

#include "config.h"
#include "db/webhook_endpoints.h"
#include "handlers.h"
#include "outbound_target.h"
#include "webhook_sign.h"

#define URL_MAX 2000
#define EVENTS_MAX 64

static const char *const event_types[] = {
    "member.started",   "member.ended",      "pledge.created",
    "pledge.activated", "pledge.updated",    "pledge.past_due",
    "pledge.canceled",  "payment.succeeded", "payment.failed",
    "payment.refunded", "round.opened",      "round.closed",
    "topic.proposed",   "topic.updated",     "*",
};

static const char *events_problem(json_t *events)
{
    if (!json_is_array(events)) return "must be an array of event types";
    size_t n = json_array_size(events);
    if (n == 0) return "must name at least one event type, or \"*\"";
    if (n > EVENTS_MAX) return "must name at most 64 event types";
    size_t i;
    json_t *v;
    json_array_foreach(events, i, v)
    {
        const char *s = json_string_value(v);
        bool known = false;
        for (size_t k = 0; s && k < sizeof event_types / sizeof event_types[0] && !known; k++)
            known = !strcmp(s, event_types[k]);
        if (!known) return "lists an unknown event type (see the OpenAPI description's list)";
    }
    return NULL;
}

/* The body's fields, with "events" (an array the declarative validator has
 * no type for) and the URL's target rules checked here; all errors are
 * reported together. */
static bool validate_endpoint(struct req *r, const struct field *fields, bool required,
                              json_t **events)
{
    *events = json_object_get(r->json, "events");
    json_t *rest = json_is_object(r->json) ? json_copy(r->json) : json_incref(r->json);
    if (!rest && r->json) {
        reply_error(r, ERR_internal_error, "Out of memory.");
        return false;
    }
    json_t *errors = NULL;
    json_object_del(rest, "events");
    bool ok = validate_object(rest, fields, true, &errors);
    json_decref(rest);
    if (!errors) errors = json_array();
    if (!errors) {
        reply_error(r, ERR_internal_error, "Out of memory.");
        return false;
    }
    if (json_is_object(r->json)) {
        const char *problem = *events ? events_problem(*events) : required ? "is required" : NULL;
        if (problem)
            json_array_append_new(errors,
                                  json_pack("{s:s, s:s}", "field", "events", "message", problem));
        const char *url = json_string_value(json_object_get(r->json, "url"));
        problem = url && ok ? outbound_url_problem(url, cfg.webhook_allow_private) : NULL;
        if (problem)
            json_array_append_new(errors,
                                  json_pack("{s:s, s:s}", "field", "url", "message", problem));
    }
    if (ok && json_array_size(errors) == 0) {
        json_decref(errors);
        return true;
    }
    reply_invalid(r, errors);
    return false;
}

static bool new_secret(struct req *r, char secret[WEBHOOK_SECRET_LEN + 1])
{
    if (webhook_secret_new(secret)) return true;
    reply_error(r, ERR_internal_error, "Cannot generate a secret.");
    return false;
}

void webhook_endpoints_create(struct req *r)
{
    struct webhook_endpoint_in in = {0};
    struct field fields[] = {
        {.name = "url",
         .type = FIELD_STRING,
         .required = true,
         .min = 1,
         .max = URL_MAX,
         .out.str = &in.url},
        {.name = "description",
         .type = FIELD_STRING,
         .nullable = true,
         .max = 2000,
         .out.str = &in.description},
        {0},
    };
    char secret[WEBHOOK_SECRET_LEN + 1];
    if (!validate_endpoint(r, fields, true, &in.events) || !new_secret(r, secret)) return;
    in.secret = secret;
    json_t *endpoint = NULL;
    struct db_status st =
        db_webhook_endpoint_create(r->db, r->caller.id, r->request_id, &in, &endpoint);
    reply_result(r, &st, 201, endpoint);
}

void webhook_endpoints_list(struct req *r)
{
    int limit;
    const char *after;
    if (!req_list_params(r, &limit, &after)) return;
    json_t *rows = NULL;
    struct db_status st = db_webhook_endpoint_list(r->db, limit, after, &rows);
    reply_list_result(r, &st, rows, limit);
}

void webhook_endpoints_get(struct req *r)
{
    handle_get(r, db_webhook_endpoint_get);
}

void webhook_endpoints_update(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    struct field fields[] = {
        {.name = "url", .type = FIELD_STRING, .min = 1, .max = URL_MAX},
        {.name = "description", .type = FIELD_STRING, .nullable = true, .max = 2000},
        {.name = "enabled", .type = FIELD_BOOL},
        {0},
    };
    json_t *events;
    if (!validate_endpoint(r, fields, false, &events)) return;
    handle_patch(r, id, db_webhook_endpoint_update, false);
}

void webhook_endpoints_delete(struct req *r)
{
    handle_delete(r, db_webhook_endpoint_delete, false);
}

void webhook_endpoints_rotate(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    char secret[WEBHOOK_SECRET_LEN + 1];
    if (!id || !new_secret(r, secret)) return;
    json_t *endpoint = NULL;
    struct db_status st =
        db_webhook_endpoint_rotate(r->db, r->caller.id, r->request_id, id, secret, &endpoint);
    reply_result(r, &st, 200, endpoint);
}
