/* See include/tally_notify.h. The notification is sent here, after the
 * writer's commit and from a connection of its own, never inside the
 * ballot's transaction: PostgreSQL serialises the commits of transactions
 * that NOTIFY, which would make every ballot wait for the previous one's
 * disk flush. Changes are coalesced, so a burst of ballots costs other
 * instances one notification per interval rather than one each. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "tally_cache.h"
#include "tally_notify.h"

#define CHANNEL "patrond_tally"
#define COALESCE_NS (5 * 1000 * 1000)
#define RECONNECT_MS 1000

static atomic_bool dirty, stopping;
static atomic_ulong received;
/* Our own announcements not yet read back off the connection: each one
 * returns to us, so this stays near 0 unless libpq's queue is left to grow. */
static atomic_long undrained;
static int wake_fd = -1;
static pthread_t thread;
static bool running;

static void wake(void)
{
    uint64_t one = 1;
    if (write(wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("tally notify: cannot wake the notifier: %s", strerror(errno));
}

void tally_changed(void)
{
    tally_cache_invalidate();
    if (wake_fd >= 0 && !atomic_exchange(&dirty, true)) wake();
}

/* Our own notifications come back too; only other sessions' count. */
static void take_notifications(PGconn *pg)
{
    PGnotify *n;
    while ((n = PQnotifies(pg))) {
        if (n->be_pid != PQbackendPID(pg)) {
            tally_cache_invalidate();
            atomic_fetch_add(&received, 1);
        } else {
            atomic_fetch_sub(&undrained, 1);
        }
        PQfreemem(n);
    }
}

/* PQexec reads any notification that arrives with the reply, our own
 * included, into libpq's queue, and the socket is then not readable for
 * them: unless taken here they wait until the connection closes. */
static bool command_ok(PGconn *pg, const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    bool ok =
        res && (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK);
    if (!ok) log_warn("tally notify: %s: %s", sql, PQerrorMessage(pg));
    PQclear(res);
    take_notifications(pg);
    return ok;
}

/* A fresh session: whatever was announced while we were away is unknown,
 * so everything cached is suspect. Losing a notification in a crash is
 * harmless (caches also expire), hence no waiting for its disk flush. */
static PGconn *listening(struct db *db)
{
    bool fresh = false;
    PGconn *pg = db_pg(db, &fresh);
    if (!pg || !fresh) return pg;
    if (!command_ok(pg, "SET synchronous_commit = off") || !command_ok(pg, "LISTEN " CHANNEL)) {
        db_disconnect(db);
        return NULL;
    }
    tally_cache_invalidate();
    atomic_store(&undrained, 0);
    return pg;
}

static void drain_wake(void)
{
    uint64_t n;
    while (read(wake_fd, &n, sizeof n) > 0) {
    }
}

static bool announce(PGconn *pg)
{
    if (!atomic_exchange(&dirty, false)) return true;
    atomic_fetch_add(&undrained, 1);
    if (command_ok(pg, "SELECT pg_notify('" CHANNEL "', '')")) {
        struct timespec pause = {0, COALESCE_NS};
        nanosleep(&pause, NULL);
        return true;
    }
    atomic_store(&dirty, true);
    return false;
}

static bool receive(PGconn *pg)
{
    if (!PQconsumeInput(pg)) return false;
    take_notifications(pg);
    return true;
}

static void *run(void *arg)
{
    (void)arg;
    struct db *db = db_thread();
    while (!atomic_load(&stopping)) {
        PGconn *pg = listening(db);
        struct pollfd fds[2] = {{wake_fd, POLLIN, 0}, {pg ? PQsocket(pg) : -1, POLLIN, 0}};
        if (poll(fds, 2, RECONNECT_MS) < 0 && errno != EINTR) break;
        if (fds[0].revents & POLLIN) drain_wake();
        if (!pg) continue;
        bool ok = announce(pg);
        if (ok && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) ok = receive(pg);
        if (!ok || PQstatus(pg) != CONNECTION_OK) db_disconnect(db);
    }
    return NULL;
}

unsigned long tally_notify_received(void)
{
    return atomic_load(&received);
}

long tally_notify_undrained(void)
{
    return atomic_load(&undrained);
}

/* What /metrics shows of the notifier, handed to core's registry. */
static long long metric_received(void)
{
    return (long long)tally_notify_received();
}

static long long metric_undrained(void)
{
    return tally_notify_undrained();
}

bool tally_notify_start(void)
{
    metrics_register("patrond_tally_notifications_total",
                     "Tally changes announced by other instances.", METRIC_COUNTER,
                     metric_received);
    metrics_register("patrond_tally_notify_undrained", "Own tally notifications not yet read back.",
                     METRIC_GAUGE, metric_undrained);
    wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd < 0) {
        log_error("tally notify: eventfd: %s", strerror(errno));
        return false;
    }
    atomic_store(&stopping, false);
    if (pthread_create(&thread, NULL, run, NULL) != 0) {
        log_error("tally notify: cannot start its thread");
        close(wake_fd);
        wake_fd = -1;
        return false;
    }
    running = true;
    return true;
}

void tally_notify_stop(void)
{
    if (!running) return;
    atomic_store(&stopping, true);
    wake();
    pthread_join(thread, NULL);
    running = false;
    close(wake_fd);
    wake_fd = -1;
    tally_cache_clear();
}
