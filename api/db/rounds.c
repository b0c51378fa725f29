/* Voting rounds and their tallies (sql/65_votes.sql). Reads go
 * through round_settled()/round_tally(), which freeze a round that has
 * closed since it was last looked at, so they may write. */
#include <stdio.h>
#include <stdlib.h>

#include "db/page.h"
#include "db/rounds.h"

struct db_status db_round_create(struct db *db, const char *actor, const char *rid,
                                 const struct round_in *in, json_t **out)
{
    char *ids = json_dumps(in->topic_ids, JSON_COMPACT);
    if (!ids) return db_fail(DB_ERROR);
    char max[24];
    snprintf(max, sizeof max, "%lld", (long long)in->max_choices);
    const char *p[] = {in->title, ids, in->opens_at, in->closes_at, max};
    struct db_status st =
        db_write_json(db, actor, rid, "SELECT round_create($1, $2, $3, $4, $5)", 5, p, out);
    free(ids);
    return st;
}

struct db_status db_round_get(struct db *db, const char *id, json_t **out)
{
    return db_json_by_id(db, "SELECT round_json(round_settled(r)) FROM rounds r WHERE r.id = $1",
                         id, out);
}

struct db_status db_round_current(struct db *db, json_t **out)
{
    return db_json_one(db, "SELECT round_json(r) FROM rounds r WHERE r.id = round_current_id()", 0,
                       NULL, out);
}

struct db_status db_round_list(struct db *db, const char *status, int limit, const char *after,
                               json_t **rows)
{
    char lim[DB_PAGE_LIMIT_LEN];
    const char *p[] = {status, after, db_page_limit(lim, limit)};
    return db_json_rows(
        db,
        "SELECT round_json(round_settled(r)) FROM rounds r"
        " WHERE ($1::text IS NULL OR round_status(r) = $1)" DB_PAGE(r, rounds, 2, 3),
        3, p, rows);
}

struct db_status db_round_update(struct db *db, const char *actor, const char *rid, const char *id,
                                 json_t *patch, json_t **out)
{
    return db_write_patch(db, actor, rid, "SELECT round_patch($1, $2)", id, patch, out);
}

struct db_status db_round_close(struct db *db, const char *actor, const char *rid, const char *id,
                                json_t **out)
{
    const char *p[] = {id};
    return db_write_json(db, actor, rid, "SELECT round_close($1)", 1, p, out);
}

struct db_status db_round_tally(struct db *db, const char *id, json_t **out)
{
    return db_json_by_id(db, "SELECT round_tally($1)", id, out);
}

struct db_status db_round_current_tally(struct db *db, json_t **out)
{
    return db_json_one(db, "SELECT round_current_tally()", 0, NULL, out);
}

struct db_status db_rounds_settle(struct db *db, int batch, int *frozen)
{
    char n[16];
    snprintf(n, sizeof n, "%d", batch);
    const char *p[] = {n};
    return db_int(db, "SELECT round_sweep($1)", 1, p, frozen);
}
