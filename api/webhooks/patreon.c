/* Patreon (reference §3): X-Patreon-Signature is the hex HMAC-MD5 of the
 * body keyed with the webhook secret; X-Patreon-Event names the trigger.
 * The body is a JSON:API member document. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "encode.h"
#include "wh_common.h"

static bool configured(const struct config *c)
{
    return wh_has_secret(c->patreon_webhook_secret);
}

static bool verify(const struct config *c, const struct wh_request *rq, char *why, size_t why_len)
{
    const char *h = rq->header(rq->ctx, "X-Patreon-Signature");
    uint8_t sig[64];
    size_t sig_len;
    if (!h || !*h) return wh_fail(why, why_len, "missing X-Patreon-Signature header");
    /* Decoding first makes the comparison case-insensitive, as clients do. */
    if (!wh_hex_decode(h, sig, sizeof sig, &sig_len))
        return wh_fail(why, why_len, "malformed X-Patreon-Signature");

    char buf[WH_SECRET_LIST_MAX];
    const char *keys[2];
    int n = wh_secrets(c->patreon_webhook_secret, buf, sizeof buf, keys);
    bool match = false;
    for (int i = 0; i < n && !match; i++) {
        uint8_t mac[64];
        size_t mac_len;
        match = wh_hmac("MD5", keys[i], strlen(keys[i]), rq->body, rq->body_len, mac, &mac_len) &&
                wh_equal(mac, mac_len, sig, sig_len);
    }
    OPENSSL_cleanse(buf, sizeof buf);
    /* The scheme has no timestamp: replays are caught by the event key. */
    return match || wh_fail(why, why_len, "signature mismatch");
}

/* Patreon sends no event id. A redelivery repeats the trigger and the
 * body byte for byte, while two real changes differ in the body (charge
 * date, status, amount), so SHA-256 of trigger + body is the event key. */
static bool event_key(const char *trigger, const struct wh_request *rq, struct wh_event *ev)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    uint8_t digest[32];
    unsigned int n = 0;
    bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(md, trigger, strlen(trigger)) == 1 &&
              EVP_DigestUpdate(md, rq->body, rq->body_len) == 1 &&
              EVP_DigestFinal_ex(md, digest, &n) == 1 && n == sizeof digest;
    EVP_MD_CTX_free(md);
    if (ok) hex_encode(digest, sizeof digest, ev->event_key);
    return ok;
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
    if (!wh_currency(ev->currency, c->patreon_currency ? c->patreon_currency : "USD"))
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
};

static bool member_fields(json_t *a, struct member *m, struct wh_event *ev, char *why,
                          size_t why_len)
{
    char next[64], last[64];
    if (!wh_field(a, "patron_status", m->patron_status, sizeof m->patron_status, why, why_len) ||
        !wh_field(a, "last_charge_status", m->charge_status, sizeof m->charge_status, why,
                  why_len) ||
        !wh_field(a, "last_charge_date", last, sizeof last, why, why_len) ||
        !wh_field(a, "next_charge_date", next, sizeof next, why, why_len))
        return false;
    if (!wh_rfc3339_normalize(last, m->charge_date, sizeof m->charge_date) ||
        !wh_rfc3339_normalize(next, ev->period_end, sizeof ev->period_end))
        return wh_fail(why, why_len, "last_charge_date or next_charge_date is not RFC 3339");
    return true;
}

/* payment_id ← member id + suffix: one ledger row per charge date. */
static bool charge_id(struct wh_event *ev, const char *suffix, const char *date, char *why,
                      size_t why_len)
{
    int n = snprintf(ev->payment_id, sizeof ev->payment_id, "%s%s%s", ev->subscription_ref, suffix,
                     date);
    if (n < 0 || (size_t)n >= sizeof ev->payment_id)
        return wh_fail(why, why_len, "member id too long");
    return true;
}

/* members:update and members:pledge:update carry every change, so the
 * member's state, not the trigger, says what happened. */
static bool member_update(const struct member *m, bool charges, struct wh_event *ev, char *why,
                          size_t why_len)
{
    bool active = !strcmp(m->patron_status, "active_patron");
    ev->kind = WH_IGNORED;
    if (!strcmp(m->patron_status, "former_patron")) {
        ev->kind = WH_PLEDGE_CANCELED;
    } else if (!strcmp(m->patron_status, "declined_patron") ||
               !strcmp(m->charge_status, "Declined")) {
        ev->kind = WH_PAYMENT_FAILED;
        snprintf(ev->reason, sizeof ev->reason, "Patreon charge declined");
        return charge_id(ev, ":failed:", m->charge_date, why, why_len);
    } else if (charges && active && !strcmp(m->charge_status, "Paid") && *m->charge_date &&
               ev->has_amount) {
        ev->kind = WH_PAYMENT_SUCCEEDED;
        wh_copy(ev->occurred_at, sizeof ev->occurred_at, m->charge_date);
        return charge_id(ev, ":", m->charge_date, why, why_len);
    } else if (!charges && active) {
        ev->kind = WH_PLEDGE_ACTIVATED;
    }
    return true;
}

static bool apply_trigger(const char *trigger, const struct member *m, struct wh_event *ev,
                          char *why, size_t why_len)
{
    if (!strcmp(trigger, "members:create") || !strcmp(trigger, "members:pledge:create")) {
        /* members:create also fires for free followers, who pledge nothing. */
        ev->kind = !strcmp(m->patron_status, "active_patron") ? WH_PLEDGE_ACTIVATED : WH_IGNORED;
        return true;
    }
    if (!strcmp(trigger, "members:delete") || !strcmp(trigger, "members:pledge:delete")) {
        ev->kind = WH_PLEDGE_CANCELED;
        return true;
    }
    if (!strcmp(trigger, "members:pledge:update")) return member_update(m, false, ev, why, why_len);
    if (!strcmp(trigger, "members:update")) return member_update(m, true, ev, why, why_len);
    ev->kind = WH_IGNORED; /* posts:*, the deprecated pledges:* */
    return true;
}

static bool parse_member(const struct config *c, json_t *root, struct wh_event *ev, char *why,
                         size_t why_len)
{
    if (strncmp(ev->type, "members:", 8)) {
        ev->kind = WH_IGNORED;
        return true;
    }
    char type[32];
    struct member m;
    json_t *a = wh_json_at(root, "data.attributes");
    if (!wh_field(root, "data.type", type, sizeof type, why, why_len) ||
        !wh_field(root, "data.id", ev->subscription_ref, sizeof ev->subscription_ref, why, why_len))
        return false;
    if (strcmp(type, "member") || !*ev->subscription_ref || !json_is_object(a))
        return wh_fail(why, why_len, "data is not a member resource");
    return identity(root, a, ev, why, why_len) && money(c, a, ev, why, why_len) &&
           member_fields(a, &m, ev, why, why_len) && apply_trigger(ev->type, &m, ev, why, why_len);
}

static bool parse(const struct config *c, const struct wh_request *rq, struct wh_event *ev,
                  char *why, size_t why_len)
{
    memset(ev, 0, sizeof *ev);
    const char *trigger = rq->header(rq->ctx, "X-Patreon-Event");
    if (!trigger || !*trigger || !wh_copy(ev->type, sizeof ev->type, trigger))
        return wh_fail(why, why_len, "X-Patreon-Event missing or too long");
    if (!event_key(trigger, rq, ev)) return wh_fail(why, why_len, "cannot hash the event");
    json_t *root = wh_json_load(rq, why, why_len);
    if (!root) return false;
    bool ok = parse_member(c, root, ev, why, why_len);
    json_decref(root);
    return ok;
}

const struct wh_provider wh_patreon = {
    .name = "patreon",
    .configured = configured,
    .verify = verify,
    .parse = parse,
};
