#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "encode.h"
#include "liqpay_sign.h"
#include "money.h"
#include "provider.h"
#include "provider_kit.h"

#define PLEDGE "3f2b8c1e-9a4d-4e7b-8c21-5d6f7a8b9c0d"
#define NOW 1700000000 /* 2023-11-14 22:13:20 UTC */

static struct config base_config(void)
{
    static char public_url[] = "https://members.example.org";
    return (struct config){.public_url = public_url};
}

static struct checkout_order order(const char *interval, int64_t amount, const char *currency)
{
    return (struct checkout_order){.pledge_id = PLEDGE,
                                   .email = "Reader+news@example.org",
                                   .currency = currency,
                                   .interval = interval,
                                   .return_url = "https://news.example.org/thanks?x=1",
                                   .amount_minor = amount,
                                   .now = NOW};
}

static const char *field(json_t *redirect, const char *name)
{
    return json_string_value(json_object_get(json_object_get(redirect, "fields"), name));
}

static void test_configured_providers(void)
{
    struct config c = base_config();
    const char *list[PROVIDERS_COUNT + 1];
    CHECK_EQ_INT(checkout_providers(&c, list), 0);
    CHECK(list[0] == NULL);
    struct checkout_order o = order("month", 500, "UAH");
    CHECK(checkout_redirect(&c, "liqpay", &o) == NULL);
    CHECK(checkout_redirect(&c, "paypal", &o) == NULL);

    *config_slot(&c, "PATROND_LIQPAY_PUBLIC_KEY") = "pub";
    CHECK_EQ_INT(checkout_providers(&c, list), 0); /* half a key pair is not configured */
    *config_slot(&c, "PATROND_LIQPAY_PRIVATE_KEY") = "priv";
    *config_slot(&c, "PATROND_STRIPE_PAYMENT_LINK") = "https://buy.stripe.com/test_123";
    CHECK_EQ_INT(checkout_providers(&c, list), 2);
    CHECK_EQ_STR(list[0], "liqpay");
    CHECK_EQ_STR(list[1], "stripe");
    CHECK(list[2] == NULL);
    *config_slot(&c, "PATROND_WAYFORPAY_MERCHANT") = "m";
    *config_slot(&c, "PATROND_WAYFORPAY_SECRET") = "s";
    *config_slot(&c, "PATROND_PATREON_CAMPAIGN_URL") = "https://www.patreon.com/example";
    CHECK_EQ_INT(checkout_providers(&c, list), 4);

    CHECK(checkout_echoes_order_id("liqpay"));
    CHECK(checkout_echoes_order_id("wayforpay"));
    CHECK(!checkout_echoes_order_id("stripe"));
    CHECK(!checkout_echoes_order_id("patreon"));
    CHECK(!checkout_echoes_order_id("nope"));
}

/* The worked example of the reference (§13.7). */
static void test_liqpay_signature_vector(void)
{
    const char *data =
        "eyJhY3Rpb24iOiJzdWJzY3JpYmUiLCJwYXltZW50X2lkIjoxNjUxNTYsInN0YXR1cyI6InN1YnNjcmliZWQiLCJ2"
        "ZXJzaW9uIjozLCJvcmRlcl9pZCI6InBsZWRnZS00MiIsImFtb3VudCI6NS4wLCJjdXJyZW5jeSI6IlVBSCIsImVu"
        "ZF9kYXRlIjoxNTAxNjgwODU0NTk5fQ==";
    char sig[29];
    CHECK(liqpay_signature("sandbox_private_key_test", data, sig));
    CHECK_EQ_STR(sig, "JY9xJnBFkmS+vDHxo6U0lkYmMHQ=");
}

/* The order JSON inside a LiqPay redirect's `data`. */
static json_t *liqpay_order(json_t *redirect)
{
    const char *data = field(redirect, "data");
    if (!data) return NULL;
    size_t len = strlen(data), n = 0;
    uint8_t *raw = malloc(len);
    json_t *order = NULL;
    if (raw && base64_decode(data, len, raw, len, &n))
        order = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
    free(raw);
    return order;
}

static const char *str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

struct kv {
    const char *key, *value;
};

/* Each key's string value in obj, one check each. */
static void check_strings(json_t *obj, const struct kv *want)
{
    for (; want->key; want++) {
        CHECK_EQ_STR(str(obj, want->key), want->value);
        if (strcmp(str(obj, want->key) ? str(obj, want->key) : "", want->value))
            printf("    at %s\n", want->key);
    }
}

static void test_liqpay_subscription(void)
{
    struct config c = base_config();
    *config_slot(&c, "PATROND_LIQPAY_PUBLIC_KEY") = "sandbox_i000";
    *config_slot(&c, "PATROND_LIQPAY_PRIVATE_KEY") = "sandbox_secret";
    struct checkout_order o = order("month", 12345, "UAH");
    json_t *r = checkout_redirect(&c, "liqpay", &o);
    CHECK(r != NULL);
    CHECK_EQ_STR(str(r, "method"), "POST");
    CHECK_EQ_STR(str(r, "url"), "https://www.liqpay.ua/api/3/checkout");
    char sig[29];
    CHECK(liqpay_signature("sandbox_secret", field(r, "data"), sig));
    CHECK_EQ_STR(field(r, "signature"), sig);
    CHECK_EQ_INT(json_object_size(json_object_get(r, "fields")), 2);

    json_t *d = liqpay_order(r);
    CHECK(d != NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(d, "version")), 3);
    static const struct kv order_fields[] = {
        {"public_key", "sandbox_i000"},
        {"action", "subscribe"},
        {"amount", "123.45"},
        {"currency", "UAH"},
        {"order_id", PLEDGE},
        {"server_url", "https://members.example.org/v1/webhooks/liqpay"},
        {"result_url", "https://news.example.org/thanks?x=1"},
        {"subscribe", "1"},
        {"subscribe_date_start", "2023-11-14 22:13:20"},
        {"subscribe_periodicity", "month"},
        {NULL, NULL},
    };
    check_strings(d, order_fields);
    CHECK(str(d, "description") != NULL);
    json_decref(d);
    json_decref(r);

    o = order("year", 100, "USD");
    r = checkout_redirect(&c, "liqpay", &o);
    d = liqpay_order(r);
    CHECK_EQ_STR(str(d, "subscribe_periodicity"), "year");
    CHECK_EQ_STR(str(d, "amount"), "1.00");
    json_decref(d);
    json_decref(r);
}

static void test_liqpay_one_off(void)
{
    struct config c = base_config();
    *config_slot(&c, "PATROND_LIQPAY_PUBLIC_KEY") = "pk";
    *config_slot(&c, "PATROND_LIQPAY_PRIVATE_KEY") = "sk";
    struct checkout_order o = order("once", 500, "JPY");
    o.return_url = NULL;
    json_t *r = checkout_redirect(&c, "liqpay", &o);
    json_t *d = liqpay_order(r);
    CHECK(d != NULL);
    CHECK_EQ_STR(str(d, "action"), "pay");
    CHECK_EQ_STR(str(d, "amount"), "500"); /* JPY has no minor digits */
    CHECK(json_object_get(d, "subscribe") == NULL);
    CHECK(json_object_get(d, "subscribe_periodicity") == NULL);
    CHECK(json_object_get(d, "result_url") == NULL);
    json_decref(d);
    json_decref(r);
}

/* hex HMAC-MD5, computed here with OpenSSL's one-shot HMAC. */
static void hmac_md5_hex(const char *key, const char *msg, char hex[33])
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    HMAC(EVP_md5(), key, (int)strlen(key), (const uint8_t *)msg, strlen(msg), mac, &n);
    hex_encode(mac, n, hex);
}

static const char *array_item(json_t *redirect, const char *name)
{
    json_t *a = json_object_get(json_object_get(redirect, "fields"), name);
    return json_array_size(a) == 1 ? json_string_value(json_array_get(a, 0)) : NULL;
}

static void test_wayforpay(void)
{
    struct config c = base_config();
    char url[] = "https://user@Donate.example.org:8443/base";
    c.public_url = url;
    *config_slot(&c, "PATROND_WAYFORPAY_MERCHANT") = "test_merch_n1";
    *config_slot(&c, "PATROND_WAYFORPAY_SECRET") = "flk3409refn54t54t*FNJRET";
    struct checkout_order o = order("month", 550, "UAH");
    json_t *r = checkout_redirect(&c, "wayforpay", &o);
    CHECK(r != NULL);
    CHECK_EQ_STR(str(r, "method"), "POST");
    CHECK_EQ_STR(str(r, "url"), "https://secure.wayforpay.com/pay");
    static const struct kv form_fields[] = {
        {"merchantAccount", "test_merch_n1"},
        {"merchantDomainName", "Donate.example.org"},
        {"orderReference", PLEDGE},
        {"orderDate", "1700000000"},
        {"amount", "5.5"},
        {"currency", "UAH"},
        {"serviceUrl", "https://user@Donate.example.org:8443/base/v1/webhooks/wayforpay"},
        {"returnUrl", "https://news.example.org/thanks?x=1"},
        {"clientEmail", "Reader+news@example.org"},
        {NULL, NULL},
    };
    check_strings(json_object_get(r, "fields"), form_fields);
    CHECK_EQ_STR(array_item(r, "productCount[]"), "1");
    CHECK_EQ_STR(array_item(r, "productPrice[]"), "5.5");
    const char *product = array_item(r, "productName[]");
    CHECK(product != NULL);
    char signed_text[512], want[33];
    snprintf(signed_text, sizeof signed_text,
             "test_merch_n1;Donate.example.org;" PLEDGE ";1700000000;5.5;UAH;%s;1;5.5",
             product ? product : "");
    hmac_md5_hex("flk3409refn54t54t*FNJRET", signed_text, want);
    CHECK_EQ_STR(field(r, "merchantSignature"), want);
    json_decref(r);

    /* whole amounts print without decimals, small ones keep theirs */
    const struct {
        int64_t minor;
        const char *text;
    } amounts[] = {{500, "5"}, {1, "0.01"}, {10, "0.1"}, {100000, "1000"}, {1234567, "12345.67"}};
    for (size_t i = 0; i < sizeof amounts / sizeof amounts[0]; i++) {
        o = order("once", amounts[i].minor, "USD");
        o.return_url = NULL;
        r = checkout_redirect(&c, "wayforpay", &o);
        CHECK_EQ_STR(field(r, "amount"), amounts[i].text);
        CHECK(json_object_get(json_object_get(r, "fields"), "returnUrl") == NULL);
        json_decref(r);
    }

    char v6[] = "http://[::1]:8080";
    c.public_url = v6;
    r = checkout_redirect(&c, "wayforpay", &o);
    CHECK_EQ_STR(field(r, "merchantDomainName"), "[::1]");
    json_decref(r);
}

/* A month or year pledge asks WayForPay for a regular payment with the
 * Purchase form's fields (wayforpay/php-sdk PurchaseForm); they are not
 * signed, so the signature stays the one over the order. */
static void test_wayforpay_regular(void)
{
    static const char *const keys[] = {"regularBehavior", "regularMode", "regularAmount",
                                       "dateNext",        "dateEnd",     "regularOn"};
    const struct {
        const char *interval;
        time_t now;
        const char *values[6]; /* in keys' order; NULL: no such field */
    } rows[] = {
        {"month", NOW, {"preset", "monthly", "5.5", "14.12.2023", "14.11.2033", "1"}},
        {"year", NOW, {"preset", "yearly", "5.5", "14.11.2024", "14.11.2033", "1"}},
        /* 2024-01-31: February has no 31st; 2024-02-29: 2025 has no 29 February */
        {"month", 1706659200, {"preset", "monthly", "5.5", "29.02.2024", "31.01.2034", "1"}},
        {"year", 1709164800, {"preset", "yearly", "5.5", "28.02.2025", "28.02.2034", "1"}},
        {"month", 1703980800, {"preset", "monthly", "5.5", "31.01.2024", "31.12.2033", "1"}},
        {"once", NOW, {NULL, NULL, NULL, NULL, NULL, NULL}},
    };
    struct config c = base_config();
    *config_slot(&c, "PATROND_WAYFORPAY_MERCHANT") = "test_merch_n1";
    *config_slot(&c, "PATROND_WAYFORPAY_SECRET") = "flk3409refn54t54t*FNJRET";
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct checkout_order o = order(rows[i].interval, 550, "UAH");
        o.now = rows[i].now;
        json_t *r = checkout_redirect(&c, "wayforpay", &o);
        CHECK(r != NULL);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const char *got = field(r, keys[k]);
            CHECK_EQ_STR(got, rows[i].values[k]);
            if (rows[i].values[k] && (!got || strcmp(got, rows[i].values[k])))
                printf("    %s: %s, row %zu\n", rows[i].interval, keys[k], i);
        }
        const char *product = array_item(r, "productName[]");
        char signed_text[512], want[33];
        snprintf(signed_text, sizeof signed_text,
                 "test_merch_n1;members.example.org;" PLEDGE ";%lld;5.5;UAH;%s;1;5.5",
                 (long long)rows[i].now, product ? product : "");
        hmac_md5_hex("flk3409refn54t54t*FNJRET", signed_text, want);
        CHECK_EQ_STR(field(r, "merchantSignature"), want);
        json_decref(r);
    }
}

/* The redirect of a provider whose checkout is a link set in `env`: a GET. */
static json_t *link_checkout(const char *provider, const char *env, char *link, const char *email)
{
    struct config c = base_config();
    *config_slot(&c, env) = link;
    struct checkout_order o = order("month", 500, "EUR");
    if (email) o.email = email;
    json_t *r = checkout_redirect(&c, provider, &o);
    CHECK_EQ_STR(str(r, "method"), "GET");
    return r;
}

static void test_stripe(void)
{
    char link[] = "https://buy.stripe.com/test_abc";
    json_t *r = link_checkout("stripe", "PATROND_STRIPE_PAYMENT_LINK", link, NULL);
    CHECK_EQ_STR(str(r, "url"), "https://buy.stripe.com/test_abc?client_reference_id=" PLEDGE
                                "&prefilled_email=Reader%2Bnews%40example.org");
    CHECK(json_object_get(r, "fields") == NULL);
    json_decref(r);

    char with_query[] = "https://buy.stripe.com/test_abc?locale=uk";
    r = link_checkout("stripe", "PATROND_STRIPE_PAYMENT_LINK", with_query, "a.b_c-d~e@x.example");
    CHECK_EQ_STR(str(r, "url"),
                 "https://buy.stripe.com/test_abc?locale=uk&client_reference_id=" PLEDGE
                 "&prefilled_email=a.b_c-d~e%40x.example");
    json_decref(r);
}

static void test_patreon(void)
{
    char url[] = "https://www.patreon.com/examplenews";
    json_t *r = link_checkout("patreon", "PATROND_PATREON_CAMPAIGN_URL", url, NULL);
    CHECK_EQ_STR(str(r, "url"), "https://www.patreon.com/examplenews");
    CHECK_EQ_INT(json_object_size(r), 2);
    json_decref(r);
}

int main(void)
{
    test_configured_providers();
    test_liqpay_signature_vector();
    test_liqpay_subscription();
    test_liqpay_one_off();
    test_wayforpay();
    test_wayforpay_regular();
    test_stripe();
    test_patreon();
    return CHECK_DONE();
}
