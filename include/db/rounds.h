#ifndef PATROND_DB_ROUNDS_H
#define PATROND_DB_ROUNDS_H

/* api/db/rounds.c: the database side of rounds and their tallies (SQL in
 * sql/65_votes.sql). Lists of topic ids travel as JSON arrays of
 * UUID strings, already checked by the caller. */

#include <jansson.h>
#include <stdint.h>

#include "db.h"

struct round_in {
    const char *title, *opens_at, *closes_at;
    json_t *topic_ids;
    int64_t max_choices;
};
struct db_status db_round_create(struct db *db, const char *actor, const char *rid,
                                 const struct round_in *in, json_t **out);
struct db_status db_round_get(struct db *db, const char *id, json_t **out);
/* The open round closing soonest; DB_NOT_FOUND when none is open. */
struct db_status db_round_current(struct db *db, json_t **out);
struct db_status db_round_list(struct db *db, const char *status, int limit, const char *after,
                               json_t **rows);
/* `patch` holds only the keys to change (already validated). */
struct db_status db_round_update(struct db *db, const char *actor, const char *rid, const char *id,
                                 json_t *patch, json_t **out);
/* Closes and freezes the round; a closed round comes back unchanged. */
struct db_status db_round_close(struct db *db, const char *actor, const char *rid, const char *id,
                                json_t **out);
/* {"etag": hex, "tally": {...}} of a round (current: the open one). */
struct db_status db_round_tally(struct db *db, const char *id, json_t **out);
struct db_status db_round_current_tally(struct db *db, json_t **out);
/* Freezes up to `batch` rounds whose closing time has passed. */
struct db_status db_rounds_settle(struct db *db, int batch, int *frozen);

#endif
