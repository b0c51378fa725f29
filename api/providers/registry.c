/* The table of payment providers (include/providers.def) and what the
 * rest of patrond asks of it. */
#include <string.h>

#include "provider_kit.h"

const struct provider *const provider_table[PROVIDERS_COUNT] = {
#define PROVIDER(name) [PROVIDER_##name] = &provider_##name,
#include "providers.def"
#undef PROVIDER
};

const char *const provider_names[PROVIDERS_COUNT + 1] = {
#define PROVIDER(name) [PROVIDER_##name] = #name,
#include "providers.def"
#undef PROVIDER
};

const struct provider *provider_find(const char *name)
{
    for (size_t i = 0; name && i < PROVIDERS_COUNT; i++)
        if (!strcmp(provider_table[i]->name, name)) return provider_table[i];
    return NULL;
}

bool provider_configured(const struct provider *p, const struct config *c)
{
    if (p->configured) return p->configured(c);
    for (size_t i = 0; i < PROVIDERS_COUNT; i++)
        if (provider_table[i] == p) return secret_list_any(c->provider_settings[i][0]);
    return false;
}

bool provider_parse(const struct provider *p, const struct config *c, const struct wh_request *rq,
                    struct wh_event *ev, char *why, size_t why_len)
{
    if (p->envelope) return wh_parse_envelope(rq, p->envelope, ev, why, why_len);
    return p->parse(c, rq, ev, why, why_len);
}

static bool takes_checkouts(const struct provider *p, const struct config *c)
{
    return p && p->checkout && p->checkout_configured(c);
}

size_t checkout_providers(const struct config *c, const char **out)
{
    size_t n = 0;
    for (size_t i = 0; i < PROVIDERS_COUNT; i++)
        if (takes_checkouts(provider_table[i], c)) out[n++] = provider_table[i]->name;
    out[n] = NULL;
    return n;
}

bool checkout_echoes_order_id(const char *provider)
{
    const struct provider *p = provider_find(provider);
    return p && p->echoes_order_id;
}

json_t *checkout_redirect(const struct config *c, const char *provider,
                          const struct checkout_order *o)
{
    const struct provider *p = provider_find(provider);
    return takes_checkouts(p, c) ? p->checkout(c, o) : NULL;
}
