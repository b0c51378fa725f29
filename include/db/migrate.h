#ifndef PATROND_DB_MIGRATE_H
#define PATROND_DB_MIGRATE_H

/* api/db/migrate.c: forward-only schema migrations, recorded with a
 * checksum so an edited file is noticed instead of silently diverging. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "db.h"

/* The migrations compiled into the binary, in version order. */
struct migration {
    int version;
    const char *name;
    const char *sql;
};
extern const struct migration migrations[];
extern const size_t migrations_count;

/* The SQL code compiled into the binary (sql/NN_area.sql, in name order):
 * every function, trigger and view, applied whole after the migrations. */
struct sql_file {
    const char *name;
    const char *sql;
};
extern const struct sql_file sql_code[];
extern const size_t sql_code_count;

/* Applies pending migrations, each in its own transaction, under an
 * advisory lock so concurrent instances apply each exactly once, then the
 * SQL code: in the last migration's transaction, or in one of its own
 * when only the code changed. Refuses (false, with a message on `out`)
 * when an applied migration has changed. */
bool migrate_apply(struct db *db, FILE *out);
/* Prints each migration with applied/pending and whether the SQL code is
 * current; false on a changed migration. */
bool migrate_status(struct db *db, FILE *out);
/* How many embedded migrations are not applied (all of them on a database
 * never migrated), plus one when the SQL code applied differs from this
 * binary's (or was never applied), or one of these: */
#define MIGRATE_UNREACHABLE (-1) /* the database cannot be reached */
#define MIGRATE_DIVERGED (-2)    /* an applied file changed, or the database is newer */
int migrate_pending(struct db *db);

#endif
