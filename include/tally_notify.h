#ifndef PATROND_TALLY_NOTIFY_H
#define PATROND_TALLY_NOTIFY_H

#include <stdbool.h>

/* Instances tell each other about tally changes through PostgreSQL's
 * LISTEN/NOTIFY, so each can answer tally reads from memory
 * (tally_cache.h). */

/* This instance has committed a change that may move a tally: drops its
 * own cached tallies now and has the others drop theirs shortly. */
void tally_changed(void);

/* Notifications received from other instances since start (/metrics). */
unsigned long tally_notify_received(void);

/* Own notifications sent but not yet read back and freed (/metrics): a
 * gauge that must stay near 0, or libpq's notification queue is growing. */
long tally_notify_undrained(void);

/* The thread that listens and sends the notifications. */
bool tally_notify_start(void);
void tally_notify_stop(void);

#endif
