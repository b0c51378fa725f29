#ifndef PATROND_MONEY_H
#define PATROND_MONEY_H

#include <stdbool.h>
#include <stdint.h>

/* ISO 4217 knowledge: the number of minor-unit digits of each currency. */

/* Exponent (0..3) of an upper-case alphabetic code, or -1 if unknown. */
int currency_exponent(const char *code);

/* Alphabetic code for an ISO 4217 numeric code (980 -> "UAH"), or NULL. */
const char *currency_from_numeric(int numeric);

/* The allowlist from PATROND_CURRENCIES. Returns false (and sets *bad to
 * the offending entry, which the caller must free) when an entry is not a
 * known code. An empty list is an error too. */
bool currency_allowlist_set(const char *csv, char **bad);
bool currency_allowed(const char *code);
void currency_allowlist_free(void);

/* Exact conversion of a provider's decimal amount ("3.5", "100", "0.01",
 * "-12.30") to minor units with the currency's exponent. Rejects
 * exponents/NaN/blank/excess precision (a non-zero digit past the
 * exponent) and anything outside int64. */
bool money_parse_decimal(const char *text, int exponent, int64_t *minor);

/* Minor units back to a decimal string with exactly `exponent` digits
 * ("350" with 2 -> "3.50"). buf needs at least 24 bytes. */
void money_format_decimal(int64_t minor, int exponent, char *buf, unsigned long len);

#endif
