#ifndef PATROND_RFC3339_H
#define PATROND_RFC3339_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 3339 times and the calendar arithmetic they need (api/core/rfc3339.c). */

/* Days in month 1..12 of a proleptic Gregorian year. */
int days_in_month(int year, int month);
/* RFC 3339 ("2023-11-14T22:13:20.000000Z", offsets allowed) → unix
 * seconds; sub-seconds are dropped and a leap second is folded into the
 * one before it. `strict` also wants a year from 0001 and at most nine
 * fraction digits, as SPEC §2 does of what clients send. */
bool rfc3339_parse(const char *s, bool strict, long long *out);
/* rfc3339_parse, not strict: what providers send. */
bool rfc3339_to_unix(const char *s, long long *out);
/* Unix seconds (or ms when `millis`) → RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ". */
bool unix_to_rfc3339(long long t, bool millis, char *dst, size_t dst_len);
/* Rewrites an RFC 3339 time as UTC "YYYY-MM-DDTHH:MM:SSZ"; "" stays "". */
bool rfc3339_normalize(const char *in, char *dst, size_t dst_len);

#endif
