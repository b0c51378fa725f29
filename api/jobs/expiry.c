/* Pending pledges never paid expire after 48 hours (SPEC §4). Each batch
 * is one short statement; an instance running the same job at the same
 * time skips the rows this one holds and takes the rest. */
#include "db/checkout.h"
#include "jobs_list.h"
#include "log.h"

#define EXPIRY_BATCH 500
/* Per run, so a large backlog cannot hold the job thread (and shutdown). */
#define EXPIRY_BATCHES_MAX 20

void job_expire_pledges(struct db *db)
{
    for (int i = 0; i < EXPIRY_BATCHES_MAX; i++) {
        int expired = 0;
        struct db_status st = db_pledges_expire_pending(db, EXPIRY_BATCH, &expired);
        if (st.rc != DB_OK) {
            log_warn("pledge expiry: %s", st.err.message);
            return;
        }
        if (expired < EXPIRY_BATCH) return;
    }
}
