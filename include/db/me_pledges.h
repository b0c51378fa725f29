#ifndef PATROND_DB_ME_PLEDGES_H
#define PATROND_DB_ME_PLEDGES_H

/* api/db/me_pledges.c: a patron cancelling their own pledge
 * (POST /v1/me/pledges/{id}/cancel, sql/79_self_service.sql). */

#include <jansson.h>
#include <stdbool.h>

#include "db.h"

/* The patron's own pledge as the cancel needs it: {provider,
 * provider_ref, status, cancelable, effective_until}. DB_NOT_FOUND for a
 * pledge that is not theirs. Read only: the provider is called after it,
 * outside any transaction. */
struct db_status db_me_pledge_cancel_target(struct db *db, const char *patron_id,
                                            const char *pledge_id, json_t **out);
/* Records a cancel that succeeded: `ended` cancels the pledge now,
 * otherwise it ends at its period end. *out: {status, effective_until};
 * *moved: ballots were re-weighed (the caller announces a tally change). */
struct db_status db_me_pledge_cancel(struct db *db, const char *patron_id, const char *pledge_id,
                                     bool ended, json_t **out, bool *moved);

#endif
