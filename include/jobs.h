#ifndef PATROND_JOBS_H
#define PATROND_JOBS_H

#include <stddef.h>

#include "db.h"

/* Periodic background work (outbox delivery, sweeps). One thread runs
 * every job in turn on its own database connection. Jobs must be safe to
 * run in several patrond instances at once: they claim work in PostgreSQL
 * (FOR UPDATE SKIP LOCKED, advisory locks), never in memory. */
struct job {
    const char *name;
    unsigned interval_ms;
    void (*run)(struct db *db);
};

/* The job table (api/jobs/table.c). */
extern const struct job jobs[];
extern const size_t jobs_count;

/* Starts the thread; false if it could not be created. */
_Bool jobs_start(void);
/* Asks the thread to stop, waits for the job in progress, and joins it. */
void jobs_stop(void);

#endif
