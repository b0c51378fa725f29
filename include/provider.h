#ifndef PATROND_PROVIDER_H
#define PATROND_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <time.h>

#include "config.h"
#include "provider_id.h"

/* A payment provider is one module, api/providers/<name>.c, behind one
 * `struct provider`; include/providers.def lists them. A module holds its
 * environment variables, its webhook's verifier (raw bytes + headers +
 * secrets → genuine or not) and parser (verified bytes → one
 * provider-neutral wh_event) and reply, and, where it takes payments from
 * the donation form, the checkout redirect. All of it is pure: the
 * pipeline (api/handlers/webhooks.c, api/db/webhooks.c) records and
 * applies the event, and only it touches the database. */

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

/* One refund of an order whose refunds the provider reports together. */
struct wh_refund {
    char payment_id[201];
    int64_t amount_minor;
    char occurred_at[32]; /* RFC 3339 UTC */
};

/* More would be a refund per few minor units of a coffee-sized pledge. */
#define WH_REFUNDS_MAX 16

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
     * (a payment intent, a sale, an invoice, ...); on a charge, the id its
     * later refunds will name when that differs from payment_id. "" when
     * unknown. */
    char charge_ref[201];
    /* The reference the provider's acknowledgement must echo (an order
     * reference which, for a regular charge, is not the pledge's). Used by
     * `ack` only; not stored. */
    char reply_ref[201];
    int64_t amount_minor; /* exact minor units; meaningful when has_amount */
    bool has_amount;
    char currency[4];     /* ISO 4217 alphabetic, upper case */
    char interval[8];     /* month | year | once, or "" */
    char period_end[32];  /* RFC 3339 UTC, or "" */
    char occurred_at[32]; /* RFC 3339 UTC, or "" (then: received time) */
    char reason[256];     /* failure reason */
    int64_t sequence;     /* provider's ordering stamp (a modification time in ms), or 0 */
    /* A refund event of a provider that lists every refund of the order in
     * each delivery (Monobank's cancelList): all of them, each booked once
     * by its payment id, so a refund whose own delivery was lost or
     * coalesced is not. The event's own fields are the newest one's. */
    struct wh_refund refunds[WH_REFUNDS_MAX];
    int n_refunds;
    /* On a refund, its charge (charge_ref) as the provider restates it in
     * the refund's own signed payload (Monobank repeats the invoice): what
     * it took and when, so that a charge whose own delivery was lost is
     * booked before the refund that voids it. A provider whose charges do
     * not carry the reference their refunds name (Stripe's invoices since
     * API 2025-03-31) gives only the time: the charge is then known by
     * when it was made. */
    int64_t charge_amount_minor; /* meaningful when has_charge */
    bool has_charge;
    char charge_at[32]; /* RFC 3339 UTC, or "" */
};

/* What a checkout is paying for (SPEC §4 "Checkout"); every string is
 * already validated. The redirect is built offline from the configuration
 * alone: no provider is called, so a provider's outage cannot fail a
 * checkout. */
struct checkout_order {
    const char *pledge_id;  /* our order id, where the provider echoes one back */
    const char *email;      /* the patron's address, to prefill */
    const char *currency;   /* known ISO 4217 code */
    const char *interval;   /* month | year | once */
    const char *return_url; /* where the provider sends the payer back; may be NULL */
    int64_t amount_minor;
    time_t now; /* order time, signed into some forms */
};

struct wh_envelope;

/* ---- self-service cancel (POST /v1/me/pledges/{id}/cancel) ---- */

/* One request to a provider's API. Its strings are malloc'd and may hold
 * a secret (an API key, a password): provider_call_free cleanses them. */
#define PROVIDER_CALL_HEADERS 3
struct provider_call {
    char *url;
    char *body;
    char *headers[PROVIDER_CALL_HEADERS + 1]; /* "Name: value" lines, NULL-terminated */
};
void provider_call_free(struct provider_call *call);

/* What became of a cancel. */
enum cancel_outcome {
    CANCEL_FAILED,         /* the provider failed or said no: nothing changed */
    CANCEL_ENDED,          /* the provider ended the subscription now */
    CANCEL_AT_PERIOD_END,  /* it ends at its period end; the provider's webhook will confirm */
    CANCEL_NOT_CONFIGURED, /* this configuration holds no credentials for its API */
    CANCEL_BUSY,           /* too many calls to providers in flight: not called */
};

/* How a provider cancels a subscription through its API: a request built
 * from the configuration and the subscription's reference, and its
 * answer read back. Both pure; provider_cancel() makes the call. */
struct provider_cancel {
    /* its API's credentials are set */
    bool (*configured)(const struct config *c);
    /* the request that cancels subscription `ref` (pledges.provider_ref);
     * false when it cannot be built (a reference its API cannot take, no
     * memory), with why */
    bool (*request)(const struct config *c, const char *ref, struct provider_call *call, char *why,
                    size_t why_len);
    /* the answer (HTTP status and body) → ENDED, AT_PERIOD_END or FAILED,
     * with why on FAILED */
    enum cancel_outcome (*outcome)(const char *ref, long status, const char *body, size_t len,
                                   char *why, size_t why_len);
};

struct provider {
    /* URL segment of its webhook, metrics label, pledges.provider */
    const char *name;
    /* its environment variables, read by config_load; {NULL}-terminated */
    const struct setting *settings;

    /* ---- webhook: POST /v1/webhooks/<name> ---- */
    /* else the route answers 404; NULL: when its first variable holds a
     * secret (see provider_configured) */
    bool (*configured)(const struct config *c);
    /* `verify` and `parse` write a short reason (never a secret) into
     * `why` on failure. */
    bool (*verify)(const struct config *c, const struct wh_request *rq, char *why, size_t why_len);
    bool (*parse)(const struct config *c, const struct wh_request *rq, struct wh_event *ev,
                  char *why, size_t why_len);
    /* Instead of `parse`, for a JSON envelope of id, type and time around
     * the object its handlers map (include/provider_kit.h). */
    const struct wh_envelope *envelope;
    /* When set, the success body the provider expects (a signed accept):
     * malloc'd JSON text, or NULL for the default {"received": true}. */
    char *(*ack)(const struct config *c, const struct wh_event *ev, long long now);
    /* A request header its parser reads, kept with the event so that a
     * replay parses the same input; NULL when none. */
    const char *replay_header;

    /* ---- checkout: NULL when it takes none from the donation form ---- */
    bool (*checkout_configured)(const struct config *c);
    /* {"method": "GET"|"POST", "url", "fields"?}; NULL when out of memory. */
    json_t *(*checkout)(const struct config *c, const struct checkout_order *o);
    /* it returns our pledge id as its order reference, so the pledge's
     * provider_ref is the pledge id from the start */
    bool echoes_order_id;
    /* where the donation form posts to (Content-Security-Policy
     * form-action) when its checkout is a signed form; NULL for a link */
    const char *form_origin;

    /* ---- self-service cancel ---- */
    /* through its API; NULL when patrond cannot cancel there */
    const struct provider_cancel *cancel;
    /* where a patron cancels it themselves when patrond cannot; NULL: no
     * page known (then the newsroom has to) */
    const char *manage_url;
};

/* Each module's own definition (api/providers/<name>.c). */
#define PROVIDER(name) extern const struct provider provider_##name;
#include "providers.def"
#undef PROVIDER

/* The table, in the order of include/providers.def. */
extern const struct provider *const provider_table[PROVIDERS_COUNT];
/* Their names, NULL-terminated: the webhook events' provider filter. */
extern const char *const provider_names[PROVIDERS_COUNT + 1];

/* By name; NULL when unknown. */
const struct provider *provider_find(const char *name);
/* Whether its webhook is switched on by this configuration. */
bool provider_configured(const struct provider *p, const struct config *c);
/* Verified bytes → the provider-neutral event, by `parse` or `envelope`. */
bool provider_parse(const struct provider *p, const struct config *c, const struct wh_request *rq,
                    struct wh_event *ev, char *why, size_t why_len);

/* The providers this configuration can take checkouts with, in the
 * table's order, into out (NULL-terminated; PROVIDERS_COUNT + 1 slots).
 * Returns how many. */
size_t checkout_providers(const struct config *c, const char **out);
/* Whether the provider returns our pledge id as its order reference. */
bool checkout_echoes_order_id(const char *provider);
/* The redirect; NULL for a provider that is unknown, takes no checkouts
 * or is not configured, or when out of memory. */
json_t *checkout_redirect(const struct config *c, const char *provider,
                          const struct checkout_order *o);
/* Whether a payer may be sent back to `url`: only to the origin of
 * PATROND_PUBLIC_URL or of one of PATROND_CORS_ORIGINS, so a signed
 * payment form is never a redirect to someone else's site. */
bool checkout_return_url_allowed(const struct config *c, const char *url);

/* Cancels subscription `ref` at the provider, by its `cancel`: one HTTP
 * call (include/http_client.h), to be made outside any database
 * transaction. CANCEL_FAILED when the provider has no `cancel`, failed, or
 * answered something else than a cancellation (why says which). */
enum cancel_outcome provider_cancel(const struct provider *p, const struct config *c,
                                    const char *ref, char *why, size_t why_len);

#endif
