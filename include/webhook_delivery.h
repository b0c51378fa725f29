#ifndef PATROND_WEBHOOK_DELIVERY_H
#define PATROND_WEBHOOK_DELIVERY_H

#include <stdbool.h>

/* The thread that sends outbound webhooks (SPEC §4b) with libcurl:
 * leases due deliveries in PostgreSQL, sends them concurrently (at most a
 * few per endpoint, connections kept open between them), records each
 * outcome. Its own thread, as one slow receiver may take 10 s and must
 * not hold up the other jobs. curl_global_init must have run. */
bool webhook_delivery_start(void);
/* Aborts the sends in flight (they go back to the queue at once) and
 * joins the thread. */
void webhook_delivery_stop(void);

#endif
