/* Topics: admins write any, members propose (sql/60_topics.sql). */
#include <stdio.h>
#include <stdlib.h>

#include "db/page.h"
#include "db/topics.h"

struct db_status db_topic_create(struct db *db, const char *actor, const char *rid,
                                 const struct topic_in *in, json_t **out)
{
    const char *p[] = {in->title, in->description, in->status, in->covered_url};
    return db_write_json(db, actor, rid, "SELECT topic_create($1, $2, $3, $4)", 4, p, out);
}

/* Not audited: the audit trail records admin keys, and a patron is none.
 * The proposer gets the public view, like every reader who is no admin. */
struct db_status db_topic_propose(struct db *db, const char *rid, const char *patron_id,
                                  const char *title, const char *description, json_t **out)
{
    const char *p[] = {patron_id, title, description};
    return db_write_json(db, NULL, rid, "SELECT topic_propose($1, $2, $3) - 'proposed_by'", 3, p,
                         out);
}

struct db_status db_topic_get(struct db *db, const char *id, bool admin, json_t **out)
{
    const char *p[] = {id, admin ? "true" : "false"};
    return db_json_one(db, "SELECT topic_view(t, $2) FROM topics t WHERE id = $1", 2, p, out);
}

struct db_status db_topic_list(struct db *db, const char *status, int limit, const char *after,
                               bool admin, json_t **rows)
{
    char lim[DB_PAGE_LIMIT_LEN];
    const char *p[] = {status, after, db_page_limit(lim, limit), admin ? "true" : "false"};
    return db_json_rows(db,
                        "SELECT topic_view(t, $4) FROM topics t"
                        " WHERE ($1::text IS NULL OR t.status = $1)" DB_PAGE(t, topics, 2, 3),
                        4, p, rows);
}

struct db_status db_topic_update(struct db *db, const char *actor, const char *rid, const char *id,
                                 json_t *patch, json_t **out)
{
    return db_write_patch(db, actor, rid, "SELECT topic_patch($1, $2)", id, patch, out);
}

struct db_status db_topic_delete(struct db *db, const char *actor, const char *rid, const char *id)
{
    const char *p[] = {id};
    return db_write(db, actor, rid, "SELECT topic_delete($1)", 1, p);
}
