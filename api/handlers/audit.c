/* /v1/audit: who changed what, newest first. */
#include "db/audit.h"
#include "handlers.h"

/* The audited tables (audit_row triggers and audit_record, sql/90_audit.sql). */
static const char *const entities[] = {
    "patrons", "tiers",          "pledges",           "topics",
    "rounds",  "webhook_events", "webhook_endpoints", "webhook_deliveries",
    NULL};

void audit_list(struct req *r)
{
    int limit;
    const char *after, *entity, *entity_id;
    if (!req_list_params(r, &limit, &after) || !req_query_enum(r, "entity", entities, &entity) ||
        !req_query_uuid(r, "entity_id", &entity_id))
        return;
    json_t *rows = NULL;
    struct db_status st = db_audit_list(r->db, entity, entity_id, limit, after, &rows);
    reply_list_result(r, &st, rows, limit);
}
