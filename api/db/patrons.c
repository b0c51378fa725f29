/* Patrons. Writes run as audited transactions; rows come back as JSON.
 * Guarded writes (update, erasure) live in SQL functions
 * (sql/30_patrons.sql) so their checks and effects share one
 * transaction and one row lock. */
#include <stdio.h>
#include <stdlib.h>

#include "db/page.h"
#include "db/patrons.h"

/* A taken e-mail address has its own code, since the client's fix
 * (another address) differs from other conflicts, whose detail the SQL
 * function words itself. */
static const struct db_error_rule patron_errors[] = {
    {"23505", "patrons_email_key", ERR_duplicate_email, NULL,
     "A patron with this e-mail address already exists."},
    {.code = ERR_COUNT},
};

struct db_status db_patron_create(struct db *db, const char *actor, const char *rid,
                                  const char *email, const char *name, json_t **out)
{
    const char *p[] = {email, name};
    struct db_status st = db_write_json(db, actor, rid,
                                        "INSERT INTO patrons (email, name) VALUES ($1, $2)"
                                        " RETURNING patron_json(patrons)",
                                        2, p, out);
    db_error_refine(&st, patron_errors);
    return st;
}

struct db_status db_patron_get(struct db *db, const char *id, json_t **out)
{
    return db_json_by_id(db, "SELECT patron_json(p) FROM patrons p WHERE id = $1", id, out);
}

struct db_status db_patron_list(struct db *db, const char *q, const char *status, int limit,
                                const char *after, json_t **rows)
{
    char lim[DB_PAGE_LIMIT_LEN];
    const char *p[] = {q, status, after, db_page_limit(lim, limit)};
    return db_json_rows(db,
                        "SELECT patron_json(p) FROM patrons p"
                        " WHERE patron_matches(p, $1, $2)" DB_PAGE(p, patrons, 3, 4),
                        4, p, rows);
}

struct db_status db_patron_update(struct db *db, const char *actor, const char *rid, const char *id,
                                  json_t *patch, json_t **out)
{
    struct db_status st =
        db_write_patch(db, actor, rid, "SELECT patron_update($1, $2)", id, patch, out);
    db_error_refine(&st, patron_errors);
    return st;
}

struct db_status db_patron_erase(struct db *db, const char *actor, const char *rid, const char *id)
{
    const char *p[] = {id};
    return db_write(db, actor, rid, "SELECT member_erase($1)", 1, p);
}

/* Everything held about one patron (GDPR art. 15/20). Payments are found
 * through the patron and through their pledges, as webhooks may have
 * recorded either link. */
struct db_status db_patron_export(struct db *db, const char *id, json_t **out)
{
    return db_json_by_id(
        db,
        "SELECT jsonb_build_object("
        "  'patron', patron_json(p),"
        "  'pledges', coalesce((SELECT jsonb_agg(pledge_json(pl) ORDER BY pl.seq)"
        "    FROM pledges pl WHERE pl.patron_id = p.id), '[]'::jsonb),"
        "  'payments', coalesce((SELECT jsonb_agg(payment_json(pm) ORDER BY pm.seq)"
        "    FROM payments pm WHERE pm.patron_id = p.id"
        "      OR pm.pledge_id IN (SELECT id FROM pledges WHERE patron_id = p.id)), '[]'::jsonb),"
        "  'exported_at', rfc3339(now())) || member_export_all(p.id)"
        " FROM patrons p WHERE p.id = $1",
        id, out);
}
