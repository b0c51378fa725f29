/* Monobank acquiring (reference §6): X-Sign is base64 of a DER ECDSA
 * signature (P-256, SHA-256) over the raw body, made with the key whose
 * public half Monobank serves as base64 of a PEM. Delivery order is not
 * guaranteed: modifiedDate orders the events (wh_event.sequence). */
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

#include "money.h"
#include "provider_kit.h"

/* Its variables, by their place in `.settings` at the end. */
enum { PUBKEY };
#define MONOBANK(c, i) SETTING(c, PROVIDER_monobank, i)

/* A DER ECDSA signature is at most 139 bytes, even on P-521. */
#define SIG_MAX 160
#define PEM_MAX 1024

/* One configured key: base64 → PEM → an EC public key, or NULL. */
static EVP_PKEY *load_key(const char *entry)
{
    uint8_t pem[PEM_MAX];
    size_t n;
    if (!base64_decode(entry, strlen(entry), pem, sizeof pem, &n)) return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)n);
    EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (key && !EVP_PKEY_is_a(key, "EC")) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    ERR_clear_error();
    return key;
}

static bool ecdsa_verifies(EVP_PKEY *key, const uint8_t *sig, size_t sig_len,
                           const struct wh_request *rq)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestVerify(ctx, sig, sig_len, (const uint8_t *)rq->body, rq->body_len) == 1;
    EVP_MD_CTX_free(ctx);
    /* A malformed DER signature leaves decoder errors queued. */
    ERR_clear_error();
    return ok;
}

static bool verify(const struct config *c, const struct wh_request *rq, char *why, size_t why_len)
{
    const char *h = rq->header(rq->ctx, "X-Sign");
    uint8_t sig[SIG_MAX];
    size_t sig_len;
    if (!h || !*h) return wh_fail(why, why_len, "missing X-Sign header");
    if (!base64_decode(h, strlen(h), sig, sizeof sig, &sig_len) || sig_len == 0)
        return wh_fail(why, why_len, "malformed X-Sign");
    char buf[SECRET_LIST_MAX];
    const char *entries[2];
    int n = secret_list(MONOBANK(c, PUBKEY), buf, sizeof buf, entries), usable = 0;
    bool match = false;
    for (int i = 0; i < n && !match; i++) {
        EVP_PKEY *key = load_key(entries[i]);
        if (!key) continue;
        usable++;
        match = ecdsa_verifies(key, sig, sig_len, rq);
        EVP_PKEY_free(key);
    }
    if (match) return true;
    return wh_fail(why, why_len,
                   usable ? "signature mismatch" : "no usable EC public key configured");
}

/* ---- parsing: amounts are integers in minor units, ccy is ISO 4217 numeric ---- */

/* Our pledge id as a canonical UUID, or as the 32 hex digits of the
 * reference's own format ("84d0070ee4e44667b31371d8f8813947"). */
static void pledge_from(const char *ref, struct wh_event *ev)
{
    if (wh_uuid(ev->pledge_id, ref) || strlen(ref) != 32) return;
    char dashed[37];
    size_t o = 0;
    for (size_t i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20) dashed[o++] = '-';
        dashed[o++] = ref[i];
    }
    dashed[o] = '\0';
    wh_uuid(ev->pledge_id, dashed);
}

/* Milliseconds of an RFC 3339 time already validated: a fraction, when
 * present, starts right after the seconds, at index 19. */
static int millis(const char *s)
{
    int ms = 0, digits = 0;
    if (s[19] == '.')
        for (const char *p = s + 20; *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
            ms = ms * 10 + (*p - '0');
    for (; digits < 3; digits++)
        ms *= 10;
    return ms;
}

static bool modified(json_t *root, struct wh_event *ev, char *raw, size_t raw_len, char *why,
                     size_t why_len)
{
    long long t;
    if (!wh_field(root, "modifiedDate", raw, raw_len, why, why_len)) return false;
    if (!*raw) return wh_fail(why, why_len, "modifiedDate is missing");
    if (!rfc3339_to_unix(raw, &t) ||
        !rfc3339_normalize(raw, ev->occurred_at, sizeof ev->occurred_at))
        return wh_fail(why, why_len, "modifiedDate is not an RFC 3339 time");
    ev->sequence = t * 1000 + millis(raw);
    return true;
}

struct amounts {
    int64_t amount, final;
    bool has_amount, has_final;
};

static bool read_amounts(json_t *root, struct amounts *a, struct wh_event *ev, char *why,
                         size_t why_len)
{
    int64_t ccy = 0;
    bool has_ccy;
    if (!wh_json_int(root, "amount", &a->amount, &a->has_amount) ||
        !wh_json_int(root, "finalAmount", &a->final, &a->has_final) ||
        !wh_json_int(root, "ccy", &ccy, &has_ccy))
        return wh_fail(why, why_len, "amount, finalAmount or ccy is not an integer");
    if ((a->has_amount && a->amount < 0) || (a->has_final && a->final < 0))
        return wh_fail(why, why_len, "negative amount");
    if (!a->has_amount) return true;
    const char *code = has_ccy && ccy > 0 && ccy < 1000 ? currency_from_numeric((int)ccy) : NULL;
    if (!code) return wh_fail(why, why_len, "ccy is not a known ISO 4217 numeric code");
    return wh_copy(ev->currency, sizeof ev->currency, code);
}

/* What moved: a success's final amount (a hold may be finalized for
 * less), a reversal's difference between the two. */
static void set_amount(const struct amounts *a, struct wh_event *ev)
{
    ev->has_amount = a->has_amount;
    ev->amount_minor = a->amount;
    if (!a->has_final) return;
    if (ev->kind == WH_PAYMENT_SUCCEEDED) ev->amount_minor = a->final;
    if (ev->kind == WH_PAYMENT_REFUNDED && a->final < a->amount)
        ev->amount_minor = a->amount - a->final;
}

static const struct {
    const char *status;
    enum wh_kind kind;
    const char *suffix; /* a failure or refund must not take the charge's payment id */
} statuses[] = {
    {"success", WH_PAYMENT_SUCCEEDED, ""},
    {"failure", WH_PAYMENT_FAILED, ":failure"},
    {"reversed", WH_PAYMENT_REFUNDED, ":reversed"},
};

/* created, processing, hold and expired move no money. */
static const char *classify(struct wh_event *ev)
{
    ev->kind = WH_IGNORED;
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        if (strcmp(ev->type, statuses[i].status)) continue;
        ev->kind = statuses[i].kind;
        return statuses[i].suffix;
    }
    return "";
}

static bool set_ids(struct wh_event *ev, const char *modified_raw, const char *suffix, char *why,
                    size_t why_len)
{
    const char *inv = ev->subscription_ref;
    int k = snprintf(ev->event_key, sizeof ev->event_key, "%s:%s:%s", inv, ev->type, modified_raw);
    int p = snprintf(ev->payment_id, sizeof ev->payment_id, "%s%s", inv, suffix);
    if (k < 0 || (size_t)k >= sizeof ev->event_key || p < 0 || (size_t)p >= sizeof ev->payment_id)
        return wh_fail(why, why_len, "invoiceId too long");
    return true;
}

/* ---- refunds: each cancelList item is one refund, partial or full ---- */

/* A refund that went through. */
struct cancel {
    long long stamp; /* its modifiedDate, ms */
    int64_t amount;
    char when[32]; /* its modifiedDate, normalized */
    char id[64];   /* what tells it from the invoice's other refunds */
};

/* The invoice's refunds that went through, and which is the newest. */
struct cancels {
    struct cancel item[WH_REFUNDS_MAX];
    int n, newest;
};

/* An item's own reference: ours (extRef), else the bank's (rrn,
 * approvalCode), else when it was made. */
static bool cancel_id(json_t *item, char *id, size_t id_len, char *why, size_t why_len)
{
    static const char *const keys[] = {"extRef", "rrn", "approvalCode", "createdDate"};
    *id = '\0';
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && !*id; i++)
        if (!wh_field(item, keys[i], id, id_len, why, why_len)) return false;
    return *id || wh_fail(why, why_len, "a cancelList item has no reference");
}

static bool cancel_item(json_t *item, struct cancels *all, char *why, size_t why_len)
{
    char status[32], when[64];
    long long t;
    bool present;
    struct cancel it;
    if (!json_is_object(item)) return wh_fail(why, why_len, "a cancelList item is not an object");
    if (!wh_field(item, "status", status, sizeof status, why, why_len) ||
        !wh_field(item, "modifiedDate", when, sizeof when, why, why_len))
        return false;
    if (strcmp(status, "success")) return true; /* processing or failed: nothing went back */
    if (!wh_json_int(item, "amount", &it.amount, &present) || !present || it.amount <= 0)
        return wh_fail(why, why_len, "a cancelList amount is not a positive integer");
    if (!*when || !rfc3339_to_unix(when, &t) || !rfc3339_normalize(when, it.when, sizeof it.when))
        return wh_fail(why, why_len, "a cancelList modifiedDate is not an RFC 3339 time");
    it.stamp = t * 1000 + millis(when);
    if (!cancel_id(item, it.id, sizeof it.id, why, why_len)) return false;
    if (all->n == WH_REFUNDS_MAX) return wh_fail(why, why_len, "too many refunds in cancelList");
    if (!all->n || it.stamp >= all->item[all->newest].stamp) all->newest = all->n;
    all->item[all->n++] = it;
    return true;
}

/* Monobank reports the whole list on every change. */
static bool read_cancels(json_t *root, struct cancels *all, char *why, size_t why_len)
{
    json_t *list = json_object_get(root, "cancelList"), *item;
    size_t i;
    all->n = all->newest = 0;
    if (!list || json_is_null(list)) return true;
    if (!json_is_array(list)) return wh_fail(why, why_len, "cancelList is not an array");
    json_array_foreach(list, i, item)
    {
        if (!cancel_item(item, all, why, why_len)) return false;
    }
    return true;
}

static bool refund_payment_id(const char *inv, const struct cancel *c, char *out, size_t len)
{
    int p = snprintf(out, len, "%s:refund:%s", inv, c->id);
    return p >= 0 && (size_t)p < len;
}

/* A refund event: its own fields are the newest refund's (the one that
 * changed), and it lists every refund of the invoice, so one whose own
 * delivery never came is booked by the next. charge_ref is the invoice,
 * the payment id its charge got. */
static bool refunds_of(const struct cancels *all, const char *modified_raw, struct wh_event *ev,
                       char *why, size_t why_len)
{
    const char *inv = ev->subscription_ref;
    const struct cancel *newest = &all->item[all->newest];
    ev->kind = WH_PAYMENT_REFUNDED;
    ev->amount_minor = newest->amount;
    ev->has_amount = true;
    int k = snprintf(ev->event_key, sizeof ev->event_key, "%s:%s:%s:%s", inv, ev->type,
                     modified_raw, newest->id);
    if (k < 0 || (size_t)k >= sizeof ev->event_key ||
        !refund_payment_id(inv, newest, ev->payment_id, sizeof ev->payment_id))
        return wh_fail(why, why_len, "invoiceId or cancelList reference too long");
    for (int i = 0; i < all->n; i++) {
        struct wh_refund *r = &ev->refunds[i];
        if (!refund_payment_id(inv, &all->item[i], r->payment_id, sizeof r->payment_id))
            return wh_fail(why, why_len, "invoiceId or cancelList reference too long");
        r->amount_minor = all->item[i].amount;
        memcpy(r->occurred_at, all->item[i].when, sizeof r->occurred_at);
    }
    ev->n_refunds = all->n;
    return wh_copy(ev->charge_ref, sizeof ev->charge_ref, inv);
}

/* A refund restates its invoice's charge: what is left of it plus what
 * went back (a hold may have been finalized for less than `amount`), at
 * the invoice's creation, the signed time nearest before the payment,
 * whose own time the payload does not carry. Without createdDate the
 * refund only names its charge. */
static bool restate_charge(json_t *root, const struct amounts *a, const struct cancels *all,
                           struct wh_event *ev, char *why, size_t why_len)
{
    char created[64];
    long long t;
    if (!wh_field(root, "createdDate", created, sizeof created, why, why_len)) return false;
    if (!*created) return true;
    if (!rfc3339_to_unix(created, &t) ||
        !rfc3339_normalize(created, ev->charge_at, sizeof ev->charge_at))
        return wh_fail(why, why_len, "createdDate is not an RFC 3339 time");
    int64_t back = all->n ? 0 : ev->amount_minor;
    for (int i = 0; i < all->n; i++) {
        if (all->item[i].amount > a->amount - back)
            back = a->amount; /* more than the invoice */
        else
            back += all->item[i].amount;
    }
    ev->charge_amount_minor =
        a->has_final && a->final <= a->amount - back ? a->final + back : a->amount;
    ev->has_charge = ev->charge_amount_minor > 0;
    if (!ev->has_charge) *ev->charge_at = '\0'; /* nothing to restate */
    return true;
}

static bool parse_invoice(json_t *root, struct wh_event *ev, char *why, size_t why_len)
{
    char reference[64], modified_raw[64];
    struct amounts a;
    struct cancels refunds;
    if (!wh_field(root, "invoiceId", ev->subscription_ref, sizeof ev->subscription_ref, why,
                  why_len) ||
        !wh_field(root, "status", ev->type, sizeof ev->type, why, why_len) ||
        !wh_field(root, "reference", reference, sizeof reference, why, why_len) ||
        !modified(root, ev, modified_raw, sizeof modified_raw, why, why_len) ||
        !read_amounts(root, &a, ev, why, why_len) || !read_cancels(root, &refunds, why, why_len))
        return false;
    if (!*ev->subscription_ref || !*ev->type)
        return wh_fail(why, why_len, "invoiceId or status is missing");
    const char *suffix = classify(ev);
    set_amount(&a, ev);
    pledge_from(reference, ev);
    if (ev->kind != WH_IGNORED && !ev->has_amount)
        return wh_fail(why, why_len, "amount is missing");
    if (ev->kind == WH_PAYMENT_FAILED) {
        if (!wh_field(root, "failureReason", ev->reason, sizeof ev->reason, why, why_len))
            return false;
        if (!*ev->reason) wh_copy(ev->reason, sizeof ev->reason, "payment failed");
    }
    /* A partial refund leaves the invoice a success; a full one reverses it. */
    if (refunds.n && (ev->kind == WH_PAYMENT_SUCCEEDED || ev->kind == WH_PAYMENT_REFUNDED))
        return refunds_of(&refunds, modified_raw, ev, why, why_len) &&
               restate_charge(root, &a, &refunds, ev, why, why_len);
    if (ev->kind != WH_PAYMENT_REFUNDED) return set_ids(ev, modified_raw, suffix, why, why_len);
    if (!wh_copy(ev->charge_ref, sizeof ev->charge_ref, ev->subscription_ref))
        return wh_fail(why, why_len, "invoiceId too long");
    return restate_charge(root, &a, &refunds, ev, why, why_len) &&
           set_ids(ev, modified_raw, suffix, why, why_len);
}

static bool parse(const struct config *c, const struct wh_request *rq, struct wh_event *ev,
                  char *why, size_t why_len)
{
    (void)c;
    memset(ev, 0, sizeof *ev);
    return wh_parse_json(rq, ev, parse_invoice, why, why_len);
}

const struct provider provider_monobank = {
    .name = "monobank",
    .settings =
        (const struct setting[]){
            {"PATROND_MONOBANK_PUBKEY", SETTING_SECRET, NULL},
            {NULL, 0, NULL},
        },
    .verify = verify,
    .parse = parse,
};
