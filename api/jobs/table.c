/* Every periodic job, with how often it runs. */
#include "jobs.h"
#include "jobs_list.h"

const struct job jobs[] = {
    {"idempotency-expiry", 600000, job_expire_idempotency},
    {"outbox-delivery", 1000, job_deliver_outbox},
    {"pledge-expiry", 60000, job_expire_pledges},
    {"round-settling", 5000, job_settle_rounds},
    {"membership-sweep", 20000, job_sweep_memberships},
    {"webhook-clock", 2000, job_webhook_clock},
    {"mail-ends-soon", 20000, job_mail_ends_soon},
    {"retention", 600000, job_retention},
};

const size_t jobs_count = sizeof jobs / sizeof jobs[0];
