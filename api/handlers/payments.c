/* /v1/payments: the read-only ledger. */
#include "db/payments.h"
#include "domain.h"
#include "handlers.h"

void payments_list(struct req *r)
{
    int limit;
    const char *after, *patron_id, *pledge_id, *provider, *kind;
    if (!req_list_params(r, &limit, &after) || !req_query_uuid(r, "patron_id", &patron_id) ||
        !req_query_uuid(r, "pledge_id", &pledge_id) ||
        !req_query_enum(r, "provider", providers, &provider) ||
        !req_query_enum(r, "kind", payment_kinds, &kind))
        return;
    json_t *rows = NULL;
    struct db_status st =
        db_payment_list(r->db, patron_id, pledge_id, provider, kind, limit, after, &rows);
    reply_list_result(r, &st, rows, limit);
}

void payments_get(struct req *r)
{
    handle_get(r, db_payment_get);
}
