/* Patron sessions (created by sign-in, see api/db/member_auth.c). */
#include <stdio.h>

#include "db/sessions.h"

struct db_status db_session_lookup(struct db *db, const char *token_hash_hex, char patron_id[37])
{
    PGresult *res;
    const char *p[] = {token_hash_hex};
    struct db_status st =
        db_exec(db,
                "SELECT s.patron_id FROM sessions s JOIN patrons p ON p.id = s.patron_id"
                " WHERE s.token_hash = decode($1, 'hex') AND s.revoked_at IS NULL"
                "   AND s.expires_at > now() AND p.erased_at IS NULL",
                1, p, &res);
    if (st.rc != DB_OK) return st;
    if (PQntuples(res) == 1)
        snprintf(patron_id, 37, "%s", PQgetvalue(res, 0, 0));
    else
        st = db_fail(DB_NOT_FOUND);
    PQclear(res);
    return st;
}
