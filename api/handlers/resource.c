/* The shapes every resource's handlers share: read one by its {id},
 * apply a validated patch to it, delete it. Each still calls one db
 * function, the one it is given. */
#include "handlers.h"
#include "tally_notify.h"

void handle_get(struct req *r, db_get_fn get)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    json_t *row = NULL;
    struct db_status st = get(r->db, id, &row);
    reply_result(r, &st, 200, row);
}

void handle_patch(struct req *r, const char *id, db_patch_fn update, bool moves_ballots)
{
    json_t *row = NULL;
    struct db_status st = update(r->db, r->caller.id, r->request_id, id, r->json, &row);
    if (st.rc == DB_OK && moves_ballots) tally_changed();
    reply_result(r, &st, 200, row);
}

void handle_action(struct req *r, db_action_fn act, bool moves_ballots)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    json_t *row = NULL;
    struct db_status st = act(r->db, r->caller.id, r->request_id, id, &row);
    if (st.rc == DB_OK && moves_ballots) tally_changed();
    reply_result(r, &st, 200, row);
}

void handle_delete(struct req *r, db_delete_fn del, bool moves_ballots)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    struct db_status st = del(r->db, r->caller.id, r->request_id, id);
    if (st.rc == DB_OK && moves_ballots) tally_changed();
    if (st.rc == DB_OK)
        reply_empty(r, 204);
    else
        reply_db(r, &st);
}
