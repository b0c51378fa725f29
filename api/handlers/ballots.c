/* /v1/rounds/{id}/ballot: a member's ballot in a round (SPEC §4). */
#include "db/ballots.h"
#include "handlers.h"
#include "tally_notify.h"

void ballots_put(struct req *r)
{
    const char *round_id = req_uuid_param(r, 0);
    if (!round_id) return;
    json_t *ids;
    struct field none[] = {{0}};
    if (!validate_with_topic_ids(r, none, true, false, &ids)) return;
    json_t *ballot = NULL;
    struct db_status st = db_ballot_put(r->db, round_id, r->caller.id, ids, &ballot);
    if (st.rc == DB_OK) tally_changed();
    reply_result(r, &st, 200, ballot);
}

void ballots_get(struct req *r)
{
    const char *round_id = req_uuid_param(r, 0);
    if (!round_id) return;
    json_t *ballot = NULL;
    struct db_status st = db_ballot_get(r->db, round_id, r->caller.id, &ballot);
    if (st.rc == DB_NOT_FOUND)
        reply_error(r, ERR_not_found, "You have no ballot in this round.");
    else
        reply_result(r, &st, 200, ballot);
}

void ballots_delete(struct req *r)
{
    const char *round_id = req_uuid_param(r, 0);
    if (!round_id) return;
    struct db_status st = db_ballot_delete(r->db, r->request_id, round_id, r->caller.id);
    if (st.rc == DB_OK) tally_changed();
    if (st.rc == DB_OK)
        reply_empty(r, 204);
    else
        reply_db(r, &st);
}
