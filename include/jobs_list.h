#ifndef PATROND_JOBS_LIST_H
#define PATROND_JOBS_LIST_H

#include "db.h"

/* The functions behind api/jobs/table.c, one file each in api/jobs/. */
void job_expire_idempotency(struct db *db);
void job_retention(struct db *db);
void job_deliver_outbox(struct db *db);
void job_expire_pledges(struct db *db);
void job_settle_rounds(struct db *db);
void job_sweep_memberships(struct db *db);
void job_webhook_clock(struct db *db);
void job_mail_ends_soon(struct db *db);

#endif
