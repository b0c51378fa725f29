/* GET /v1/checkout/options: what the donation form may offer — the
 * accepted currencies with suggested amounts and the configured providers
 * — so the page never offers a choice that POST /v1/checkout refuses. */
#include <string.h>

#include "config.h"
#include "domain.h"
#include "handlers.h"
#include "money.h"
#include "provider.h"

#define PRESETS 3

/* "A coffee a month" and two steps up, in minor units, where a round
 * local figure is known; other currencies get 3, 5 and 10 major units. */
static const struct {
    const char *currency;
    json_int_t amounts[PRESETS];
} presets[] = {
    {"UAH", {10000, 20000, 50000}}, {"USD", {300, 500, 1000}},   {"EUR", {300, 500, 1000}},
    {"GBP", {300, 500, 1000}},      {"PLN", {1500, 2500, 5000}},
};

static json_t *presets_for(const char *currency, int exponent)
{
    json_int_t fallback[PRESETS] = {3, 5, 10}, scale = 1;
    const json_int_t *amounts = fallback;
    for (int i = 0; i < exponent; i++)
        scale *= 10;
    for (size_t i = 0; i < PRESETS; i++)
        fallback[i] *= scale;
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(presets[i].currency, currency)) amounts = presets[i].amounts;
    json_t *out = json_array();
    for (size_t i = 0; out && i < PRESETS; i++)
        if (amounts[i] <= cfg.max_amount_minor)
            json_array_append_new(out, json_integer(amounts[i]));
    return out;
}

static json_t *string_list(const char *const *items)
{
    json_t *out = json_array();
    for (size_t i = 0; out && items[i]; i++)
        json_array_append_new(out, json_string(items[i]));
    return out;
}

/* PATROND_CURRENCIES in its order (config_load has already checked every
 * entry), each with its presets and minor-unit digits. */
static bool add_currencies(json_t *doc)
{
    json_t *codes = json_array(), *all = json_object(), *exps = json_object();
    bool ok = codes && all && exps;
    for (const char *p = cfg.currencies; ok && *p;) {
        size_t len = strcspn(p, ",");
        char code[8] = "";
        size_t skip = strspn(p, " \t");
        size_t n = len > skip ? strcspn(p + skip, " \t,") : 0;
        if (n > 0 && n < sizeof code) memcpy(code, p + skip, n);
        int exponent = currency_exponent(code);
        if (exponent >= 0 && !json_object_get(all, code))
            ok = json_array_append_new(codes, json_string(code)) == 0 &&
                 json_object_set_new(all, code, presets_for(code, exponent)) == 0 &&
                 json_object_set_new(exps, code, json_integer(exponent)) == 0;
        p += len + (p[len] ? 1 : 0);
    }
    ok = ok && json_object_set(doc, "currencies", codes) == 0 &&
         json_object_set(doc, "presets", all) == 0 && json_object_set(doc, "exponents", exps) == 0;
    json_decref(codes);
    json_decref(all);
    json_decref(exps);
    return ok;
}

void checkout_options(struct req *r)
{
    const char *configured[PROVIDERS_COUNT + 1];
    checkout_providers(&cfg, configured);
    json_t *doc = json_pack("{s:o, s:o, s:I}", "providers", string_list(configured), "intervals",
                            string_list(pledge_intervals), "max_amount_minor",
                            (json_int_t)cfg.max_amount_minor);
    if (!doc || !add_currencies(doc)) {
        json_decref(doc);
        reply_error(r, ERR_internal_error, "Out of memory.");
        return;
    }
    reply_header(r, "Cache-Control", "public, max-age=60");
    reply_json(r, 200, doc);
}
