/* Paddle Billing (reference §8): "Paddle-Signature: ts=..;h1=..",
 * HMAC-SHA256 over "ts:body" keyed with the endpoint secret as is, hex.
 * Any h1 may match (several are sent while a secret is rotated). The
 * SDK's 5 s window rejects honest retries; the reference advises a few
 * minutes, so the common 300 s applies, event_id guarding replays. */
#include <stdio.h>
#include <string.h>

#include "money.h"
#include "provider_kit.h"

/* Its variables, by their place in `.settings` at the end. */
enum { WEBHOOK_SECRET };
#define PADDLE(c, i) SETTING(c, PROVIDER_paddle, i)

static const struct wh_ts_scheme scheme = {"Paddle-Signature", ';', "ts", "h1", true, ':'};

static bool verify(const struct config *c, const struct wh_request *rq, char *why, size_t why_len)
{
    return wh_ts_sigs_check(&scheme, PADDLE(c, WEBHOOK_SECRET), rq, why, why_len);
}

/* ---- parsing: amounts are strings of minor units ("1000") ---- */

static bool minor_units(json_t *o, const char *path, struct wh_event *ev, char *why, size_t why_len)
{
    char text[32];
    if (!wh_field(o, path, text, sizeof text, why, why_len)) return false;
    ev->has_amount = *text != '\0';
    if (ev->has_amount &&
        (!money_parse_decimal(text, 0, &ev->amount_minor) || ev->amount_minor < 0)) {
        snprintf(why, why_len, "%s is not a non-negative amount", path);
        return false;
    }
    return true;
}

/* Fields every data object shares: currency, customer, pledge id. */
static bool data_common(json_t *d, struct wh_event *ev, char *why, size_t why_len)
{
    char code[8], pledge[64];
    if (!wh_field(d, "currency_code", code, sizeof code, why, why_len) ||
        !wh_field(d, "customer_id", ev->customer_ref, sizeof ev->customer_ref, why, why_len))
        return false;
    if (*code && !wh_currency(ev->currency, code))
        return wh_fail(why, why_len, "currency_code is not a known currency");
    /* custom_data is free-form: only a pledge id of ours is taken. */
    if (wh_json_str(d, "custom_data.pledge_id", pledge, sizeof pledge))
        wh_uuid(ev->pledge_id, pledge);
    return true;
}

/* A billing cycle of one month or one year; other cadences stay "". */
static bool billing_cycle(json_t *d, const char *path, struct wh_event *ev, char *why,
                          size_t why_len)
{
    char unit[16], unit_path[96], freq_path[96];
    int64_t frequency = 1;
    bool present;
    snprintf(unit_path, sizeof unit_path, "%s.interval", path);
    snprintf(freq_path, sizeof freq_path, "%s.frequency", path);
    if (!wh_field(d, unit_path, unit, sizeof unit, why, why_len)) return false;
    if (!wh_json_int(d, freq_path, &frequency, &present))
        return wh_fail(why, why_len, "billing_cycle.frequency is not an integer");
    if (frequency == 1 && (!strcmp(unit, "month") || !strcmp(unit, "year")))
        wh_copy(ev->interval, sizeof ev->interval, unit);
    return true;
}

static bool subscription(json_t *d, struct wh_event *ev, char *why, size_t why_len)
{
    int64_t quantity = 1;
    bool has_quantity;
    if (!data_common(d, ev, why, why_len) ||
        !wh_field(d, "id", ev->subscription_ref, sizeof ev->subscription_ref, why, why_len) ||
        !wh_time_field(d, "current_billing_period.ends_at", ev->period_end, sizeof ev->period_end,
                       why, why_len) ||
        !billing_cycle(d, "billing_cycle", ev, why, why_len) ||
        !minor_units(d, "items.0.price.unit_price.amount", ev, why, why_len))
        return false;
    if (!*ev->subscription_ref) return wh_fail(why, why_len, "subscription has no id");
    if (!wh_json_int(d, "items.0.quantity", &quantity, &has_quantity))
        return wh_fail(why, why_len, "items.0.quantity is not an integer");
    if (ev->has_amount && has_quantity) {
        if (quantity < 1 || ev->amount_minor > INT64_MAX / quantity)
            return wh_fail(why, why_len, "items.0.quantity is out of range");
        ev->amount_minor *= quantity;
    }
    return true;
}

/* Created, activated or changed: only an active subscription confirms its
 * price. A trialing one has paid nothing (SPEC §4 Checkout). */
static bool subscription_changed(json_t *d, struct wh_event *ev, char *why, size_t why_len)
{
    char status[32];
    if (!subscription(d, ev, why, why_len) ||
        !wh_field(d, "status", status, sizeof status, why, why_len))
        return false;
    ev->kind = !strcmp(status, "active") ? WH_PLEDGE_ACTIVATED : WH_IGNORED;
    return true;
}

static bool subscription_canceled(json_t *d, struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_PLEDGE_CANCELED;
    return subscription(d, ev, why, why_len);
}

static bool transaction(json_t *d, struct wh_event *ev, char *why, size_t why_len)
{
    if (!data_common(d, ev, why, why_len) ||
        !wh_field(d, "id", ev->payment_id, sizeof ev->payment_id, why, why_len) ||
        !wh_field(d, "subscription_id", ev->subscription_ref, sizeof ev->subscription_ref, why,
                  why_len) ||
        !wh_time_field(d, "billing_period.ends_at", ev->period_end, sizeof ev->period_end, why,
                       why_len) ||
        !billing_cycle(d, "items.0.price.billing_cycle", ev, why, why_len) ||
        !minor_units(d, "details.totals.grand_total", ev, why, why_len))
        return false;
    if (!*ev->payment_id) return wh_fail(why, why_len, "transaction has no id");
    if (!*ev->subscription_ref) wh_copy(ev->interval, sizeof ev->interval, "once");
    return true;
}

static bool transaction_completed(json_t *d, struct wh_event *ev, char *why, size_t why_len)
{
    if (!transaction(d, ev, why, why_len)) return false;
    if (!ev->has_amount || !*ev->currency)
        return wh_fail(why, why_len, "transaction without grand_total or currency_code");
    /* A zero transaction (trial, full discount) moves no money. */
    ev->kind = ev->amount_minor > 0 ? WH_PAYMENT_SUCCEEDED : WH_IGNORED;
    return true;
}

/* The transaction id stays the same until it is paid, so each failed
 * attempt (one more entry in data.payments, newest first) gets its own id. */
static bool transaction_failed(json_t *d, struct wh_event *ev, char *why, size_t why_len)
{
    if (!transaction(d, ev, why, why_len) ||
        !wh_field(d, "payments.0.error_code", ev->reason, sizeof ev->reason, why, why_len))
        return false;
    if (!*ev->reason) wh_copy(ev->reason, sizeof ev->reason, "payment failed");
    json_t *payments = wh_json_at(d, "payments");
    size_t attempts = json_is_array(payments) ? json_array_size(payments) : 0;
    size_t len = strlen(ev->payment_id);
    int n = snprintf(ev->payment_id + len, sizeof ev->payment_id - len, ":failed:%zu", attempts);
    if (n < 0 || (size_t)n >= sizeof ev->payment_id - len)
        return wh_fail(why, why_len, "transaction id too long");
    ev->kind = WH_PAYMENT_FAILED;
    return true;
}

/* Refunds and chargebacks are adjustments; only approved ones moved money.
 * They name their charge by transaction id, the charge's payment_id. */
static bool adjustment(json_t *d, struct wh_event *ev, char *why, size_t why_len)
{
    char action[32], status[32];
    if (!data_common(d, ev, why, why_len) ||
        !wh_field(d, "id", ev->payment_id, sizeof ev->payment_id, why, why_len) ||
        !wh_field(d, "transaction_id", ev->charge_ref, sizeof ev->charge_ref, why, why_len) ||
        !wh_field(d, "action", action, sizeof action, why, why_len) ||
        !wh_field(d, "status", status, sizeof status, why, why_len) ||
        !wh_field(d, "subscription_id", ev->subscription_ref, sizeof ev->subscription_ref, why,
                  why_len) ||
        !wh_field(d, "reason", ev->reason, sizeof ev->reason, why, why_len) ||
        !minor_units(d, "totals.total", ev, why, why_len))
        return false;
    ev->kind = WH_IGNORED;
    if (strcmp(status, "approved")) return true;
    if (!strcmp(action, "refund"))
        ev->kind = WH_PAYMENT_REFUNDED;
    else if (!strcmp(action, "chargeback"))
        ev->kind = WH_DISPUTE_OPENED;
    else if (!strcmp(action, "chargeback_reverse"))
        ev->kind = WH_DISPUTE_WON;
    if (ev->kind != WH_IGNORED && (!*ev->payment_id || !ev->has_amount || !*ev->currency))
        return wh_fail(why, why_len, "adjustment without id, totals.total or currency_code");
    return true;
}

static const struct wh_handler handlers[] = {
    {"subscription.created", subscription_changed, NULL},
    {"subscription.activated", subscription_changed, NULL},
    {"subscription.updated", subscription_changed, NULL},
    {"subscription.canceled", subscription_canceled, NULL},
    {"transaction.completed", transaction_completed, NULL},
    {"transaction.payment_failed", transaction_failed, NULL},
    {"adjustment.created", adjustment, NULL},
    {"adjustment.updated", adjustment, NULL},
};

static const struct wh_envelope envelope = {
    "event_id",
    "event_type",
    "occurred_at",
    wh_time_field,
    "data",
    handlers,
    sizeof handlers / sizeof handlers[0],
};

const struct provider provider_paddle = {
    .name = "paddle",
    .settings =
        (const struct setting[]){
            {"PATROND_PADDLE_WEBHOOK_SECRET", SETTING_SECRET, NULL},
            {NULL, 0, NULL},
        },

    .verify = verify,
    .envelope = &envelope,
};
