/* API keys: only their SHA-256 is ever stored. */
#include <string.h>

#include "db/api_keys.h"

struct db_status db_api_key_lookup(struct db *db, const char *key_hash_hex, char id[37],
                                   char scope[8])
{
    PGresult *res;
    const char *p[] = {key_hash_hex};
    struct db_status st = db_exec(db,
                                  "SELECT id, scope FROM api_keys"
                                  " WHERE key_hash = decode($1, 'hex') AND revoked_at IS NULL",
                                  1, p, &res);
    if (st.rc != DB_OK) return st;
    if (PQntuples(res) == 1) {
        snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
        snprintf(scope, 8, "%s", PQgetvalue(res, 0, 1));
    } else {
        st = db_fail(DB_NOT_FOUND);
    }
    PQclear(res);
    return st;
}

struct db_status db_api_key_create(struct db *db, const char *name, const char *scope,
                                   const char *key_hash_hex, char id[37])
{
    PGresult *res;
    const char *p[] = {name, scope, key_hash_hex};
    struct db_status st = db_exec(db,
                                  "INSERT INTO api_keys (name, scope, key_hash)"
                                  " VALUES ($1, $2, decode($3, 'hex')) RETURNING id",
                                  3, p, &res);
    if (st.rc != DB_OK) return st;
    snprintf(id, 37, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return db_ok();
}

struct db_status db_api_key_list(struct db *db, json_t **rows)
{
    return db_json_rows(db,
                        "SELECT jsonb_build_object('id', id, 'name', name, 'scope', scope,"
                        " 'created_at', rfc3339(created_at), 'revoked_at', rfc3339(revoked_at))"
                        " FROM api_keys ORDER BY created_at, id",
                        0, NULL, rows);
}

struct db_status db_api_key_revoke(struct db *db, const char *id)
{
    json_t *revoked = NULL; /* no row: no such key */
    struct db_status st =
        db_json_by_id(db,
                      "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())"
                      " WHERE id = $1 RETURNING 'true'",
                      id, &revoked);
    json_decref(revoked);
    return st;
}
