#ifndef PATROND_DB_WEBHOOK_DELIVERIES_H
#define PATROND_DB_WEBHOOK_DELIVERIES_H

/* api/db/webhook_deliveries.c: outbound webhook deliveries: the admin's
 * log and retry, and the delivery job's claim and outcomes
 * (sql/87_outbound_webhooks.sql). */

#include <jansson.h>
#include <libpq-fe.h>

#include "db.h"

/* An endpoint's deliveries, newest first; status NULL: any. DB_NOT_FOUND
 * when there is no such endpoint. */
struct db_status db_webhook_delivery_list(struct db *db, const char *endpoint_id,
                                          const char *status, int limit, const char *after,
                                          json_t **rows);
struct db_status db_webhook_delivery_retry(struct db *db, const char *actor, const char *rid,
                                           const char *id, json_t **out);

/* Leases up to `batch` due deliveries, at most `per_endpoint` of each
 * endpoint, for `lease_s` seconds. *res (to PQclear) has one row each:
 * delivery id, endpoint id, URL, the secrets as a PostgreSQL text array,
 * the body. */
struct db_status db_webhook_claim(struct db *db, int batch, int per_endpoint, int lease_s,
                                  PGresult **res);
/* Records an attempt: `status` the HTTP status (0: no answer), `error`
 * (may be NULL). *outcome: "delivered", "retry", "failed", or "" when the
 * delivery was no longer pending. */
struct db_status db_webhook_attempted(struct db *db, const char *id, long status, const char *error,
                                      const char *admin_email, char outcome[16]);
/* Gives back a claimed delivery that was not sent. */
struct db_status db_webhook_release(struct db *db, const char *id);
/* The clock's part: rounds that opened and memberships that ran out are
 * announced; *seen is how many were looked at. */
struct db_status db_webhook_clock_sweep(struct db *db, int *seen);
/* Pending deliveries and the age in seconds of the oldest (0 when none). */
struct db_status db_webhook_backlog(struct db *db, long long *count, long long *oldest_s);

#endif
