#ifndef PATROND_CHECKOUT_H
#define PATROND_CHECKOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

/* The redirect a donation form follows to pay (SPEC §4 "Checkout"). It is
 * built offline from the configuration alone: no provider is called, so a
 * provider's outage cannot fail a checkout. Pure logic (api/checkout/). */

/* What is being paid for; every string is already validated. */
struct checkout_order {
    const char *pledge_id;  /* our order id, where the provider echoes one back */
    const char *email;      /* the patron's address, to prefill */
    const char *currency;   /* known ISO 4217 code */
    const char *interval;   /* month | year | once */
    const char *return_url; /* where the provider sends the payer back; may be NULL */
    int64_t amount_minor;
    time_t now; /* order time, signed into some forms */
};

/* At most this many providers take checkouts. */
#define CHECKOUT_PROVIDERS_MAX 4

/* The providers this configuration can take payments with, in a fixed
 * order, into out (NULL-terminated; CHECKOUT_PROVIDERS_MAX + 1 slots).
 * Returns how many. */
size_t checkout_providers(const struct config *c, const char **out);

/* Whether the provider returns our pledge id as its order reference, so the
 * pledge's provider_ref is the pledge id from the start. */
bool checkout_echoes_order_id(const char *provider);

/* Whether a payer may be sent back to `url`: only to the origin of
 * PATROND_PUBLIC_URL or of one of PATROND_CORS_ORIGINS, so a signed
 * payment form is never a redirect to someone else's site. */
bool checkout_return_url_allowed(const struct config *c, const char *url);

/* {"method": "GET"|"POST", "url", "fields"?}; NULL for a provider that is
 * unknown or not configured, or when out of memory. */
json_t *checkout_redirect(const struct config *c, const char *provider,
                          const struct checkout_order *o);

/* The builders behind checkout_redirect, one file each. */
json_t *checkout_liqpay(const struct config *c, const struct checkout_order *o);
json_t *checkout_wayforpay(const struct config *c, const struct checkout_order *o);
json_t *checkout_stripe(const struct config *c, const struct checkout_order *o);
json_t *checkout_patreon(const struct config *c, const struct checkout_order *o);

/* LiqPay's signature of a `data` field: base64(sha1(key + data + key)),
 * 28 characters into out. */
bool checkout_liqpay_sign(const char *private_key, const char *data, char out[29]);

/* Shared pieces (api/checkout/checkout.c). */

/* The amount in major units with all of the currency's digits ("5.00"). */
bool checkout_amount(const struct checkout_order *o, char *buf, size_t len);
/* The current key of a rotation list ("new,old" -> "new"): checkout signs
 * with it, while webhooks accept either. Copied into buf; NULL if empty. */
const char *checkout_current_key(const char *list, char *buf, size_t len);
/* What the payer sees on the provider's page. */
const char *checkout_description(const char *interval);
/* <public_url>/v1/webhooks/<provider>, malloc'd; NULL when out of memory. */
char *checkout_webhook_url(const struct config *c, const char *provider);

#endif
