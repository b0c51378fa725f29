/* The providers reachable at POST /v1/webhooks/{provider} (SPEC §4). */
#include <string.h>

#include "webhook.h"

static const struct wh_provider *const providers[] = {
    &wh_stripe, &wh_standard, &wh_patreon,   &wh_paypal,
    &wh_liqpay, &wh_monobank, &wh_wayforpay, &wh_paddle,
};

const struct wh_provider *wh_provider_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof providers / sizeof providers[0]; i++)
        if (!strcmp(providers[i]->name, name)) return providers[i];
    return NULL;
}
