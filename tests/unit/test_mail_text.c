/* The mail renderer (api/core/mail_text.c) over catalogues of its own
 * (this file defines the asset table, see the Makefile): placeholders,
 * Ukrainian and English plural forms for 1, 2, 5 and 21, money and dates
 * as each language writes them, the links it builds, and a text missing
 * from a language taken from the default one. */
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "check.h"
#include "i18n.h"
#include "mail_text.h"

#define UK_CATALOGUE                                                                                      \
    "{\"language\": {\"code\": \"uk\", \"name\": \"Українська\", \"plural_rule\": "             \
    "\"east_slavic\"},"                                                                                   \
    " \"mail\": {"                                                                                        \
    "  \"format\": {\"decimal\": \",\", \"group\": \" \", \"money\": \"{amount} {currency}\","            \
    "             \"date\": \"{day} {month} {year} р.\", \"month_1\": \"січня\","                   \
    "             \"month_12\": \"грудня\", \"currency_UAH\": \"грн\"},"                         \
    "  \"signature\": \"— {site}\","                                                                    \
    "  \"receipt\": {\"subject\": \"{site}: {amount}\","                                                  \
    "               \"body\": \"Оплачено {days}, до {until} ({date}, {payment_id}).\","         \
    "               \"days\": {\"one\": \"{count} день\", \"few\": \"{count} дні\","               \
    "                          \"many\": \"{count} днів\", \"other\": \"{count} дня\"}},"          \
    "  \"payment_failed\": {\"subject\": \"Не вдалося\","                                        \
    "                      \"body\": \"{reason} {pay_again_url}\", \"no_reason\": \"—\"},"              \
    "  \"ends_soon\": {\"subject\": \"Закінчується {until}\", \"body\": \"Поновіть: " \
    "{donate_url}\\n\"}}}"

/* English has no ends_soon and no text for a missing reason: its patrons
 * get the default language's. */
#define EN_CATALOGUE                                                                               \
    "{\"language\": {\"code\": \"en\", \"name\": \"English\", \"plural_rule\": \"one_other\"},"    \
    " \"mail\": {"                                                                                 \
    "  \"format\": {\"decimal\": \".\", \"group\": \",\", \"money\": \"{amount} {currency}\","     \
    "             \"date\": \"{month} {day}, {year}\", \"month_1\": \"January\","                  \
    "             \"month_12\": \"December\"},"                                                    \
    "  \"signature\": \"- {site}\","                                                               \
    "  \"receipt\": {\"subject\": \"{site}: {amount}\","                                           \
    "               \"body\": \"Pays for {days}, until {until} ({date}, {payment_id}).\","         \
    "               \"days\": {\"one\": \"{count} day\", \"other\": \"{count} days\"}},"           \
    "  \"payment_failed\": {\"subject\": \"Failed\","                                              \
    "                      \"body\": \"{reason} {pay_again_url}\"}}}"

static const unsigned char uk_json[] = UK_CATALOGUE;
static const unsigned char en_json[] = EN_CATALOGUE;
const struct asset assets[] = {
    {"/assets/i18n/uk.json", "application/json", uk_json, sizeof uk_json - 1, "\"uk\""},
    {"/assets/i18n/en.json", "application/json", en_json, sizeof en_json - 1, "\"en\""},
};
const size_t assets_count = sizeof assets / sizeof assets[0];

static const struct mail_site site = {"Новини", "https://news.example/support"};

/* Renders and checks subject and body; NULL expects a refusal. */
static void expect(const char *kind, const char *lang, const char *params, const char *subject,
                   const char *body)
{
    char *s = NULL, *b = NULL;
    const char *problem = NULL;
    bool ok = mail_text_render(kind, lang, params, &site, &s, &b, &problem);
    CHECK(ok == (subject != NULL));
    if (subject) {
        CHECK_EQ_STR(s, subject);
        CHECK_EQ_STR(b, body);
    } else {
        CHECK(s == NULL && b == NULL && problem != NULL);
    }
    free(s);
    free(b);
}

static void receipt(const char *lang, long long days, const char *subject, const char *body)
{
    char params[256];
    snprintf(params, sizeof params,
             "{\"amount_minor\": 123456789, \"currency\": \"UAH\", \"paid_at\": "
             "\"2026-12-02T10:00:00Z\", \"payment_id\": \"pay_1\", \"until\": "
             "\"2027-01-05T10:00:00Z\", \"count\": %lld}",
             days);
    expect("receipt", lang, params, subject, body);
}

static void test_plural_forms(void)
{
    static const struct {
        long long n;
        const char *uk, *en;
    } cases[] = {
        {1, "1 день", "1 day"},     {2, "2 дні", "2 days"},     {5, "5 днів", "5 days"},
        {21, "21 день", "21 days"}, {11, "11 днів", "11 days"}, {0, "0 днів", "0 days"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "Оплачено %s, до 5 січня 2027 р. (2 грудня 2026 р., pay_1).\n\n— Новини\n",
                 cases[i].uk);
        receipt("uk", cases[i].n, "Новини: 1 234 567,89 грн", body);
        snprintf(body, sizeof body,
                 "Pays for %s, until January 5, 2027 (December 2, 2026, pay_1).\n\n- Новини\n",
                 cases[i].en);
        receipt("en", cases[i].n, "Новини: 1,234,567.89 UAH", body);
    }
}

static void test_languages(void)
{
    /* no locale, or one not offered: the default language */
    expect("ends_soon", NULL, "{\"until\": \"2026-01-31T00:00:00Z\"}",
           "Закінчується 31 січня 2026 р.",
           "Поновіть: https://news.example/support/donate?lang=uk\n\n— Новини\n");
    expect("ends_soon", "de", "{\"until\": \"2026-01-31T00:00:00Z\"}",
           "Закінчується 31 січня 2026 р.",
           "Поновіть: https://news.example/support/donate?lang=uk\n\n— Новини\n");
    /* a mail English lacks comes whole in Ukrainian, its date and links too */
    expect("ends_soon", "en", "{\"until\": \"2026-12-31T00:00:00Z\"}",
           "Закінчується 31 грудня 2026 р.",
           "Поновіть: https://news.example/support/donate?lang=uk\n\n— Новини\n");
}

static void test_pay_again(void)
{
    expect("payment_failed", "en",
           "{\"amount_minor\": 500, \"currency\": \"USD\", \"interval\": \"month\", \"provider\": "
           "\"stripe\", \"reason\": \"Card declined & expired\"}",
           "Failed",
           "Card declined & expired https://news.example/support/donate?amount_minor=500&"
           "currency=USD&interval=month&provider=stripe&lang=en\n\n- Новини\n");
    expect("payment_failed", "uk",
           "{\"amount_minor\": 100, \"currency\": \"JPY\", \"interval\": \"once\", \"provider\": "
           "\"liq pay\", \"reason\": \"\"}",
           "Не вдалося",
           "— https://news.example/support/donate?amount_minor=100&currency=JPY&interval=once&"
           "provider=liq%20pay&lang=uk\n\n— Новини\n");
}

/* One text missing from a mail the language has: that text alone comes
 * from the default language. */
static void test_missing_text(void)
{
    expect("payment_failed", "en",
           "{\"amount_minor\": 500, \"currency\": \"USD\", \"interval\": \"month\", \"provider\": "
           "\"stripe\"}",
           "Failed",
           "— https://news.example/support/donate?amount_minor=500&currency=USD&interval=month&"
           "provider=stripe&lang=en\n\n- Новини\n");
}

static void test_refusals(void)
{
    expect("no_such_kind", "uk", "{}", NULL, NULL);
    expect("receipt", "uk", "[1]", NULL, NULL);
    expect("receipt", "uk", "not json", NULL, NULL);
    expect("../receipt", "uk", "{}", NULL, NULL);
}

int main(void)
{
    char err[256];
    CHECK(i18n_load("uk,en", err, sizeof err));
    test_plural_forms();
    test_languages();
    test_pay_again();
    test_missing_text();
    test_refusals();
    i18n_free();
    return CHECK_DONE();
}
