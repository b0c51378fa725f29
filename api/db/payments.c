/* The payments ledger, written only by webhooks; read here. */
#include <stdio.h>

#include "db/page.h"
#include "db/payments.h"

struct db_status db_payment_get(struct db *db, const char *id, json_t **out)
{
    return db_json_by_id(db, "SELECT payment_json(p) FROM payments p WHERE id = $1", id, out);
}

struct db_status db_payment_list(struct db *db, const char *patron_id, const char *pledge_id,
                                 const char *provider, const char *kind, int limit,
                                 const char *after, json_t **rows)
{
    char lim[DB_PAGE_LIMIT_LEN];
    const char *p[] = {patron_id, pledge_id, provider, kind, after, db_page_limit(lim, limit)};
    return db_json_rows(db,
                        "SELECT payment_json(p) FROM payments p"
                        " WHERE ($1::uuid IS NULL OR p.patron_id = $1)"
                        "   AND ($2::uuid IS NULL OR p.pledge_id = $2)"
                        "   AND ($3::text IS NULL OR p.provider = $3)"
                        "   AND ($4::text IS NULL OR p.kind = $4)" DB_PAGE(p, payments, 5, 6),
                        6, p, rows);
}
