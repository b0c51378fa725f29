#ifndef PATROND_DB_IDEMPOTENCY_H
#define PATROND_DB_IDEMPOTENCY_H

/* api/db/idempotency.c: stored replies for Idempotency-Key. */

#include "db.h"

enum idem_state { IDEM_NEW, IDEM_REPLAY, IDEM_MISMATCH, IDEM_IN_FLIGHT };
struct idem_record {
    int status;
    char *content_type; /* malloc'd, may be NULL */
    char *body;         /* malloc'd, may be NULL */
};
struct db_status db_idem_claim(struct db *db, const char *scope, const char *key,
                               const char *hash_hex, enum idem_state *state,
                               struct idem_record *rec);
struct db_status db_idem_store(struct db *db, const char *scope, const char *key, int status,
                               const char *content_type, const char *body);
struct db_status db_idem_release(struct db *db, const char *scope, const char *key);
struct db_status db_idem_expire(struct db *db);

#endif
