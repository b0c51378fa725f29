/* Removes idempotency records past their 24 hours, and rows of the inbox
 * and outbox tables past their retention (api/db/retention.c), so that
 * none of them grows for as long as the service runs. */
#include "db/idempotency.h"
#include "db/retention.h"
#include "jobs.h"
#include "jobs_list.h"
#include "log.h"

#define RETENTION_BATCH 1000
/* Per table and run, so a backlog (the first run on an old database)
 * cannot hold the job thread, and shutdown, for long; later runs go on. */
#define RETENTION_BATCHES_MAX 20

void job_expire_idempotency(struct db *db)
{
    struct db_status st = db_idem_expire(db);
    if (st.rc != DB_OK) log_warn("idempotency expiry: %s", st.err.message);
}

static void apply(struct db *db, size_t rule)
{
    for (int i = 0; i < RETENTION_BATCHES_MAX; i++) {
        int deleted = 0;
        struct db_status st = db_retention_apply(db, rule, RETENTION_BATCH, &deleted);
        if (st.rc != DB_OK) {
            log_warn("retention of %s: %s", db_retention_table(rule), st.err.message);
            return;
        }
        if (deleted < RETENTION_BATCH) return;
    }
}

void job_retention(struct db *db)
{
    for (size_t rule = 0; rule < db_retention_rules(); rule++)
        apply(db, rule);
}
