/* An outbound webhook endpoint's deliveries (attempts, last status code,
 * next attempt) and a manual retry (SPEC §4b). Admin only. */
#include "db/webhook_deliveries.h"
#include "handlers.h"

static const char *const delivery_statuses[] = {"pending", "delivered", "failed", NULL};

void webhook_deliveries_list(struct req *r)
{
    const char *endpoint = req_uuid_param(r, 0);
    if (!endpoint) return;
    int limit;
    const char *after, *status;
    if (!req_list_params(r, &limit, &after) ||
        !req_query_enum(r, "status", delivery_statuses, &status))
        return;
    json_t *rows = NULL;
    struct db_status st = db_webhook_delivery_list(r->db, endpoint, status, limit, after, &rows);
    reply_list_result(r, &st, rows, limit);
}

void webhook_deliveries_retry(struct req *r)
{
    handle_action(r, db_webhook_delivery_retry, false);
}
