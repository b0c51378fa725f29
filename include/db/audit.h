#ifndef PATROND_DB_AUDIT_H
#define PATROND_DB_AUDIT_H

/* api/db/audit.c: the audit trail, written by trigger and read here. */

#include <jansson.h>

#include "db.h"

struct db_status db_audit_list(struct db *db, const char *entity, const char *entity_id, int limit,
                               const char *after, json_t **rows);

#endif
