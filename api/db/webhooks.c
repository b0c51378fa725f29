/* Webhook events: recording, applying and replaying (SQL functions in
 * sql/40_webhooks.sql). A parsed event travels as jsonb. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/page.h"
#include "db/webhooks.h"
#include "encode.h"

static const char *const kind_names[] = {
    [WH_IGNORED] = "ignored",
    [WH_PLEDGE_ACTIVATED] = "pledge_activated",
    [WH_PAYMENT_SUCCEEDED] = "payment_succeeded",
    [WH_PAYMENT_FAILED] = "payment_failed",
    [WH_PLEDGE_CANCELED] = "pledge_canceled",
    [WH_PAYMENT_REFUNDED] = "payment_refunded",
    [WH_DISPUTE_OPENED] = "dispute_opened",
    [WH_DISPUTE_WON] = "dispute_won",
};

/* An empty field is absent; json_string() refuses text that is not UTF-8,
 * which jsonb could not hold either. */
static bool put_text(json_t *o, const char *key, const char *value)
{
    return !*value || json_object_set_new(o, key, json_string(value)) == 0;
}

static bool put_int(json_t *o, const char *key, long long value)
{
    return json_object_set_new(o, key, json_integer(value)) == 0;
}

static bool put_refunds(json_t *o, const struct wh_event *ev)
{
    if (!ev->n_refunds) return true;
    json_t *list = json_array();
    if (!list || json_object_set_new(o, "refunds", list)) return false;
    for (int i = 0; i < ev->n_refunds; i++) {
        const struct wh_refund *r = &ev->refunds[i];
        json_t *item = json_object();
        if (!item || json_array_append_new(list, item) ||
            !put_text(item, "payment_id", r->payment_id) ||
            !put_int(item, "amount_minor", r->amount_minor) ||
            !put_text(item, "occurred_at", r->occurred_at))
            return false;
    }
    return true;
}

/* The event as compact JSON text, or NULL when a field is not UTF-8 text. */
static char *event_text(const struct wh_event *ev)
{
    json_t *o = json_object();
    if ((unsigned)ev->kind >= sizeof kind_names / sizeof kind_names[0]) {
        json_decref(o);
        return NULL;
    }
    bool ok =
        o && put_text(o, "kind", kind_names[ev->kind]) && put_text(o, "event_key", ev->event_key) &&
        put_text(o, "type", ev->type) && put_text(o, "email", ev->email) &&
        put_text(o, "name", ev->name) && put_text(o, "subscription_ref", ev->subscription_ref) &&
        put_text(o, "customer_ref", ev->customer_ref) && put_text(o, "pledge_id", ev->pledge_id) &&
        put_text(o, "payment_id", ev->payment_id) && put_text(o, "charge_ref", ev->charge_ref) &&
        (!ev->has_amount || put_int(o, "amount_minor", ev->amount_minor)) &&
        put_text(o, "currency", ev->currency) && put_text(o, "interval", ev->interval) &&
        put_text(o, "period_end", ev->period_end) && put_text(o, "occurred_at", ev->occurred_at) &&
        put_text(o, "reason", ev->reason) &&
        (!ev->sequence || put_int(o, "sequence", ev->sequence)) && put_refunds(o, ev) &&
        (!ev->has_charge || put_int(o, "charge_amount_minor", ev->charge_amount_minor)) &&
        put_text(o, "charge_occurred_at", ev->charge_at);
    char *text = ok ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

/* The statement parameters of one recorded delivery. A payload whose
 * event cannot be stored is kept as unparsed, keyed by its digest. */
struct record {
    char *event, *headers;
    const char *key, *type, *failure;
    char digest[65];
};

static void record_free(struct record *rec)
{
    free(rec->event);
    free(rec->headers);
}

static bool record_event(struct record *rec, const struct wh_event *ev, const char *failure,
                         const char *body, size_t body_len)
{
    rec->event = ev ? event_text(ev) : NULL;
    if (rec->event) {
        rec->key = ev->event_key;
        rec->type = *ev->type ? ev->type : NULL;
        return true;
    }
    uint8_t sum[32];
    if (!sha256(body, body_len, sum)) return false;
    hex_encode(sum, sizeof sum, rec->digest);
    rec->key = rec->digest;
    rec->failure = ev ? "the parsed event is not valid UTF-8 text" : failure;
    return true;
}

static bool record_build(struct record *rec, const struct wh_delivery *d)
{
    memset(rec, 0, sizeof *rec);
    rec->headers = json_dumps(d->headers, JSON_COMPACT);
    if (!rec->headers) return false;
    return record_event(rec, d->ev, d->failure, d->body, d->body_len);
}

struct db_status db_webhook_receive(struct db *db, const struct wh_delivery *d, json_t **out,
                                    bool *tally_moved)
{
    struct record rec;
    *out = NULL;
    *tally_moved = false;
    if (!record_build(&rec, d)) {
        record_free(&rec);
        return db_fail(DB_ERROR);
    }
    /* The body travels as the bytea it is: binary, not as text to decode. */
    const char *values[] = {d->provider, rec.key,   rec.type,   d->body,
                            rec.headers, rec.event, rec.failure};
    const int lengths[] = {0, 0, 0, (int)d->body_len, 0, 0, 0};
    const int formats[] = {0, 0, 0, 1, 0, 0, 0};
    /* Safe to resend: the provider's event key records it once. */
    struct db_status st = db_call_json_params(
        db, "SELECT webhook_receive($1, $2, $3, $4::bytea, $5::jsonb, $6::jsonb, $7)",
        &(struct db_params){7, values, lengths, formats}, out);
    record_free(&rec);
    if (st.rc == DB_OK) *tally_moved = json_is_true(json_object_get(*out, "tally_changed"));
    return st;
}

struct db_status db_webhook_event_list(struct db *db, const char *status, const char *provider,
                                       int limit, const char *after, json_t **rows)
{
    char lim[DB_PAGE_LIMIT_LEN];
    const char *p[] = {status, provider, after, db_page_limit(lim, limit)};
    return db_json_rows(
        db,
        "SELECT webhook_event_json(e) FROM webhook_events e"
        " WHERE ($1::text IS NULL OR e.status = $1)"
        "   AND ($2::text IS NULL OR e.provider = $2)" DB_PAGE(e, webhook_events, 3, 4),
        4, p, rows);
}

struct db_status db_webhook_event_get(struct db *db, const char *id, json_t **out)
{
    return db_json_by_id(db,
                         "SELECT webhook_event_json(e) || jsonb_build_object('event', e.event)"
                         " FROM webhook_events e WHERE e.id = $1",
                         id, out);
}

/* The payload comes back as the bytea it is (a binary result), not as hex
 * text to decode: one copy of the body, byte for byte. */
struct db_status db_webhook_event_source(struct db *db, const char *id, struct wh_source *out)
{
    const char *p[] = {id};
    PGresult *res;
    memset(out, 0, sizeof *out);
    struct db_status st = db_exec_binary(
        db, "SELECT provider, payload, headers::text FROM webhook_events WHERE id = $1", 1, p,
        &res);
    if (st.rc != DB_OK) return st;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return db_fail(DB_NOT_FOUND);
    }
    size_t len = (size_t)PQgetlength(res, 0, 1);
    snprintf(out->provider, sizeof out->provider, "%s", PQgetvalue(res, 0, 0));
    out->headers = json_loadb(PQgetvalue(res, 0, 2), (size_t)PQgetlength(res, 0, 2),
                              JSON_REJECT_DUPLICATES, NULL);
    out->body = malloc(len + 1);
    if (out->body) {
        memcpy(out->body, PQgetvalue(res, 0, 1), len);
        out->body[len] = '\0';
        out->body_len = len;
    }
    PQclear(res);
    return out->body && json_is_object(out->headers) ? st : db_fail(DB_ERROR);
}

void db_webhook_source_free(struct wh_source *s)
{
    free(s->body);
    json_decref(s->headers);
    memset(s, 0, sizeof *s);
}

struct db_status db_webhook_replay(struct db *db, const char *actor, const char *rid,
                                   const char *id, const struct wh_event *ev, const char *failure,
                                   json_t **out)
{
    char *event = ev ? event_text(ev) : NULL;
    *out = NULL;
    if (ev && !event) failure = "the parsed event is not valid UTF-8 text";
    const char *p[] = {id, event ? ev->event_key : NULL, event && *ev->type ? ev->type : NULL,
                       event, event ? NULL : failure};
    struct db_status st = db_write_json(
        db, actor, rid, "SELECT webhook_replay_audited($1, $2, $3, $4::jsonb, $5)", 5, p, out);
    free(event);
    return st;
}
