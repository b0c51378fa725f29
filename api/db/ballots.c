/* Ballots: each write replaces the ballot and moves the running totals in
 * one statement (ballot_put/ballot_delete in migrations), which is its own
 * transaction. Putting the same ballot twice changes nothing, so a put may
 * be resent after a lost connection. */
#include <stdlib.h>

#include "db/ballots.h"

/* The ballot functions raise PT409 only for a round that is not open
 * (not yet, or no longer). */
static const struct db_error_rule ballot_errors[] = {
    {"PT409", NULL, ERR_round_not_open, NULL, NULL},
    {.code = ERR_COUNT},
};

struct db_status db_ballot_put(struct db *db, const char *round_id, const char *patron_id,
                               json_t *topic_ids, json_t **out)
{
    char *ids = json_dumps(topic_ids, JSON_COMPACT);
    if (!ids) return db_fail(DB_ERROR);
    const char *p[] = {round_id, patron_id, ids};
    struct db_status st = db_call_json(db, "SELECT ballot_put($1, $2, json_uuids($3))", 3, p, out);
    free(ids);
    db_error_refine(&st, ballot_errors);
    return st;
}

struct db_status db_ballot_get(struct db *db, const char *round_id, const char *patron_id,
                               json_t **out)
{
    const char *p[] = {round_id, patron_id};
    return db_json_one(db,
                       "SELECT ballot_json(b) FROM ballots b"
                       " WHERE b.round_id = $1 AND b.patron_id = $2",
                       2, p, out);
}

/* Not resent: a withdrawal that committed before its answer was lost
 * would come back "no ballot". */
struct db_status db_ballot_delete(struct db *db, const char *rid, const char *round_id,
                                  const char *patron_id)
{
    const char *p[] = {round_id, patron_id};
    struct db_status st = db_write(db, NULL, rid, "SELECT ballot_delete($1, $2)", 2, p);
    db_error_refine(&st, ballot_errors);
    return st;
}
