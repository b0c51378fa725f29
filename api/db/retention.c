/* How long finished rows are kept (include/db/retention.h, README "Operations").
 * Each statement deletes at most $1 rows, so no run holds locks long. */
#include <stdio.h>
#include <stdlib.h>

#include "db/retention.h"

static const struct {
    const char *table;
    const char *sql;
} rules[] = {
    /* a week after its end, so support can still see why a patron was
     * signed out */
    {"sessions", "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions"
                 " WHERE least(revoked_at, expires_at) < now() - interval '7 days' LIMIT $1)"},
    /* a link lives 15 minutes; a day covers the per-patron request limit */
    {"magic_links", "DELETE FROM magic_links WHERE id IN (SELECT id FROM magic_links"
                    " WHERE expires_at < now() - interval '1 day' LIMIT $1)"},
    /* sent or given up for good; messages still being retried stay */
    {"outbox", "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
               " WHERE sent_at < now() - interval '30 days'"
               "    OR (sent_at IS NULL AND next_attempt_at = 'infinity'"
               "        AND created_at < now() - interval '30 days') LIMIT $1)"},
    /* Providers stop retrying within days. A replay older than this is
     * still harmless: payments are unique per provider payment id, and
     * pledge changes are ordered by the event's sequence. */
    {"webhook_events", "DELETE FROM webhook_events WHERE id IN (SELECT id FROM webhook_events"
                       " WHERE status <> 'received' AND received_at < now() - interval '90 days'"
                       " LIMIT $1)"},
    /* outbound webhooks delivered or given up: the log an admin reads when
     * a receiver missed something */
    {"webhook_deliveries", "DELETE FROM webhook_deliveries WHERE id IN (SELECT id"
                           " FROM webhook_deliveries WHERE status <> 'pending'"
                           " AND coalesce(last_attempt_at, created_at) < now() - interval '30 days'"
                           " LIMIT $1)"},
};

size_t db_retention_rules(void)
{
    return sizeof rules / sizeof rules[0];
}

const char *db_retention_table(size_t rule)
{
    return rules[rule].table;
}

struct db_status db_retention_apply(struct db *db, size_t rule, int batch, int *deleted)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", batch);
    const char *p[] = {limit};
    PGresult *res;
    struct db_status st = db_exec(db, rules[rule].sql, 1, p, &res);
    if (st.rc != DB_OK) return st;
    *deleted = atoi(PQcmdTuples(res));
    PQclear(res);
    return db_ok();
}
