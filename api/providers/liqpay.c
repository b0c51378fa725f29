/* LiqPay (reference §5). Both ways a form of two fields: `data` (the
 * order or the payment as base64 JSON) and `signature` =
 * base64(sha1(private_key + data + private_key)), a plain hash, not HMAC,
 * over the base64 text as sent. Checkout: the payer's browser posts the
 * order to LiqPay, which echoes order_id (our pledge id) in its callbacks.
 * Webhook: no event id and no timestamp; the event key is payment_id +
 * status, as the reference advises. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "json_text.h"
#include "money.h"
#include "provider_kit.h"

#define SIGNATURE_LEN 28 /* base64 of a SHA-1 */
#define LIQPAY_CHECKOUT_URL "https://www.liqpay.ua/api/3/checkout"

/* Its variables, by their place in `.settings` at the end. */
enum { PUBLIC_KEY, PRIVATE_KEY, API_URL };
#define LIQPAY(c, i) SETTING(c, PROVIDER_liqpay, i)

static bool configured(const struct config *c)
{
    return secret_list_any(LIQPAY(c, PRIVATE_KEY));
}

/* The signature of a `data` field, SIGNATURE_LEN characters into out. */
static bool sign(const char *key, const char *data, char out[SIGNATURE_LEN + 1])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    size_t klen = strlen(key);
    bool ok =
        ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
        EVP_DigestUpdate(ctx, key, klen) == 1 && EVP_DigestUpdate(ctx, data, strlen(data)) == 1 &&
        EVP_DigestUpdate(ctx, key, klen) == 1 && EVP_DigestFinal_ex(ctx, md, &n) == 1 && n == 20;
    EVP_MD_CTX_free(ctx);
    if (ok) base64_encode(md, n, out);
    return ok;
}

struct liqpay_form {
    char *data, *signature;
};

static void form_free(struct liqpay_form *f)
{
    free(f->data);
    free(f->signature);
}

/* Base64 has no spaces: any space is a '+' that reached us unescaped and
 * was decoded as a form space (reference §12.11). */
static void restore_plus(char *s)
{
    for (; *s; s++)
        if (*s == ' ') *s = '+';
}

static bool read_form(const struct wh_request *rq, struct liqpay_form *f, char *why, size_t why_len)
{
    enum form_status d = form_field(rq->body, rq->body_len, "data", &f->data);
    enum form_status s = form_field(rq->body, rq->body_len, "signature", &f->signature);
    if (d == FORM_OK && s == FORM_OK) {
        restore_plus(f->data);
        restore_plus(f->signature);
        return true;
    }
    form_free(f);
    if (d == FORM_NOMEM || s == FORM_NOMEM) return wh_fail(why, why_len, "out of memory");
    if (d == FORM_ABSENT || s == FORM_ABSENT)
        return wh_fail(why, why_len, "missing data or signature field");
    return wh_fail(why, why_len, "malformed form body");
}

static bool verify(const struct config *c, const struct wh_request *rq, char *why, size_t why_len)
{
    struct liqpay_form f;
    if (!read_form(rq, &f, why, why_len)) return false;
    char buf[SECRET_LIST_MAX];
    const char *keys[2];
    int n = secret_list(LIQPAY(c, PRIVATE_KEY), buf, sizeof buf, keys);
    bool match = false;
    for (int i = 0; i < n && !match; i++) {
        char expected[SIGNATURE_LEN + 1];
        match = sign(keys[i], f.data, expected) &&
                bytes_equal(expected, SIGNATURE_LEN, f.signature, strlen(f.signature));
    }
    OPENSSL_cleanse(buf, sizeof buf);
    form_free(&f);
    return match || wh_fail(why, why_len, n ? "signature mismatch" : "not configured");
}

/* ---- parsing: the decoded data; amounts are JSON numbers in major units ---- */

static const struct {
    const char *status;
    enum wh_kind kind;
} statuses[] = {
    {"subscribed", WH_PLEDGE_ACTIVATED},  {"success", WH_PAYMENT_SUCCEEDED},
    {"failure", WH_PAYMENT_FAILED},       {"error", WH_PAYMENT_FAILED},
    {"unsubscribed", WH_PLEDGE_CANCELED}, {"reversed", WH_PAYMENT_REFUNDED},
};

/* Anything else (processing, wait_*, *_verify, ...) is not final. */
static enum wh_kind kind_of(const char *status)
{
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
        if (!strcmp(status, statuses[i].status)) return statuses[i].kind;
    return WH_IGNORED;
}

/* An id LiqPay sends as a number (payment_id: 165156) or a string. */
static bool id_text(json_t *root, const char *key, char *dst, size_t dst_len, char *why,
                    size_t why_len)
{
    json_t *v = json_object_get(root, key);
    if (json_is_integer(v)) {
        int n = snprintf(dst, dst_len, "%lld", (long long)json_integer_value(v));
        return (n > 0 && (size_t)n < dst_len) || wh_fail(why, why_len, "id too long");
    }
    return wh_field(root, key, dst, dst_len, why, why_len);
}

/* The amount exactly as written: 3.5 must become 350, never 349.99... */
/* LiqPay's test keys say so: "sandbox_i000...". */
static bool is_sandbox_key(const char *key)
{
    return !strncmp(key, "sandbox_", strlen("sandbox_"));
}

/* A public_key other than ours means another merchant's callback. Sets
 * *sandbox when the payment was made with a test key: the (signed) key
 * the callback names, else every key we hold. */
static bool our_public_key(const struct config *c, json_t *root, bool *sandbox, char *why,
                           size_t why_len)
{
    char key[128], buf[SECRET_LIST_MAX];
    const char *mine[2];
    if (!wh_field(root, "public_key", key, sizeof key, why, why_len)) return false;
    int n = secret_list(LIQPAY(c, PUBLIC_KEY), buf, sizeof buf, mine);
    *sandbox = *key ? is_sandbox_key(key) : n > 0;
    for (int i = 0; i < n && !*key; i++)
        *sandbox = *sandbox && is_sandbox_key(mine[i]);
    if (!*key || n == 0) return true;
    for (int i = 0; i < n; i++)
        if (!strcmp(key, mine[i])) return true;
    return wh_fail(why, why_len, "public_key is not ours");
}

/* Status "sandbox" is a test payment. With test keys the operator is
 * trying the integration out, and it counts; with production keys it
 * moved no money and is only recorded. */
static enum wh_kind kind_with(const char *status, bool sandbox_keys)
{
    if (!strcmp(status, "sandbox")) return sandbox_keys ? WH_PAYMENT_SUCCEEDED : WH_IGNORED;
    return kind_of(status);
}

/* What a subscription is for: "pay" is one-off; a subscription's own
 * periodicity, when the callback repeats it, else nothing (not a guess). */
static bool interval_of(json_t *root, const char *action, struct wh_event *ev, char *why,
                        size_t why_len)
{
    char periodicity[16];
    if (!strcmp(action, "pay")) return wh_copy(ev->interval, sizeof ev->interval, "once");
    if (strcmp(action, "subscribe")) return true;
    if (!wh_field(root, "subscribe_periodicity", periodicity, sizeof periodicity, why, why_len))
        return false;
    if (!strcmp(periodicity, "month") || !strcmp(periodicity, "year"))
        wh_copy(ev->interval, sizeof ev->interval, periodicity);
    return true;
}

/* end_date (ms), or create_date when the payment is not finished. */
static bool occurred(json_t *root, struct wh_event *ev, char *why, size_t why_len)
{
    int64_t ms = 0;
    bool end, created = false;
    if (!wh_json_int(root, "end_date", &ms, &end)) return wh_fail(why, why_len, "bad end_date");
    if (!end && !wh_json_int(root, "create_date", &ms, &created))
        return wh_fail(why, why_len, "bad create_date");
    if (!end && !created) return true;
    return unix_to_rfc3339(ms, true, ev->occurred_at, sizeof ev->occurred_at) ||
           wh_fail(why, why_len, "end_date out of range");
}

static bool failure_reason(json_t *root, struct wh_event *ev, char *why, size_t why_len)
{
    if (!wh_field(root, "err_description", ev->reason, sizeof ev->reason, why, why_len) ||
        (!*ev->reason && !id_text(root, "err_code", ev->reason, sizeof ev->reason, why, why_len)))
        return false;
    if (!*ev->reason) wh_copy(ev->reason, sizeof ev->reason, ev->type);
    return true;
}

/* Keys and ids: a refund or a failure gets its own payment id, since the
 * charge it follows (or never became) may hold the bare one. */
static bool set_ids(struct wh_event *ev, const char *payment_id, char *why, size_t why_len)
{
    const char *id = *payment_id ? payment_id : ev->subscription_ref;
    if (!*id) return wh_fail(why, why_len, "neither payment_id nor order_id");
    int n = snprintf(ev->event_key, sizeof ev->event_key, "%s:%s", id, ev->type);
    if (n < 0 || (size_t)n >= sizeof ev->event_key) return wh_fail(why, why_len, "ids too long");
    bool suffixed = ev->kind == WH_PAYMENT_FAILED || ev->kind == WH_PAYMENT_REFUNDED;
    n = snprintf(ev->payment_id, sizeof ev->payment_id, "%s%s%s", payment_id,
                 *payment_id && suffixed ? ":" : "", *payment_id && suffixed ? ev->type : "");
    /* A reversal carries the payment_id of the payment it reverses. */
    if (ev->kind == WH_PAYMENT_REFUNDED) wh_copy(ev->charge_ref, sizeof ev->charge_ref, payment_id);
    return (n >= 0 && (size_t)n < sizeof ev->payment_id) || wh_fail(why, why_len, "ids too long");
}

static bool parse_payment(const struct config *c, json_t *root, const char *json, size_t len,
                          struct wh_event *ev, char *why, size_t why_len)
{
    char payment_id[64], action[32];
    bool sandbox;
    if (!wh_field(root, "status", ev->type, sizeof ev->type, why, why_len) ||
        !wh_field(root, "order_id", ev->subscription_ref, sizeof ev->subscription_ref, why,
                  why_len) ||
        !wh_field(root, "action", action, sizeof action, why, why_len) ||
        !id_text(root, "payment_id", payment_id, sizeof payment_id, why, why_len) ||
        !our_public_key(c, root, &sandbox, why, why_len) ||
        !wh_decimal_amount(root, json, len, ev, why, why_len) ||
        !occurred(root, ev, why, why_len) || !interval_of(root, action, ev, why, why_len))
        return false;
    if (!*ev->type) return wh_fail(why, why_len, "status is missing");
    ev->kind = kind_with(ev->type, sandbox);
    wh_uuid(ev->pledge_id, ev->subscription_ref);
    if (ev->kind == WH_PAYMENT_FAILED && !failure_reason(root, ev, why, why_len)) return false;
    if (ev->kind == WH_PAYMENT_SUCCEEDED && !ev->has_amount)
        return wh_fail(why, why_len, "payment without amount or currency");
    return set_ids(ev, payment_id, why, why_len);
}

/* The decoded data as a JSON object, with its text for exact amounts. */
static json_t *decode_data(const char *data, char **text, size_t *len, char *why, size_t why_len)
{
    size_t in = strlen(data);
    *text = malloc(in / 4 * 3 + 3);
    json_t *root = NULL;
    if (!*text) {
        wh_fail(why, why_len, "out of memory");
    } else if (!base64_decode(data, in, (uint8_t *)*text, in / 4 * 3 + 3, len)) {
        wh_fail(why, why_len, "data is not base64");
    } else {
        json_error_t err;
        root = json_loadb(*text, *len, JSON_REJECT_DUPLICATES, &err);
        if (!json_is_object(root)) wh_fail(why, why_len, "data is not a JSON object");
    }
    if (json_is_object(root)) return root;
    json_decref(root);
    free(*text);
    *text = NULL;
    return NULL;
}

static bool parse(const struct config *c, const struct wh_request *rq, struct wh_event *ev,
                  char *why, size_t why_len)
{
    memset(ev, 0, sizeof *ev);
    struct liqpay_form f;
    if (!read_form(rq, &f, why, why_len)) return false;
    char *text;
    size_t len;
    json_t *root = decode_data(f.data, &text, &len, why, why_len);
    form_free(&f);
    if (!root) return false;
    bool ok = parse_payment(c, root, text, len, ev, why, why_len);
    json_decref(root);
    free(text);
    return ok;
}

/* ---- checkout ---- */

static bool checkout_configured(const struct config *c)
{
    return LIQPAY(c, PUBLIC_KEY) && LIQPAY(c, PRIVATE_KEY);
}

/* LiqPay's documented start-date format, in UTC. */
static bool add_subscription(json_t *order, const struct checkout_order *o)
{
    struct tm tm;
    char start[24];
    if (!gmtime_r(&o->now, &tm) || !strftime(start, sizeof start, "%Y-%m-%d %H:%M:%S", &tm))
        return false;
    return json_object_set_new(order, "subscribe", json_string("1")) == 0 &&
           json_object_set_new(order, "subscribe_date_start", json_string(start)) == 0 &&
           json_object_set_new(order, "subscribe_periodicity", json_string(o->interval)) == 0;
}

static json_t *order_json(const struct config *c, const struct checkout_order *o)
{
    bool recurring = strcmp(o->interval, "once") != 0;
    char amount[32];
    char *server_url = checkout_webhook_url(c, "liqpay");
    json_t *order = NULL;
    char keybuf[SECRET_LIST_MAX];
    const char *public_key = checkout_current_key(LIQPAY(c, PUBLIC_KEY), keybuf, sizeof keybuf);
    if (server_url && public_key && checkout_amount(o, amount, sizeof amount))
        order = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "version", 3, "public_key",
                          public_key, "action", recurring ? "subscribe" : "pay", "amount", amount,
                          "currency", o->currency, "description", checkout_description(o->interval),
                          "order_id", o->pledge_id, "server_url", server_url);
    free(server_url);
    bool ok = order &&
              (!o->return_url ||
               json_object_set_new(order, "result_url", json_string(o->return_url)) == 0) &&
              (!recurring || add_subscription(order, o));
    if (ok) return order;
    json_decref(order);
    return NULL;
}

/* base64 of the order's compact JSON, malloc'd. */
static char *encode_order(json_t *order)
{
    char *text = json_dumps(order, JSON_COMPACT);
    if (!text) return NULL;
    size_t len = strlen(text);
    char *data = malloc(4 * ((len + 2) / 3) + 1);
    if (data) base64_encode((const uint8_t *)text, len, data);
    free(text);
    return data;
}

static json_t *checkout(const struct config *c, const struct checkout_order *o)
{
    json_t *order = order_json(c, o);
    char *data = order ? encode_order(order) : NULL;
    json_decref(order);
    char signature[SIGNATURE_LEN + 1];
    json_t *redirect = NULL;
    char keybuf[SECRET_LIST_MAX];
    const char *private_key = checkout_current_key(LIQPAY(c, PRIVATE_KEY), keybuf, sizeof keybuf);
    if (data && private_key && sign(private_key, data, signature))
        redirect = json_pack("{s:s, s:s, s:{s:s, s:s}}", "method", "POST", "url",
                             LIQPAY_CHECKOUT_URL, "fields", "data", data, "signature", signature);
    free(data);
    return redirect;
}

/* ---- self-service cancel: action "unsubscribe" on its server API ---- */

/* The API takes the same signed `data`/`signature` pair as checkout, as
 * a form posted by the server. */
static bool cancel_request(const struct config *c, const char *ref, struct provider_call *call,
                           char *why, size_t why_len)
{
    char pubbuf[SECRET_LIST_MAX], privbuf[SECRET_LIST_MAX];
    const char *public_key = checkout_current_key(LIQPAY(c, PUBLIC_KEY), pubbuf, sizeof pubbuf);
    const char *private_key = checkout_current_key(LIQPAY(c, PRIVATE_KEY), privbuf, sizeof privbuf);
    json_t *order = public_key ? json_pack("{s:s, s:i, s:s, s:s}", "action", "unsubscribe",
                                           "version", 3, "public_key", public_key, "order_id", ref)
                               : NULL;
    char *data = order ? encode_order(order) : NULL;
    json_decref(order);
    char signature[SIGNATURE_LEN + 1];
    char *data_q = NULL, *signature_q = NULL;
    bool ok = data && private_key && sign(private_key, data, signature) &&
              (data_q = query_escape(data)) && (signature_q = query_escape(signature)) &&
              (call->url = cancel_strf("%s", LIQPAY(c, API_URL))) &&
              (call->body = cancel_strf("data=%s&signature=%s", data_q, signature_q)) &&
              (call->headers[0] = cancel_strf("Content-Type: application/x-www-form-urlencoded"));
    OPENSSL_cleanse(privbuf, sizeof privbuf);
    free(data);
    free(data_q);
    free(signature_q);
    return ok || wh_fail(why, why_len, "cannot build the request (keys missing, or no memory)");
}

/* {"result": "ok", "status": "unsubscribed", ...}; an error is
 * {"result": "error", "err_code", "err_description"}. */
static enum cancel_outcome cancel_outcome(const char *ref, long status, const char *body,
                                          size_t len, char *why, size_t why_len)
{
    (void)ref;
    json_t *root = cancel_answer(status, body, len, why, why_len);
    if (!root) return CANCEL_FAILED;
    char state[32] = "", message[160] = "";
    enum cancel_outcome out = CANCEL_FAILED;
    if (wh_json_str(root, "status", state, sizeof state) && !strcmp(state, "unsubscribed"))
        out = CANCEL_ENDED;
    else if (wh_json_str(root, "err_description", message, sizeof message) && *message)
        snprintf(why, why_len, "answered status \"%s\": %s", state, message);
    else
        snprintf(why, why_len, "answered status \"%s\", not \"unsubscribed\"", state);
    json_decref(root);
    return out;
}

static const struct provider_cancel cancel = {checkout_configured, cancel_request, cancel_outcome};

const struct provider provider_liqpay = {
    .name = "liqpay",
    .settings =
        (const struct setting[]){
            {"PATROND_LIQPAY_PUBLIC_KEY", SETTING_SECRET, NULL},
            {"PATROND_LIQPAY_PRIVATE_KEY", SETTING_SECRET, NULL},
            {"PATROND_LIQPAY_API_URL", SETTING_URL, "https://www.liqpay.ua/api/request"},
            {NULL, 0, NULL},
        },
    .configured = configured,
    .verify = verify,
    .parse = parse,
    .checkout_configured = checkout_configured,
    .checkout = checkout,
    .echoes_order_id = true,
    .form_origin = "https://www.liqpay.ua",
    .cancel = &cancel,
};
