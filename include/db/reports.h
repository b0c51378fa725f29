#ifndef PATROND_DB_REPORTS_H
#define PATROND_DB_REPORTS_H

/* api/db/reports.c: summary and monthly recurring revenue. */

#include <jansson.h>

#include "db.h"

struct db_status db_report_summary(struct db *db, json_t **out);
struct db_status db_report_mrr(struct db *db, int months, json_t **out);

#endif
