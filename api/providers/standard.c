/* Standard Webhooks (reference §2) carrying patrond's own provider-neutral
 * events (SPEC §4): HMAC-SHA256 over "id.timestamp.body" keyed with the
 * base64 after "whsec_", space-separated "v1,<base64>" signatures. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "provider_kit.h"

/* Its variables, by their place in `.settings` at the end. */
enum { WEBHOOK_SECRET };
#define STANDARD(c, i) SETTING(c, PROVIDER_standard, i)

/* The spec's secret sizes: "between 24 bytes and 64 bytes". */
#define KEY_MIN 24
#define KEY_MAX 64
/* A webhook-id must fit wh_event.event_key. */
#define ID_MAX 255

/* Strict decoding: a permissive one turns a mistyped secret into a tiny key. */
static bool secret_key(const char *secret, uint8_t key[KEY_MAX], size_t *len)
{
    if (!strncmp(secret, "whsec_", 6)) secret += 6;
    return base64_decode(secret, strlen(secret), key, KEY_MAX, len) && *len >= KEY_MIN;
}

/* Whether any "v1,<base64>" entry of the header equals mac. Other
 * versions (v1a: Ed25519) are skipped, as the reference libraries do. */
static bool header_has(const char *header, const uint8_t *mac, size_t mac_len, bool *saw_v1)
{
    bool match = false;
    for (const char *p = header; *p;) {
        size_t len = strcspn(p, " ");
        uint8_t sig[64];
        size_t sig_len;
        if (len > 3 && !memcmp(p, "v1,", 3)) {
            *saw_v1 = true;
            if (base64_decode(p + 3, len - 3, sig, sizeof sig, &sig_len))
                match |= bytes_equal(sig, sig_len, mac, mac_len);
        }
        p += len;
        p += strspn(p, " ");
    }
    return match;
}

struct std_headers {
    const char *id, *ts, *sig;
    long long t;
};

static bool read_headers(const struct wh_request *rq, struct std_headers *h, char *why,
                         size_t why_len)
{
    h->id = rq->header(rq->ctx, "webhook-id");
    h->ts = rq->header(rq->ctx, "webhook-timestamp");
    h->sig = rq->header(rq->ctx, "webhook-signature");
    if (!h->id || !*h->id || !h->ts || !*h->ts || !h->sig || !*h->sig)
        return wh_fail(why, why_len, "missing webhook-id, webhook-timestamp or webhook-signature");
    if (strlen(h->id) > ID_MAX) return wh_fail(why, why_len, "webhook-id too long");
    if (!wh_parse_unix(h->ts, &h->t)) return wh_fail(why, why_len, "malformed webhook-timestamp");
    return true;
}

static bool verify(const struct config *c, const struct wh_request *rq, char *why, size_t why_len)
{
    struct std_headers h;
    if (!read_headers(rq, &h, why, why_len)) return false;
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s.%lld.", h.id, h.t);

    char buf[SECRET_LIST_MAX];
    const char *secrets[2];
    int n = secret_list(STANDARD(c, WEBHOOK_SECRET), buf, sizeof buf, secrets);
    bool match = false, saw_v1 = false;
    int usable = 0;
    for (int i = 0; i < n && !match; i++) {
        uint8_t key[KEY_MAX], mac[64];
        size_t key_len, mac_len;
        if (!secret_key(secrets[i], key, &key_len)) continue;
        usable++;
        if (hmac_prefixed("SHA256", key, key_len, prefix, rq->body, rq->body_len, mac, &mac_len))
            match = header_has(h.sig, mac, mac_len, &saw_v1);
        OPENSSL_cleanse(key, sizeof key);
    }
    OPENSSL_cleanse(buf, sizeof buf);
    if (usable == 0)
        return wh_fail(why, why_len, "configured secret is not whsec_ base64 of 24-64 bytes");
    if (!match) return wh_fail(why, why_len, saw_v1 ? "signature mismatch" : "no v1 signature");
    if (!wh_fresh(h.t, rq->now)) return wh_fail(why, why_len, "timestamp out of tolerance");
    return true;
}

static const struct {
    const char *type;
    enum wh_kind kind;
    bool moves_money;
} types[] = {
    {"pledge.activated", WH_PLEDGE_ACTIVATED, false},
    {"payment.succeeded", WH_PAYMENT_SUCCEEDED, true},
    {"payment.failed", WH_PAYMENT_FAILED, false},
    {"pledge.canceled", WH_PLEDGE_CANCELED, false},
    {"payment.refunded", WH_PAYMENT_REFUNDED, true},
};

static bool parse_amount(json_t *data, struct wh_event *ev, char *why, size_t why_len)
{
    char code[8];
    bool present;
    if (!wh_json_int(data, "amount_minor", &ev->amount_minor, &present) ||
        (present && ev->amount_minor < 1))
        return wh_fail(why, why_len, "data.amount_minor is not a positive integer");
    ev->has_amount = present;
    if (!wh_field(data, "currency", code, sizeof code, why, why_len)) return false;
    if (*code && !wh_currency(ev->currency, code))
        return wh_fail(why, why_len, "data.currency is not a known currency");
    return true;
}

static bool parse_data(json_t *data, struct wh_event *ev, char *why, size_t why_len)
{
    char period_end[64];
    if (!wh_field(data, "email", ev->email, sizeof ev->email, why, why_len) ||
        !wh_field(data, "name", ev->name, sizeof ev->name, why, why_len) ||
        !wh_field(data, "subscription_id", ev->subscription_ref, sizeof ev->subscription_ref, why,
                  why_len) ||
        !wh_field(data, "payment_id", ev->payment_id, sizeof ev->payment_id, why, why_len) ||
        !wh_field(data, "interval", ev->interval, sizeof ev->interval, why, why_len) ||
        !wh_field(data, "period_end", period_end, sizeof period_end, why, why_len) ||
        !wh_field(data, "reason", ev->reason, sizeof ev->reason, why, why_len) ||
        !parse_amount(data, ev, why, why_len))
        return false;
    if (*ev->interval && strcmp(ev->interval, "month") && strcmp(ev->interval, "year") &&
        strcmp(ev->interval, "once"))
        return wh_fail(why, why_len, "data.interval must be month, year or once");
    if (!rfc3339_normalize(period_end, ev->period_end, sizeof ev->period_end))
        return wh_fail(why, why_len, "data.period_end is not an RFC 3339 time");
    if (!*ev->email && !*ev->subscription_ref)
        return wh_fail(why, why_len, "data needs email or subscription_id");
    return true;
}

/* The envelope's timestamp: RFC 3339 per the spec, unix seconds tolerated. */
static bool occurred_at(json_t *root, struct wh_event *ev, char *why, size_t why_len)
{
    char stamp[64];
    json_t *t = wh_json_at(root, "timestamp");
    bool ok =
        json_is_integer(t)
            ? unix_to_rfc3339(json_integer_value(t), false, ev->occurred_at, sizeof ev->occurred_at)
            : wh_json_str(root, "timestamp", stamp, sizeof stamp) &&
                  rfc3339_normalize(stamp, ev->occurred_at, sizeof ev->occurred_at);
    return ok || wh_fail(why, why_len, "timestamp is not an RFC 3339 time");
}

static bool parse_event(json_t *root, struct wh_event *ev, char *why, size_t why_len)
{
    if (!wh_field(root, "type", ev->type, sizeof ev->type, why, why_len) ||
        !occurred_at(root, ev, why, why_len))
        return false;
    if (!*ev->type) return wh_fail(why, why_len, "type is missing");
    ev->kind = WH_IGNORED;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(ev->type, types[i].type)) continue;
        json_t *data = wh_json_at(root, "data");
        if (!json_is_object(data)) return wh_fail(why, why_len, "data is missing");
        if (!parse_data(data, ev, why, why_len)) return false;
        if (types[i].moves_money && (!*ev->payment_id || !ev->has_amount || !*ev->currency))
            return wh_fail(why, why_len,
                           "payment events need payment_id, amount_minor and currency");
        ev->kind = types[i].kind;
        return true;
    }
    return true;
}

static bool parse(const struct config *c, const struct wh_request *rq, struct wh_event *ev,
                  char *why, size_t why_len)
{
    (void)c;
    memset(ev, 0, sizeof *ev);
    /* The sender's message id is the same on every retry: the event key. */
    const char *id = rq->header(rq->ctx, "webhook-id");
    if (!id || !*id || !wh_copy(ev->event_key, sizeof ev->event_key, id))
        return wh_fail(why, why_len, "webhook-id missing or too long");
    return wh_parse_json(rq, ev, parse_event, why, why_len);
}

const struct provider provider_standard = {
    .name = "standard",
    .settings =
        (const struct setting[]){
            {"PATROND_STANDARD_WEBHOOK_SECRET", SETTING_SECRET, NULL},
            {NULL, 0, NULL},
        },
    .verify = verify,
    .parse = parse,
    .replay_header = "webhook-id",
};
