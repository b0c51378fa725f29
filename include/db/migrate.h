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

/* Applies pending migrations, each in its own transaction, under an
 * advisory lock so concurrent instances apply each exactly once. Refuses
 * (false, with a message on `out`) when an applied file has changed. */
bool migrate_apply(struct db *db, FILE *out);
/* Prints each migration with applied/pending; false on a changed file. */
bool migrate_status(struct db *db, FILE *out);
/* How many embedded migrations are not applied (all of them on a database
 * never migrated), or one of these: */
#define MIGRATE_UNREACHABLE (-1) /* the database cannot be reached */
#define MIGRATE_DIVERGED (-2)    /* an applied file changed, or the database is newer */
int migrate_pending(struct db *db);

#endif
