/* Stripe checkout: the Payment Link (PATROND_STRIPE_PAYMENT_LINK) with
 * client_reference_id=<pledge id>, which Stripe hands back on the
 * checkout session, and prefilled_email. The link's price and interval
 * are set in Stripe; the webhooks report what was actually paid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkout.h"

static bool unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

/* RFC 3986 percent-encoding of everything but unreserved characters. */
static size_t percent_encode(const char *s, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p)) {
            if (out) out[o] = (char)*p;
            o++;
            continue;
        }
        if (out) {
            out[o] = '%';
            out[o + 1] = hex[*p >> 4];
            out[o + 2] = hex[*p & 15];
        }
        o += 3;
    }
    return o;
}

json_t *checkout_stripe(const struct config *c, const struct checkout_order *o)
{
    const char *link = c->stripe_payment_link;
    char sep = strchr(link, '?') ? '&' : '?';
    size_t len = strlen(link) +
                 sizeof "?client_reference_id=&prefilled_email=" + strlen(o->pledge_id) +
                 percent_encode(o->email, NULL);
    char *url = malloc(len);
    if (!url) return NULL;
    int n =
        snprintf(url, len, "%s%cclient_reference_id=%s&prefilled_email=", link, sep, o->pledge_id);
    url[(size_t)n + percent_encode(o->email, url + n)] = '\0';
    json_t *redirect = json_pack("{s:s, s:s}", "method", "GET", "url", url);
    free(url);
    return redirect;
}
