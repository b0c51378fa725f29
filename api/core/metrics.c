/* Prometheus counters kept in fixed arrays of atomics, so observing a
 * request takes no lock. What other layers own (the route table, the
 * database's connections, the tally notifier) reaches this file through
 * what they register at start-up, so core includes nothing above it. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "tally_cache.h"

#define MAX_ROUTES 128
static const unsigned statuses[] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                                    409, 413, 415, 422, 429, 499, 500, 503, 0};
#define NSTATUS (sizeof statuses / sizeof statuses[0])
static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

static atomic_ulong requests[MAX_ROUTES + 1][NSTATUS];
static atomic_ulong latency[NBUCKETS + 1];
static atomic_ulong latency_count;
static atomic_ullong latency_sum_us;

static const char *const webhook_providers[] = {
#define PROVIDER(name) #name,
#include "providers.def"
#undef PROVIDER
};
#define NWH_PROVIDERS (sizeof webhook_providers / sizeof webhook_providers[0])
static const char *const webhook_outcomes[] = {"applied", "duplicate", "failed", "ignored",
                                               "unauthorized"};
#define NWH_OUTCOMES (sizeof webhook_outcomes / sizeof webhook_outcomes[0])
static atomic_ulong webhook_events[NWH_PROVIDERS][NWH_OUTCOMES];

/* Written at start-up while /metrics may already be served, hence the lock;
 * rendering is rare, observing never takes it. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t route_count;
static metrics_route_fn describe_route;

#define MAX_VALUES 32
static struct {
    const char *name, *help;
    enum metric_type type;
    metrics_read_fn read;
} values[MAX_VALUES];
static size_t nvalues;

void metrics_routes(size_t count, metrics_route_fn describe)
{
    pthread_mutex_lock(&registry_lock);
    route_count = count;
    describe_route = describe;
    pthread_mutex_unlock(&registry_lock);
}

bool metrics_register(const char *name, const char *help, enum metric_type type,
                      metrics_read_fn read)
{
    pthread_mutex_lock(&registry_lock);
    size_t i = 0;
    while (i < nvalues && strcmp(values[i].name, name))
        i++;
    bool ok = i < MAX_VALUES;
    if (ok) {
        values[i].name = name;
        values[i].help = help;
        values[i].type = type;
        values[i].read = read;
        if (i == nvalues) nvalues++;
    }
    pthread_mutex_unlock(&registry_lock);
    if (!ok) log_error("metrics: no room to register %s", name);
    return ok;
}

static size_t status_slot(unsigned status)
{
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (statuses[i] == status) return i;
    return NSTATUS - 1; /* any other status */
}

void metrics_observe(size_t route, unsigned status, double seconds)
{
    if (route > MAX_ROUTES) route = MAX_ROUTES;
    atomic_fetch_add(&requests[route][status_slot(status)], 1);
    size_t b = 0;
    while (b < NBUCKETS && seconds > buckets[b])
        b++;
    atomic_fetch_add(&latency[b], 1);
    atomic_fetch_add(&latency_count, 1);
    atomic_fetch_add(&latency_sum_us, (unsigned long long)(seconds * 1e6));
}

static size_t name_slot(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (!strcmp(names[i], name)) return i;
    return n;
}

void metrics_webhook(const char *provider, const char *outcome)
{
    size_t p = name_slot(webhook_providers, NWH_PROVIDERS, provider);
    size_t o = name_slot(webhook_outcomes, NWH_OUTCOMES, outcome);
    if (p < NWH_PROVIDERS && o < NWH_OUTCOMES) atomic_fetch_add(&webhook_events[p][o], 1);
}

struct buf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        char *grown = realloc(b->p, b->cap * 2 + (size_t)n);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->p = grown;
        b->cap = b->cap * 2 + (size_t)n;
    }
}

static void render_requests(struct buf *b)
{
    put(b, "# HELP patrond_http_requests_total HTTP requests by route, method and status.\n"
           "# TYPE patrond_http_requests_total counter\n");
    for (size_t r = 0; r <= MAX_ROUTES && r <= route_count; r++) {
        const char *label = "unmatched", *method = "";
        if (r < route_count) describe_route(r, &label, &method);
        for (size_t s = 0; s < NSTATUS; s++) {
            unsigned long n = atomic_load(&requests[r][s]);
            if (!n) continue;
            char st[12];
            if (statuses[s])
                snprintf(st, sizeof st, "%u", statuses[s]);
            else
                snprintf(st, sizeof st, "other");
            put(b, "patrond_http_requests_total{route=\"%s\",method=\"%s\",status=\"%s\"} %lu\n",
                label, method, st, n);
        }
    }
}

static void render_latency(struct buf *b)
{
    put(b, "# HELP patrond_http_request_duration_seconds Request latency.\n"
           "# TYPE patrond_http_request_duration_seconds histogram\n");
    unsigned long cumulative = 0;
    for (size_t i = 0; i < NBUCKETS; i++) {
        cumulative += atomic_load(&latency[i]);
        put(b, "patrond_http_request_duration_seconds_bucket{le=\"%g\"} %lu\n", buckets[i],
            cumulative);
    }
    cumulative += atomic_load(&latency[NBUCKETS]);
    put(b, "patrond_http_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cumulative);
    put(b, "patrond_http_request_duration_seconds_sum %.6f\n",
        (double)atomic_load(&latency_sum_us) / 1e6);
    put(b, "patrond_http_request_duration_seconds_count %lu\n", atomic_load(&latency_count));
}

/* A name may carry labels ("x_total{outcome=\"a\"}"): entries of one
 * metric, registered one after another, share its HELP and TYPE lines. */
static size_t base_len(const char *name)
{
    return strcspn(name, "{");
}

static void render_registered(struct buf *b)
{
    for (size_t i = 0; i < nvalues; i++) {
        size_t n = base_len(values[i].name);
        if (!i || base_len(values[i - 1].name) != n ||
            strncmp(values[i - 1].name, values[i].name, n))
            put(b, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)n, values[i].name, values[i].help,
                (int)n, values[i].name, values[i].type == METRIC_COUNTER ? "counter" : "gauge");
        put(b, "%s %lld\n", values[i].name, values[i].read());
    }
}

static void render_webhooks(struct buf *b)
{
    put(b, "# HELP patrond_webhook_events_total Webhook deliveries by provider and outcome.\n"
           "# TYPE patrond_webhook_events_total counter\n");
    for (size_t p = 0; p < NWH_PROVIDERS; p++)
        for (size_t o = 0; o < NWH_OUTCOMES; o++) {
            unsigned long n = atomic_load(&webhook_events[p][o]);
            if (n)
                put(b, "patrond_webhook_events_total{provider=\"%s\",outcome=\"%s\"} %lu\n",
                    webhook_providers[p], webhook_outcomes[o], n);
        }
}

char *metrics_render(long long outbox_backlog, size_t *len)
{
    struct buf b = {malloc(8192), 0, 8192, false};
    if (!b.p) return NULL;
    pthread_mutex_lock(&registry_lock);
    render_requests(&b);
    render_latency(&b);
    render_webhooks(&b);
    put(&b,
        "# HELP patrond_log_dropped_total Log lines dropped while stderr's reader lagged.\n"
        "# TYPE patrond_log_dropped_total counter\npatrond_log_dropped_total %lu\n",
        log_dropped());
    unsigned long hits, misses;
    tally_cache_counts(&hits, &misses);
    put(&b,
        "# HELP patrond_tally_cache_lookups_total Tally reads answered from memory (hit) or not.\n"
        "# TYPE patrond_tally_cache_lookups_total counter\n"
        "patrond_tally_cache_lookups_total{result=\"hit\"} %lu\n"
        "patrond_tally_cache_lookups_total{result=\"miss\"} %lu\n",
        hits, misses);
    render_registered(&b);
    if (outbox_backlog >= 0)
        put(&b,
            "# HELP patrond_outbox_backlog E-mails waiting in the outbox.\n"
            "# TYPE patrond_outbox_backlog gauge\npatrond_outbox_backlog %lld\n",
            outbox_backlog);
    pthread_mutex_unlock(&registry_lock);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
