/* The background job thread. */
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "clock.h"
#include "jobs.h"
#include "log.h"

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool stopping, running;

/* Sleeps up to ms, returning early (true) when asked to stop. */
static bool wait_or_stop(long long ms)
{
    struct timespec until = deadline_after_ms(ms);
    pthread_mutex_lock(&lock);
    while (!stopping && pthread_cond_timedwait(&wake, &lock, &until) == 0) {
    }
    bool stop = stopping;
    pthread_mutex_unlock(&lock);
    return stop;
}

static void *loop(void *arg)
{
    (void)arg;
    long long due[64] = {0};
    struct db *db = db_thread();
    for (;;) {
        long long now = clock_ms(), next = now + 1000;
        for (size_t i = 0; i < jobs_count && i < 64; i++) {
            if (due[i] <= now) {
                jobs[i].run(db);
                due[i] = clock_ms() + jobs[i].interval_ms;
            }
            if (due[i] < next) next = due[i];
        }
        long long wait = next - clock_ms();
        if (wait_or_stop(wait > 0 ? wait : 0)) return NULL;
    }
}

bool jobs_start(void)
{
    stopping = false;
    running = pthread_create(&thread, NULL, loop, NULL) == 0;
    if (!running) log_error("cannot start the background job thread");
    return running;
}

void jobs_stop(void)
{
    if (!running) return;
    pthread_mutex_lock(&lock);
    stopping = true;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    pthread_join(thread, NULL);
    running = false;
}
