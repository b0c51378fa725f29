#include <stddef.h>

#include "domain.h"

const char *const pledge_intervals[] = {"month", "year", "once", NULL};
const char *const pledge_statuses[] = {"pending",  "active",  "past_due",
                                       "canceled", "expired", NULL};
/* The payment providers' names, and "manual" (bank transfers an admin records). */
const char *const providers[] = {
#define PROVIDER(name) #name,
#include "providers.def"
#undef PROVIDER
    "manual", NULL};
const char *const payment_kinds[] = {"charge", "refund", "dispute", "dispute_won", NULL};
const char *const patron_statuses[] = {"member", "lapsed", "none", NULL};
