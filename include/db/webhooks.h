#ifndef PATROND_DB_WEBHOOKS_H
#define PATROND_DB_WEBHOOKS_H

/* The database side of the webhook pipeline (SQL in
 * sql/40_webhooks.sql; C in api/db/webhooks.c). */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "provider.h"

/* One verified delivery as it is recorded. */
struct wh_delivery {
    const char *provider;
    const char *body; /* the raw bytes, kept for a replay */
    size_t body_len;
    json_t *headers;           /* {"name": "value"}: only those a parser reads */
    const struct wh_event *ev; /* NULL when the payload could not be parsed */
    const char *failure;       /* why ev is NULL */
};

/* Records the delivery once per (provider, event key) and applies it, in
 * one transaction: {"outcome": "applied"|"ignored"|"failed"|"duplicate"}.
 * An unparsed payload is kept as failed under the SHA-256 of its body.
 * *tally_moved tells whether it moved any ballot, so the caller announces
 * the tally (tally_changed) after the commit. */
struct db_status db_webhook_receive(struct db *db, const struct wh_delivery *d, json_t **out,
                                    bool *tally_moved);

struct db_status db_webhook_event_list(struct db *db, const char *status, const char *provider,
                                       int limit, const char *after, json_t **rows);
/* The event with its parsed form ("event"). */
struct db_status db_webhook_event_get(struct db *db, const char *id, json_t **out);
/* What a replay parses again: the stored body, the bytes as received, and
 * the headers its parser reads. */
struct wh_source {
    char provider[32];
    char *body; /* body_len bytes and a NUL */
    size_t body_len;
    json_t *headers; /* {"name": "value"} */
};
/* Fills *out (free it with db_webhook_source_free, whatever the status). */
struct db_status db_webhook_event_source(struct db *db, const char *id, struct wh_source *out);
void db_webhook_source_free(struct wh_source *s);
/* Applies the re-parsed event (or records why it still cannot be parsed:
 * ev NULL, failure set) to a failed event; the updated event, with
 * "event". An applied or ignored event is DB_CONFLICT. It may move the
 * patron's ballots: the caller announces the tally after it. */
struct db_status db_webhook_replay(struct db *db, const char *actor, const char *rid,
                                   const char *id, const struct wh_event *ev, const char *failure,
                                   json_t **out);

#endif
