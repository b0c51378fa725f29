/* PayPal REST webhooks (reference §4), verified offline (§4.2): the
 * signature (PAYPAL-TRANSMISSION-SIG, SHA256withRSA) covers
 * "transmission_id|transmission_time|webhook_id|crc32(body)", checked
 * against the certificates in PATROND_PAYPAL_CERT_FILE. PAYPAL-CERT-URL
 * is never fetched: a header from the sender cannot choose the key. */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "money.h"
#include "provider_kit.h"

/* Its variables, by their place in `.settings` at the end. */
enum { WEBHOOK_ID, CERT_FILE };
#define PAYPAL(c, i) SETTING(c, PROVIDER_paypal, i)

/* Room for an RSA signature of up to 8192 bits. */
#define SIG_MAX 1024
#define TRANSMISSION_ID_MAX 128
#define TRANSMISSION_TIME_MAX 64
/* Whether a retry carries a fresh transmission time is unknown (§4.4),
 * and PayPal retries for up to 3 days: a 300 s window could refuse every
 * retry after an outage. Older than this, no genuine delivery exists. */
#define MAX_AGE_SECONDS (4 * 86400LL)

static bool configured(const struct config *c)
{
    return PAYPAL(c, CERT_FILE) && *PAYPAL(c, CERT_FILE) && secret_list_any(PAYPAL(c, WEBHOOK_ID));
}

/* zlib's CRC-32 (IEEE, reflected), a nibble at a time. */
static unsigned long crc32_of(const void *data, size_t len)
{
    static const uint32_t nibble[16] = {
        0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4,
        0x4DB26158, 0x5005713C, 0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
        0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
    };
    const uint8_t *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ nibble[crc & 15];
        crc = (crc >> 4) ^ nibble[crc & 15];
    }
    return (unsigned long)(crc ^ 0xFFFFFFFFu);
}

struct transmission {
    const char *id, *time;
    long long t;
    uint8_t sig[SIG_MAX];
    size_t sig_len;
    unsigned long crc;
};

/* A '|' inside the id or time could move bytes between the signed fields. */
static bool plain_field(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '|' || (unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) return false;
    return true;
}

static bool read_headers(const struct wh_request *rq, struct transmission *tr, char *why,
                         size_t why_len)
{
    const char *sig = rq->header(rq->ctx, "PAYPAL-TRANSMISSION-SIG");
    const char *algo = rq->header(rq->ctx, "PAYPAL-AUTH-ALGO");
    tr->id = rq->header(rq->ctx, "PAYPAL-TRANSMISSION-ID");
    tr->time = rq->header(rq->ctx, "PAYPAL-TRANSMISSION-TIME");
    if (!tr->id || !tr->time || !sig || !algo)
        return wh_fail(why, why_len, "missing PAYPAL-TRANSMISSION-ID, -TIME, -SIG or -AUTH-ALGO");
    if (strcmp(algo, "SHA256withRSA")) return wh_fail(why, why_len, "unsupported PAYPAL-AUTH-ALGO");
    if (!plain_field(tr->id, TRANSMISSION_ID_MAX))
        return wh_fail(why, why_len, "malformed PAYPAL-TRANSMISSION-ID");
    if (!plain_field(tr->time, TRANSMISSION_TIME_MAX) || !rfc3339_to_unix(tr->time, &tr->t))
        return wh_fail(why, why_len, "malformed PAYPAL-TRANSMISSION-TIME");
    if (!base64_decode(sig, strlen(sig), tr->sig, sizeof tr->sig, &tr->sig_len) || tr->sig_len == 0)
        return wh_fail(why, why_len, "malformed PAYPAL-TRANSMISSION-SIG");
    tr->crc = crc32_of(rq->body, rq->body_len);
    return true;
}

static bool rsa_verifies(EVP_PKEY *key, const struct transmission *tr, const char *webhook_id)
{
    char text[TRANSMISSION_ID_MAX + TRANSMISSION_TIME_MAX + SECRET_LIST_MAX + 16];
    int n = snprintf(text, sizeof text, "%s|%s|%s|%lu", tr->id, tr->time, webhook_id, tr->crc);
    if (n < 0 || (size_t)n >= sizeof text) return false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestVerify(ctx, tr->sig, tr->sig_len, (const uint8_t *)text, (size_t)n) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

static bool valid_at(X509 *cert, long long now)
{
    time_t t = (time_t)now;
    return X509_cmp_time(X509_get0_notBefore(cert), &t) < 0 &&
           X509_cmp_time(X509_get0_notAfter(cert), &t) > 0;
}

/* What checking against one certificate found. */
struct outcome {
    int certs, current;
    bool match;
};

static void try_cert(X509 *cert, const struct transmission *tr, const char *ids[2], int n_ids,
                     long long now, struct outcome *o)
{
    o->certs++;
    EVP_PKEY *key = X509_get0_pubkey(cert);
    if (!valid_at(cert, now) || !key || !EVP_PKEY_is_a(key, "RSA")) return;
    o->current++;
    for (int i = 0; i < n_ids && !o->match; i++)
        o->match = rsa_verifies(key, tr, ids[i]);
}

/* The file may hold several certificates (PayPal's rotation): any may match. */
static bool check_certs(const char *path, const struct transmission *tr, const char *ids[2],
                        int n_ids, long long now, char *why, size_t why_len)
{
    struct outcome o = {0};
    BIO *bio = BIO_new_file(path, "r");
    for (X509 *cert; bio && !o.match && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL));) {
        try_cert(cert, tr, ids, n_ids, now, &o);
        X509_free(cert);
    }
    BIO_free(bio);
    /* The reader ends at end of file with an error queued; nobody wants it. */
    ERR_clear_error();
    if (o.match) return true;
    if (o.certs == 0)
        return wh_fail(why, why_len, "no certificate readable in the PayPal cert file");
    if (o.current == 0) return wh_fail(why, why_len, "no current RSA certificate in the cert file");
    return wh_fail(why, why_len, "signature mismatch");
}

static bool verify(const struct config *c, const struct wh_request *rq, char *why, size_t why_len)
{
    struct transmission tr;
    if (!read_headers(rq, &tr, why, why_len)) return false;
    char buf[SECRET_LIST_MAX];
    const char *ids[2];
    int n = secret_list(PAYPAL(c, WEBHOOK_ID), buf, sizeof buf, ids);
    bool ok = n > 0 && PAYPAL(c, CERT_FILE)
                  ? check_certs(PAYPAL(c, CERT_FILE), &tr, ids, n, rq->now, why, why_len)
                  : wh_fail(why, why_len, "not configured");
    OPENSSL_cleanse(buf, sizeof buf);
    if (!ok) return false;
    if (tr.t > rq->now + WH_TOLERANCE_SECONDS || tr.t < rq->now - MAX_AGE_SECONDS)
        return wh_fail(why, why_len, "transmission time out of tolerance");
    return true;
}

/* ---- parsing: amounts are decimal strings in major units ---- */

/* The amount "<path>.<value_key>" in "<path>.<currency_key>"; absent is
 * fine. Money going `back` (refunds, reversals) is negative in PayPal's own
 * sample events and positive in its refund resource: its magnitude is kept. */
static bool amount_at(json_t *r, const char *path, const char *value_key, const char *currency_key,
                      bool back, struct wh_event *ev, char *why, size_t why_len)
{
    char value_path[96], currency_path[96], text[48], code[8];
    snprintf(value_path, sizeof value_path, "%s.%s", path, value_key);
    snprintf(currency_path, sizeof currency_path, "%s.%s", path, currency_key);
    if (!wh_field(r, value_path, text, sizeof text, why, why_len) ||
        !wh_field(r, currency_path, code, sizeof code, why, why_len))
        return false;
    if (!*text) return true;
    if (!wh_currency(ev->currency, code))
        return wh_fail(why, why_len, "amount without a known currency");
    int64_t v;
    if (!money_parse_decimal(text, currency_exponent(ev->currency), &v) || v == INT64_MIN ||
        (v < 0 && !back)) {
        snprintf(why, why_len, "%s is not an exact non-negative amount", value_path);
        return false;
    }
    ev->amount_minor = v < 0 ? -v : v;
    ev->has_amount = true;
    return true;
}

/* Our pledge id, when the free-form field at path holds one. */
static void pledge_from(json_t *r, const char *path, struct wh_event *ev)
{
    char text[64];
    if (wh_json_str(r, path, text, sizeof text)) wh_uuid(ev->pledge_id, text);
}

static bool subscriber_name(json_t *r, struct wh_event *ev, char *why, size_t why_len)
{
    char given[201], surname[201];
    if (!wh_field(r, "subscriber.name.given_name", given, sizeof given, why, why_len) ||
        !wh_field(r, "subscriber.name.surname", surname, sizeof surname, why, why_len))
        return false;
    int n = snprintf(ev->name, sizeof ev->name, "%s%s%s", given, *given && *surname ? " " : "",
                     surname);
    return (n >= 0 && (size_t)n < sizeof ev->name) || wh_fail(why, why_len, "name too long");
}

/* BILLING.SUBSCRIPTION.*: the resource is the subscription (I-...). */
static bool subscription(json_t *r, struct wh_event *ev, char *why, size_t why_len)
{
    if (!wh_field(r, "id", ev->subscription_ref, sizeof ev->subscription_ref, why, why_len) ||
        !wh_field(r, "subscriber.email_address", ev->email, sizeof ev->email, why, why_len) ||
        !wh_field(r, "subscriber.payer_id", ev->customer_ref, sizeof ev->customer_ref, why,
                  why_len) ||
        !subscriber_name(r, ev, why, why_len))
        return false;
    if (!*ev->subscription_ref) return wh_fail(why, why_len, "subscription has no id");
    pledge_from(r, "custom_id", ev);
    return true;
}

/* ACTIVATED and RE-ACTIVATED. The last payment is what each interval
 * costs; a zero one (a free trial) says nothing of the price. */
static bool subscription_activated(json_t *r, struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_PLEDGE_ACTIVATED;
    if (!subscription(r, ev, why, why_len) ||
        !wh_time_field(r, "billing_info.next_billing_time", ev->period_end, sizeof ev->period_end,
                       why, why_len) ||
        !amount_at(r, "billing_info.last_payment.amount", "value", "currency_code", false, ev, why,
                   why_len))
        return false;
    if (ev->has_amount && ev->amount_minor == 0) ev->has_amount = false;
    return true;
}

/* PayPal suspends a subscription (its failed payments reached the plan's
 * threshold, or the merchant paused it) and may re-activate it later: the
 * pledge is past_due, not canceled. No payment comes with it. */
static bool subscription_suspended(json_t *r, struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_PAYMENT_FAILED;
    if (!subscription(r, ev, why, why_len) ||
        !wh_field(r, "status_change_note", ev->reason, sizeof ev->reason, why, why_len))
        return false;
    if (!*ev->reason) wh_copy(ev->reason, sizeof ev->reason, "subscription suspended");
    return true;
}

/* No payment id comes with a failure: the event id names the attempt. */
static bool subscription_payment_failed(json_t *r, struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_PAYMENT_FAILED;
    if (!subscription(r, ev, why, why_len) ||
        !wh_field(r, "billing_info.last_failed_payment.reason_code", ev->reason, sizeof ev->reason,
                  why, why_len) ||
        !amount_at(r, "billing_info.last_failed_payment.amount", "value", "currency_code", false,
                   ev, why, why_len))
        return false;
    if (!*ev->reason) wh_copy(ev->reason, sizeof ev->reason, "payment failed");
    return wh_copy(ev->payment_id, sizeof ev->payment_id, ev->event_key) ||
           wh_fail(why, why_len, "event id too long");
}

static bool subscription_ended(json_t *r, struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_PLEDGE_CANCELED;
    return subscription(r, ev, why, why_len);
}

/* PAYMENT.SALE.*: the resource is the sale or what undid it; a
 * subscription's sales name it in billing_agreement_id and carry its
 * custom_id as custom. */
static bool sale(json_t *r, bool back, struct wh_event *ev, char *why, size_t why_len)
{
    if (!wh_field(r, "id", ev->payment_id, sizeof ev->payment_id, why, why_len) ||
        !wh_field(r, "billing_agreement_id", ev->subscription_ref, sizeof ev->subscription_ref, why,
                  why_len) ||
        !amount_at(r, "amount", "total", "currency", back, ev, why, why_len))
        return false;
    if (!*ev->payment_id || !ev->has_amount)
        return wh_fail(why, why_len, "sale without id or amount");
    pledge_from(r, "custom", ev);
    return true;
}

/* A sale's id is what its refunds and reversals name: no charge_ref. */
static bool sale_completed(json_t *r, struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_PAYMENT_SUCCEEDED;
    if (!sale(r, false, ev, why, why_len)) return false;
    if (!*ev->subscription_ref) wh_copy(ev->interval, sizeof ev->interval, "once");
    return true;
}

/* The resource is the refund; sale_id names the sale it gave back. */
static bool sale_refunded(json_t *r, struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_PAYMENT_REFUNDED;
    return sale(r, true, ev, why, why_len) &&
           wh_field(r, "sale_id", ev->charge_ref, sizeof ev->charge_ref, why, why_len);
}

/* "PayPal reverses a sale" (a merchant's own refund is REFUNDED): the money
 * is taken back on the payer's claim or chargeback, which the ledger keeps
 * as a dispute. The resource names the sale in sale_id, or is the reversed
 * sale itself, whose id the charge row already holds: the dispute row's id
 * is always suffixed. */
static bool sale_reversed(json_t *r, struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_DISPUTE_OPENED;
    if (!sale(r, true, ev, why, why_len) ||
        !wh_field(r, "sale_id", ev->charge_ref, sizeof ev->charge_ref, why, why_len))
        return false;
    if (!*ev->charge_ref) wh_copy(ev->charge_ref, sizeof ev->charge_ref, ev->payment_id);
    size_t len = strlen(ev->payment_id);
    if (len + sizeof ":reversed" > sizeof ev->payment_id)
        return wh_fail(why, why_len, "sale id too long");
    memcpy(ev->payment_id + len, ":reversed", sizeof ":reversed");
    return true;
}

/* Disputes (CUSTOMER.DISPUTE.*) have no verified payload paths (reference
 * §4.5) and are only recorded; a reversal is what takes the money. */
static const struct wh_handler handlers[] = {
    {"BILLING.SUBSCRIPTION.ACTIVATED", subscription_activated, NULL},
    {"BILLING.SUBSCRIPTION.RE-ACTIVATED", subscription_activated, NULL},
    {"BILLING.SUBSCRIPTION.PAYMENT.FAILED", subscription_payment_failed, NULL},
    {"BILLING.SUBSCRIPTION.SUSPENDED", subscription_suspended, NULL},
    {"BILLING.SUBSCRIPTION.CANCELLED", subscription_ended, NULL},
    {"BILLING.SUBSCRIPTION.EXPIRED", subscription_ended, NULL},
    {"PAYMENT.SALE.COMPLETED", sale_completed, NULL},
    {"PAYMENT.SALE.REFUNDED", sale_refunded, NULL},
    {"PAYMENT.SALE.REVERSED", sale_reversed, NULL},
};

static const struct wh_envelope envelope = {
    "id",
    "event_type",
    "create_time",
    wh_time_field,
    "resource",
    handlers,
    sizeof handlers / sizeof handlers[0],
};

const struct provider provider_paypal = {
    .name = "paypal",
    .settings =
        (const struct setting[]){
            {"PATROND_PAYPAL_WEBHOOK_ID", SETTING_SECRET, NULL},
            {"PATROND_PAYPAL_CERT_FILE", SETTING_PLAIN, NULL},
            {NULL, 0, NULL},
        },
    .configured = configured,
    .verify = verify,
    .envelope = &envelope,
    /* patrond holds no API access to the payer's side: they stop it there */
    .manage_url = "https://www.paypal.com/myaccount/autopay/",
};
