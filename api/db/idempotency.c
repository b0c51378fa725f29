/* Idempotency records. A NULL status marks a request in flight; one left
 * in flight by a crashed process is taken over after a minute. */
#include <stdlib.h>
#include <string.h>

#include "db/idempotency.h"

static char *dup_value(const PGresult *res, int col)
{
    return PQgetisnull(res, 0, col) ? NULL : strdup(PQgetvalue(res, 0, col));
}

struct db_status db_idem_claim(struct db *db, const char *scope, const char *key,
                               const char *hash_hex, enum idem_state *state,
                               struct idem_record *rec)
{
    PGresult *res;
    const char *p[] = {scope, key, hash_hex};
    struct db_status st = db_exec(
        db,
        "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, decode($3, 'hex'))"
        " ON CONFLICT (scope, key) DO UPDATE"
        "   SET request_hash = EXCLUDED.request_hash, status = NULL, content_type = NULL,"
        "       body = NULL, created_at = now()"
        "   WHERE idempotency_keys.created_at < now() - interval '24 hours'"
        "      OR (idempotency_keys.status IS NULL"
        "          AND idempotency_keys.created_at < now() - interval '1 minute')"
        " RETURNING 1",
        3, p, &res);
    if (st.rc != DB_OK) return st;
    bool claimed = PQntuples(res) == 1;
    PQclear(res);
    if (claimed) {
        *state = IDEM_NEW;
        return db_ok();
    }
    st = db_exec(db,
                 "SELECT request_hash = decode($3, 'hex'), status, content_type, body"
                 " FROM idempotency_keys WHERE scope = $1 AND key = $2",
                 3, p, &res);
    if (st.rc != DB_OK) return st;
    if (PQntuples(res) == 0) {
        /* released between our two statements: the caller may retry */
        *state = IDEM_IN_FLIGHT;
    } else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
        *state = IDEM_MISMATCH;
    } else if (PQgetisnull(res, 0, 1)) {
        *state = IDEM_IN_FLIGHT;
    } else {
        *state = IDEM_REPLAY;
        rec->status = atoi(PQgetvalue(res, 0, 1));
        rec->content_type = dup_value(res, 2);
        rec->body = dup_value(res, 3);
    }
    PQclear(res);
    return db_ok();
}

struct db_status db_idem_store(struct db *db, const char *scope, const char *key, int status,
                               const char *content_type, const char *body)
{
    char st[16];
    snprintf(st, sizeof st, "%d", status);
    const char *p[] = {scope, key, st, content_type, body};
    return db_command(db,
                      "UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5"
                      " WHERE scope = $1 AND key = $2",
                      5, p);
}

struct db_status db_idem_release(struct db *db, const char *scope, const char *key)
{
    const char *p[] = {scope, key};
    return db_command(db, "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2", 2, p);
}

struct db_status db_idem_expire(struct db *db)
{
    return db_command(
        db, "DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'", 0, NULL);
}
