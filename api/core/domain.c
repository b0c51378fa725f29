#include <stddef.h>

#include "domain.h"

const char *const pledge_intervals[] = {"month", "year", "once", NULL};
const char *const pledge_statuses[] = {"pending",  "active",  "past_due",
                                       "canceled", "expired", NULL};
const char *const providers[] = {"stripe",    "patreon", "paypal",   "liqpay", "monobank",
                                 "wayforpay", "paddle",  "standard", "manual", NULL};
const char *const payment_kinds[] = {"charge", "refund", "dispute", "dispute_won", NULL};
const char *const patron_statuses[] = {"member", "lapsed", "none", NULL};
