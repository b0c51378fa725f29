/* Removes idempotency records past their 24 hours. */
#include "jobs.h"
#include "jobs_list.h"
#include "log.h"
#include "store.h"

void job_expire_idempotency(struct db *db)
{
    if (db_idem_expire(db) != DB_OK) log_warn("idempotency expiry: %s", db_last_error(db));
}
