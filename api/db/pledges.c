/* Pledges: admin-created ones here; providers' webhooks add their own. */
#include <stdio.h>
#include <stdlib.h>

#include "db/page.h"
#include "db/pledges.h"

/* What a failed pledge write means for the client: a missing patron or
 * tier is a mistake in a named field; a taken provider_ref has its own
 * code, as the fix (another reference) differs from other conflicts; the
 * only PT409 pledge_patch raises is a move the state machine forbids. */
static const struct db_error_rule pledge_errors[] = {
    {"23503", "pledges_patron_id_fkey", ERR_validation_failed, "patron_id", "no such patron"},
    {"23503", "pledges_tier_id_fkey", ERR_validation_failed, "tier_id", "no such tier"},
    {"23505", "pledges_provider_ref_key", ERR_duplicate_provider_ref, NULL,
     "Another pledge already has this provider and provider_ref."},
    {"PT409", NULL, ERR_invalid_transition, NULL, NULL},
    {.code = ERR_COUNT},
};

/* The pledge functions also say how many of the patron's ballots they
 * re-weighed in the same transaction; the caller announces the tally after
 * the commit, and the count is not part of the pledge. */
static struct db_status ballots_moved(struct db_status st, json_t *out, bool *moved)
{
    db_error_refine(&st, pledge_errors);
    *moved = false;
    if (st.rc != DB_OK || !out) return st;
    *moved = json_integer_value(json_object_get(out, "ballots_changed")) > 0;
    json_object_del(out, "ballots_changed");
    return st;
}

struct db_status db_pledge_create(struct db *db, const char *actor, const char *rid,
                                  const struct pledge_in *in, json_t **out, bool *moved)
{
    char amount[24];
    snprintf(amount, sizeof amount, "%lld", (long long)in->amount_minor);
    const char *p[] = {in->patron_id,
                       amount,
                       in->currency,
                       in->interval,
                       in->provider,
                       in->provider_ref,
                       in->status ? in->status : "pending",
                       in->current_period_end,
                       in->tier_id};
    struct db_status st =
        db_write_json(db, actor, rid,
                      "SELECT x FROM pledge_create($1, $2, $3, $4, $5, $6, $7, $8, $9) x"
                      " WHERE x IS NOT NULL",
                      9, p, out);
    return ballots_moved(st, *out, moved);
}

struct db_status db_pledge_get(struct db *db, const char *id, json_t **out)
{
    return db_json_by_id(db, "SELECT pledge_json(p) FROM pledges p WHERE id = $1", id, out);
}

struct db_status db_pledge_list(struct db *db, const char *patron_id, const char *status,
                                const char *provider, int limit, const char *after, json_t **rows)
{
    char lim[DB_PAGE_LIMIT_LEN];
    const char *p[] = {patron_id, status, provider, after, db_page_limit(lim, limit)};
    return db_json_rows(db,
                        "SELECT pledge_json(p) FROM pledges p"
                        " WHERE ($1::uuid IS NULL OR p.patron_id = $1)"
                        "   AND ($2::text IS NULL OR p.status = $2)"
                        "   AND ($3::text IS NULL OR p.provider = $3)" DB_PAGE(p, pledges, 4, 5),
                        5, p, rows);
}

struct db_status db_pledge_update(struct db *db, const char *actor, const char *rid, const char *id,
                                  json_t *patch, json_t **out, bool *moved)
{
    struct db_status st =
        db_write_patch(db, actor, rid, "SELECT pledge_patch($1, $2)", id, patch, out);
    return ballots_moved(st, *out, moved);
}
