#ifndef PATROND_DB_RETENTION_H
#define PATROND_DB_RETENTION_H

/* api/db/retention.c: deleting rows past their retention period. */

#include <stddef.h>

#include "db.h"

/* Rule i (< db_retention_rules()) deletes at most `batch` rows of
 * db_retention_table(i) past their retention period. */
size_t db_retention_rules(void);
const char *db_retention_table(size_t rule);
struct db_status db_retention_apply(struct db *db, size_t rule, int batch, int *deleted);

#endif
