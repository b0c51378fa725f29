#ifndef PATROND_DB_MEMBERSHIP_H
#define PATROND_DB_MEMBERSHIP_H

/* api/db/membership.c: membership by the clock (SQL in
 * sql/20_membership.sql, membership_sweep). */

#include "db.h"

/* The clock's part of membership (SPEC §4): recurring pledges whose paid
 * period ended turn past_due, and the ballots of patrons whose membership
 * ended or whose tier changed since `since` (an RFC 3339 time, or
 * "-infinity" for every ballot in an open round) are re-weighed.
 * *changed receives the number of ballots that moved, so the caller
 * announces the tally (tally_changed) when any did. */
struct db_status db_membership_sweep(struct db *db, const char *since, int *changed);

#endif
