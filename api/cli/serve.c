/* `patrond serve [--migrate]`: runs the HTTP server until SIGTERM/SIGINT. */
#include <arpa/inet.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "db/migrate.h"
#include "handler_pool.h"
#include "handlers.h"
#include "jobs.h"
#include "log.h"
#include "server.h"
#include "signing_keys.h"
#include "tally_notify.h"
#include "webhook_delivery.h"

/* statement_timeout (15 s) bounds a handler; a reply then goes out at once */
#define STOP_TIMEOUT_MS 20000

static bool listen_addr(struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    const char *host = strcmp(cfg.listen_host, "localhost") ? cfg.listen_host : "127.0.0.1";
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg.listen_port);
        return true;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg.listen_port);
        return true;
    }
    return false;
}

/* Serving an old or edited schema would fail in confusing ways later, so
 * that refuses to start. A database that is merely down is not a reason
 * to exit: requests get 503 and /readyz says why until it is back. */
static bool schema_ready(struct db *db, bool apply)
{
    int pending = migrate_pending(db);
    if (pending == MIGRATE_UNREACHABLE) {
        log_warn("database unreachable at start-up; serving 503 until it is back");
        return true;
    }
    if (pending > 0 && apply && migrate_apply(db, stderr)) pending = migrate_pending(db);
    if (pending == 0) return true;
    if (pending == MIGRATE_DIVERGED)
        log_error("the database schema differs from this binary's migrations;"
                  " see `patrond migrate --status`");
    else if (pending > 0)
        log_error("%d migration(s) pending: run `patrond migrate` or `patrond serve --migrate`",
                  pending);
    return false;
}

/* No new connections; the requests being handled are answered (the pool
 * waits for their replies to be sent) before the daemon goes, as
 * libmicrohttpd must not be stopped with a connection suspended. */
static void stop_serving(struct MHD_Daemon *d)
{
    MHD_quiesce_daemon(d);
    pool_stop(STOP_TIMEOUT_MS);
    MHD_stop_daemon(d);
}

/* The memory malloc may keep beyond what is in use, bounded before any
 * thread starts. By default glibc gives each of up to 8 × CPUs threads an
 * arena of its own and, after freeing one large block (a big list), lets
 * every arena keep up to twice that block's size at its top: the resident
 * size then creeps for hours as each arena meets its own peak. Only as
 * many threads as CPUs run at once, so as many arenas serve them; fixed
 * thresholds (128 KiB) keep large blocks out of the arenas and hand an
 * arena's free top back to the kernel beyond 128 KiB. */
static void bound_malloc(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (!mallopt(M_ARENA_MAX, cpus > 1 ? (int)cpus : 1) || !mallopt(M_MMAP_THRESHOLD, 128 * 1024) ||
        !mallopt(M_TRIM_THRESHOLD, 128 * 1024))
        /* another allocator (a sanitizer's) has its own rules */
        log_info("malloc: arenas and thresholds left to the allocator in use");
}

/* Serves until a signal; the caller owns the signing keys. */
static int serve(struct db *db, bool apply)
{
    if (!schema_ready(db, apply)) return 1;
    bound_malloc();

    /* A peer that goes away (the log's reader, a mail command, an outbound
     * connection) must be an EPIPE its writer handles, not the end of the
     * server. */
    signal(SIGPIPE, SIG_IGN);
    /* Workers inherit this mask, so only sigwait below sees the signals. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    struct sockaddr_storage ss;
    if (!listen_addr(&ss)) {
        log_error("PATROND_LISTEN: cannot use host %s", cfg.listen_host);
        return 1;
    }
    if (!pool_start(cfg.db_threads)) {
        log_error("cannot start the handler threads");
        return 1;
    }
    struct MHD_Daemon *d = server_start((struct sockaddr *)&ss);
    if (!d) {
        log_error("cannot listen on %s:%u", cfg.listen_host, cfg.listen_port);
        pool_stop(0);
        return 1;
    }
    if (!jobs_start()) {
        stop_serving(d);
        return 1;
    }
    if (!tally_notify_start()) {
        stop_serving(d);
        jobs_stop();
        return 1;
    }
    if (!webhook_delivery_start()) {
        stop_serving(d);
        tally_notify_stop();
        jobs_stop();
        return 1;
    }
    if (!log_buffer_start()) log_warn("the access log is written unbuffered: no flusher thread");
    log_info("patrond listening on %s:%u with %u threads", cfg.listen_host, cfg.listen_port,
             cfg.threads);
    int sig = 0;
    sigwait(&stop, &sig);
    log_info("signal %d: finishing in-flight requests", sig);
    stop_serving(d);
    webhook_delivery_stop();
    tally_notify_stop();
    jobs_stop();
    log_buffer_stop();
    log_info("stopped");
    return 0;
}

int cli_serve(struct db *db, int argc, char **argv)
{
    bool apply = argc > 0 && !strcmp(argv[0], "--migrate");
    if (argc > (apply ? 1 : 0)) {
        fprintf(stderr, "usage: patrond serve [--migrate]\n");
        return 2;
    }
    char err[512];
    if (!signing_keys_load(cfg.signing_key_file, cfg.signing_key_previous_file, err, sizeof err)) {
        log_error("%s", err);
        return 1;
    }
    if (!cfg.signing_key_file)
        log_info("PATROND_SIGNING_KEY_FILE is not set: POST /v1/me/token answers 503");
    if (!pages_render()) {
        log_error("cannot render the pages: out of memory");
        signing_keys_free();
        return 1;
    }
    int status = serve(db, apply);
    pages_free();
    signing_keys_free();
    return status;
}
