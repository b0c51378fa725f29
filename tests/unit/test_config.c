#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "i18n.h"
#include "money.h"

/* The fake environment: name/value pairs, reset by each test. */
#define MAX_VARS 16
static const char *vars[MAX_VARS][2];
static size_t nvars;

static const char *fake_env(const char *name)
{
    for (size_t i = 0; i < nvars; i++)
        if (!strcmp(vars[i][0], name)) return vars[i][1];
    return NULL;
}

static void env_reset(void)
{
    nvars = 0;
}

static void env_set(const char *name, const char *value)
{
    if (nvars < MAX_VARS) {
        vars[nvars][0] = name;
        vars[nvars][1] = value;
        nvars++;
    }
}

static char err[512];

static bool load(struct config *c)
{
    err[0] = '\0';
    return config_load(c, fake_env, "/srv/patrond", err, sizeof err);
}

/* Loads with one variable set and expects failure with exactly `message`. */
static void expect_error(const char *name, const char *value, const char *message)
{
    struct config c;
    env_reset();
    env_set(name, value);
    CHECK(!load(&c));
    CHECK_EQ_STR(err, message);
    CHECK(c.database_url == NULL && c.listen_host == NULL);
}

/* Loads with one variable set and expects failure naming it. */
static void expect_rejected(const char *name, const char *value)
{
    struct config c;
    env_reset();
    env_set(name, value);
    CHECK(!load(&c));
    CHECK(!strncmp(err, name, strlen(name)) && err[strlen(name)] == ':');
    if (strncmp(err, name, strlen(name))) printf("    %s=%s: \"%s\"\n", name, value, err);
}

static void expect_accepted(const char *name, const char *value)
{
    struct config c;
    env_reset();
    env_set(name, value);
    bool ok = load(&c);
    CHECK(ok);
    if (!ok) printf("    %s=%s: \"%s\"\n", name, value, err);
    config_free(&c);
}

static void test_defaults(void)
{
    struct config c;
    env_reset();
    CHECK(load(&c));
    CHECK_EQ_STR(c.database_url, "host=/srv/patrond/var/pg/run user=patrond dbname=patrond");
    CHECK_EQ_STR(c.database_read_url, c.database_url);
    CHECK(c.database_read_url != c.database_url);
    CHECK_EQ_STR(c.listen_host, "127.0.0.1");
    CHECK_EQ_INT(c.listen_port, 8080);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    CHECK_EQ_INT(c.threads, cpus < 1 ? 1 : cpus > 256 ? 256 : cpus);
    CHECK_EQ_INT(c.db_threads, 16);
    CHECK_EQ_STR(c.public_url, "http://127.0.0.1:8080");
    CHECK_EQ_STR(c.cors_origins, NULL);
    CHECK_EQ_STR(c.mail_command, NULL);
    CHECK_EQ_STR(c.currencies, "UAH,USD,EUR,GBP,PLN");
    CHECK(currency_allowed("UAH") && currency_allowed("PLN") && !currency_allowed("JPY"));
    CHECK_EQ_STR(c.languages, "uk,en");
    CHECK_EQ_STR(i18n_default(), "uk");
    CHECK_EQ_STR(c.site_name, "patrond");
    CHECK_EQ_INT(c.max_amount_minor, 100000000);
    CHECK_EQ_INT(c.body_limit, 1048576);
    CHECK_EQ_INT(c.import_max_bytes, 64 * 1024 * 1024);
    CHECK_EQ_STR(*config_slot(&c, "PATROND_PATREON_CURRENCY"), "USD");
    CHECK_EQ_STR(*config_slot(&c, "PATROND_STRIPE_WEBHOOK_SECRET"), NULL);
    CHECK_EQ_STR(*config_slot(&c, "PATROND_STANDARD_WEBHOOK_SECRET"), NULL);
    CHECK_EQ_STR(*config_slot(&c, "PATROND_PAYPAL_CERT_FILE"), NULL);
    config_free(&c);
    CHECK(c.database_url == NULL && c.public_url == NULL && c.threads == 0);
}

static void test_values(void)
{
    struct config c;
    env_reset();
    env_set("DATABASE_URL", "postgres://db/patrond");
    env_set("PATROND_LISTEN", "[::1]:9000");
    env_set("PATROND_THREADS", "256");
    env_set("PATROND_DB_THREADS", "3");
    env_set("PATROND_PUBLIC_URL", "https://news.example.org//");
    env_set("PATROND_CORS_ORIGINS", " https://news.example.org , http://localhost:3000");
    env_set("PATROND_MAIL_COMMAND", "/usr/sbin/sendmail -t");
    env_set("PATROND_CURRENCIES", " JPY , BHD");
    env_set("PATROND_MAX_AMOUNT_MINOR", "9007199254740991");
    env_set("PATROND_BODY_LIMIT", "1024");
    env_set("PATROND_IMPORT_MAX_BYTES", "2048");
    env_set("PATROND_PATREON_CURRENCY", "EUR");
    env_set("PATROND_STRIPE_WEBHOOK_SECRET", "whsec_a,whsec_b");
    env_set("PATROND_STRIPE_PAYMENT_LINK", "https://buy.stripe.com/x");
    CHECK(load(&c));
    CHECK_EQ_STR(c.database_url, "postgres://db/patrond");
    CHECK_EQ_STR(c.database_read_url, "postgres://db/patrond");
    CHECK_EQ_STR(c.listen_host, "::1");
    CHECK_EQ_INT(c.listen_port, 9000);
    CHECK_EQ_INT(c.threads, 256);
    CHECK_EQ_INT(c.db_threads, 3);
    CHECK_EQ_STR(c.public_url, "https://news.example.org");
    CHECK_EQ_STR(c.cors_origins, "https://news.example.org,http://localhost:3000");
    CHECK_EQ_STR(c.mail_command, "/usr/sbin/sendmail -t");
    CHECK(currency_allowed("JPY") && currency_allowed("BHD") && !currency_allowed("UAH"));
    CHECK_EQ_INT(c.max_amount_minor, 9007199254740991);
    CHECK_EQ_INT(c.body_limit, 1024);
    CHECK_EQ_INT(c.import_max_bytes, 2048);
    CHECK_EQ_STR(*config_slot(&c, "PATROND_PATREON_CURRENCY"), "EUR");
    CHECK_EQ_STR(*config_slot(&c, "PATROND_STRIPE_WEBHOOK_SECRET"), "whsec_a,whsec_b");
    CHECK_EQ_STR(*config_slot(&c, "PATROND_STRIPE_PAYMENT_LINK"), "https://buy.stripe.com/x");
    config_free(&c);

    /* A working directory with a space is quoted for libpq. */
    env_reset();
    CHECK(config_load(&c, fake_env, "/home/o'neil/my app", err, sizeof err));
    CHECK_EQ_STR(c.database_url,
                 "host='/home/o\\'neil/my app/var/pg/run' user=patrond dbname=patrond");
    config_free(&c);
}

static void test_errors(void)
{
    expect_error("PATROND_THREADS", "abc",
                 "PATROND_THREADS: must be an integer between 1 and 256 (got \"abc\")");
    expect_error("PATROND_BODY_LIMIT", "1023",
                 "PATROND_BODY_LIMIT: must be an integer between 1024 and 67108864 (got \"1023\")");
    expect_error("PATROND_MAX_AMOUNT_MINOR", "0",
                 "PATROND_MAX_AMOUNT_MINOR: must be an integer between 1 and 9007199254740991 "
                 "(got \"0\")");
    /* Control characters in a quoted value are neutralised. */
    expect_error("PATROND_THREADS", "1\n2",
                 "PATROND_THREADS: must be an integer between 1 and 256 (got \"1?2\")");
    expect_error("PATROND_CURRENCIES", "UAH, usd",
                 "PATROND_CURRENCIES: \"usd\" is not an upper-case ISO 4217 currency code (got "
                 "\"UAH, usd\")");
    /* the newsroom's name goes into every mail's From and Subject */
    expect_error("PATROND_SITE_NAME", "News\r\nBcc: x@example.org",
                 "PATROND_SITE_NAME: must be 1 to 100 characters of text on one line (got "
                 "\"News??Bcc: x@example.org\")");
    expect_rejected("PATROND_SITE_NAME", "News\tRoom");
    expect_rejected("PATROND_SITE_NAME", "\xff\xfe");
    expect_accepted("PATROND_SITE_NAME", "Новини Громади");
    /* at most 100 characters, however many bytes */
    char name[512];
    snprintf(name, sizeof name, "%s%s",
             "ЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇ"
             "ЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇ",
             "ЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇЇ");
    expect_accepted("PATROND_SITE_NAME", name);
    strcat(name, "x");
    expect_rejected("PATROND_SITE_NAME", name);
    expect_error("PATROND_LANGUAGES", "uk,xx",
                 "PATROND_LANGUAGES: no catalogue for \"xx\" (web/i18n/xx.json)");

    const char *bad[][2] = {
        {"PATROND_THREADS", "0"},
        {"PATROND_DB_THREADS", "0"},
        {"PATROND_DB_THREADS", "257"},
        {"PATROND_THREADS", "257"},
        {"PATROND_THREADS", "-1"},
        {"PATROND_THREADS", " 4"},
        {"PATROND_LISTEN", "127.0.0.1"},
        {"PATROND_LISTEN", "127.0.0.1:0"},
        {"PATROND_LISTEN", "127.0.0.1:65536"},
        {"PATROND_LISTEN", "127.0.0.1:80x"},
        {"PATROND_LISTEN", "256.0.0.1:80"},
        {"PATROND_LISTEN", "example.com:80"},
        {"PATROND_LISTEN", ":8080"},
        {"PATROND_LISTEN", "::1:8080"},
        {"PATROND_LISTEN", "[::1]"},
        {"PATROND_LISTEN", "[]:80"},
        {"PATROND_LISTEN", "[127.0.0.1]:80"},
        {"PATROND_PUBLIC_URL", "ftp://example.org"},
        {"PATROND_PUBLIC_URL", "example.org"},
        {"PATROND_PUBLIC_URL", "https://example.org/?a=1"},
        {"PATROND_CORS_ORIGINS", "https://a.org/"},
        {"PATROND_CORS_ORIGINS", "https://a.org,,https://b.org"},
        {"PATROND_CORS_ORIGINS", "a.org"},
        {"PATROND_CURRENCIES", "XYZ"},
        {"PATROND_CURRENCIES", "UAH,"},
        {"PATROND_CURRENCIES", " , "},
        {"PATROND_LANGUAGES", "uk,uk"},
        {"PATROND_LANGUAGES", "uk,"},
        {"PATROND_LANGUAGES", "Uk"},
        {"PATROND_LANGUAGES", ","},
        {"PATROND_MAX_AMOUNT_MINOR", "9007199254740992"},
        {"PATROND_BODY_LIMIT", "67108865"},
        {"PATROND_BODY_LIMIT", "1e6"},
        {"PATROND_PATREON_CURRENCY", "XYZ"},
        {"PATROND_PATREON_CURRENCY", "usd"},
        {"PATROND_STRIPE_PAYMENT_LINK", "buy.stripe.com/x"},
        {"PATROND_PATREON_CAMPAIGN_URL", "patreon"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_rejected(bad[i][0], bad[i][1]);

    const char *good[][2] = {
        {"PATROND_THREADS", "1"},
        {"PATROND_LISTEN", "0.0.0.0:1"},
        {"PATROND_LISTEN", "localhost:65535"},
        {"PATROND_PUBLIC_URL", "https://example.org/base/"},
        {"PATROND_CORS_ORIGINS", "*"},
        {"PATROND_BODY_LIMIT", "67108864"},
        {"PATROND_PATREON_CURRENCY", "JPY"},
        {"PATROND_THREADS", ""},
        {"PATROND_LANGUAGES", "en"},
        {"PATROND_LANGUAGES", "en, uk"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        expect_accepted(good[i][0], good[i][1]);
}

/* Writes content to a new temporary file and returns its path. */
static char *temp_file(const char *content)
{
    static char paths[4][32];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, 32, "/tmp/patrond-cfg-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return path;
    ssize_t n = write(fd, content, strlen(content));
    CHECK(n == (ssize_t)strlen(content));
    close(fd);
    return path;
}

static void test_files(void)
{
    struct config c;
    char *secret = temp_file("whsec_from_file \n\n");
    char *db = temp_file("postgres://file/db\n");
    env_reset();
    env_set("PATROND_STRIPE_WEBHOOK_SECRET_FILE", secret);
    env_set("DATABASE_URL_FILE", db);
    env_set("PATROND_LIQPAY_PRIVATE_KEY", "");
    env_set("PATROND_LIQPAY_PRIVATE_KEY_FILE", "");
    CHECK(load(&c));
    CHECK_EQ_STR(*config_slot(&c, "PATROND_STRIPE_WEBHOOK_SECRET"), "whsec_from_file");
    CHECK_EQ_STR(c.database_url, "postgres://file/db");
    CHECK_EQ_STR(c.database_read_url, "postgres://file/db");
    CHECK_EQ_STR(*config_slot(&c, "PATROND_LIQPAY_PRIVATE_KEY"), NULL);
    config_free(&c);

    expect_error("PATROND_PADDLE_WEBHOOK_SECRET_FILE", "/nonexistent/secret",
                 "PATROND_PADDLE_WEBHOOK_SECRET_FILE: cannot read /nonexistent/secret: No such "
                 "file or directory");
    expect_rejected("PATROND_DATABASE_READ_URL_FILE", "/nonexistent/url");
    expect_rejected("PATROND_MONOBANK_PUBKEY_FILE", "/");
    char *empty = temp_file(" \n");
    expect_rejected("PATROND_WAYFORPAY_SECRET_FILE", empty);

    env_reset();
    env_set("PATROND_STANDARD_WEBHOOK_SECRET", "whsec_x");
    env_set("PATROND_STANDARD_WEBHOOK_SECRET_FILE", secret);
    CHECK(!load(&c));
    CHECK_EQ_STR(err, "PATROND_STANDARD_WEBHOOK_SECRET and PATROND_STANDARD_WEBHOOK_SECRET_FILE "
                      "are both set; use only one");

    const char *names[] = {"DATABASE_URL",
                           "PATROND_DATABASE_READ_URL",
                           "PATROND_STRIPE_WEBHOOK_SECRET",
                           "PATROND_PATREON_WEBHOOK_SECRET",
                           "PATROND_PAYPAL_WEBHOOK_ID",
                           "PATROND_LIQPAY_PUBLIC_KEY",
                           "PATROND_LIQPAY_PRIVATE_KEY",
                           "PATROND_MONOBANK_PUBKEY",
                           "PATROND_WAYFORPAY_MERCHANT",
                           "PATROND_WAYFORPAY_SECRET",
                           "PATROND_PADDLE_WEBHOOK_SECRET",
                           "PATROND_STANDARD_WEBHOOK_SECRET"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char file_var[96];
        snprintf(file_var, sizeof file_var, "%s_FILE", names[i]);
        env_reset();
        env_set(file_var, db);
        CHECK(load(&c));
        config_free(&c);
        env_set(names[i], "x");
        CHECK(!load(&c) && strstr(err, "both set"));
    }
    unlink(secret);
    unlink(db);
    unlink(empty);
}

int main(void)
{
    test_defaults();
    test_values();
    test_errors();
    test_files();
    currency_allowlist_free();
    return CHECK_DONE();
}
