/* Checkout and pending-pledge expiry (include/db/checkout.h). */
#include <stdio.h>
#include <stdlib.h>

#include "db/checkout.h"

struct db_status db_checkout_create(struct db *db, const char *rid, const struct checkout_in *in,
                                    json_t **out)
{
    char amount[24];
    snprintf(amount, sizeof amount, "%lld", (long long)in->amount_minor);
    const char *p[] = {in->pledge_id, in->email,    in->name,         amount,    in->currency,
                       in->interval,  in->provider, in->provider_ref, in->locale};
    return db_write_json(db, NULL, rid,
                         "SELECT checkout_create($1, $2, $3, $4, $5, $6, $7, $8, $9)", 9, p, out);
}

struct db_status db_pledges_expire_pending(struct db *db, int batch, int *expired)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%d", batch);
    const char *p[] = {limit};
    return db_int(db, "SELECT pledges_expire_pending($1)", 1, p, expired);
}
