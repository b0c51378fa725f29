/* Every periodic job, with how often it runs. */
#include "jobs.h"
#include "jobs_list.h"

const struct job jobs[] = {
    {"idempotency-expiry", 600000, job_expire_idempotency},
};

const size_t jobs_count = sizeof jobs / sizeof jobs[0];
