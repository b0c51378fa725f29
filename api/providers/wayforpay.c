/* WayForPay (reference §7): a JSON body signed inside itself:
 * merchantSignature = hex HMAC-MD5, keyed with the merchant secret, of
 * merchantAccount;orderReference;amount;currency;authCode;cardPan;
 * transactionStatus;reasonCode. WayForPay wants a signed "accept" reply,
 * or it keeps sending. */
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "json_text.h"
#include "money.h"
#include "provider_kit.h"

#define FIELD_MAX 256
#define N_SIGNED 8
#define AMOUNT_FIELD 2
#define MD5_LEN 16
#define WAYFORPAY_PURCHASE_URL "https://secure.wayforpay.com/pay"

/* Its variables, by their place in `.settings` at the end. */
enum { MERCHANT, SECRET, MERCHANT_PASSWORD, API_URL };
#define WAYFORPAY(c, i) SETTING(c, PROVIDER_wayforpay, i)

static const char *const signed_fields[N_SIGNED] = {
    "merchantAccount", "orderReference",    "amount",     "currency", "authCode",
    "cardPan",         "transactionStatus", "reasonCode",
};

static bool configured(const struct config *c)
{
    return WAYFORPAY(c, MERCHANT) && *WAYFORPAY(c, MERCHANT) &&
           secret_list_any(WAYFORPAY(c, SECRET));
}

/* A signed field as WayForPay's PHP prints it: a string as is, an integer
 * in decimal, null or absent as "". */
static bool field_text(json_t *root, const char *key, char *dst, size_t dst_len)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_integer(v)) return wh_json_str(root, key, dst, dst_len);
    int n = snprintf(dst, dst_len, "%lld", (long long)json_integer_value(v));
    return n > 0 && (size_t)n < dst_len;
}

/* PHP's (string)floatval(): no trailing fractional zeros ("100.00" → "100"). */
static void php_float_text(const char *in, char *out, size_t out_len)
{
    snprintf(out, out_len, "%s", in);
    if (!strchr(out, '.')) return;
    size_t n = strlen(out);
    while (out[n - 1] == '0')
        out[--n] = '\0';
    if (out[n - 1] == '.') out[n - 1] = '\0';
}

struct callback {
    char field[N_SIGNED][FIELD_MAX];
    char amount_php[FIELD_MAX];
    uint8_t sig[MD5_LEN];
};

static bool read_callback(json_t *root, const struct wh_request *rq, struct callback *cb, char *why,
                          size_t why_len)
{
    char hex[2 * MD5_LEN + 1];
    size_t sig_len;
    for (int i = 0; i < N_SIGNED; i++) {
        bool ok = i == AMOUNT_FIELD ? json_decimal_text(root, rq->body, rq->body_len, "amount",
                                                        cb->field[i], FIELD_MAX)
                                    : field_text(root, signed_fields[i], cb->field[i], FIELD_MAX);
        if (!ok) {
            snprintf(why, why_len, "%s is malformed or too long", signed_fields[i]);
            return false;
        }
    }
    php_float_text(cb->field[AMOUNT_FIELD], cb->amount_php, sizeof cb->amount_php);
    if (!wh_json_str(root, "merchantSignature", hex, sizeof hex) ||
        !hex_decode(hex, cb->sig, sizeof cb->sig, &sig_len) || sig_len != MD5_LEN)
        return wh_fail(why, why_len, "missing or malformed merchantSignature");
    return true;
}

/* The fields joined by ';', with amount spelled as given. */
static void signed_text(const struct callback *cb, const char *amount, char *out, size_t len)
{
    size_t used = 0;
    for (int i = 0; i < N_SIGNED; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ";" : "",
                                 i == AMOUNT_FIELD ? amount : cb->field[i]);
}

/* How the amount was written and how PHP would print it are both tried:
 * they denote the same value, and which one WayForPay signs is unverified. */
static bool signed_by(const char *secret, const struct callback *cb)
{
    const char *forms[2] = {cb->field[AMOUNT_FIELD], cb->amount_php};
    bool match = false;
    for (int i = 0; i < 2 && !match; i++) {
        char text[N_SIGNED * FIELD_MAX];
        uint8_t mac[64];
        size_t n;
        signed_text(cb, forms[i], text, sizeof text);
        match = hmac("MD5", secret, strlen(secret), text, strlen(text), mac, &n) &&
                bytes_equal(mac, n, cb->sig, MD5_LEN);
    }
    return match;
}

static bool check(const struct config *c, const struct callback *cb, char *why, size_t why_len)
{
    if (!WAYFORPAY(c, MERCHANT) || strcmp(cb->field[0], WAYFORPAY(c, MERCHANT)))
        return wh_fail(why, why_len, "merchantAccount is not ours");
    char buf[SECRET_LIST_MAX];
    const char *keys[2];
    int n = secret_list(WAYFORPAY(c, SECRET), buf, sizeof buf, keys);
    bool match = false;
    for (int i = 0; i < n && !match; i++)
        match = signed_by(keys[i], cb);
    OPENSSL_cleanse(buf, sizeof buf);
    return match || wh_fail(why, why_len, "signature mismatch");
}

static bool verify(const struct config *c, const struct wh_request *rq, char *why, size_t why_len)
{
    json_t *root = wh_json_load(rq, why, why_len);
    if (!root) return false;
    struct callback cb;
    bool ok = read_callback(root, rq, &cb, why, why_len) && check(c, &cb, why, why_len);
    json_decref(root);
    return ok;
}

/* ---- parsing: amounts are decimals in major units ---- */

static const struct {
    const char *status;
    enum wh_kind kind;
} statuses[] = {
    {"Approved", WH_PAYMENT_SUCCEEDED},
    {"Declined", WH_PAYMENT_FAILED},
    {"Expired", WH_PAYMENT_FAILED},
    {"Refunded", WH_PAYMENT_REFUNDED},
};

/* In-between states (InProcessing, Pending, RefundInProcessing, ...) and
 * Voided, whose money movement the reference does not establish. */
static enum wh_kind kind_of(const char *status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (!strcmp(status, statuses[i].status)) return statuses[i].kind;
    return WH_IGNORED;
}

/* processingDate (unix seconds), or createdDate before processing. No
 * signature covers either: they only place the event in time, never name
 * it, and are never taken as later than the receipt (SPEC §4 Webhooks),
 * so a forged future date cannot make later genuine events look older. */
static bool occurred(json_t *root, long long now, struct wh_event *ev, char *why, size_t why_len)
{
    int64_t t = 0;
    bool processed, created = false;
    if (!wh_json_int(root, "processingDate", &t, &processed) ||
        (!processed && !wh_json_int(root, "createdDate", &t, &created)))
        return wh_fail(why, why_len, "processingDate or createdDate is not an integer");
    if (!processed && !created) return true;
    if (t > now) t = now;
    return unix_to_rfc3339(t, false, ev->occurred_at, sizeof ev->occurred_at) ||
           wh_fail(why, why_len, "processingDate out of range");
}

static bool failure_reason(json_t *root, struct wh_event *ev, const char *code, char *why,
                           size_t why_len)
{
    if (!wh_field(root, "reason", ev->reason, sizeof ev->reason, why, why_len)) return false;
    if (!*ev->reason) snprintf(ev->reason, sizeof ev->reason, "%s %s", ev->type, code);
    return true;
}

/* A regular payment's later charges come back under their own
 * orderReference, the first one's with "_WFPREG-<n>" appended (as
 * integrations observe it; WayForPay does not document it). The pledge is
 * the first order's; each charge keeps its own reference. */
#define REGULAR_MARK "_WFPREG-"

static void order_of(const char *ref, struct wh_event *ev)
{
    const char *mark = strstr(ref, REGULAR_MARK);
    size_t base = mark ? (size_t)(mark - ref) : strlen(ref);
    const char *n = mark ? mark + strlen(REGULAR_MARK) : "";
    if (!mark || !*n || strspn(n, "0123456789") != strlen(n) || base == 0) base = strlen(ref);
    memcpy(ev->subscription_ref, ref, base);
    ev->subscription_ref[base] = '\0';
    wh_uuid(ev->pledge_id, ev->subscription_ref);
}

/* The signed fields of one callback, as ids are made of them. */
struct signed_ids {
    char ref[sizeof((struct wh_event *)0)->reply_ref];
    char auth[64];
    char code[32];
};

static bool fits(int n, size_t len)
{
    return n >= 0 && (size_t)n < len;
}

/* Key and payment id from signed fields only (the unsigned processingDate
 * let a payer replay their own Approved callback as new charges). A
 * charge is its orderReference and the bank's authCode, which tells one
 * authorization from the next even should an order be charged twice; a
 * failure or refund adds its status, not to take the charge's id. */
static bool set_ids(struct wh_event *ev, const struct signed_ids *s, char *why, size_t why_len)
{
    bool charge = ev->kind == WH_PAYMENT_SUCCEEDED;
    int k = snprintf(ev->event_key, sizeof ev->event_key, "%s:%s:%s:%s:%lld", s->ref, ev->type,
                     s->auth, s->code, ev->has_amount ? (long long)ev->amount_minor : -1LL);
    int p = snprintf(ev->payment_id, sizeof ev->payment_id, "%s:%s%s%s", s->ref,
                     charge ? "" : ev->type, charge ? "" : ":", s->auth);
    /* Refunds are by order: the charge they concern is named so. */
    if (ev->kind == WH_PAYMENT_SUCCEEDED || ev->kind == WH_PAYMENT_REFUNDED)
        wh_copy(ev->charge_ref, sizeof ev->charge_ref, s->ref);
    if (!fits(k, sizeof ev->event_key) || !fits(p, sizeof ev->payment_id))
        return wh_fail(why, why_len, "orderReference or authCode too long");
    return true;
}

static bool read_ids(json_t *root, struct signed_ids *s, char *why, size_t why_len)
{
    if (!wh_field(root, "orderReference", s->ref, sizeof s->ref, why, why_len)) return false;
    if (!field_text(root, "authCode", s->auth, sizeof s->auth) ||
        !field_text(root, "reasonCode", s->code, sizeof s->code))
        return wh_fail(why, why_len, "authCode or reasonCode is malformed");
    return true;
}

static bool parse_callback(json_t *root, const struct wh_request *rq, struct wh_event *ev,
                           char *why, size_t why_len)
{
    struct signed_ids s;
    if (!read_ids(root, &s, why, why_len) ||
        !wh_field(root, "transactionStatus", ev->type, sizeof ev->type, why, why_len) ||
        !wh_field(root, "email", ev->email, sizeof ev->email, why, why_len) ||
        !wh_decimal_amount(root, rq->body, rq->body_len, ev, why, why_len) ||
        !occurred(root, rq->now, ev, why, why_len))
        return false;
    if (!*s.ref || !*ev->type)
        return wh_fail(why, why_len, "orderReference or transactionStatus is missing");
    ev->kind = kind_of(ev->type);
    wh_copy(ev->reply_ref, sizeof ev->reply_ref, s.ref);
    order_of(s.ref, ev);
    if (ev->kind != WH_IGNORED && !ev->has_amount)
        return wh_fail(why, why_len, "amount or currency is missing");
    if (ev->kind == WH_PAYMENT_FAILED && !failure_reason(root, ev, s.code, why, why_len))
        return false;
    return set_ids(ev, &s, why, why_len);
}

static bool parse(const struct config *c, const struct wh_request *rq, struct wh_event *ev,
                  char *why, size_t why_len)
{
    (void)c;
    memset(ev, 0, sizeof *ev);
    json_t *root = wh_json_load(rq, why, why_len);
    if (!root) return false;
    bool ok = parse_callback(root, rq, ev, why, why_len);
    json_decref(root);
    return ok;
}

static bool hmac_md5_hex(const char *secret, const char *text, char hex[2 * MD5_LEN + 1])
{
    uint8_t mac[64];
    size_t n;
    if (!hmac("MD5", secret, strlen(secret), text, strlen(text), mac, &n) || n != MD5_LEN)
        return false;
    hex_encode(mac, n, hex);
    return true;
}

/* {"orderReference","status":"accept","time","signature"}, the signature
 * being hex HMAC-MD5 of "orderReference;accept;time". WayForPay holds one
 * secret at a time: the first one listed is taken as the current one. */
static char *ack(const struct config *c, const struct wh_event *ev, long long now)
{
    char buf[SECRET_LIST_MAX], text[sizeof ev->reply_ref + 32], hex[2 * MD5_LEN + 1];
    const char *keys[2];
    int n = secret_list(WAYFORPAY(c, SECRET), buf, sizeof buf, keys);
    snprintf(text, sizeof text, "%s;accept;%lld", ev->reply_ref, now);
    bool ok = n > 0 && *ev->reply_ref && hmac_md5_hex(keys[0], text, hex);
    OPENSSL_cleanse(buf, sizeof buf);
    if (!ok) return NULL;
    json_t *reply = json_pack("{s:s, s:s, s:I, s:s}", "orderReference", ev->reply_ref, "status",
                              "accept", "time", (json_int_t)now, "signature", hex);
    char *out = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
    json_decref(reply);
    return out;
}

/* ---- checkout: the Purchase form, posted to secure.wayforpay.com/pay.
 * merchantSignature is hex HMAC-MD5, keyed with the merchant secret, of
 * merchantAccount;merchantDomainName;orderReference;orderDate;amount;
 * currency;productName[0];productCount[0];productPrice[0]. WayForPay
 * echoes orderReference (our pledge id) in its callbacks. A month or year
 * pledge also asks for a regular payment (SPEC §4 Checkout). ---- */

static bool checkout_configured(const struct config *c)
{
    return WAYFORPAY(c, MERCHANT) && WAYFORPAY(c, SECRET);
}

#define HOST_MAX 256
/* One product line: the pledge itself. */
#define PRODUCT_COUNT "1"

/* WayForPay's own code handles amounts as PHP floats, which print without
 * trailing zeros ("5" for 5.00, "5.5" for 5.50); sending that form means
 * the signed text is the same however their side reads the amount back. */
static bool plain_amount(const struct checkout_order *o, char *buf, size_t len)
{
    if (!checkout_amount(o, buf, len)) return false;
    if (!strchr(buf, '.')) return true;
    size_t n = strlen(buf);
    while (buf[n - 1] == '0')
        buf[--n] = '\0';
    if (buf[n - 1] == '.') buf[n - 1] = '\0';
    return true;
}

/* The host of PATROND_PUBLIC_URL: the merchant's domain as WayForPay knows
 * it, set by the operator rather than by whoever calls checkout. */
static bool domain_of(const char *url, char *out, size_t len)
{
    const char *p = strstr(url, "://");
    if (!p) return false;
    p += 3;
    const char *end = p + strcspn(p, "/?#");
    for (const char *q = p; q < end; q++)
        if (*q == '@') p = q + 1; /* past any user-info */
    size_t auth = (size_t)(end - p);
    size_t host = *p == '[' ? strcspn(p, "]") + 1 : strcspn(p, ":/?#");
    if (host > auth) host = auth;
    if (host == 0 || host >= len) return false;
    memcpy(out, p, host);
    out[host] = '\0';
    return true;
}

struct purchase {
    char domain[HOST_MAX];
    char date[24];
    char amount[32];
    const char *product;
};

static bool sign(const struct config *c, const struct checkout_order *o, const struct purchase *pu,
                 char hex[33])
{
    const char *parts[] = {WAYFORPAY(c, MERCHANT),
                           pu->domain,
                           o->pledge_id,
                           pu->date,
                           pu->amount,
                           o->currency,
                           pu->product,
                           PRODUCT_COUNT,
                           pu->amount};
    size_t n = sizeof parts / sizeof parts[0], len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(parts[i]) + 1;
    char *text = malloc(len);
    if (!text) return false;
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, len - used, "%s%s", i ? ";" : "", parts[i]);
    char keybuf[SECRET_LIST_MAX];
    const char *secret = checkout_current_key(WAYFORPAY(c, SECRET), keybuf, sizeof keybuf);
    bool ok = secret && hmac_md5_hex(secret, text, hex);
    OPENSSL_cleanse(keybuf, sizeof keybuf);
    free(text);
    return ok;
}

static bool add_optional(json_t *fields, const char *key, const char *value)
{
    return !value || json_object_set_new(fields, key, json_string(value)) == 0;
}

static json_t *form_fields(const struct config *c, const struct checkout_order *o,
                           const struct purchase *pu, const char *signature)
{
    char *service_url = checkout_webhook_url(c, "wayforpay");
    json_t *fields =
        service_url
            ? json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s], s:[s], s:[s], s:s, s:s,"
                        " s:s}",
                        "merchantAccount", WAYFORPAY(c, MERCHANT), "merchantAuthType",
                        "SimpleSignature", "merchantDomainName", pu->domain,
                        "merchantTransactionSecureType", "AUTO", "orderReference", o->pledge_id,
                        "orderDate", pu->date, "amount", pu->amount, "currency", o->currency,
                        "productName[]", pu->product, "productCount[]", PRODUCT_COUNT,
                        "productPrice[]", pu->amount, "merchantSignature", signature, "serviceUrl",
                        service_url, "clientEmail", o->email)
            : NULL;
    free(service_url);
    if (fields && add_optional(fields, "returnUrl", o->return_url)) return fields;
    json_decref(fields);
    return NULL;
}

/* ---- regular payments: WayForPay charges the card again by itself ---- */

/* The Purchase form's regular-payment fields, as WayForPay's official PHP
 * SDK sends them (github.com/wayforpay/php-sdk, src/Form/PurchaseForm.php
 * and src/Domain/Regular.php at eca49b5): regularBehavior "preset" fixes
 * the schedule for the payer, regularMode is the frequency, dateNext and
 * dateEnd are "d.m.Y", regularOn 1 ticks the box. They are not signed. */
#define REGULAR_YEARS 10 /* the schedule needs an end; the patron cancels sooner */

/* "DD.MM.YYYY" of the day `months` after t (UTC); the 31st of a month
 * without one becomes its last day, as a monthly charge falls. */
static bool date_after(time_t t, int months, char out[11])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return false;
    int m = tm.tm_mon + months, year = tm.tm_year + 1900 + m / 12;
    m %= 12;
    int day = tm.tm_mday, last = days_in_month(year, m + 1);
    int n = snprintf(out, 11, "%02d.%02d.%04d", day < last ? day : last, m + 1, year);
    return n == 10;
}

static bool add_regular(json_t *fields, const struct checkout_order *o, const char *amount)
{
    bool yearly = !strcmp(o->interval, "year");
    char next[11], end[11];
    if (!date_after(o->now, yearly ? 12 : 1, next) || !date_after(o->now, 12 * REGULAR_YEARS, end))
        return false;
    json_t *regular = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "regularBehavior", "preset",
                                "regularMode", yearly ? "yearly" : "monthly", "regularAmount",
                                amount, "dateNext", next, "dateEnd", end, "regularOn", "1");
    bool ok = regular && json_object_update(fields, regular) == 0;
    json_decref(regular);
    return ok;
}

static json_t *checkout(const struct config *c, const struct checkout_order *o)
{
    struct purchase pu = {.product = checkout_description(o->interval)};
    snprintf(pu.date, sizeof pu.date, "%" PRId64, (int64_t)o->now);
    char signature[33];
    if (!domain_of(c->public_url, pu.domain, sizeof pu.domain) ||
        !plain_amount(o, pu.amount, sizeof pu.amount) || !sign(c, o, &pu, signature))
        return NULL;
    json_t *fields = form_fields(c, o, &pu, signature);
    if (fields && strcmp(o->interval, "once") && !add_regular(fields, o, pu.amount)) {
        json_decref(fields);
        fields = NULL;
    }
    if (!fields) return NULL;
    return json_pack("{s:s, s:s, s:o}", "method", "POST", "url", WAYFORPAY_PURCHASE_URL, "fields",
                     fields);
}

/* ---- self-service cancel: the regular payments API's REMOVE ---- */

/* That API authenticates with the merchant's password (its own setting,
 * not the secret that signs), and sends no callback for a removal. */
static bool cancel_configured(const struct config *c)
{
    return WAYFORPAY(c, MERCHANT) && *WAYFORPAY(c, MERCHANT) &&
           secret_list_any(WAYFORPAY(c, MERCHANT_PASSWORD));
}

static bool cancel_request(const struct config *c, const char *ref, struct provider_call *call,
                           char *why, size_t why_len)
{
    char buf[SECRET_LIST_MAX];
    const char *password = checkout_current_key(WAYFORPAY(c, MERCHANT_PASSWORD), buf, sizeof buf);
    json_t *req = password ? json_pack("{s:s, s:s, s:s, s:s}", "requestType", "REMOVE",
                                       "merchantAccount", WAYFORPAY(c, MERCHANT),
                                       "merchantPassword", password, "orderReference", ref)
                           : NULL;
    OPENSSL_cleanse(buf, sizeof buf);
    call->body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    /* jansson's own copy of the password */
    json_t *pw = json_object_get(req, "merchantPassword");
    if (pw) OPENSSL_cleanse((char *)json_string_value(pw), json_string_length(pw));
    json_decref(req);
    bool ok = call->body && (call->url = cancel_strf("%s", WAYFORPAY(c, API_URL))) &&
              (call->headers[0] = cancel_strf("Content-Type: application/json"));
    return ok || wh_fail(why, why_len, "cannot build the request (no memory)");
}

/* {"reasonCode": 4100, "reason": "Ok"}; any other code says why not. */
static enum cancel_outcome cancel_outcome(const char *ref, long status, const char *body,
                                          size_t len, char *why, size_t why_len)
{
    (void)ref;
    json_t *root = cancel_answer(status, body, len, why, why_len);
    if (!root) return CANCEL_FAILED;
    char code[16] = "", reason[160] = "";
    json_t *v = json_object_get(root, "reasonCode");
    if (json_is_integer(v))
        snprintf(code, sizeof code, "%lld", (long long)json_integer_value(v));
    else if (json_is_string(v))
        snprintf(code, sizeof code, "%s", json_string_value(v));
    enum cancel_outcome out = !strcmp(code, "4100") ? CANCEL_ENDED : CANCEL_FAILED;
    if (out == CANCEL_FAILED) {
        if (!wh_json_str(root, "reason", reason, sizeof reason)) reason[0] = '\0';
        snprintf(why, why_len, "answered reasonCode %s %s", *code ? code : "(none)", reason);
    }
    json_decref(root);
    return out;
}

static const struct provider_cancel cancel = {cancel_configured, cancel_request, cancel_outcome};

const struct provider provider_wayforpay = {
    .name = "wayforpay",
    .settings =
        (const struct setting[]){
            {"PATROND_WAYFORPAY_MERCHANT", SETTING_SECRET, NULL},
            {"PATROND_WAYFORPAY_SECRET", SETTING_SECRET, NULL},
            {"PATROND_WAYFORPAY_MERCHANT_PASSWORD", SETTING_SECRET, NULL},
            {"PATROND_WAYFORPAY_API_URL", SETTING_URL, "https://api.wayforpay.com/regularApi"},
            {NULL, 0, NULL},
        },
    .configured = configured,
    .verify = verify,
    .parse = parse,
    .ack = ack,
    .checkout_configured = checkout_configured,
    .checkout = checkout,
    .echoes_order_id = true,
    .form_origin = "https://secure.wayforpay.com",
    .cancel = &cancel,
};
