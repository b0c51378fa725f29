#ifndef PATROND_METRICS_H
#define PATROND_METRICS_H

#include <stddef.h>

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
