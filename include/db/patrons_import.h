#ifndef PATROND_DB_PATRONS_IMPORT_H
#define PATROND_DB_PATRONS_IMPORT_H

/* api/db/patrons_import.c: POST /v1/patrons/import's one transaction. */

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

/* What the import's rows did (each row counts once). */
struct import_counts {
    long created, updated, unchanged;
    bool ballots_changed; /* a tally may have moved */
};

/* Makes batch i (of n): a JSON array of row objects as
 * patrons_import_batch() (sql/85_import.sql) reads them, malloc'd, or NULL
 * when out of memory. Asked for in order, and again from 0 when the
 * transaction is retried. */
typedef char *(*import_batch_fn)(void *cls, size_t i);

/* Sends the `n` batches `batch` makes, in one audited transaction that
 * waits for any other import. With `apply` false everything is counted
 * and then rolled back (a dry run, or a file with errors); otherwise the
 * import is committed with one audit entry that also names the `invalid`
 * rows left out. */
struct db_status db_patrons_import(struct db *db, const char *actor, const char *rid, size_t n,
                                   import_batch_fn batch, void *cls, bool apply, size_t invalid,
                                   struct import_counts *out);

#endif
