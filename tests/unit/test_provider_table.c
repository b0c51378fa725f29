/* The one table of payment providers (include/providers.def) and what the
 * rest of patrond reads from it: every module is reachable by its name,
 * its variables are loaded and found, its checkout is complete; and the
 * core pieces the modules share (RFC 3339 in both modes, padded base64). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "domain.h"
#include "encode.h"
#include "provider.h"
#include "rfc3339.h"

static void test_names(void)
{
    size_t n = 0;
    for (const char *const *p = providers; *p; p++)
        n++;
    /* the pledges' vocabulary: every provider, then "manual" */
    CHECK_EQ_INT(n, PROVIDERS_COUNT + 1);
    CHECK_EQ_STR(providers[PROVIDERS_COUNT], "manual");
    CHECK(provider_names[PROVIDERS_COUNT] == NULL);
    for (size_t i = 0; i < PROVIDERS_COUNT; i++) {
        const struct provider *p = provider_table[i];
        CHECK_EQ_STR(p->name, provider_names[i]);
        CHECK_EQ_STR(providers[i], provider_names[i]);
        CHECK(provider_find(p->name) == p);
        CHECK(p->verify != NULL);
        CHECK((p->parse != NULL) != (p->envelope != NULL));
    }
    CHECK(provider_find("manual") == NULL);
    CHECK(provider_find(NULL) == NULL);
    CHECK(provider_find("") == NULL);
}

/* Every variable is PATROND_-named, fits the config's slots, is found by
 * config_slot and is read from the environment by config_load. This
 * environment sets every provider variable and nothing else. */
static const char *env_all(const char *name)
{
    for (size_t i = 0; i < PROVIDERS_COUNT; i++)
        for (const struct setting *st = provider_table[i]->settings; st && st->env; st++) {
            if (strcmp(st->env, name)) continue;
            switch (st->kind) {
            case SETTING_URL:
            case SETTING_BASE_URL:
                return "https://pay.example.org/x";
            case SETTING_CURRENCY:
                return "EUR";
            case SETTING_PLAIN:
                return "/nonexistent/cert.pem";
            case SETTING_SECRET:
                return st->env;
            }
        }
    return NULL;
}

static void test_settings(void)
{
    struct config c;
    char err[256];
    CHECK(config_load(&c, env_all, "/tmp", err, sizeof err));
    for (size_t i = 0; i < PROVIDERS_COUNT; i++) {
        const struct setting *st = provider_table[i]->settings;
        size_t n = 0;
        for (; st && st[n].env; n++) {
            CHECK(!strncmp(st[n].env, "PATROND_", 8));
            CHECK(config_slot(&c, st[n].env) == &c.provider_settings[i][n]);
            CHECK(c.provider_settings[i][n] != NULL);
        }
        CHECK(n >= 1 && n <= PROVIDER_SETTINGS_MAX);
        /* every variable set: every webhook is on */
        CHECK(provider_configured(provider_table[i], &c));
    }
    CHECK_EQ_STR(*config_slot(&c, "PATROND_PATREON_CURRENCY"), "EUR");
    CHECK(config_slot(&c, "PATROND_NO_SUCH_PROVIDER_SECRET") == NULL);
    config_free(&c);
}

static void test_checkouts(void)
{
    struct config c;
    char err[256];
    CHECK(config_load(&c, env_all, "/tmp", err, sizeof err));
    const char *names[PROVIDERS_COUNT + 1];
    size_t n = checkout_providers(&c, names), takers = 0;
    for (size_t i = 0; i < PROVIDERS_COUNT; i++)
        takers += provider_table[i]->checkout != NULL;
    CHECK(n >= 1 && n == takers && names[n] == NULL);
    for (size_t i = 0; i < n; i++) {
        const struct provider *p = provider_find(names[i]);
        CHECK(p && p->checkout && p->checkout_configured);
        /* a signed form the page posts is one whose order id comes back */
        if (p && p->form_origin) CHECK(p->echoes_order_id);
    }
    for (size_t i = 0; i < PROVIDERS_COUNT; i++) {
        const struct provider *p = provider_table[i];
        if (p->checkout) continue;
        CHECK(!p->checkout_configured && !p->form_origin && !p->echoes_order_id);
        struct checkout_order o = {"0b7e8f5c-3c1a-4d2e-9f00-123456789abc",
                                   "a@example.org",
                                   "USD",
                                   "month",
                                   NULL,
                                   500,
                                   1700000000};
        CHECK(checkout_redirect(&c, p->name, &o) == NULL);
    }
    config_free(&c);
}

static const char *env_none(const char *name)
{
    (void)name;
    return NULL;
}

/* Nothing configured: no checkout offered, no webhook on. */
static void test_unconfigured(void)
{
    struct config c;
    char err[256];
    CHECK(config_load(&c, env_none, "/tmp", err, sizeof err));
    const char *names[PROVIDERS_COUNT + 1];
    CHECK_EQ_INT(checkout_providers(&c, names), 0);
    for (size_t i = 0; i < PROVIDERS_COUNT; i++)
        CHECK(!provider_configured(provider_table[i], &c));
    CHECK_EQ_STR(*config_slot(&c, "PATROND_PATREON_CURRENCY"), "USD");
    config_free(&c);
}

static void test_core(void)
{
    long long t;
    CHECK(rfc3339_parse("2023-11-14T22:13:20.123456789Z", true, &t) && t == 1700000000);
    CHECK(!rfc3339_parse("2023-11-14T22:13:20.1234567891Z", true, &t));
    CHECK(rfc3339_parse("2023-11-14T22:13:20.1234567891Z", false, &t) && t == 1700000000);
    CHECK(!rfc3339_parse("0000-01-01T00:00:00Z", true, &t));
    CHECK(rfc3339_parse("0000-01-01T00:00:00Z", false, &t));
    CHECK(rfc3339_parse("2016-12-31T23:59:60Z", true, &t) && t == 1483228799);
    CHECK(!rfc3339_parse("2023-11-14T22:13:20.Z", false, &t));
    CHECK_EQ_INT(days_in_month(2024, 2), 29);
    CHECK_EQ_INT(days_in_month(1900, 2), 28);
    CHECK_EQ_INT(days_in_month(2000, 2), 29);
    CHECK_EQ_INT(days_in_month(2023, 12), 31);
    char out[16];
    base64_encode((const uint8_t *)"a", 1, out);
    CHECK_EQ_STR(out, "YQ==");
    base64_encode((const uint8_t *)"\xfb\xff", 2, out);
    CHECK_EQ_STR(out, "+/8=");
    base64url_encode((const uint8_t *)"\xfb\xff", 2, out);
    CHECK_EQ_STR(out, "-_8");
    base64_encode((const uint8_t *)"", 0, out);
    CHECK_EQ_STR(out, "");
}

int main(void)
{
    test_names();
    test_settings();
    test_checkouts();
    test_unconfigured();
    test_core();
    return CHECK_DONE();
}
