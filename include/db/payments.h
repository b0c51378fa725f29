#ifndef PATROND_DB_PAYMENTS_H
#define PATROND_DB_PAYMENTS_H

/* api/db/payments.c: the payments ledger, written only by webhooks. */

#include <jansson.h>

#include "db.h"

struct db_status db_payment_get(struct db *db, const char *id, json_t **out);
struct db_status db_payment_list(struct db *db, const char *patron_id, const char *pledge_id,
                                 const char *provider, const char *kind, int limit,
                                 const char *after, json_t **rows);

#endif
