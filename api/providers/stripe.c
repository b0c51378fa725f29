/* Stripe (reference §1). Checkout: the Payment Link
 * (PATROND_STRIPE_PAYMENT_LINK) with client_reference_id=<pledge id>, which
 * Stripe hands back on the checkout session, and prefilled_email; the
 * link's price and interval are set in Stripe and the webhooks report what
 * was actually paid. Webhook: "Stripe-Signature: t=..,v1=..", HMAC-SHA256 over
 * "t.body" keyed with the whole whsec_ string, lower-case hex; every v1 is
 * tried, since Stripe signs once per active secret while one is rolled. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider_kit.h"

/* Its variables, by their place in `.settings` at the end. */
enum { WEBHOOK_SECRET, PAYMENT_LINK, API_KEY, API_URL };
#define STRIPE(c, i) SETTING(c, PROVIDER_stripe, i)

/* Like the SDK: items without '=' and keys other than t and v1 (the v0
 * test scheme) are ignored. Stricter than the SDK, the timestamp must be
 * fresh in both directions: Stripe re-signs every retry. */
static const struct wh_ts_scheme scheme = {"Stripe-Signature", ',', "t", "v1", false, '.'};

static bool verify(const struct config *c, const struct wh_request *rq, char *why, size_t why_len)
{
    return wh_ts_sigs_check(&scheme, STRIPE(c, WEBHOOK_SECRET), rq, why, why_len);
}

/* ---- parsing: data.object of each handled event type (reference §1.7) ---- */

/* An amount in minor units at path; absent leaves has_amount false. */
static bool amount(json_t *o, const char *path, struct wh_event *ev, char *why, size_t why_len)
{
    int64_t v;
    bool present;
    if (!wh_json_int(o, path, &v, &present) || (present && v < 0)) {
        snprintf(why, why_len, "%s is not a non-negative integer", path);
        return false;
    }
    ev->amount_minor = present ? v : 0;
    ev->has_amount = present;
    return true;
}

static bool currency(json_t *o, struct wh_event *ev, char *why, size_t why_len)
{
    char code[8];
    if (!wh_field(o, "currency", code, sizeof code, why, why_len)) return false;
    if (!*code) return true;
    if (!wh_currency(ev->currency, code)) return wh_fail(why, why_len, "unknown currency");
    return true;
}

/* amount and currency both, for events that move money. */
static bool money(json_t *o, const char *path, struct wh_event *ev, char *why, size_t why_len)
{
    if (!amount(o, path, ev, why, why_len) || !currency(o, ev, why, why_len)) return false;
    if (!ev->has_amount || !*ev->currency) {
        snprintf(why, why_len, "%s or currency missing", path);
        return false;
    }
    return true;
}

static bool unix_time(json_t *o, const char *path, char *dst, size_t dst_len, char *why,
                      size_t why_len)
{
    int64_t t;
    bool present;
    if (!wh_json_int(o, path, &t, &present) ||
        (present && !unix_to_rfc3339(t, false, dst, dst_len))) {
        snprintf(why, why_len, "%s is not a unix time", path);
        return false;
    }
    return true;
}

/* A recurring price's interval as a pledge interval; others stay "". */
static bool price_interval(json_t *price, struct wh_event *ev, char *why, size_t why_len)
{
    char unit[16];
    int64_t count = 1;
    bool present;
    if (!wh_field(price, "recurring.interval", unit, sizeof unit, why, why_len) ||
        !wh_json_int(price, "recurring.interval_count", &count, &present))
        return wh_fail(why, why_len, "price.recurring is malformed");
    if (count == 1 && (!strcmp(unit, "month") || !strcmp(unit, "year")))
        wh_copy(ev->interval, sizeof ev->interval, unit);
    return true;
}

/* Our pledge id, from a free-form field: anything else there is not ours. */
static void our_pledge_id(json_t *o, const char *path, struct wh_event *ev)
{
    char id[64];
    if (!*ev->pledge_id && wh_json_str(o, path, id, sizeof id)) wh_uuid(ev->pledge_id, id);
}

/* The id that refunds and disputes name a charge by: its payment intent,
 * or the charge itself when it was made without one. */
static bool charge_ref(json_t *o, const char *intent_path, const char *charge_path,
                       struct wh_event *ev, char *why, size_t why_len)
{
    if (!wh_field(o, intent_path, ev->charge_ref, sizeof ev->charge_ref, why, why_len))
        return false;
    return *ev->charge_ref ||
           wh_field(o, charge_path, ev->charge_ref, sizeof ev->charge_ref, why, why_len);
}

/* A session confirms its subscription only once paid (SPEC §4 Checkout);
 * an unpaid one is followed by async_payment_succeeded or a paid invoice. */
static bool session_subscription(const char *status, struct wh_event *ev)
{
    bool paid = !strcmp(status, "paid");
    if (!paid && strcmp(status, "no_payment_required")) {
        ev->kind = WH_IGNORED;
        return true;
    }
    ev->kind = WH_PLEDGE_ACTIVATED;
    /* Nothing charged (a trial, a full discount) says nothing of the price. */
    if (!paid) ev->has_amount = false;
    return true;
}

static bool checkout_completed(json_t *o, struct wh_event *ev, char *why, size_t why_len)
{
    char mode[32], status[32];
    if (!wh_field(o, "mode", mode, sizeof mode, why, why_len) ||
        !wh_field(o, "payment_status", status, sizeof status, why, why_len) ||
        !wh_field(o, "customer_details.email", ev->email, sizeof ev->email, why, why_len) ||
        !wh_field(o, "customer_details.name", ev->name, sizeof ev->name, why, why_len) ||
        !wh_field(o, "subscription", ev->subscription_ref, sizeof ev->subscription_ref, why,
                  why_len) ||
        !wh_field(o, "customer", ev->customer_ref, sizeof ev->customer_ref, why, why_len) ||
        !amount(o, "amount_total", ev, why, why_len) || !currency(o, ev, why, why_len))
        return false;
    if (!*ev->email && !wh_field(o, "customer_email", ev->email, sizeof ev->email, why, why_len))
        return false;
    /* Set by our checkout on the payment link; other links may set their own. */
    our_pledge_id(o, "client_reference_id", ev);
    if (!strcmp(mode, "subscription")) return session_subscription(status, ev);
    if (strcmp(mode, "payment") || strcmp(status, "paid")) {
        ev->kind = WH_IGNORED; /* set-up sessions; delayed payments arrive later */
        return true;
    }
    /* A one-off gift: this session is the only event that carries its money;
     * its payment intent is also what refunds name, so no charge_ref. */
    ev->kind = WH_PAYMENT_SUCCEEDED;
    wh_copy(ev->interval, sizeof ev->interval, "once");
    if (!wh_field(o, "payment_intent", ev->payment_id, sizeof ev->payment_id, why, why_len))
        return false;
    if (!*ev->payment_id && !wh_field(o, "id", ev->payment_id, sizeof ev->payment_id, why, why_len))
        return false;
    if (!ev->has_amount || !*ev->currency || !*ev->payment_id)
        return wh_fail(why, why_len, "paid session without amount_total, currency or id");
    return true;
}

/* The fields invoice events share; the subscription moved under `parent`
 * with API version 2025-03-31 (basil), so both places are read. */
static bool invoice_common(json_t *o, struct wh_event *ev, char *why, size_t why_len)
{
    if (!wh_field(o, "id", ev->payment_id, sizeof ev->payment_id, why, why_len) ||
        !wh_field(o, "customer", ev->customer_ref, sizeof ev->customer_ref, why, why_len) ||
        !wh_field(o, "customer_email", ev->email, sizeof ev->email, why, why_len) ||
        !wh_field(o, "customer_name", ev->name, sizeof ev->name, why, why_len) ||
        !wh_field(o, "parent.subscription_details.subscription", ev->subscription_ref,
                  sizeof ev->subscription_ref, why, why_len) ||
        !unix_time(o, "lines.data.0.period.end", ev->period_end, sizeof ev->period_end, why,
                   why_len))
        return false;
    if (!*ev->subscription_ref && !wh_field(o, "subscription", ev->subscription_ref,
                                            sizeof ev->subscription_ref, why, why_len))
        return false;
    our_pledge_id(o, "parent.subscription_details.metadata.pledge_id", ev);
    our_pledge_id(o, "subscription_details.metadata.pledge_id", ev);
    json_t *price = wh_json_at(o, "lines.data.0.price");
    if (json_is_object(price) && !price_interval(price, ev, why, why_len)) return false;
    if (!*ev->payment_id) return wh_fail(why, why_len, "invoice has no id");
    return true;
}

/* Refunds and disputes name the invoice's charge by its payment intent:
 * on the invoice before API 2025-03-31 (basil), in its payments since. */
static bool invoice_charge_ref(json_t *o, struct wh_event *ev, char *why, size_t why_len)
{
    if (!charge_ref(o, "payment_intent", "charge", ev, why, why_len)) return false;
    return *ev->charge_ref || charge_ref(o, "payments.data.0.payment.payment_intent",
                                         "payments.data.0.payment.charge", ev, why, why_len);
}

static bool invoice_paid(json_t *o, struct wh_event *ev, char *why, size_t why_len)
{
    if (!invoice_common(o, ev, why, why_len) || !money(o, "amount_paid", ev, why, why_len) ||
        !invoice_charge_ref(o, ev, why, why_len))
        return false;
    /* A zero invoice (trial, full discount) moves no money. */
    ev->kind = ev->amount_minor > 0 ? WH_PAYMENT_SUCCEEDED : WH_IGNORED;
    return true;
}

static bool invoice_failed(json_t *o, struct wh_event *ev, char *why, size_t why_len)
{
    int64_t attempt = 0, next = 0;
    bool has_attempt, has_next;
    char when[32] = "";
    if (!invoice_common(o, ev, why, why_len) || !money(o, "amount_due", ev, why, why_len) ||
        !wh_field(o, "last_finalization_error.message", ev->reason, sizeof ev->reason, why,
                  why_len))
        return false;
    if (!wh_json_int(o, "attempt_count", &attempt, &has_attempt) ||
        !wh_json_int(o, "next_payment_attempt", &next, &has_next) ||
        (has_next && !unix_to_rfc3339(next, false, when, sizeof when)))
        return wh_fail(why, why_len, "attempt_count or next_payment_attempt is malformed");
    if (!*ev->reason)
        snprintf(ev->reason, sizeof ev->reason, "payment attempt %lld failed; %s%s",
                 (long long)attempt, *when ? "next attempt at " : "no further attempts", when);
    /* The invoice id becomes the charge's id once paid; each failed
     * attempt is a ledger row of its own. */
    char id[sizeof ev->payment_id];
    int n = snprintf(id, sizeof id, "%s:failed:%lld", ev->payment_id, (long long)attempt);
    if (n < 0 || (size_t)n >= sizeof id) return wh_fail(why, why_len, "invoice id too long");
    memcpy(ev->payment_id, id, (size_t)n + 1);
    ev->kind = WH_PAYMENT_FAILED;
    return true;
}

/* A subscription object (customer.subscription.*). Its period end moved
 * to the items with basil; older versions keep it on the subscription. */
static bool subscription_common(json_t *o, struct wh_event *ev, char *why, size_t why_len)
{
    int64_t quantity = 1;
    bool has_quantity;
    if (!wh_field(o, "id", ev->subscription_ref, sizeof ev->subscription_ref, why, why_len) ||
        !wh_field(o, "customer", ev->customer_ref, sizeof ev->customer_ref, why, why_len) ||
        !currency(o, ev, why, why_len) ||
        !amount(o, "items.data.0.price.unit_amount", ev, why, why_len) ||
        !unix_time(o, "items.data.0.current_period_end", ev->period_end, sizeof ev->period_end, why,
                   why_len))
        return false;
    if (!wh_json_int(o, "items.data.0.quantity", &quantity, &has_quantity))
        return wh_fail(why, why_len, "items.data.0.quantity is not an integer");
    if (!*ev->period_end &&
        !unix_time(o, "current_period_end", ev->period_end, sizeof ev->period_end, why, why_len))
        return false;
    our_pledge_id(o, "metadata.pledge_id", ev);
    json_t *price = wh_json_at(o, "items.data.0.price");
    if (json_is_object(price) && !price_interval(price, ev, why, why_len)) return false;
    if (!*ev->subscription_ref) return wh_fail(why, why_len, "subscription has no id");
    if (ev->has_amount && has_quantity) {
        if (quantity < 1 || ev->amount_minor > INT64_MAX / quantity)
            return wh_fail(why, why_len, "subscription quantity is out of range");
        ev->amount_minor *= quantity;
    }
    return true;
}

static bool subscription_changed(json_t *o, struct wh_event *ev, char *why, size_t why_len)
{
    char status[32];
    if (!subscription_common(o, ev, why, why_len) ||
        !wh_field(o, "status", status, sizeof status, why, why_len))
        return false;
    /* Only an active subscription confirms its price: a trialing one has
     * paid nothing, an incomplete one not yet. */
    ev->kind = !strcmp(status, "active") ? WH_PLEDGE_ACTIVATED : WH_IGNORED;
    return true;
}

static bool subscription_deleted(json_t *o, struct wh_event *ev, char *why, size_t why_len)
{
    if (!subscription_common(o, ev, why, why_len) ||
        !wh_field(o, "cancellation_details.reason", ev->reason, sizeof ev->reason, why, why_len))
        return false;
    ev->kind = WH_PLEDGE_CANCELED;
    return true;
}

/* charge.refunded fires once per refund. When the charge carries its
 * refunds list, the newest refund gives the event its own id and amount.
 * API versions since 2022-11-15 leave the list out: then the charge's
 * cumulative amount_refunded tells successive refunds apart, and
 * previous_attributes.amount_refunded (the total before this refund)
 * gives this one's amount. Reads data, not only data.object. The charge's
 * creation time finds the charge when its invoice did not name the
 * payment intent (API 2025-03-31 removed it). */
static bool charge_refunded(json_t *data, struct wh_event *ev, char *why, size_t why_len)
{
    json_t *o = json_object_get(data, "object");
    char charge[150];
    if (!json_is_object(o)) return wh_fail(why, why_len, "data.object is missing");
    if (!wh_field(o, "id", charge, sizeof charge, why, why_len) ||
        !wh_field(o, "customer", ev->customer_ref, sizeof ev->customer_ref, why, why_len) ||
        !wh_field(o, "billing_details.email", ev->email, sizeof ev->email, why, why_len) ||
        !wh_field(o, "billing_details.name", ev->name, sizeof ev->name, why, why_len) ||
        !wh_field(o, "refunds.data.0.id", ev->payment_id, sizeof ev->payment_id, why, why_len) ||
        !charge_ref(o, "payment_intent", "id", ev, why, why_len) ||
        !unix_time(o, "created", ev->charge_at, sizeof ev->charge_at, why, why_len))
        return false;
    ev->kind = WH_PAYMENT_REFUNDED;
    if (*ev->payment_id) return money(o, "refunds.data.0.amount", ev, why, why_len);
    if (!*charge) return wh_fail(why, why_len, "charge has no id");
    if (!money(o, "amount_refunded", ev, why, why_len)) return false;
    int64_t before = 0;
    bool present;
    if (!wh_json_int(data, "previous_attributes.amount_refunded", &before, &present) ||
        before < 0 || before >= ev->amount_minor)
        return wh_fail(why, why_len, "previous amount_refunded is not below amount_refunded");
    int n = snprintf(ev->payment_id, sizeof ev->payment_id, "%s:refund:%lld", charge,
                     (long long)ev->amount_minor);
    if (n < 0 || (size_t)n >= sizeof ev->payment_id) return wh_fail(why, why_len, "id too long");
    ev->amount_minor -= before;
    return true;
}

static bool dispute_common(json_t *o, struct wh_event *ev, char *why, size_t why_len)
{
    if (!wh_field(o, "id", ev->payment_id, sizeof ev->payment_id, why, why_len) ||
        !wh_field(o, "reason", ev->reason, sizeof ev->reason, why, why_len) ||
        !wh_field(o, "evidence.customer_email_address", ev->email, sizeof ev->email, why,
                  why_len) ||
        !money(o, "amount", ev, why, why_len) ||
        !charge_ref(o, "payment_intent", "charge", ev, why, why_len))
        return false;
    if (!*ev->payment_id) return wh_fail(why, why_len, "dispute has no id");
    return true;
}

static bool dispute_created(json_t *o, struct wh_event *ev, char *why, size_t why_len)
{
    if (!dispute_common(o, ev, why, why_len)) return false;
    ev->kind = WH_DISPUTE_OPENED;
    return true;
}

/* Only a won dispute moves money back; a lost one was already debited. */
static bool dispute_closed(json_t *o, struct wh_event *ev, char *why, size_t why_len)
{
    char status[32];
    if (!dispute_common(o, ev, why, why_len) ||
        !wh_field(o, "status", status, sizeof status, why, why_len))
        return false;
    if (strcmp(status, "won")) {
        ev->kind = WH_IGNORED;
        return true;
    }
    size_t len = strlen(ev->payment_id);
    if (len + sizeof ":won" > sizeof ev->payment_id) return wh_fail(why, why_len, "id too long");
    memcpy(ev->payment_id + len, ":won", sizeof ":won");
    ev->kind = WH_DISPUTE_WON;
    return true;
}

static const struct wh_handler handlers[] = {
    {"checkout.session.completed", checkout_completed, NULL},
    {"checkout.session.async_payment_succeeded", checkout_completed, NULL},
    {"invoice.paid", invoice_paid, NULL},
    {"invoice.payment_succeeded", invoice_paid, NULL},
    {"invoice.payment_failed", invoice_failed, NULL},
    {"customer.subscription.created", subscription_changed, NULL},
    {"customer.subscription.updated", subscription_changed, NULL},
    {"customer.subscription.deleted", subscription_deleted, NULL},
    {"charge.dispute.created", dispute_created, NULL},
    {"charge.dispute.closed", dispute_closed, NULL},
    {"charge.refunded", charge_refunded, "data"},
};

static const struct wh_envelope envelope = {
    "id",
    "type",
    "created",
    unix_time,
    "data.object",
    handlers,
    sizeof handlers / sizeof handlers[0],
};

/* ---- checkout ---- */

static bool checkout_configured(const struct config *c)
{
    return STRIPE(c, PAYMENT_LINK) != NULL;
}

static bool unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* RFC 3986 percent-encoding of everything but unreserved characters. */
static size_t percent_encode(const char *s, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p)) {
            if (out) out[o] = (char)*p;
            o++;
            continue;
        }
        if (out) {
            out[o] = '%';
            out[o + 1] = hex[*p >> 4];
            out[o + 2] = hex[*p & 15];
        }
        o += 3;
    }
    return o;
}

static json_t *checkout(const struct config *c, const struct checkout_order *o)
{
    const char *link = STRIPE(c, PAYMENT_LINK);
    char sep = strchr(link, '?') ? '&' : '?';
    size_t len = strlen(link) +
                 sizeof "?client_reference_id=&prefilled_email=" + strlen(o->pledge_id) +
                 percent_encode(o->email, NULL);
    char *url = malloc(len);
    if (!url) return NULL;
    int n =
        snprintf(url, len, "%s%cclient_reference_id=%s&prefilled_email=", link, sep, o->pledge_id);
    url[(size_t)n + percent_encode(o->email, url + n)] = '\0';
    json_t *redirect = json_pack("{s:s, s:s}", "method", "GET", "url", url);
    free(url);
    return redirect;
}

/* The pledge is found by client_reference_id; its subscription id becomes
 * provider_ref later. */
/* ---- self-service cancel: the subscription ends at its period end ---- */

static bool cancel_configured(const struct config *c)
{
    return secret_list_any(STRIPE(c, API_KEY));
}

/* Update the subscription with cancel_at_period_end=true, the patron's
 * paid period kept (a restricted key with write access to subscriptions
 * is enough). Stripe's ids are plain; anything else is not one. */
static bool cancel_request(const struct config *c, const char *ref, struct provider_call *call,
                           char *why, size_t why_len)
{
    if (!cancel_ref_plain(ref)) return wh_fail(why, why_len, "not a Stripe subscription id");
    char keybuf[SECRET_LIST_MAX];
    const char *key = checkout_current_key(STRIPE(c, API_KEY), keybuf, sizeof keybuf);
    bool ok = key && (call->url = cancel_strf("%s/v1/subscriptions/%s", STRIPE(c, API_URL), ref)) &&
              (call->body = cancel_strf("cancel_at_period_end=true")) &&
              (call->headers[0] = cancel_strf("Authorization: Bearer %s", key)) &&
              (call->headers[1] = cancel_strf("Content-Type: application/x-www-form-urlencoded"));
    OPENSSL_cleanse(keybuf, sizeof keybuf);
    return ok || wh_fail(why, why_len, "out of memory");
}

/* The updated subscription: it ends at its period end, or has already
 * ended. An error object (a wrong key, no such subscription) is a failure. */
static enum cancel_outcome cancel_outcome(const char *ref, long status, const char *body,
                                          size_t len, char *why, size_t why_len)
{
    json_t *root = cancel_answer(status, body, len, why, why_len);
    if (!root) {
        char message[160] = "";
        json_t *err = json_loadb(body, len, 0, NULL);
        if (wh_json_str(err, "error.message", message, sizeof message) && *message)
            snprintf(why, why_len, "answered HTTP %ld: %s", status, message);
        json_decref(err);
        return CANCEL_FAILED;
    }
    char object[32], id[256], state[32];
    json_t *at_end = json_object_get(root, "cancel_at_period_end");
    enum cancel_outcome out = CANCEL_FAILED;
    if (!wh_json_str(root, "object", object, sizeof object) ||
        !wh_json_str(root, "id", id, sizeof id) ||
        !wh_json_str(root, "status", state, sizeof state) || strcmp(object, "subscription") ||
        strcmp(id, ref))
        wh_fail(why, why_len, "answered with another object than the subscription");
    else if (!strcmp(state, "canceled"))
        out = CANCEL_ENDED;
    else if (json_is_true(at_end))
        out = CANCEL_AT_PERIOD_END;
    else
        wh_fail(why, why_len, "the subscription is not set to cancel at its period end");
    json_decref(root);
    return out;
}

static const struct provider_cancel cancel = {cancel_configured, cancel_request, cancel_outcome};

const struct provider provider_stripe = {
    .name = "stripe",
    .settings =
        (const struct setting[]){
            {"PATROND_STRIPE_WEBHOOK_SECRET", SETTING_SECRET, NULL},
            {"PATROND_STRIPE_PAYMENT_LINK", SETTING_URL, NULL},
            {"PATROND_STRIPE_API_KEY", SETTING_SECRET, NULL},
            {"PATROND_STRIPE_API_URL", SETTING_BASE_URL, "https://api.stripe.com"},
            {NULL, 0, NULL},
        },
    .verify = verify,
    .envelope = &envelope,
    .checkout_configured = checkout_configured,
    .checkout = checkout,
    .cancel = &cancel,
};
