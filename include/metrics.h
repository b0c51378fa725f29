#ifndef PATROND_METRICS_H
#define PATROND_METRICS_H

#include <stddef.h>

/* Counts a finished request: route index (routes_count for "unmatched"),
 * status and duration. Lock-free. */
void metrics_observe(size_t route, unsigned status, double seconds);
/* The Prometheus text exposition; caller frees. */
char *metrics_render(size_t *len);

#endif
