/* /v1/reports: membership summary and the MRR series (admin). */
#include "db/reports.h"
#include "handlers.h"

void reports_summary(struct req *r)
{
    json_t *summary = NULL;
    struct db_status st = db_report_summary(db_thread_read(), &summary);
    reply_result(r, &st, 200, summary);
}

void reports_mrr(struct req *r)
{
    const char *m = req_query(r, "months");
    int64_t months = 12;
    if (m && !parse_int_in(m, 1, 120, &months)) {
        reply_invalid_field(r, "months", "must be an integer between 1 and 120");
        return;
    }
    json_t *series = NULL;
    struct db_status st = db_report_mrr(db_thread_read(), (int)months, &series);
    reply_result(r, &st, 200, series);
}
