/* A patron's own data: GET/DELETE /v1/me and its export. */
#include "db/members.h"
#include "db/patrons.h"

struct db_status db_member_get(struct db *db, const char *patron_id, json_t **out)
{
    const char *p[] = {patron_id};
    return db_json_one(db, "SELECT member_json(p) FROM patrons p WHERE p.id = $1", 1, p, out);
}

struct db_status db_member_set_locale(struct db *db, const char *patron_id, const char *locale,
                                      json_t **out)
{
    const char *p[] = {patron_id, locale};
    return db_write_json(db, NULL, NULL, "SELECT member_set_locale($1, $2)", 2, p, out);
}

/* The admin export, so both stay one document, plus what sign-in and mail
 * hold. Two statements: a sign-in between them may show in one half only,
 * which an export can live with. */
struct db_status db_member_export(struct db *db, const char *patron_id, json_t **out)
{
    struct db_status st = db_patron_export(db, patron_id, out);
    if (st.rc != DB_OK) return st;
    const char *p[] = {patron_id};
    json_t *extra = NULL;
    st = db_json_one(db, "SELECT member_export_all($1)", 1, p, &extra);
    if (st.rc == DB_OK && json_object_update(*out, extra) != 0) st = db_fail(DB_ERROR);
    json_decref(extra);
    if (st.rc != DB_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return st;
}

struct db_status db_member_erase(struct db *db, const char *patron_id)
{
    const char *p[] = {patron_id};
    json_t *done = NULL;
    struct db_status st = db_write_json(db, NULL, NULL, "SELECT member_erase($1)", 1, p, &done);
    json_decref(done);
    return st;
}
