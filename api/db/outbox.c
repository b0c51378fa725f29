/* Outbox delivery: claim, then record the outcome (SQL in
 * sql/35_outbox.sql). Each call is its own short transaction. */
#include <stdlib.h>

#include "db/outbox.h"

struct db_status db_outbox_claim(struct db *db, struct outbox_msg *m)
{
    *m = (struct outbox_msg){0};
    PGresult *res;
    struct db_status st = db_exec(db,
                                  "SELECT id, to_address, subject, body,"
                                  " extract(epoch FROM created_at)::bigint, kind, locale, params"
                                  " FROM outbox_claim()",
                                  0, NULL, &res);
    if (st.rc != DB_OK) return st;
    if (PQntuples(res) != 1) {
        PQclear(res);
        return db_fail(DB_NOT_FOUND);
    }
    m->res = res;
    m->id = PQgetvalue(res, 0, 0);
    m->to = PQgetvalue(res, 0, 1);
    m->subject = PQgetvalue(res, 0, 2);
    m->body = PQgetvalue(res, 0, 3);
    m->created_at = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
    m->kind = PQgetvalue(res, 0, 5);
    m->locale = PQgetisnull(res, 0, 6) ? NULL : PQgetvalue(res, 0, 6);
    m->params = PQgetisnull(res, 0, 7) ? NULL : PQgetvalue(res, 0, 7);
    return db_ok();
}

void db_outbox_msg_free(struct outbox_msg *m)
{
    PQclear(m->res);
    *m = (struct outbox_msg){0};
}

struct db_status db_outbox_sent(struct db *db, const char *id, const char *subject,
                                const char *body)
{
    const char *p[] = {id, subject, body};
    return db_command(db, "SELECT outbox_mark_sent($1, $2, $3)", 3, p);
}

struct db_status db_outbox_failed(struct db *db, const char *id, const char *error)
{
    const char *p[] = {id, error};
    return db_command(db, "SELECT outbox_mark_failed($1, $2)", 2, p);
}

struct db_status db_outbox_abandon_expired(struct db *db)
{
    return db_command(db, "SELECT outbox_abandon_expired()", 0, NULL);
}

struct db_status db_outbox_backlog(struct db *db, long long *count)
{
    PGresult *res;
    struct db_status st = db_exec(db,
                                  "SELECT count(*) FROM outbox"
                                  " WHERE sent_at IS NULL AND next_attempt_at <> 'infinity'",
                                  0, NULL, &res);
    if (st.rc != DB_OK) return st;
    *count = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return db_ok();
}
