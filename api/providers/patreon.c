/* Patreon (reference §3): X-Patreon-Signature is the hex HMAC-MD5 of the
 * body keyed with the webhook secret. X-Patreon-Event names the trigger,
 * but no signature covers it, so it only labels the event (SPEC §4
 * Webhooks step 1): the body, a JSON:API member document, decides. Member
 * attributes as documented in Patreon/platform-documentation
 * source/includes/_resources_v2.md ("Member"). */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "encode.h"
#include "provider_kit.h"

/* Its variables, by their place in `.settings` at the end. */
enum { WEBHOOK_SECRET, CAMPAIGN_URL, CURRENCY };
#define PATREON(c, i) SETTING(c, PROVIDER_patreon, i)

static bool verify(const struct config *c, const struct wh_request *rq, char *why, size_t why_len)
{
    const char *h = rq->header(rq->ctx, "X-Patreon-Signature");
    uint8_t sig[64];
    size_t sig_len;
    if (!h || !*h) return wh_fail(why, why_len, "missing X-Patreon-Signature header");
    /* Decoding first makes the comparison case-insensitive, as clients do. */
    if (!hex_decode(h, sig, sizeof sig, &sig_len))
        return wh_fail(why, why_len, "malformed X-Patreon-Signature");

    char buf[SECRET_LIST_MAX];
    const char *keys[2];
    int n = secret_list(PATREON(c, WEBHOOK_SECRET), buf, sizeof buf, keys);
    bool match = false;
    for (int i = 0; i < n && !match; i++) {
        uint8_t mac[64];
        size_t mac_len;
        match = hmac("MD5", keys[i], strlen(keys[i]), rq->body, rq->body_len, mac, &mac_len) &&
                bytes_equal(mac, mac_len, sig, sig_len);
    }
    OPENSSL_cleanse(buf, sizeof buf);
    /* The scheme has no timestamp: replays are caught by the event key. */
    return match || wh_fail(why, why_len, "signature mismatch");
}

/* Patreon sends no event id, and signs only the body: a redelivery
 * repeats the body byte for byte, while two real changes differ in it
 * (charge date, status, amount). So SHA-256 of the body alone is the key;
 * the unsigned X-Patreon-Event header cannot make a replay new. */
static bool event_key(const struct wh_request *rq, struct wh_event *ev)
{
    uint8_t digest[32];
    if (!sha256(rq->body, rq->body_len, digest)) return false;
    hex_encode(digest, sizeof digest, ev->event_key);
    return true;
}

/* The included user resource the member points at, or NULL. */
static json_t *included_user(json_t *root, const char *user_id)
{
    json_t *included = wh_json_at(root, "included"), *item;
    size_t i;
    if (!*user_id || !json_is_array(included)) return NULL;
    json_array_foreach(included, i, item)
    {
        json_t *type = wh_json_at(item, "type"), *id = wh_json_at(item, "id");
        if (json_is_string(type) && !strcmp(json_string_value(type), "user") &&
            json_is_string(id) && !strcmp(json_string_value(id), user_id))
            return item;
    }
    return NULL;
}

/* Email and name: the member's own (email needs the members[email]
 * scope), else the included user's. */
static bool identity(json_t *root, json_t *a, struct wh_event *ev, char *why, size_t why_len)
{
    if (!wh_field(a, "email", ev->email, sizeof ev->email, why, why_len) ||
        !wh_field(a, "full_name", ev->name, sizeof ev->name, why, why_len) ||
        !wh_field(root, "data.relationships.user.data.id", ev->customer_ref,
                  sizeof ev->customer_ref, why, why_len))
        return false;
    json_t *user = included_user(root, ev->customer_ref);
    if (!user) return true;
    if (!*ev->email &&
        !wh_field(user, "attributes.email", ev->email, sizeof ev->email, why, why_len))
        return false;
    if (!*ev->name &&
        !wh_field(user, "attributes.full_name", ev->name, sizeof ev->name, why, why_len))
        return false;
    return true;
}

/* Amounts are cents of the campaign's currency, which the payload omits. */
static bool money(const struct config *c, json_t *a, struct wh_event *ev, char *why, size_t why_len)
{
    int64_t cents = 0, cadence = 0;
    bool present, has_cadence;
    if (!wh_currency(ev->currency, PATREON(c, CURRENCY) ? PATREON(c, CURRENCY) : "USD"))
        return wh_fail(why, why_len, "PATROND_PATREON_CURRENCY is not a known currency");
    if (!wh_json_int(a, "currently_entitled_amount_cents", &cents, &present) || cents < 0)
        return wh_fail(why, why_len,
                       "currently_entitled_amount_cents is not a non-negative integer");
    /* Nothing entitled (a free member, a deleted pledge) is no amount. */
    ev->has_amount = present && cents > 0;
    ev->amount_minor = ev->has_amount ? cents : 0;
    if (!wh_json_int(a, "pledge_cadence", &cadence, &has_cadence))
        return wh_fail(why, why_len, "pledge_cadence is not an integer");
    if (cadence == 1 || cadence == 12)
        wh_copy(ev->interval, sizeof ev->interval, cadence == 1 ? "month" : "year");
    return true;
}

struct member {
    char patron_status[32];
    char charge_status[32];
    char charge_date[32]; /* normalized */
    bool free_trial;
};

static bool member_fields(json_t *a, struct member *m, struct wh_event *ev, char *why,
                          size_t why_len)
{
    char next[64], last[64];
    json_t *trial = json_object_get(a, "is_free_trial");
    if (trial && !json_is_boolean(trial) && !json_is_null(trial))
        return wh_fail(why, why_len, "is_free_trial is not a boolean");
    if (!wh_field(a, "patron_status", m->patron_status, sizeof m->patron_status, why, why_len) ||
        !wh_field(a, "last_charge_status", m->charge_status, sizeof m->charge_status, why,
                  why_len) ||
        !wh_field(a, "last_charge_date", last, sizeof last, why, why_len) ||
        !wh_field(a, "next_charge_date", next, sizeof next, why, why_len))
        return false;
    if (!rfc3339_normalize(last, m->charge_date, sizeof m->charge_date) ||
        !rfc3339_normalize(next, ev->period_end, sizeof ev->period_end))
        return wh_fail(why, why_len, "last_charge_date or next_charge_date is not RFC 3339");
    m->free_trial = json_is_true(trial) || !strcmp(m->charge_status, "Free Trial");
    return true;
}

/* dst ← member id + tag + charge date: one id per charge, so every body
 * that reports the same charge names it alike. */
static bool charge_id(char *dst, size_t dst_len, const char *member, const char *tag,
                      const char *date, char *why, size_t why_len)
{
    int n = snprintf(dst, dst_len, "%s%s%s", member, tag, date);
    if (n < 0 || (size_t)n >= dst_len) return wh_fail(why, why_len, "member id too long");
    return true;
}

/* Charge statuses that take the money back (Patreon has no separate
 * dispute event: a chargeback shows as Fraud). "Partially Refunded" is
 * not among them: the body does not say how much went back. */
static bool taken_back(const char *status)
{
    return !strcmp(status, "Refunded") || !strcmp(status, "Refunded by Patreon") ||
           !strcmp(status, "Fraud");
}

static bool refunded(const struct member *m, struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_PAYMENT_REFUNDED;
    return charge_id(ev->charge_ref, sizeof ev->charge_ref, ev->subscription_ref, ":",
                     m->charge_date, why, why_len) &&
           charge_id(ev->payment_id, sizeof ev->payment_id, ev->subscription_ref,
                     ":refunded:", m->charge_date, why, why_len);
}

static bool declined(const struct member *m, struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_PAYMENT_FAILED;
    snprintf(ev->reason, sizeof ev->reason, "Patreon charge declined");
    return charge_id(ev->payment_id, sizeof ev->payment_id, ev->subscription_ref,
                     ":failed:", m->charge_date, why, why_len);
}

/* The member's state after the change says what happened, whichever
 * trigger announced it. A former patron is gone whatever their last
 * charge did; otherwise a charge taken back, a declined one, then a paid
 * one decide. A free trial, or a member who never pledged, pays nothing. */
static bool classify(const struct member *m, struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_IGNORED;
    if (!strcmp(m->patron_status, "former_patron")) {
        ev->kind = WH_PLEDGE_CANCELED;
        return true;
    }
    if (taken_back(m->charge_status) && *m->charge_date) return refunded(m, ev, why, why_len);
    if (!strcmp(m->patron_status, "declined_patron") || !strcmp(m->charge_status, "Declined"))
        return declined(m, ev, why, why_len);
    if (strcmp(m->patron_status, "active_patron") || m->free_trial) return true;
    if (strcmp(m->charge_status, "Paid") || !*m->charge_date || !ev->has_amount) {
        ev->kind = WH_PLEDGE_ACTIVATED;
        return true;
    }
    ev->kind = WH_PAYMENT_SUCCEEDED;
    wh_copy(ev->occurred_at, sizeof ev->occurred_at, m->charge_date);
    return charge_id(ev->payment_id, sizeof ev->payment_id, ev->subscription_ref, ":",
                     m->charge_date, why, why_len);
}

/* Posts and other resources are recorded without effect. */
static bool parse_member(const struct config *c, json_t *root, struct wh_event *ev, char *why,
                         size_t why_len)
{
    char type[32];
    struct member m;
    json_t *a = wh_json_at(root, "data.attributes");
    if (!wh_field(root, "data.type", type, sizeof type, why, why_len)) return false;
    if (!*type) return wh_fail(why, why_len, "data.type is missing");
    if (strcmp(type, "member")) {
        ev->kind = WH_IGNORED;
        return true;
    }
    if (!wh_field(root, "data.id", ev->subscription_ref, sizeof ev->subscription_ref, why, why_len))
        return false;
    if (!*ev->subscription_ref || !json_is_object(a))
        return wh_fail(why, why_len, "data is not a member resource");
    return identity(root, a, ev, why, why_len) && money(c, a, ev, why, why_len) &&
           member_fields(a, &m, ev, why, why_len) && classify(&m, ev, why, why_len);
}

static bool parse(const struct config *c, const struct wh_request *rq, struct wh_event *ev,
                  char *why, size_t why_len)
{
    memset(ev, 0, sizeof *ev);
    /* Kept for whoever reads the event list; it decides nothing. */
    const char *trigger = rq->header(rq->ctx, "X-Patreon-Event");
    if (trigger) wh_copy(ev->type, sizeof ev->type, trigger);
    if (!event_key(rq, ev)) return wh_fail(why, why_len, "cannot hash the event");
    json_t *root = wh_json_load(rq, why, why_len);
    if (!root) return false;
    bool ok = parse_member(c, root, ev, why, why_len);
    json_decref(root);
    return ok;
}

/* ---- checkout: the campaign page, where the patron chooses a tier.
 * Patreon passes no order id of ours through; its webhooks find the
 * pledge by the patron's e-mail. ---- */

static bool checkout_configured(const struct config *c)
{
    return PATREON(c, CAMPAIGN_URL) != NULL;
}

static json_t *checkout(const struct config *c, const struct checkout_order *o)
{
    (void)o;
    return json_pack("{s:s, s:s}", "method", "GET", "url", PATREON(c, CAMPAIGN_URL));
}

const struct provider provider_patreon = {
    .name = "patreon",
    .settings =
        (const struct setting[]){
            {"PATROND_PATREON_WEBHOOK_SECRET", SETTING_SECRET, NULL},
            {"PATROND_PATREON_CAMPAIGN_URL", SETTING_URL, NULL},
            {"PATROND_PATREON_CURRENCY", SETTING_CURRENCY, "USD"},
            {NULL, 0, NULL},
        },
    .verify = verify,
    .parse = parse,
    .replay_header = "X-Patreon-Event",
    .checkout_configured = checkout_configured,
    .checkout = checkout,
    /* patrond holds no API access to the payer's side: they stop it there */
    .manage_url = "https://www.patreon.com/settings/memberships",
};
