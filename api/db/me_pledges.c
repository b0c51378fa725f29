/* A patron cancelling their own pledge (sql/79_self_service.sql). */
#include "db/me_pledges.h"

struct db_status db_me_pledge_cancel_target(struct db *db, const char *patron_id,
                                            const char *pledge_id, json_t **out)
{
    const char *p[] = {patron_id, pledge_id};
    return db_json_one(db, "SELECT me_pledge_cancel_target($1, $2)", 2, p, out);
}

struct db_status db_me_pledge_cancel(struct db *db, const char *patron_id, const char *pledge_id,
                                     bool ended, json_t **out, bool *moved)
{
    const char *p[] = {patron_id, pledge_id, ended ? "true" : "false"};
    *moved = false;
    struct db_status st =
        db_write_json(db, NULL, NULL, "SELECT me_pledge_cancel($1, $2, $3)", 3, p, out);
    if (st.rc != DB_OK) return st;
    *moved = json_integer_value(json_object_get(*out, "ballots_changed")) > 0;
    json_object_del(*out, "ballots_changed");
    return st;
}
