#ifndef PATROND_DOMAIN_H
#define PATROND_DOMAIN_H

/* The closed vocabularies of SPEC §4, NULL-terminated for FIELD_ENUM and
 * query filters (api/core/domain.c). */
extern const char *const pledge_intervals[];
extern const char *const pledge_statuses[];
extern const char *const providers[]; /* webhook providers and "manual" */
extern const char *const payment_kinds[];
extern const char *const patron_statuses[];

#endif
