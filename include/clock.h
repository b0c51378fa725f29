#ifndef PATROND_CLOCK_H
#define PATROND_CLOCK_H

#include <time.h>

/* Milliseconds on the monotonic clock, for timeouts and budgets. */
long long clock_ms(void);
/* The wall-clock moment ms from now, as pthread_cond_timedwait wants it. */
struct timespec deadline_after_ms(long long ms);

#endif
