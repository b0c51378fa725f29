/* The pieces the providers' checkout builders share
 * (include/provider_kit.h), and where a payer may be sent back to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "provider_kit.h"
#include "validate.h"

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
    return list && secret_list(list, buf, len, keys) > 0 ? keys[0] : NULL;
}

/* The CORS list is stored trimmed and comma-joined (api/config.c). Its
 * wildcard lets any page call the API; it names no site a payer may be
 * sent back to. */
bool checkout_return_url_allowed(const struct config *c, const char *url)
{
    return same_origin(url, c->public_url) || origin_listed(c->cors_origins, url);
}
