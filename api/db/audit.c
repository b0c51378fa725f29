/* The audit trail is written by trigger (sql/90_audit.sql); read here. */
#include <stdio.h>

#include "db/audit.h"
#include "db/page.h"

struct db_status db_audit_list(struct db *db, const char *entity, const char *entity_id, int limit,
                               const char *after, json_t **rows)
{
    char lim[DB_PAGE_LIMIT_LEN];
    const char *p[] = {entity, entity_id, after, db_page_limit(lim, limit)};
    return db_json_rows(db,
                        "SELECT audit_json(a) FROM audit_log a"
                        " WHERE ($1::text IS NULL OR a.entity = $1)"
                        "   AND ($2::uuid IS NULL OR a.entity_id = $2)" DB_PAGE(a, audit_log, 3, 4),
                        4, p, rows);
}
