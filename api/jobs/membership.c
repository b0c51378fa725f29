/* Membership ends by the clock (SPEC §4): a recurring pledge whose period
 * ran out without a renewal turns past_due, and ballots whose voter
 * stopped being a member leave the tally, within a minute. Each run looks
 * back to the previous successful one (with a margin for clock steps and
 * slow commits); the first run after start looks at every ballot, so time
 * spent stopped is covered too. */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "db/membership.h"
#include "jobs_list.h"
#include "log.h"
#include "tally_notify.h"

#define LOOKBACK_MARGIN_S 120

static time_t last_run;

/* "-infinity" before the first successful run, else that run's start
 * minus the margin, as UTC. */
static bool lookback(char *since, size_t len)
{
    if (!last_run) return snprintf(since, len, "-infinity") > 0;
    time_t from = last_run - LOOKBACK_MARGIN_S;
    struct tm tm;
    return gmtime_r(&from, &tm) && strftime(since, len, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

void job_sweep_memberships(struct db *db)
{
    time_t started = time(NULL);
    char since[32];
    if (!lookback(since, sizeof since)) return;
    int changed = 0;
    struct db_status st = db_membership_sweep(db, since, &changed);
    if (st.rc != DB_OK) {
        log_warn("membership sweep: %s", st.err.message);
        return;
    }
    if (changed > 0) {
        tally_changed();
        log_info("membership sweep: re-weighed %d ballot(s)", changed);
    }
    last_run = started;
}
