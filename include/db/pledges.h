#ifndef PATROND_DB_PLEDGES_H
#define PATROND_DB_PLEDGES_H

/* api/db/pledges.c: pledges created and changed by admins; providers'
 * webhooks add their own (db/webhooks.h). */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"

struct pledge_in {
    const char *patron_id, *currency, *interval, *provider, *provider_ref, *status,
        *current_period_end, *tier_id;
    int64_t amount_minor;
};
/* *moved tells whether the write re-weighed any of the patron's ballots,
 * so the caller announces the tally (tally_changed) after the commit. */
struct db_status db_pledge_create(struct db *db, const char *actor, const char *rid,
                                  const struct pledge_in *in, json_t **out, bool *moved);
struct db_status db_pledge_get(struct db *db, const char *id, json_t **out);
struct db_status db_pledge_list(struct db *db, const char *patron_id, const char *status,
                                const char *provider, int limit, const char *after, json_t **rows);
struct db_status db_pledge_update(struct db *db, const char *actor, const char *rid, const char *id,
                                  json_t *patch, json_t **out, bool *moved);

#endif
