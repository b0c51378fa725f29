/* Outbound webhook endpoints (sql/87_outbound_webhooks.sql). */
#include <stdlib.h>

#include "db/page.h"
#include "db/webhook_endpoints.h"

struct db_status db_webhook_endpoint_create(struct db *db, const char *actor, const char *rid,
                                            const struct webhook_endpoint_in *in, json_t **out)
{
    char *events = json_dumps(in->events, JSON_COMPACT);
    if (!events) return db_fail(DB_ERROR);
    const char *p[] = {in->url, events, in->description, in->secret};
    struct db_status st =
        db_write_json(db, actor, rid, "SELECT webhook_endpoint_create($1, $2, $3, $4)", 4, p, out);
    free(events);
    return st;
}

struct db_status db_webhook_endpoint_get(struct db *db, const char *id, json_t **out)
{
    return db_json_by_id(
        db, "SELECT webhook_endpoint_json(e) FROM webhook_endpoints e WHERE id = $1", id, out);
}

struct db_status db_webhook_endpoint_list(struct db *db, int limit, const char *after,
                                          json_t **rows)
{
    char lim[DB_PAGE_LIMIT_LEN];
    const char *p[] = {after, db_page_limit(lim, limit)};
    return db_json_rows(db,
                        "SELECT webhook_endpoint_json(e) FROM webhook_endpoints e"
                        " WHERE true" DB_PAGE(e, webhook_endpoints, 1, 2),
                        2, p, rows);
}

struct db_status db_webhook_endpoint_update(struct db *db, const char *actor, const char *rid,
                                            const char *id, json_t *patch, json_t **out)
{
    return db_write_patch(db, actor, rid, "SELECT webhook_endpoint_patch($1, $2)", id, patch, out);
}

struct db_status db_webhook_endpoint_delete(struct db *db, const char *actor, const char *rid,
                                            const char *id)
{
    const char *p[] = {id};
    return db_write(db, actor, rid,
                    "DELETE FROM webhook_endpoints WHERE id = $1 RETURNING to_jsonb(id)", 1, p);
}

struct db_status db_webhook_endpoint_rotate(struct db *db, const char *actor, const char *rid,
                                            const char *id, const char *secret, json_t **out)
{
    const char *p[] = {id, secret};
    return db_write_json(db, actor, rid, "SELECT webhook_endpoint_rotate($1, $2)", 2, p, out);
}
