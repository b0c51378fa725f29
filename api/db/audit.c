/* The audit trail is written by trigger (migrations/0001); read here. */
#include <stdio.h>

#include "db/audit.h"

enum db_rc db_audit_list(struct db *db, const char *entity, const char *entity_id, int limit,
                         const char *after, json_t **rows)
{
    char lim[16];
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *p[] = {entity, entity_id, after, lim};
    return db_json_rows(
        db,
        "SELECT audit_json(a) FROM audit_log a"
        " WHERE ($1::text IS NULL OR a.entity = $1)"
        "   AND ($2::uuid IS NULL OR a.entity_id = $2)"
        "   AND ($3::uuid IS NULL OR a.seq < (SELECT seq FROM audit_log WHERE id = $3))"
        " ORDER BY a.seq DESC LIMIT $4",
        4, p, rows);
}
