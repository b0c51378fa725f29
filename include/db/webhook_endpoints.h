#ifndef PATROND_DB_WEBHOOK_ENDPOINTS_H
#define PATROND_DB_WEBHOOK_ENDPOINTS_H

/* api/db/webhook_endpoints.c: the newsroom's outbound webhook endpoints
 * (sql/87_outbound_webhooks.sql). Writes run as audited transactions; the
 * secret appears only in what create and rotate answer. */

#include <jansson.h>

#include "db.h"

struct webhook_endpoint_in {
    const char *url, *description, *secret;
    json_t *events; /* array of event type names, already validated */
};
struct db_status db_webhook_endpoint_create(struct db *db, const char *actor, const char *rid,
                                            const struct webhook_endpoint_in *in, json_t **out);
struct db_status db_webhook_endpoint_get(struct db *db, const char *id, json_t **out);
struct db_status db_webhook_endpoint_list(struct db *db, int limit, const char *after,
                                          json_t **rows);
/* `patch` holds only the keys to change (already validated). */
struct db_status db_webhook_endpoint_update(struct db *db, const char *actor, const char *rid,
                                            const char *id, json_t *patch, json_t **out);
struct db_status db_webhook_endpoint_delete(struct db *db, const char *actor, const char *rid,
                                            const char *id);
struct db_status db_webhook_endpoint_rotate(struct db *db, const char *actor, const char *rid,
                                            const char *id, const char *secret, json_t **out);

#endif
