/* Tiers. Writes run as audited transactions; rows come back as JSON. A
 * write re-weighs the ballots of open rounds in the same transaction (the
 * trigger tiers_reweigh_ballots, sql/65_votes.sql). */
#include <stdio.h>
#include <stdlib.h>

#include "db/page.h"
#include "db/tiers.h"

struct db_status db_tier_create(struct db *db, const char *actor, const char *rid,
                                const struct tier_in *in, json_t **out)
{
    char amount[24], weight[24];
    snprintf(amount, sizeof amount, "%lld", (long long)in->amount_minor);
    snprintf(weight, sizeof weight, "%lld", (long long)in->vote_weight);
    const char *p[] = {in->name, amount, in->currency, in->description, weight};
    return db_write_json(
        db, actor, rid,
        "INSERT INTO tiers (name, amount_minor, currency, description, vote_weight)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING tier_json(tiers)",
        5, p, out);
}

struct db_status db_tier_get(struct db *db, const char *id, json_t **out)
{
    return db_json_by_id(db, "SELECT tier_json(t) FROM tiers t WHERE id = $1", id, out);
}

struct db_status db_tier_list(struct db *db, const char *currency, int limit, const char *after,
                              json_t **rows)
{
    char lim[DB_PAGE_LIMIT_LEN];
    const char *p[] = {currency, after, db_page_limit(lim, limit)};
    return db_json_rows(
        db,
        "SELECT tier_json(t) FROM tiers t"
        " WHERE ($1::text IS NULL OR t.currency = upper($1))" DB_PAGE(t, tiers, 2, 3),
        3, p, rows);
}

struct db_status db_tier_update(struct db *db, const char *actor, const char *rid, const char *id,
                                json_t *patch, json_t **out)
{
    return db_write_patch(
        db, actor, rid,
        "UPDATE tiers t SET"
        "  name = CASE WHEN $2::jsonb ? 'name' THEN $2::jsonb->>'name' ELSE name END,"
        "  amount_minor = CASE WHEN $2::jsonb ? 'amount_minor'"
        "    THEN ($2::jsonb->>'amount_minor')::bigint ELSE amount_minor END,"
        "  currency = CASE WHEN $2::jsonb ? 'currency' THEN $2::jsonb->>'currency' "
        "ELSE currency END,"
        "  description = CASE WHEN $2::jsonb ? 'description'"
        "    THEN $2::jsonb->>'description' ELSE description END,"
        "  vote_weight = CASE WHEN $2::jsonb ? 'vote_weight'"
        "    THEN ($2::jsonb->>'vote_weight')::integer ELSE vote_weight END,"
        "  updated_at = now()"
        " WHERE id = $1 RETURNING tier_json(t)",
        id, patch, out);
}

struct db_status db_tier_delete(struct db *db, const char *actor, const char *rid, const char *id)
{
    const char *p[] = {id};
    return db_write(db, actor, rid, "DELETE FROM tiers WHERE id = $1 RETURNING to_jsonb(id)", 1, p);
}
