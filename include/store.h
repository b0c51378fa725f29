#ifndef PATROND_STORE_H
#define PATROND_STORE_H

/* The database layer: every SQL statement patrond runs lives behind these
 * functions (one file per resource in api/db/). JSON documents come back ready to serve. */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "db.h"

/* api/db/api_keys.c */
enum db_rc db_api_key_lookup(struct db *db, const char *key_hash_hex, char id[37], char scope[8]);
enum db_rc db_api_key_create(struct db *db, const char *name, const char *scope,
                             const char *key_hash_hex, char id[37]);
enum db_rc db_api_key_list(struct db *db, json_t **rows);
enum db_rc db_api_key_revoke(struct db *db, const char *id);

/* api/db/sessions.c: the patron id of a live (unexpired, unrevoked)
 * session with this token hash. */
enum db_rc db_session_lookup(struct db *db, const char *token_hash_hex, char patron_id[37]);

/* api/db/idempotency.c */
enum idem_state { IDEM_NEW, IDEM_REPLAY, IDEM_MISMATCH, IDEM_IN_FLIGHT };
struct idem_record {
    int status;
    char *content_type; /* malloc'd, may be NULL */
    char *body;         /* malloc'd, may be NULL */
};
enum db_rc db_idem_claim(struct db *db, const char *scope, const char *key, const char *hash_hex,
                         enum idem_state *state, struct idem_record *rec);
enum db_rc db_idem_store(struct db *db, const char *scope, const char *key, int status,
                         const char *content_type, const char *body);
enum db_rc db_idem_release(struct db *db, const char *scope, const char *key);
enum db_rc db_idem_expire(struct db *db);

/* api/db/retention.c: rule i (< db_retention_rules()) deletes at most
 * `batch` rows of db_retention_table(i) past their retention period. */
size_t db_retention_rules(void);
const char *db_retention_table(size_t rule);
enum db_rc db_retention_apply(struct db *db, size_t rule, int batch, int *deleted);

/* api/db/migrate.c is in migrate.h */

/* api/db/tiers.c */
struct tier_in {
    const char *name, *currency, *description;
    int64_t amount_minor, vote_weight;
};
enum db_rc db_tier_create(struct db *db, const char *actor, const char *rid,
                          const struct tier_in *in, json_t **out);
enum db_rc db_tier_get(struct db *db, const char *id, json_t **out);
enum db_rc db_tier_list(struct db *db, const char *currency, int limit, const char *after,
                        json_t **rows);
/* `patch` holds only the keys to change (already validated). */
enum db_rc db_tier_update(struct db *db, const char *actor, const char *rid, const char *id,
                          json_t *patch, json_t **out);
enum db_rc db_tier_delete(struct db *db, const char *actor, const char *rid, const char *id);

/* api/db/patrons.c */
enum db_rc db_patron_create(struct db *db, const char *actor, const char *rid, const char *email,
                            const char *name, json_t **out);
enum db_rc db_patron_get(struct db *db, const char *id, json_t **out);
enum db_rc db_patron_list(struct db *db, const char *q, const char *status, int limit,
                          const char *after, json_t **rows);
enum db_rc db_patron_update(struct db *db, const char *actor, const char *rid, const char *id,
                            json_t *patch, json_t **out);
enum db_rc db_patron_erase(struct db *db, const char *actor, const char *rid, const char *id);
enum db_rc db_patron_export(struct db *db, const char *id, json_t **out);

/* api/db/pledges.c */
struct pledge_in {
    const char *patron_id, *currency, *interval, *provider, *provider_ref, *status,
        *current_period_end, *tier_id;
    int64_t amount_minor;
};
/* *moved tells whether the write re-weighed any of the patron's ballots,
 * so the caller announces the tally (tally_changed) after the commit. */
enum db_rc db_pledge_create(struct db *db, const char *actor, const char *rid,
                            const struct pledge_in *in, json_t **out, bool *moved);
enum db_rc db_pledge_get(struct db *db, const char *id, json_t **out);
enum db_rc db_pledge_list(struct db *db, const char *patron_id, const char *status,
                          const char *provider, int limit, const char *after, json_t **rows);
enum db_rc db_pledge_update(struct db *db, const char *actor, const char *rid, const char *id,
                            json_t *patch, json_t **out, bool *moved);

/* api/db/payments.c */
enum db_rc db_payment_get(struct db *db, const char *id, json_t **out);
enum db_rc db_payment_list(struct db *db, const char *patron_id, const char *pledge_id,
                           const char *provider, const char *kind, int limit, const char *after,
                           json_t **rows);

/* api/db/audit.c */
enum db_rc db_audit_list(struct db *db, const char *entity, const char *entity_id, int limit,
                         const char *after, json_t **rows);

/* api/db/reports.c */
enum db_rc db_report_summary(struct db *db, json_t **out);
enum db_rc db_report_mrr(struct db *db, int months, json_t **out);

#endif
