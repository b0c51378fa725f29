/* A fixed set of threads taking tasks from a bounded ring, sized by the
 * connection limit (one task per connection at most). */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "handler_pool.h"
#include "log.h"

#define RING HTTP_MAX_CONNECTIONS

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;    /* a task was queued, or the pool is stopping */
    pthread_cond_t settled; /* an outstanding task finished */
    struct {
        pool_task_fn fn;
        void *arg;
    } ring[RING];
    unsigned head, count;
    unsigned long outstanding;
    bool stopping;
    pthread_t *threads;
    unsigned nthreads;
} pool = {
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .settled = PTHREAD_COND_INITIALIZER,
};

static void *pool_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (!pool.count && !pool.stopping)
            pthread_cond_wait(&pool.work, &pool.lock);
        if (!pool.count) break; /* stopping, and nothing left to run */
        pool_task_fn fn = pool.ring[pool.head].fn;
        void *arg = pool.ring[pool.head].arg;
        pool.head = (pool.head + 1) % RING;
        pool.count--;
        pthread_mutex_unlock(&pool.lock);
        fn(arg);
        pthread_mutex_lock(&pool.lock);
    }
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

bool pool_start(unsigned n)
{
    pool.threads = calloc(n, sizeof *pool.threads);
    if (!pool.threads) return false;
    pool.stopping = false;
    for (pool.nthreads = 0; pool.nthreads < n; pool.nthreads++)
        if (pthread_create(&pool.threads[pool.nthreads], NULL, pool_main, NULL) != 0) break;
    if (pool.nthreads < n) log_warn("handler pool: started %u of %u threads", pool.nthreads, n);
    return pool.nthreads > 0;
}

bool pool_submit(pool_task_fn fn, void *arg)
{
    pthread_mutex_lock(&pool.lock);
    bool ok = !pool.stopping && pool.nthreads > 0 && pool.count < RING;
    if (ok) {
        unsigned tail = (pool.head + pool.count) % RING;
        pool.ring[tail].fn = fn;
        pool.ring[tail].arg = arg;
        pool.count++;
        pool.outstanding++;
        pthread_cond_signal(&pool.work);
    }
    pthread_mutex_unlock(&pool.lock);
    return ok;
}

void pool_finished(void)
{
    pthread_mutex_lock(&pool.lock);
    if (pool.outstanding) pool.outstanding--;
    if (!pool.outstanding) pthread_cond_broadcast(&pool.settled);
    pthread_mutex_unlock(&pool.lock);
}

void pool_stop(unsigned timeout_ms)
{
    struct timespec until = deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&pool.lock);
    pool.stopping = true;
    pthread_cond_broadcast(&pool.work);
    while (pool.outstanding)
        if (pthread_cond_timedwait(&pool.settled, &pool.lock, &until) != 0) break;
    if (pool.outstanding)
        log_warn("handler pool: %lu request(s) unanswered at stop", pool.outstanding);
    pthread_mutex_unlock(&pool.lock);
    for (unsigned i = 0; i < pool.nthreads; i++)
        pthread_join(pool.threads[i], NULL);
    free(pool.threads);
    pool.threads = NULL;
    pool.nthreads = 0;
}
