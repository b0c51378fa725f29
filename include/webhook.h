#ifndef PATROND_WEBHOOK_H
#define PATROND_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Providers' webhooks (SPEC §4 "Webhooks"). Each provider file in
 * api/webhooks/ supplies a pure verifier (raw bytes + headers + secrets →
 * genuine or not) and a pure parser (verified bytes → one provider-neutral
 * wh_event). The pipeline (api/handlers/webhooks.c, api/db/webhooks.c)
 * records and applies the event; only it touches the database. */

/* What an event means for patrons, pledges and payments. */
enum wh_kind {
    WH_IGNORED,           /* verified and recorded, but no effect (unhandled type) */
    WH_PLEDGE_ACTIVATED,  /* subscription created/activated */
    WH_PAYMENT_SUCCEEDED, /* first payment or renewal: a charge row, pledge active */
    WH_PAYMENT_FAILED,    /* pledge past_due, failure_reason kept */
    WH_PLEDGE_CANCELED,
    WH_PAYMENT_REFUNDED, /* a negative refund row */
    WH_DISPUTE_OPENED,   /* a negative dispute row */
    WH_DISPUTE_WON,      /* a positive dispute_won row */
};

/* The request as received. `body` is the exact raw bytes (NUL-terminated
 * for convenience; may contain NULs, use body_len). */
struct wh_request {
    const char *body;
    size_t body_len;
    const char *(*header)(void *ctx, const char *name); /* case-insensitive; NULL if absent */
    void *ctx;
    long long now; /* unix seconds, for timestamp tolerance */
};

#define WH_TOLERANCE_SECONDS 300

/* Every string is NUL-terminated; "" means absent. Parsers refuse values
 * that do not fit rather than truncating them. */
struct wh_event {
    char event_key[256]; /* unique per provider: its event id, or one derived from the payload */
    enum wh_kind kind;
    char type[128]; /* the provider's own event type, kept for the record */
    char email[255];
    char name[201];
    char subscription_ref[201]; /* subscription / order id: pledges.provider_ref */
    char customer_ref[201];     /* provider's customer id, when it has one */
    char pledge_id[37];         /* our pledge id passed through the provider, when present */
    char payment_id[201];       /* provider's payment id (charge, invoice, refund, dispute) */
    /* The charge a refund or dispute concerns, by the provider's id for it
     * (Stripe payment_intent, PayPal sale id, Monobank invoiceId, ...); on
     * a charge, the id its later refunds will name when that differs from
     * payment_id. "" when unknown. */
    char charge_ref[201];
    /* The reference the provider's acknowledgement must echo (WayForPay's
     * orderReference, which for a regular charge is not the pledge's).
     * Used by `ack` only; not stored. */
    char reply_ref[201];
    int64_t amount_minor; /* exact minor units; meaningful when has_amount */
    bool has_amount;
    char currency[4];     /* ISO 4217 alphabetic, upper case */
    char interval[8];     /* month | year | once, or "" */
    char period_end[32];  /* RFC 3339 UTC, or "" */
    char occurred_at[32]; /* RFC 3339 UTC, or "" (then: received time) */
    char reason[256];     /* failure reason */
    int64_t sequence;     /* provider's ordering stamp (Monobank modifiedDate ms), or 0 */
};

/* A provider. `verify` and `parse` write a short reason (never a secret)
 * into `why` on failure. `ack`, when set, builds the success body the
 * provider expects (WayForPay's signed accept); it returns malloc'd JSON
 * text or NULL for the default {"received": true}. */
struct wh_provider {
    const char *name;
    bool (*configured)(const struct config *c);
    bool (*verify)(const struct config *c, const struct wh_request *rq, char *why, size_t why_len);
    bool (*parse)(const struct config *c, const struct wh_request *rq, struct wh_event *ev,
                  char *why, size_t why_len);
    char *(*ack)(const struct config *c, const struct wh_event *ev, long long now);
};

extern const struct wh_provider wh_stripe, wh_standard, wh_patreon, wh_paddle, wh_paypal, wh_liqpay,
    wh_monobank, wh_wayforpay;

/* By URL name; NULL when unknown. */
const struct wh_provider *wh_provider_find(const char *name);

#endif
