/* "Your membership ends on …" (SPEC §4c): three days before a member's
 * lapse, once per lapse. Which patrons and whether they were told already
 * is PostgreSQL's (sql/36_mails.sql), so several instances send it once. */
#include "db/mails.h"
#include "jobs_list.h"
#include "log.h"

void job_mail_ends_soon(struct db *db)
{
    int queued = 0;
    struct db_status st = db_mails_ends_soon(db, &queued);
    if (st.rc != DB_OK) {
        log_warn("ends-soon mails: %s", st.err.message);
        return;
    }
    if (queued > 0) log_info("ends-soon mails: queued %d", queued);
}
