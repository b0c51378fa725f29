/* Magic links and patron sessions (SPEC §3). The checks and effects of
 * each step live in SQL functions (sql/80_members.sql) so they
 * share one transaction. */
#include "db/member_auth.h"

struct db_status db_magic_link_request(struct db *db, const char *email, const char *link_hash_hex,
                                       const char *link_url, const char *locale)
{
    const char *p[] = {email, link_hash_hex, link_url, locale};
    return db_command(db, "SELECT magic_link_request($1, decode($2, 'hex'), $3, $4)", 4, p);
}

struct db_status db_session_open(struct db *db, const char *link_hash_hex,
                                 const char *session_hash_hex, json_t **out)
{
    const char *p[] = {link_hash_hex, session_hash_hex};
    struct db_status st = db_write_json(
        db, NULL, NULL, "SELECT session_open(decode($1, 'hex'), decode($2, 'hex'))", 2, p, out);
    if (st.rc == DB_OK && json_is_null(*out)) {
        json_decref(*out);
        *out = NULL;
        st = db_fail(DB_NOT_FOUND);
    }
    return st;
}

struct db_status db_session_revoke(struct db *db, const char *patron_id,
                                   const char *session_hash_hex)
{
    const char *p[] = {session_hash_hex, patron_id};
    return db_command(db,
                      "UPDATE sessions SET revoked_at = now()"
                      " WHERE token_hash = decode($1, 'hex') AND patron_id = $2"
                      "   AND revoked_at IS NULL",
                      2, p);
}
