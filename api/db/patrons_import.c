/* The import's transaction: the rows go to PostgreSQL in batches (one
 * round trip each, applied set-wise by sql/85_import.sql), so a file of
 * 100 000 rows costs a hundred statements, not 100 000. */
#include <stdio.h>
#include <stdlib.h>

#include "db/patrons_import.h"

/* An import waits for the one before it (pg_advisory_xact_lock), which
 * may take longer than the server-wide statement timeout of 15 s. */
#define IMPORT_STATEMENT_TIMEOUT "300s"

struct import_txn {
    size_t n;
    import_batch_fn batch;
    void *cls;
    bool apply;
    size_t invalid;
    struct import_counts *out;
    bool discarded; /* rolled back on purpose, after counting */
};

static long count_of(json_t *obj, const char *key)
{
    return (long)json_integer_value(json_object_get(obj, key));
}

static struct db_status import_batches(struct db *db, struct import_txn *t)
{
    for (size_t i = 0; i < t->n; i++) {
        char *text = t->batch(t->cls, i);
        if (!text) return db_fail(DB_ERROR);
        const char *p[] = {text};
        json_t *res = NULL;
        struct db_status st = db_json_one(db, "SELECT patrons_import_batch($1)", 1, p, &res);
        free(text);
        if (st.rc != DB_OK) return st;
        t->out->created += count_of(res, "created");
        t->out->updated += count_of(res, "updated");
        t->out->unchanged += count_of(res, "unchanged");
        if (count_of(res, "ballots_changed") > 0) t->out->ballots_changed = true;
        json_decref(res);
    }
    return db_ok();
}

static struct db_status import_fn(struct db *db, void *arg)
{
    struct import_txn *t = arg;
    *t->out = (struct import_counts){0}; /* a retried transaction counts again */
    t->discarded = false;
    const char *timeout[] = {IMPORT_STATEMENT_TIMEOUT};
    struct db_status st =
        db_command(db, "SELECT set_config('statement_timeout', $1, true)", 1, timeout);
    if (st.rc == DB_OK) st = db_command(db, "SELECT patrons_import_begin()", 0, NULL);
    if (st.rc == DB_OK) st = import_batches(db, t);
    if (st.rc != DB_OK) return st;
    if (!t->apply) {
        /* db_txn rolls back on any status but DB_OK; this one is not an error */
        t->discarded = true;
        return db_fail(DB_NOT_FOUND);
    }
    char created[24], updated[24], unchanged[24], invalid[24];
    snprintf(created, sizeof created, "%ld", t->out->created);
    snprintf(updated, sizeof updated, "%ld", t->out->updated);
    snprintf(unchanged, sizeof unchanged, "%ld", t->out->unchanged);
    snprintf(invalid, sizeof invalid, "%zu", t->invalid);
    const char *p[] = {created, updated, unchanged, invalid};
    return db_command(db, "SELECT patrons_import_finish($1, $2, $3, $4)", 4, p);
}

struct db_status db_patrons_import(struct db *db, const char *actor, const char *rid, size_t n,
                                   import_batch_fn batch, void *cls, bool apply, size_t invalid,
                                   struct import_counts *out)
{
    struct import_txn t = {n, batch, cls, apply, invalid, out, false};
    struct db_status st = db_txn(db, actor, rid, import_fn, &t);
    return st.rc == DB_NOT_FOUND && t.discarded ? db_ok() : st;
}
