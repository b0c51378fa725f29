/* Patron sessions (created by sign-in, see api/db/member_auth.c). */
#include <stdio.h>

#include "db/sessions.h"

enum db_rc db_session_lookup(struct db *db, const char *token_hash_hex, char patron_id[37])
{
    PGresult *res;
    const char *p[] = {token_hash_hex};
    enum db_rc rc =
        db_exec(db,
                "SELECT s.patron_id FROM sessions s JOIN patrons p ON p.id = s.patron_id"
                " WHERE s.token_hash = decode($1, 'hex') AND s.revoked_at IS NULL"
                "   AND s.expires_at > now() AND p.erased_at IS NULL",
                1, p, &res);
    if (rc != DB_OK) return rc;
    if (PQntuples(res) == 1)
        snprintf(patron_id, 37, "%s", PQgetvalue(res, 0, 0));
    else
        rc = DB_NOT_FOUND;
    PQclear(res);
    return rc;
}
