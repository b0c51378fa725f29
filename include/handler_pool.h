#ifndef PATROND_HANDLER_POOL_H
#define PATROND_HANDLER_POOL_H

/* The threads that run handlers needing the database. libmicrohttpd's own
 * threads (PATROND_THREADS, about one per core) only parse, route and
 * answer what memory can; a request that waits on PostgreSQL is suspended
 * and handed here, so a slow commit never stalls the other connections of
 * an HTTP thread, and enough transactions are in flight for PostgreSQL's
 * group commit (PATROND_DB_THREADS). */

#include <stdbool.h>

/* libmicrohttpd's connection limit; a connection has at most one request
 * in the pool, so the pool's queue holds this many. */
#define HTTP_MAX_CONNECTIONS 1000

typedef void (*pool_task_fn)(void *arg);

/* Starts n threads. False when none could be started. */
bool pool_start(unsigned n);

/* Queues fn(arg) for a pool thread. False while stopping (or, which the
 * connection limit rules out, when the queue is full). Each accepted task
 * counts as outstanding until pool_finished(). */
bool pool_submit(pool_task_fn fn, void *arg);

/* An accepted task's request has been answered (or abandoned). */
void pool_finished(void);

/* Refuses new tasks, waits up to timeout_ms for the outstanding ones to
 * finish, then stops the threads. */
void pool_stop(unsigned timeout_ms);

#endif
