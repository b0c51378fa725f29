/* Checkout redirects (include/checkout.h): which providers can take a
 * checkout, and the pieces their builders share. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkout.h"
#include "money.h"
#include "validate.h"
#include "wh_common.h"

struct provider {
    const char *name;
    bool (*configured)(const struct config *c);
    json_t *(*build)(const struct config *c, const struct checkout_order *o);
    bool echoes_order_id;
};

static bool liqpay_configured(const struct config *c)
{
    return c->liqpay_public_key && c->liqpay_private_key;
}

static bool wayforpay_configured(const struct config *c)
{
    return c->wayforpay_merchant && c->wayforpay_secret;
}

static bool stripe_configured(const struct config *c)
{
    return c->stripe_payment_link != NULL;
}

static bool patreon_configured(const struct config *c)
{
    return c->patreon_campaign_url != NULL;
}

/* Stripe finds the pledge by client_reference_id and its subscription id
 * becomes provider_ref later; Patreon passes nothing of ours through. */
static const struct provider table[CHECKOUT_PROVIDERS_MAX] = {
    {"liqpay", liqpay_configured, checkout_liqpay, true},
    {"wayforpay", wayforpay_configured, checkout_wayforpay, true},
    {"stripe", stripe_configured, checkout_stripe, false},
    {"patreon", patreon_configured, checkout_patreon, false},
};

static const struct provider *find(const char *name)
{
    for (size_t i = 0; name && i < CHECKOUT_PROVIDERS_MAX; i++)
        if (!strcmp(table[i].name, name)) return &table[i];
    return NULL;
}

size_t checkout_providers(const struct config *c, const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < CHECKOUT_PROVIDERS_MAX; i++)
        if (table[i].configured(c)) out[n++] = table[i].name;
    out[n] = NULL;
    return n;
}

bool checkout_echoes_order_id(const char *provider)
{
    const struct provider *p = find(provider);
    return p && p->echoes_order_id;
}

json_t *checkout_redirect(const struct config *c, const char *provider,
                          const struct checkout_order *o)
{
    const struct provider *p = find(provider);
    return p && p->configured(c) ? p->build(c, o) : NULL;
}

bool checkout_amount(const struct checkout_order *o, char *buf, size_t len)
{
    int exponent = currency_exponent(o->currency);
    if (exponent < 0 || o->amount_minor < 1 || len < 24) return false;
    money_format_decimal(o->amount_minor, exponent, buf, len);
    return true;
}

const char *checkout_description(const char *interval)
{
    if (!strcmp(interval, "month")) return "Monthly reader support";
    if (!strcmp(interval, "year")) return "Yearly reader support";
    return "One-off reader support";
}

char *checkout_webhook_url(const struct config *c, const char *provider)
{
    size_t len = strlen(c->public_url) + sizeof "/v1/webhooks/" + strlen(provider);
    char *url = malloc(len);
    if (url) snprintf(url, len, "%s/v1/webhooks/%s", c->public_url, provider);
    return url;
}

const char *checkout_current_key(const char *list, char *buf, size_t len)
{
    const char *keys[2];
    return list && wh_secrets(list, buf, len, keys) > 0 ? keys[0] : NULL;
}

/* The CORS list is stored trimmed and comma-joined (api/config.c). Its
 * wildcard lets any page call the API; it names no site a payer may be
 * sent back to. */
bool checkout_return_url_allowed(const struct config *c, const char *url)
{
    if (same_origin(url, c->public_url)) return true;
    for (const char *p = c->cors_origins; p && *p;) {
        size_t n = strcspn(p, ",");
        char origin[512];
        if (n < sizeof origin) {
            memcpy(origin, p, n);
            origin[n] = '\0';
            if (same_origin(url, origin)) return true;
        }
        p += n + (p[n] == ',');
    }
    return false;
}
