#ifndef PATROND_METRICS_H
#define PATROND_METRICS_H

#include <stdbool.h>
#include <stddef.h>

/* The layers above core feed this registry at start-up; core reads them
 * only through these callbacks, never through their headers. */

/* Names request counters' routes: the HTTP layer owns the route table and
 * registers its size and a function giving route i's pattern and method. */
typedef void (*metrics_route_fn)(size_t route, const char **pattern, const char **method);
void metrics_routes(size_t count, metrics_route_fn describe);

/* A single value owned elsewhere (database connections, the tally
 * notifier), read each time /metrics is rendered. `name` and `help` must
 * live as long as the process (string literals); registering a name again
 * replaces its reader. A name may end in labels, `x{outcome="a"}`: the
 * entries of one metric, registered one after another, share the HELP
 * and TYPE of the first. False when the registry is full. */
enum metric_type { METRIC_COUNTER, METRIC_GAUGE };
typedef long long (*metrics_read_fn)(void);
bool metrics_register(const char *name, const char *help, enum metric_type type,
                      metrics_read_fn read);

/* Counts a finished request: route index (routes_count for "unmatched"),
 * status and duration. Lock-free. */
void metrics_observe(size_t route, unsigned status, double seconds);
/* Counts a webhook delivery by provider and outcome (applied, duplicate,
 * failed, ignored, unauthorized); other names are not counted. Lock-free. */
void metrics_webhook(const char *provider, const char *outcome);
/* The Prometheus text exposition; caller frees. `outbox_backlog` is the
 * number of e-mails waiting, or -1 when the database could not say. */
char *metrics_render(long long outbox_backlog, size_t *len);

#endif
