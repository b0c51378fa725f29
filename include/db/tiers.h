#ifndef PATROND_DB_TIERS_H
#define PATROND_DB_TIERS_H

/* api/db/tiers.c: membership tiers. */

#include <jansson.h>
#include <stdint.h>

#include "db.h"

struct tier_in {
    const char *name, *currency, *description;
    int64_t amount_minor, vote_weight;
};
struct db_status db_tier_create(struct db *db, const char *actor, const char *rid,
                                const struct tier_in *in, json_t **out);
struct db_status db_tier_get(struct db *db, const char *id, json_t **out);
struct db_status db_tier_list(struct db *db, const char *currency, int limit, const char *after,
                              json_t **rows);
/* `patch` holds only the keys to change (already validated). */
struct db_status db_tier_update(struct db *db, const char *actor, const char *rid, const char *id,
                                json_t *patch, json_t **out);
struct db_status db_tier_delete(struct db *db, const char *actor, const char *rid, const char *id);

#endif
