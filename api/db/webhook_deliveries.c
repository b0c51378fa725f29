/* Outbound webhook deliveries (sql/87_outbound_webhooks.sql): the admin's
 * log and retry, the delivery job's claim and outcomes, the clock's sweep. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/page.h"
#include "db/webhook_deliveries.h"

struct db_status db_webhook_delivery_list(struct db *db, const char *endpoint_id,
                                          const char *status, int limit, const char *after,
                                          json_t **rows)
{
    const char *e[] = {endpoint_id};
    json_t *found = NULL;
    struct db_status st =
        db_json_one(db, "SELECT to_jsonb(id) FROM webhook_endpoints WHERE id = $1", 1, e, &found);
    json_decref(found);
    if (st.rc != DB_OK) return st;
    char lim[DB_PAGE_LIMIT_LEN];
    const char *p[] = {endpoint_id, status, after, db_page_limit(lim, limit)};
    return db_json_rows(
        db,
        "SELECT webhook_delivery_json(d) FROM webhook_deliveries d"
        " WHERE d.endpoint_id = $1"
        "   AND ($2::text IS NULL OR d.status = $2)" DB_PAGE(d, webhook_deliveries, 3, 4),
        4, p, rows);
}

struct db_status db_webhook_delivery_retry(struct db *db, const char *actor, const char *rid,
                                           const char *id, json_t **out)
{
    const char *p[] = {id};
    return db_write_json(db, actor, rid, "SELECT webhook_delivery_retry($1)", 1, p, out);
}

struct db_status db_webhook_claim(struct db *db, int batch, int per_endpoint, int lease_s,
                                  PGresult **res)
{
    char b[16], e[16], l[32];
    snprintf(b, sizeof b, "%d", batch);
    snprintf(e, sizeof e, "%d", per_endpoint);
    snprintf(l, sizeof l, "%d seconds", lease_s);
    const char *p[] = {b, e, l};
    return db_exec(db,
                   "SELECT delivery, endpoint, target_url, secrets, body"
                   " FROM outbound_claim($1, $2, $3::interval)",
                   3, p, res);
}

struct db_status db_webhook_attempted(struct db *db, const char *id, long status, const char *error,
                                      const char *admin_email, char outcome[16])
{
    char code[24];
    snprintf(code, sizeof code, "%ld", status);
    const char *p[] = {id, status > 0 ? code : NULL, error, admin_email};
    PGresult *res;
    struct db_status st = db_exec(db, "SELECT outbound_attempted($1, $2, $3, $4)", 4, p, &res);
    if (st.rc != DB_OK) return st;
    snprintf(outcome, 16, "%s", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return db_ok();
}

struct db_status db_webhook_release(struct db *db, const char *id)
{
    const char *p[] = {id};
    return db_command(db, "SELECT outbound_release($1)", 1, p);
}

struct db_status db_webhook_clock_sweep(struct db *db, int *seen)
{
    return db_int(db, "SELECT outbound_clock_sweep(100)", 0, NULL, seen);
}

struct db_status db_webhook_backlog(struct db *db, long long *count, long long *oldest_s)
{
    PGresult *res;
    struct db_status st =
        db_exec(db,
                "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)),"
                " 0)::bigint FROM webhook_deliveries WHERE status = 'pending'",
                0, NULL, &res);
    if (st.rc != DB_OK) return st;
    *count = atoll(PQgetvalue(res, 0, 0));
    *oldest_s = atoll(PQgetvalue(res, 0, 1));
    PQclear(res);
    return db_ok();
}
