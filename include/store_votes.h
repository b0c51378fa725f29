#ifndef PATROND_STORE_VOTES_H
#define PATROND_STORE_VOTES_H

/* The database side of topics, rounds, ballots and tallies (SQL in
 * sql/60_topics.sql, sql/65_votes.sql). Lists of topic ids travel as JSON arrays of
 * UUID strings, already checked by the caller. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"

/* api/db/topics.c */
struct topic_in {
    const char *title, *description, *status, *covered_url;
};
enum db_rc db_topic_create(struct db *db, const char *actor, const char *rid,
                           const struct topic_in *in, json_t **out);
/* A member's proposal: DB_FORBIDDEN for a non-member, DB_CONFLICT past
 * the limit of pending proposals. */
enum db_rc db_topic_propose(struct db *db, const char *rid, const char *patron_id,
                            const char *title, const char *description, json_t **out);
/* Reads name the proposing patron (`proposed_by`) only when `admin`;
 * everyone sees `proposed_by_member` (sql/60_topics.sql, topic_view). */
enum db_rc db_topic_get(struct db *db, const char *id, bool admin, json_t **out);
enum db_rc db_topic_list(struct db *db, const char *status, int limit, const char *after,
                         bool admin, json_t **rows);
enum db_rc db_topic_update(struct db *db, const char *actor, const char *rid, const char *id,
                           json_t *patch, json_t **out);
enum db_rc db_topic_delete(struct db *db, const char *actor, const char *rid, const char *id);

/* api/db/rounds.c */
struct round_in {
    const char *title, *opens_at, *closes_at;
    json_t *topic_ids;
    int64_t max_choices;
};
enum db_rc db_round_create(struct db *db, const char *actor, const char *rid,
                           const struct round_in *in, json_t **out);
enum db_rc db_round_get(struct db *db, const char *id, json_t **out);
/* The open round closing soonest; DB_NOT_FOUND when none is open. */
enum db_rc db_round_current(struct db *db, json_t **out);
enum db_rc db_round_list(struct db *db, const char *status, int limit, const char *after,
                         json_t **rows);
/* `patch` holds only the keys to change (already validated). */
enum db_rc db_round_update(struct db *db, const char *actor, const char *rid, const char *id,
                           json_t *patch, json_t **out);
/* Closes and freezes the round; a closed round comes back unchanged. */
enum db_rc db_round_close(struct db *db, const char *actor, const char *rid, const char *id,
                          json_t **out);
/* {"etag": hex, "tally": {...}} of a round (current: the open one). */
enum db_rc db_round_tally(struct db *db, const char *id, json_t **out);
enum db_rc db_round_current_tally(struct db *db, json_t **out);
/* Freezes up to `batch` rounds whose closing time has passed. */
enum db_rc db_rounds_settle(struct db *db, int batch, int *frozen);

/* api/db/ballots.c */
enum db_rc db_ballot_put(struct db *db, const char *round_id, const char *patron_id,
                         json_t *topic_ids, json_t **out);
enum db_rc db_ballot_get(struct db *db, const char *round_id, const char *patron_id, json_t **out);
enum db_rc db_ballot_delete(struct db *db, const char *rid, const char *round_id,
                            const char *patron_id);

#endif
