/* Membership by the clock (sql/20_membership.sql, membership_sweep). */
#include "db/membership.h"

struct db_status db_membership_sweep(struct db *db, const char *since, int *changed)
{
    const char *p[] = {since};
    return db_int(db, "SELECT membership_sweep($1::timestamptz)", 1, p, changed);
}
