#ifndef PATROND_DB_TOPICS_H
#define PATROND_DB_TOPICS_H

/* api/db/topics.c: the database side of topics (SQL in
 * sql/60_topics.sql). Lists of topic ids travel as JSON arrays of
 * UUID strings, already checked by the caller. */

#include <jansson.h>
#include <stdbool.h>

#include "db.h"

struct topic_in {
    const char *title, *description, *status, *covered_url;
};
struct db_status db_topic_create(struct db *db, const char *actor, const char *rid,
                                 const struct topic_in *in, json_t **out);
/* A member's proposal: DB_FORBIDDEN for a non-member, DB_CONFLICT past
 * the limit of pending proposals. */
struct db_status db_topic_propose(struct db *db, const char *rid, const char *patron_id,
                                  const char *title, const char *description, json_t **out);
/* Reads name the proposing patron (`proposed_by`) only when `admin`;
 * everyone sees `proposed_by_member` (sql/60_topics.sql, topic_view). */
struct db_status db_topic_get(struct db *db, const char *id, bool admin, json_t **out);
struct db_status db_topic_list(struct db *db, const char *status, int limit, const char *after,
                               bool admin, json_t **rows);
struct db_status db_topic_update(struct db *db, const char *actor, const char *rid, const char *id,
                                 json_t *patch, json_t **out);
struct db_status db_topic_delete(struct db *db, const char *actor, const char *rid, const char *id);

#endif
