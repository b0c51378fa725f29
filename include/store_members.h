#ifndef PATROND_STORE_MEMBERS_H
#define PATROND_STORE_MEMBERS_H

/* The database side of members: sign-in, a patron's own data, and outbox
 * delivery (SQL in sql/80_members.sql and sql/35_outbox.sql). Hashes are lower-case hex
 * SHA-256 of the tokens, which never reach the database themselves. */

#include <jansson.h>
#include <stdint.h>

#include "db.h"

/* api/db/member_auth.c */
/* Stores the link and queues its mail when `email` belongs to a patron
 * under the per-address limit; otherwise does nothing, equally DB_OK. */
enum db_rc db_magic_link_request(struct db *db, const char *email, const char *link_hash_hex,
                                 const char *link_url);
/* Spends the magic link and opens a session: {"expires_at", "patron"}.
 * DB_NOT_FOUND when the link is unknown, used, expired or its patron gone. */
enum db_rc db_session_open(struct db *db, const char *link_hash_hex, const char *session_hash_hex,
                           json_t **out);
enum db_rc db_session_revoke(struct db *db, const char *patron_id, const char *session_hash_hex);

/* api/db/members.c */
enum db_rc db_member_get(struct db *db, const char *patron_id, json_t **out);
enum db_rc db_member_export(struct db *db, const char *patron_id, json_t **out);
/* GDPR erasure by the patron: also ends sessions, links and their mail. */
enum db_rc db_member_erase(struct db *db, const char *patron_id);
/* Messages still to be delivered (not sent, not given up). */
enum db_rc db_outbox_backlog(struct db *db, long long *count);

/* api/db/outbox.c */
struct outbox_msg {
    PGresult *res; /* owns the strings below */
    const char *id, *to, *subject, *body;
    int64_t created_at; /* Unix time */
};
/* Leases the next due message; DB_NOT_FOUND when none is due. */
enum db_rc db_outbox_claim(struct db *db, struct outbox_msg *m);
void db_outbox_msg_free(struct outbox_msg *m);
enum db_rc db_outbox_sent(struct db *db, const char *id);
enum db_rc db_outbox_failed(struct db *db, const char *id, const char *error);
enum db_rc db_outbox_abandon_expired(struct db *db);

#endif
