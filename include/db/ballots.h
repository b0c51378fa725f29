#ifndef PATROND_DB_BALLOTS_H
#define PATROND_DB_BALLOTS_H

/* api/db/ballots.c: the database side of ballots (SQL in
 * sql/65_votes.sql). Lists of topic ids travel as JSON arrays of
 * UUID strings, already checked by the caller. */

#include <jansson.h>

#include "db.h"

struct db_status db_ballot_put(struct db *db, const char *round_id, const char *patron_id,
                               json_t *topic_ids, json_t **out);
struct db_status db_ballot_get(struct db *db, const char *round_id, const char *patron_id,
                               json_t **out);
struct db_status db_ballot_delete(struct db *db, const char *rid, const char *round_id,
                                  const char *patron_id);

#endif
