#ifndef PATROND_DB_MEMBER_AUTH_H
#define PATROND_DB_MEMBER_AUTH_H

/* api/db/member_auth.c: magic links and patron sessions (SQL in
 * sql/80_members.sql, sql/35_outbox.sql). Hashes are lower-case hex SHA-256 of the
 * tokens, which never reach the database themselves. */

#include <jansson.h>

#include "db.h"

/* Stores the link and queues its mail when `email` belongs to a patron
 * under the per-address limit; otherwise does nothing, equally DB_OK.
 * `locale` (NULL: unchanged) becomes the patron's language first. */
struct db_status db_magic_link_request(struct db *db, const char *email, const char *link_hash_hex,
                                       const char *link_url, const char *locale);
/* Spends the magic link and opens a session: {"expires_at", "patron"}.
 * DB_NOT_FOUND when the link is unknown, used, expired or its patron gone. */
struct db_status db_session_open(struct db *db, const char *link_hash_hex,
                                 const char *session_hash_hex, json_t **out);
struct db_status db_session_revoke(struct db *db, const char *patron_id,
                                   const char *session_hash_hex);

#endif
