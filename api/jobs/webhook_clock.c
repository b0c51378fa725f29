/* The clock's outbound webhooks (SPEC §4b): a round opens, and a
 * membership runs out, without any write that a trigger could see; this
 * job announces them within seconds. Several instances may run it at
 * once: each event is announced once (sql/87_outbound_webhooks.sql). */
#include "db/webhook_deliveries.h"
#include "jobs_list.h"
#include "log.h"

void job_webhook_clock(struct db *db)
{
    int seen = 0;
    struct db_status st = db_webhook_clock_sweep(db, &seen);
    if (st.rc != DB_OK) log_warn("webhook clock: %s", st.err.message);
}
