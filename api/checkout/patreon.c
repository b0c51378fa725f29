/* Patreon checkout: the campaign page (PATROND_PATREON_CAMPAIGN_URL), where
 * the patron chooses a tier. Patreon passes no order id of ours through;
 * its webhooks find the pledge by the patron's e-mail. */
#include "checkout.h"

json_t *checkout_patreon(const struct config *c, const struct checkout_order *o)
{
    (void)o;
    return json_pack("{s:s, s:s}", "method", "GET", "url", c->patreon_campaign_url);
}
