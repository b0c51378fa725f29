/* Reports are computed by SQL functions (sql/70_reports.sql). */
#include <stdio.h>

#include "db/reports.h"

struct db_status db_report_summary(struct db *db, json_t **out)
{
    return db_json_one(db, "SELECT report_summary()", 0, NULL, out);
}

struct db_status db_report_mrr(struct db *db, int months, json_t **out)
{
    char m[16];
    snprintf(m, sizeof m, "%d", months);
    const char *p[] = {m};
    return db_json_one(db, "SELECT report_mrr($1)", 1, p, out);
}
