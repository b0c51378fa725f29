/* Freezes the tally of rounds whose closing time has passed, so a round
 * nobody looks at still gets its result (and its turnout) near its close;
 * reads freeze lazily as well. Rounds another instance is freezing are
 * skipped (SKIP LOCKED), and freezing twice is impossible by design. */
#include "db/rounds.h"
#include "jobs_list.h"
#include "log.h"

#define SETTLE_BATCH 100

void job_settle_rounds(struct db *db)
{
    int frozen = 0;
    struct db_status st = db_rounds_settle(db, SETTLE_BATCH, &frozen);
    if (st.rc != DB_OK)
        log_warn("round settling: %s", st.err.message);
    else if (frozen > 0)
        log_info("round settling: froze %d round(s)", frozen);
}
