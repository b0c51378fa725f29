/* POST /v1/webhooks/{provider} (public: the signature is the credential)
 * and the admin's view of recorded events, with replay. Payloads are
 * never logged. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "db/webhooks.h"
#include "handlers.h"
#include "log.h"
#include "metrics.h"
#include "provider.h"
#include "tally_notify.h"

static const char *const event_statuses[] = {"received", "applied", "failed", "ignored", NULL};

static const char *live_header(void *ctx, const char *name)
{
    return req_header(ctx, name);
}

/* Replays read the stored headers, by name case-insensitively as HTTP does. */
static const char *stored_header(void *ctx, const char *name)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)ctx, key, value)
    {
        if (!strcasecmp(key, name)) return json_string_value(value);
    }
    return NULL;
}

/* The header the provider's parser reads, kept so that a replay parses
 * the same input; signatures are not needed again. A header that is not
 * UTF-8 text is left out: no parser could use it. */
static json_t *kept_headers(struct req *r, const struct provider *p)
{
    json_t *kept = json_object();
    const char *value = p->replay_header ? req_header(r, p->replay_header) : NULL;
    if (kept && value) json_object_set_new(kept, p->replay_header, json_string(value));
    return kept;
}

/* An event the pipeline can record needs its key; otherwise *why says
 * what is wrong and the payload is kept as unparsed. */
static bool parse_event(const struct provider *p, const struct wh_request *rq, struct wh_event *ev,
                        char *why, size_t why_len)
{
    if (!provider_parse(p, &cfg, rq, ev, why, why_len)) return false;
    if (*ev->event_key) return true;
    snprintf(why, why_len, "the event has no id");
    return false;
}

/* A provider that wants a signed acknowledgement builds it (`ack`); the
 * others take any 2xx. */
static void reply_ack(struct req *r, const struct provider *p, const struct wh_event *ev,
                      long long now)
{
    char *ack = p->ack && ev ? p->ack(&cfg, ev, now) : NULL;
    if (ack)
        reply_raw(r, 200, "application/json", ack, strlen(ack));
    else
        reply_json(r, 200, json_pack("{s:b}", "received", 1));
}

static void receive(struct req *r, const struct provider *p, const struct wh_request *rq)
{
    struct wh_event ev;
    char why[256] = "";
    bool parsed = parse_event(p, rq, &ev, why, sizeof why);
    json_t *headers = kept_headers(r, p);
    if (!headers) {
        reply_error(r, ERR_internal_error, "Out of memory recording the event.");
        return;
    }
    struct wh_delivery d = {p->name, rq->body, rq->body_len, headers, parsed ? &ev : NULL, why};
    json_t *result = NULL;
    bool moved = false;
    struct db_status st = db_webhook_receive(r->db, &d, &result, &moved);
    if (moved) tally_changed();
    json_decref(headers);
    if (st.rc != DB_OK) {
        reply_db(r, &st);
        return;
    }
    metrics_webhook(p->name, json_string_value(json_object_get(result, "outcome")));
    json_decref(result);
    reply_ack(r, p, parsed ? &ev : NULL, rq->now);
}

void webhooks_receive(struct req *r)
{
    const struct provider *p = provider_find(req_param(r, 0));
    if (!p || !provider_configured(p, &cfg)) {
        reply_error(r, ERR_not_found, "No such webhook provider, or it is not configured.");
        return;
    }
    struct wh_request rq = {r->body ? r->body : "", r->body_len, live_header, r,
                            (long long)time(NULL)};
    char why[256] = "";
    if (!p->verify(&cfg, &rq, why, sizeof why)) {
        metrics_webhook(p->name, "unauthorized");
        log_warn("webhook from %s rejected: %s", p->name, why);
        reply_error(r, ERR_webhook_signature_invalid,
                    "The webhook signature could not be verified.");
        return;
    }
    receive(r, p, &rq);
}

void webhook_events_list(struct req *r)
{
    int limit;
    const char *after, *status, *provider;
    if (!req_list_params(r, &limit, &after) ||
        !req_query_enum(r, "status", event_statuses, &status) ||
        !req_query_enum(r, "provider", provider_names, &provider))
        return;
    json_t *rows = NULL;
    struct db_status st = db_webhook_event_list(r->db, status, provider, limit, after, &rows);
    reply_list_result(r, &st, rows, limit);
}

void webhook_events_get(struct req *r)
{
    handle_get(r, db_webhook_event_get);
}

/* Verification is not repeated: the payload was verified on receipt, and
 * the signature's timestamp has long expired. */
static void replay(struct req *r, const char *id, const struct wh_source *src)
{
    const struct provider *p = provider_find(src->provider);
    if (!p) {
        reply_error(r, ERR_internal_error, "The stored event cannot be read.");
        return;
    }
    struct wh_request rq = {src->body, src->body_len, stored_header, src->headers,
                            (long long)time(NULL)};
    struct wh_event ev;
    char why[256] = "";
    bool parsed = parse_event(p, &rq, &ev, why, sizeof why);
    json_t *event = NULL;
    struct db_status st =
        db_webhook_replay(r->db, r->caller.id, r->request_id, id, parsed ? &ev : NULL, why, &event);
    /* A replay may move the patron's ballots; replays are rare, so the
     * tally is announced without asking. */
    if (st.rc == DB_OK) tally_changed();
    reply_result(r, &st, 200, event);
}

void webhook_events_replay(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    struct wh_source src;
    struct db_status st = db_webhook_event_source(r->db, id, &src);
    if (st.rc == DB_OK)
        replay(r, id, &src);
    else
        reply_db(r, &st);
    db_webhook_source_free(&src);
}
