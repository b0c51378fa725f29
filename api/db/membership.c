/* Membership by the clock (sql/20_membership.sql, membership_sweep). */
#include <stdlib.h>

#include "db/membership.h"

enum db_rc db_membership_sweep(struct db *db, const char *since, int *changed)
{
    const char *p[] = {since};
    PGresult *res;
    *changed = 0;
    enum db_rc rc = db_exec(db, "SELECT membership_sweep($1::timestamptz)", 1, p, &res);
    if (rc != DB_OK) return rc;
    if (PQntuples(res) == 1) *changed = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return DB_OK;
}
