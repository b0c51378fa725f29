/* Liveness, readiness and metrics (SPEC §4 Ops). */
#include <stdlib.h>

#include "db/migrate.h"
#include "db/outbox.h"
#include "handlers.h"
#include "metrics.h"

void health_live(struct req *r)
{
    reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void health_ready(struct req *r)
{
    int pending = migrate_pending(r->db);
    if (pending == 0) {
        reply_json(r, 200, json_pack("{s:s}", "status", "ready"));
        return;
    }
    reply_header(r, "Retry-After", "5");
    reply_error(r, ERR_not_ready,
                pending > 0                   ? "Migrations are pending."
                : pending == MIGRATE_DIVERGED ? "The schema differs from this binary's migrations."
                                              : "The database is not reachable.");
}

void metrics_get(struct req *r)
{
    long long backlog = -1;
    if (db_outbox_backlog(r->db, &backlog).rc != DB_OK) backlog = -1;
    size_t len = 0;
    char *text = metrics_render(backlog, &len);
    if (!text) {
        reply_error(r, ERR_internal_error, "Out of memory rendering metrics.");
        return;
    }
    reply_raw(r, 200, "text/plain; version=0.0.4", text, len);
}
