/* LiqPay checkout (reference §5): the payer's browser posts two fields to
 * LiqPay, `data` (the order as base64 JSON) and `signature`
 * (base64(sha1(private_key + data + private_key)), a plain hash, not HMAC).
 * LiqPay echoes order_id (our pledge id) in its callbacks. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "checkout.h"
#include "wh_common.h"

#define LIQPAY_CHECKOUT_URL "https://www.liqpay.ua/api/3/checkout"
#define SHA1_BASE64_LEN 28

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
    char keybuf[WH_SECRET_LIST_MAX];
    const char *public_key = checkout_current_key(c->liqpay_public_key, keybuf, sizeof keybuf);
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
    if (data) wh_base64_encode((const uint8_t *)text, len, data);
    free(text);
    return data;
}

bool checkout_liqpay_sign(const char *key, const char *data, char out[SHA1_BASE64_LEN + 1])
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
    if (ok) wh_base64_encode(md, n, out);
    return ok;
}

json_t *checkout_liqpay(const struct config *c, const struct checkout_order *o)
{
    json_t *order = order_json(c, o);
    char *data = order ? encode_order(order) : NULL;
    json_decref(order);
    char signature[SHA1_BASE64_LEN + 1];
    json_t *redirect = NULL;
    char keybuf[WH_SECRET_LIST_MAX];
    const char *private_key = checkout_current_key(c->liqpay_private_key, keybuf, sizeof keybuf);
    if (data && private_key && checkout_liqpay_sign(private_key, data, signature))
        redirect = json_pack("{s:s, s:s, s:{s:s, s:s}}", "method", "POST", "url",
                             LIQPAY_CHECKOUT_URL, "fields", "data", data, "signature", signature);
    free(data);
    return redirect;
}
