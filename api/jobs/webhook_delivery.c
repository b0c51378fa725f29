/* Outbound webhook delivery (SPEC §4b). A batch of due deliveries is
 * leased in one short transaction (FOR UPDATE SKIP LOCKED, then a lease
 * in `locked_until`, so instances never send one at the same time and a
 * killed instance's deliveries come back when the lease runs out), sent
 * concurrently through one curl multi handle, whose connection cache keeps
 * each endpoint's connection open for the next delivery, and each outcome
 * is recorded as soon as it is known. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "db/webhook_deliveries.h"
#include "log.h"
#include "metrics.h"
#include "outbound_target.h"
#include "webhook_delivery.h"
#include "webhook_sign.h"

#define BATCH 32
#define PER_ENDPOINT 4
/* Every transfer of a batch ends within TIMEOUT_MS; the lease leaves room
 * for recording the outcomes of a whole batch. */
#define TIMEOUT_MS 10000L
#define LEASE_S 60
#define RESPONSE_MAX (64 * 1024)
#define IDLE_MS 500
#define UNAVAILABLE_MS 5000
#define GAUGES_EVERY_MS 5000

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static atomic_bool stopping;
static bool running;
static CURLM *multi;
static enum db_rc last_claim = DB_OK; /* the thread's own */

static atomic_llong delivered_total, retried_total, failed_total, backlog, oldest_age_s;

static long long read_delivered(void)
{
    return atomic_load(&delivered_total);
}
static long long read_retried(void)
{
    return atomic_load(&retried_total);
}
static long long read_failed(void)
{
    return atomic_load(&failed_total);
}
static long long read_backlog(void)
{
    return atomic_load(&backlog);
}
static long long read_oldest(void)
{
    return atomic_load(&oldest_age_s);
}

struct transfer {
    CURL *easy;
    struct curl_slist *headers;
    char id[40];
    char *url, *body;
    size_t received;
    char refused[INET6_ADDRSTRLEN]; /* an address the target rules refused */
    char error[CURL_ERROR_SIZE];
};

/* Sleeps up to ms; true when asked to stop. */
static bool wait_or_stop(long long ms)
{
    struct timespec until = deadline_after_ms(ms);
    pthread_mutex_lock(&lock);
    while (!atomic_load(&stopping) && pthread_cond_timedwait(&wake, &lock, &until) == 0) {
    }
    pthread_mutex_unlock(&lock);
    return atomic_load(&stopping);
}

/* The response is read (so the connection can be reused) but not kept,
 * and no more than RESPONSE_MAX of it: past that the transfer ends. */
static size_t discard(char *data, size_t size, size_t n, void *cls)
{
    (void)data;
    struct transfer *t = cls;
    t->received += size * n;
    return t->received > RESPONSE_MAX ? 0 : size * n;
}

/* Every address curl is about to connect to, after its own resolution,
 * is checked here: a name that resolves (or re-resolves) to a private
 * address is refused whatever it resolved to when the endpoint was made. */
static curl_socket_t open_checked(void *cls, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct transfer *t = cls;
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
    if (!cfg.webhook_allow_private && !outbound_addr_public(&a->addr)) {
        const void *bytes = a->family == AF_INET6
                                ? (const void *)&((struct sockaddr_in6 *)&a->addr)->sin6_addr
                                : (const void *)&((struct sockaddr_in *)&a->addr)->sin_addr;
        if (!inet_ntop(a->family, bytes, t->refused, sizeof t->refused))
            snprintf(t->refused, sizeof t->refused, "?");
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static void transfer_free(struct transfer *t)
{
    if (!t) return;
    if (t->easy) {
        curl_multi_remove_handle(multi, t->easy);
        curl_easy_cleanup(t->easy);
    }
    curl_slist_free_all(t->headers);
    free(t->url);
    free(t->body);
    free(t);
}

/* name NULL: `value` is the whole line */
static bool add_header(struct transfer *t, const char *name, const char *value)
{
    char line[512];
    if (snprintf(line, sizeof line, "%s%s%s", name ? name : "", name ? ": " : "", value) >=
        (int)sizeof line)
        return false;
    struct curl_slist *l = curl_slist_append(t->headers, line);
    if (!l) return false;
    t->headers = l;
    return true;
}

/* "{a,b}" (PostgreSQL's text form of the secrets array; whsec_ base64
 * needs no quoting) into at most two strings pointing into buf. */
static size_t parse_secrets(char *buf, const char *out[2])
{
    size_t n = 0, len = strlen(buf);
    if (len < 2 || buf[0] != '{' || buf[len - 1] != '}') return 0;
    buf[len - 1] = '\0';
    for (char *save = NULL, *s = strtok_r(buf + 1, ",", &save); s && n < 2;
         s = strtok_r(NULL, ",", &save))
        out[n++] = s;
    return n;
}

static CURLcode set_options(struct transfer *t)
{
    CURL *e = t->easy;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val)
    SET(CURLOPT_URL, t->url);
    SET(CURLOPT_PROTOCOLS_STR, cfg.webhook_allow_private ? "http,https" : "https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_TIMEOUT_MS, TIMEOUT_MS);
    SET(CURLOPT_NOSIGNAL, 1L);
    /* An operator's proxy would connect on our behalf, past the check. */
    SET(CURLOPT_NOPROXY, "*");
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDS, t->body);
    SET(CURLOPT_POSTFIELDSIZE, (long)strlen(t->body));
    SET(CURLOPT_HTTPHEADER, t->headers);
    SET(CURLOPT_USERAGENT, "patrond-webhooks/1");
    SET(CURLOPT_WRITEFUNCTION, discard);
    SET(CURLOPT_WRITEDATA, t);
    SET(CURLOPT_OPENSOCKETFUNCTION, open_checked);
    SET(CURLOPT_OPENSOCKETDATA, t);
    SET(CURLOPT_ERRORBUFFER, t->error);
    SET(CURLOPT_PRIVATE, t);
#undef SET
    return rc;
}

static void count(const char *outcome)
{
    if (!strcmp(outcome, "delivered"))
        atomic_fetch_add(&delivered_total, 1);
    else if (!strcmp(outcome, "retry"))
        atomic_fetch_add(&retried_total, 1);
    else if (!strcmp(outcome, "failed"))
        atomic_fetch_add(&failed_total, 1);
}

static void record(struct db *db, const char *id, long status, const char *error)
{
    char outcome[16] = "";
    struct db_status st = db_webhook_attempted(db, id, status, error, cfg.admin_email, outcome);
    if (st.rc != DB_OK)
        log_warn("webhook delivery %s: cannot record the outcome: %s", id, st.err.message);
    else
        count(outcome);
    if (error && strcmp(outcome, "delivered"))
        log_info("webhook delivery %s: %s (%s)", id, error, outcome[0] ? outcome : "stale");
}

/* Row i of a claim as a transfer added to the multi handle; NULL when it
 * cannot be set up (a failed attempt, retried on the schedule, or with no
 * memory the lease's end). */
static struct transfer *start_transfer(struct db *db, PGresult *res, int i)
{
    struct transfer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    snprintf(t->id, sizeof t->id, "%s", PQgetvalue(res, i, 0));
    t->url = strdup(PQgetvalue(res, i, 2));
    t->body = strdup(PQgetvalue(res, i, 4));
    char *secrets = strdup(PQgetvalue(res, i, 3));
    const char *keys[2];
    size_t nkeys = secrets ? parse_secrets(secrets, keys) : 0;
    char ts[24], signature[WEBHOOK_SIGNATURE_MAX];
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    bool ok = t->url && t->body && nkeys &&
              webhook_signature(keys, nkeys, t->id, ts, t->body, strlen(t->body), signature,
                                sizeof signature) &&
              add_header(t, "Content-Type", "application/json") &&
              add_header(t, "webhook-id", t->id) && add_header(t, "webhook-timestamp", ts) &&
              add_header(t, "webhook-signature", signature) &&
              /* no "100 Continue" round trip before the body */
              add_header(t, NULL, "Expect:") && (t->easy = curl_easy_init()) != NULL &&
              set_options(t) == CURLE_OK && curl_multi_add_handle(multi, t->easy) == CURLM_OK;
    free(secrets);
    if (ok) return t;
    record(db, t->id, 0, "cannot set up the request (a malformed URL or secret, or no memory)");
    transfer_free(t);
    return NULL;
}

static void finish(struct db *db, struct transfer *t, CURLcode result)
{
    long status = 0;
    if (curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) status = 0;
    char error[CURL_ERROR_SIZE + 96] = "";
    /* A status line followed by a failure (a body cut short, the 10 s
     * running out) is no answer; reading past RESPONSE_MAX is our choice. A
     * refused address counts only when no other one answered. */
    bool answered =
        result == CURLE_OK || (result == CURLE_WRITE_ERROR && t->received > RESPONSE_MAX);
    if (!answered) {
        status = 0;
        if (t->refused[0])
            snprintf(error, sizeof error,
                     "refused to connect to %s: not a public address"
                     " (PATROND_WEBHOOK_ALLOW_PRIVATE is off)",
                     t->refused);
        else
            snprintf(error, sizeof error, "%s",
                     t->error[0] ? t->error : curl_easy_strerror(result));
    } else if (status < 200 || status > 299) {
        snprintf(error, sizeof error, "the endpoint answered %ld", status);
    }
    record(db, t->id, status, error[0] ? error : NULL);
}

/* Runs the claimed transfers to their end, recording each as it ends. On
 * a stop, the unfinished ones are given back. */
static void run_batch(struct db *db, struct transfer **ts, int n)
{
    int active = n;
    while (active > 0) {
        int still = 0;
        if (curl_multi_perform(multi, &still) != CURLM_OK) break;
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE) continue;
            char *priv = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
            struct transfer *t = (struct transfer *)(void *)priv;
            CURLcode result = m->data.result;
            for (int i = 0; i < n; i++)
                if (ts[i] == t) {
                    finish(db, t, result);
                    transfer_free(t);
                    ts[i] = NULL;
                    active--;
                }
        }
        if (active == 0 || atomic_load(&stopping)) break;
        if (curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK) break;
    }
    for (int i = 0; i < n; i++) {
        if (!ts[i]) continue;
        struct db_status st = db_webhook_release(db, ts[i]->id);
        if (st.rc != DB_OK)
            log_warn("webhook delivery %s: cannot give it back: %s", ts[i]->id, st.err.message);
        transfer_free(ts[i]);
        ts[i] = NULL;
    }
}

static void refresh_gauges(struct db *db)
{
    long long count = 0, oldest = 0;
    if (db_webhook_backlog(db, &count, &oldest).rc != DB_OK) return;
    atomic_store(&backlog, count);
    atomic_store(&oldest_age_s, oldest);
}

/* One claim and its sends: how long to wait before the next claim (0 when
 * there may be more due at once). */
static long long deliver_due(struct db *db)
{
    PGresult *res = NULL;
    struct db_status st = db_webhook_claim(db, BATCH, PER_ENDPOINT, LEASE_S, &res);
    if (st.rc != DB_OK) {
        /* a database that is down is said once per outage, not every few seconds */
        if (st.rc != DB_UNAVAILABLE || last_claim != DB_UNAVAILABLE)
            log_warn("webhook delivery: cannot claim: %s", st.err.message);
        last_claim = st.rc;
        return UNAVAILABLE_MS;
    }
    last_claim = DB_OK;
    int n = PQntuples(res);
    struct transfer *ts[BATCH] = {0};
    int started = 0;
    for (int i = 0; i < n && i < BATCH; i++)
        if ((ts[started] = start_transfer(db, res, i))) started++;
    PQclear(res);
    run_batch(db, ts, started);
    return n > 0 ? 0 : IDLE_MS;
}

static void *loop(void *arg)
{
    (void)arg;
    struct db *db = db_thread();
    long long gauges_due = 0;
    while (!atomic_load(&stopping)) {
        if (clock_ms() >= gauges_due) {
            refresh_gauges(db);
            gauges_due = clock_ms() + GAUGES_EVERY_MS;
        }
        long long wait = deliver_due(db);
        if (wait && wait_or_stop(wait)) break;
    }
    return NULL;
}

bool webhook_delivery_start(void)
{
    metrics_register("patrond_outbound_webhook_deliveries_total{outcome=\"delivered\"}",
                     "Outbound webhook delivery attempts by outcome (retry: failed, to be "
                     "tried again; failed: given up).",
                     METRIC_COUNTER, read_delivered);
    metrics_register("patrond_outbound_webhook_deliveries_total{outcome=\"retry\"}", "",
                     METRIC_COUNTER, read_retried);
    metrics_register("patrond_outbound_webhook_deliveries_total{outcome=\"failed\"}", "",
                     METRIC_COUNTER, read_failed);
    metrics_register("patrond_outbound_webhook_backlog",
                     "Outbound webhook deliveries pending (refreshed every 5 s).", METRIC_GAUGE,
                     read_backlog);
    metrics_register("patrond_outbound_webhook_oldest_pending_seconds",
                     "Age of the oldest pending outbound webhook delivery (refreshed every 5 s).",
                     METRIC_GAUGE, read_oldest);
    multi = curl_multi_init();
    if (!multi || curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 64L) != CURLM_OK) {
        log_error("cannot set up the webhook sender (libcurl)");
        if (multi) curl_multi_cleanup(multi);
        multi = NULL;
        return false;
    }
    atomic_store(&stopping, false);
    running = pthread_create(&thread, NULL, loop, NULL) == 0;
    if (!running) {
        log_error("cannot start the webhook delivery thread");
        curl_multi_cleanup(multi);
        multi = NULL;
    }
    return running;
}

void webhook_delivery_stop(void)
{
    if (!running) return;
    pthread_mutex_lock(&lock);
    atomic_store(&stopping, true);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    curl_multi_wakeup(multi);
    pthread_join(thread, NULL);
    curl_multi_cleanup(multi);
    multi = NULL;
    running = false;
}
