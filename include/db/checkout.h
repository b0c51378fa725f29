#ifndef PATROND_DB_CHECKOUT_H
#define PATROND_DB_CHECKOUT_H

/* The database side of checkout and pending-pledge expiry (SQL in
 * sql/50_checkout.sql; C in api/db/checkout.c). */

#include <jansson.h>
#include <stdint.h>

#include "db.h"

struct checkout_in {
    const char *pledge_id; /* chosen by the server, already signed into the redirect */
    const char *email, *name, *currency, *interval, *provider;
    const char *provider_ref; /* NULL when the provider reports its own later */
    const char *locale;       /* the form's language, the patron's from now on; NULL: unchanged */
    int64_t amount_minor;
};

/* Finds (case-insensitively, never an erased one) or creates the patron and
 * adds the pending pledge, in one transaction: {"patron_id", "pledge_id",
 * "status"}. */
struct db_status db_checkout_create(struct db *db, const char *rid, const struct checkout_in *in,
                                    json_t **out);

/* Expires up to `batch` pending pledges older than 48 hours; *expired is
 * how many it did. */
struct db_status db_pledges_expire_pending(struct db *db, int batch, int *expired);

#endif
