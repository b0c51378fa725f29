#ifndef PATROND_DB_OUTBOX_H
#define PATROND_DB_OUTBOX_H

/* api/db/outbox.c: outbox delivery: claim, then record the outcome (SQL in
 * sql/35_outbox.sql). Each call is its own short transaction. */

#include <stdint.h>

#include "db.h"

struct outbox_msg {
    PGresult *res; /* owns the strings below */
    const char *id, *to, *subject, *body, *kind;
    const char *locale; /* the patron's language; NULL: the default */
    const char *params; /* JSON text of a mail to render; NULL: subject and body are the text */
    int64_t created_at; /* Unix time */
};
/* Leases the next due message; DB_NOT_FOUND when none is due. */
struct db_status db_outbox_claim(struct db *db, struct outbox_msg *m);
void db_outbox_msg_free(struct outbox_msg *m);
/* Sent as `subject` and `body` (what was rendered; NULL keeps the row's). */
struct db_status db_outbox_sent(struct db *db, const char *id, const char *subject,
                                const char *body);
struct db_status db_outbox_failed(struct db *db, const char *id, const char *error);
struct db_status db_outbox_abandon_expired(struct db *db);
/* Messages still to be delivered (not sent, not given up). */
struct db_status db_outbox_backlog(struct db *db, long long *count);

#endif
