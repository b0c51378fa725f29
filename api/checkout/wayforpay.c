/* WayForPay checkout (the Purchase form, posted to secure.wayforpay.com/pay):
 * merchantSignature is hex HMAC-MD5, keyed with the merchant secret, of
 * merchantAccount;merchantDomainName;orderReference;orderDate;amount;
 * currency;productName[0];productCount[0];productPrice[0]. WayForPay
 * echoes orderReference (our pledge id) in its callbacks. A month or year
 * pledge also asks for a regular payment (SPEC §4 Checkout). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkout.h"
#include "encode.h"
#include "wh_common.h"

#define WAYFORPAY_PURCHASE_URL "https://secure.wayforpay.com/pay"
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
    const char *parts[] = {c->wayforpay_merchant, pu->domain,  o->pledge_id,  pu->date,  pu->amount,
                           o->currency,           pu->product, PRODUCT_COUNT, pu->amount};
    size_t n = sizeof parts / sizeof parts[0], len = 0;
    for (size_t i = 0; i < n; i++)
        len += strlen(parts[i]) + 1;
    char *text = malloc(len);
    if (!text) return false;
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, len - used, "%s%s", i ? ";" : "", parts[i]);
    uint8_t mac[64];
    size_t mac_len = 0;
    char keybuf[WH_SECRET_LIST_MAX];
    const char *secret = checkout_current_key(c->wayforpay_secret, keybuf, sizeof keybuf);
    bool ok = secret && wh_hmac("MD5", secret, strlen(secret), text, used, mac, &mac_len) &&
              mac_len == 16;
    free(text);
    if (ok) hex_encode(mac, mac_len, hex);
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
                        "merchantAccount", c->wayforpay_merchant, "merchantAuthType",
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

static int days_in_month(int year, int mon)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return mon == 1 && leap ? 29 : days[mon];
}

/* "DD.MM.YYYY" of the day `months` after t (UTC); the 31st of a month
 * without one becomes its last day, as a monthly charge falls. */
static bool date_after(time_t t, int months, char out[11])
{
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return false;
    int m = tm.tm_mon + months, year = tm.tm_year + 1900 + m / 12;
    m %= 12;
    int day = tm.tm_mday, last = days_in_month(year, m);
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

json_t *checkout_wayforpay(const struct config *c, const struct checkout_order *o)
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
