/* The catalogues' loading, plural rules, negotiation and {name} filling
 * (include/i18n.h), against the catalogues compiled in from web/i18n/. */
#include <stdlib.h>

#include "check.h"
#include "i18n.h"

static void plurals(void)
{
    static const struct {
        long long n;
        const char *uk, *en;
    } cases[] = {
        {0, "many", "other"},   {1, "one", "one"},     {2, "few", "other"},   {5, "many", "other"},
        {11, "many", "other"},  {21, "one", "other"},  {22, "few", "other"},  {25, "many", "other"},
        {111, "many", "other"}, {12, "many", "other"}, {14, "many", "other"}, {104, "few", "other"},
        {1001, "one", "other"}, {-1, "one", "one"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_EQ_STR(i18n_plural("uk", cases[i].n), cases[i].uk);
        CHECK_EQ_STR(i18n_plural("en", cases[i].n), cases[i].en);
        CHECK_EQ_STR(i18n_plural_by_rule("east_slavic", cases[i].n), cases[i].uk);
        CHECK_EQ_STR(i18n_plural_by_rule("one_other", cases[i].n), cases[i].en);
    }
    CHECK(i18n_plural_by_rule("celtic", 1) == NULL);
    /* an unknown language counts by the default's rule */
    CHECK_EQ_STR(i18n_plural("xx", 2), "few");
}

static void negotiation(void)
{
    static const struct {
        const char *query, *accept, *want;
    } cases[] = {
        {NULL, NULL, "uk"},
        {"en", NULL, "en"},
        {"EN", NULL, "en"},
        {"uk", "en", "uk"},
        {"en", "uk", "en"},
        {"de", "en", "en"},           /* not offered: Accept-Language decides */
        {"", "en-GB,en;q=0.9", "en"}, /* empty ?lang= is no choice */
        {"en-US", NULL, "en"},        /* primary subtag */
        {NULL, "uk-UA", "uk"},
        {NULL, "uk-UA,uk;q=0.9,en;q=0.8", "uk"},
        {NULL, "en-US,en;q=0.9,uk;q=0.8", "en"},
        {NULL, "de-DE,de;q=0.9,en;q=0.5,uk;q=0.4", "en"},
        {NULL, "uk;q=0.3, en;q=0.7", "en"}, /* q-values, not order */
        {NULL, "en;q=0.5, uk;q=0.5", "en"}, /* a tie: the first listed */
        {NULL, "en;q=0, uk;q=0.1", "uk"},   /* q=0: not acceptable */
        {NULL, "en;q=0", "uk"},
        {NULL, "fr, de", "uk"}, /* nothing offered: the default */
        {NULL, "*", "uk"},
        {NULL, "fr, *;q=0.5, en;q=0.4", "uk"},
        {NULL, "EN-gb", "en"},
        {NULL, "en;q=2", "uk"}, /* a malformed q-value is ignored */
        {NULL, "en;q=abc, uk;q=0.2", "uk"},
        {NULL, ",,; ;q=1,", "uk"},
        {NULL, "en_GB", "en"},
        {NULL, "english", "uk"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = i18n_negotiate(cases[i].query, cases[i].accept);
        check_record(!strcmp(got, cases[i].want), __FILE__, __LINE__, "negotiate");
        if (strcmp(got, cases[i].want))
            printf("    ?lang=%s Accept-Language: %s -> %s, want %s\n",
                   cases[i].query ? cases[i].query : "(none)",
                   cases[i].accept ? cases[i].accept : "(none)", got, cases[i].want);
    }
}

static void texts(void)
{
    CHECK_EQ_STR(i18n_text("uk", "language.name"), "Українська");
    CHECK_EQ_STR(i18n_name("en"), "English");
    CHECK_EQ_STR(i18n_text("en", "errors.not_found"), "Nothing was found.");
    CHECK_EQ_STR(i18n_text("uk", "errors.not_found"), "Нічого не знайдено.");
    /* an unknown language falls back to the default, a missing key shows itself */
    CHECK_EQ_STR(i18n_text("xx", "errors.not_found"), "Нічого не знайдено.");
    CHECK_EQ_STR(i18n_text("en", "no.such.key"), "no.such.key");
    CHECK_EQ_STR(i18n_text("en", "errors"), "errors"); /* an object that is not a plural */
    CHECK(i18n_has("en", "errors.not_found"));
    CHECK(!i18n_has("en", "errors.no_such_code"));
    CHECK(!i18n_has("xx", "errors.not_found"));
    CHECK_EQ_STR(i18n_offered("UK"), "uk");
    CHECK(i18n_offered("de") == NULL);
    CHECK(i18n_offered(NULL) == NULL);
    CHECK_EQ_STR(i18n_default(), "uk");
    CHECK_EQ_INT(i18n_count(), 2);
    CHECK_EQ_STR(i18n_code(1), "en");
    CHECK(i18n_code(2) == NULL);
}

static void fill(void)
{
    const char *vars[] = {"name", "Оксана", "count", "21", NULL};
    char *s = i18n_fill("Дякуємо, {name}! {count} {unknown} {} {{name}} {name", vars);
    CHECK_EQ_STR(s, "Дякуємо, Оксана! 21 {unknown} {} {Оксана} {name");
    free(s);
    s = i18n_fill("{count}", NULL);
    CHECK_EQ_STR(s, "{count}");
    free(s);
    s = i18n_fill("", vars);
    CHECK_EQ_STR(s, "");
    free(s);
}

static void loading(void)
{
    char err[256];
    CHECK(i18n_load("en", err, sizeof err));
    CHECK_EQ_STR(i18n_default(), "en");
    CHECK_EQ_STR(i18n_negotiate("uk", "uk"), "en"); /* not offered now */
    CHECK_EQ_STR(i18n_text("uk", "errors.not_found"), "Nothing was found.");
    CHECK(i18n_load(" en , uk ", err, sizeof err));
    CHECK_EQ_STR(i18n_default(), "en");
    CHECK_EQ_INT(i18n_count(), 2);

    static const char *const bad[] = {"",  ",",     "uk,,en", "uk,en,uk", "uk,xx", "UK",   "uk;en",
                                      "u", "uk en", "uk,",    "../uk",    "uk-",   "ukr-x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        bool ok = i18n_load(bad[i], err, sizeof err);
        check_record(!ok, __FILE__, __LINE__, "bad PATROND_LANGUAGES refused");
        if (ok) printf("    accepted \"%s\"\n", bad[i]);
        CHECK(!strncmp(err, "PATROND_LANGUAGES: ", 19));
        CHECK_EQ_INT(i18n_count(), 0);
    }
    CHECK(strstr((i18n_load("uk,xx", err, sizeof err), err), "no catalogue for \"xx\""));
    CHECK(i18n_load("uk,en", err, sizeof err));
}

/* Every problem code the server can answer has a text in every
 * catalogue, so no page falls back to English `detail`. */
static void every_error_translated(void)
{
    static const char *const codes[] = {
#define ERR(name, status, type, title) #name,
#include "errors.def"
#undef ERR
    };
    for (size_t l = 0; l < i18n_count(); l++)
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            char key[96];
            snprintf(key, sizeof key, "errors.%s", codes[i]);
            bool ok = i18n_has(i18n_code(l), key);
            check_record(ok, __FILE__, __LINE__, "every error code translated");
            if (!ok) printf("    %s: no %s\n", i18n_code(l), key);
        }
}

int main(void)
{
    char err[256];
    if (!i18n_load("uk,en", err, sizeof err)) {
        printf("FAIL: %s\n", err);
        return 1;
    }
    plurals();
    negotiation();
    texts();
    fill();
    every_error_translated();
    loading();
    i18n_free();
    CHECK_DONE();
}
