/* Webhook verifiers and parsers: PayPal, LiqPay, Monobank, WayForPay
 * (reference vectors from /work/shared/reference/webhooks.md §13, fixtures
 * copied byte-exact into tests/fixtures/webhooks). */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "config.h"
#include "provider.h"
#include "provider_kit.h"

#include "liqpay_sign.h"
#include "wh_cases.h"
#include "wh_fake.h"

/* ---- PayPal: the SDK fixture (§13.4) ---- */

#define PAYPAL_TIME 1431963913LL /* 2015-05-18T15:45:13Z, the fixture's own time */
#define DAY 86400LL

static const char paypal_sig[] =
    "thy4/U002quzxFavHPwbfJGcc46E8rc5jzgyeafWm5mICTBdY/8rl7WJpn8JA0GKA+oDTPsSruqusw+XXg5RLAP7ip53E"
    "uh9Xu3UbUhQFX7UgwzE2FeYoY6lyRMiiiQLzy9BvHfIzNIVhPad4KnC339dr6y2l+mN8ALgI4GCdIh3/SoJO5wE64Bh/"
    "ueWtt8EVuvsvXfda2Le5a2TrOI9vLEzsm9GS79hAR/5oLexNz8UiZr045Mr5ObroH4w4oNfmkTaDk9Rj0G19uvISs5Qz"
    "gmBpauKr7Nw++JI0pr/v5mFctQkoWJSGfBGzPRXawrvIIVHQ9Wer48GR2g9ZiApWg==";

static void paypal_headers(void)
{
    nheaders = 0;
    header("PAYPAL-TRANSMISSION-ID", "dfb3be50-fd74-11e4-8bf3-77339302725b");
    header("PAYPAL-TRANSMISSION-TIME", "2015-05-18T15:45:13Z");
    header("PAYPAL-TRANSMISSION-SIG", paypal_sig);
    header("PAYPAL-AUTH-ALGO", "SHA256withRSA");
    header("PAYPAL-CERT-URL", "https://api.sandbox.paypal.com/v1/notifications/certs/"
                              "CERT-360caa42-fca2a594-a5cafa77");
}

static void test_paypal_verify(void)
{
    size_t len;
    char *body = read_fixture("paypal-body.json", &len);
    CHECK(body && len == 1288);
    if (!body) return;
    *config_slot(&cfg, "PATROND_PAYPAL_WEBHOOK_ID") = "4JH86294D6297924G";
    *config_slot(&cfg, "PATROND_PAYPAL_CERT_FILE") =
        "tests/fixtures/webhooks/paypal-sandbox-cert.pem";
    CHECK(provider_configured(&provider_paypal, &cfg));
    paypal_headers();

    CHECK(verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    /* Retries may keep the first transmission time: a day later still passes. */
    CHECK(verify_n(&provider_paypal, body, len, PAYPAL_TIME + DAY));
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME + 5 * DAY));
    CHECK_EQ_STR(why, "transmission time out of tolerance");
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME - 301));
    CHECK(verify_n(&provider_paypal, body, len, PAYPAL_TIME - 300));

    /* Tampered body: one byte, and one byte fewer. */
    body[100] ^= 1;
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    CHECK_EQ_STR(why, "signature mismatch");
    body[100] ^= 1;
    CHECK(!verify_n(&provider_paypal, body, len - 1, PAYPAL_TIME));

    /* The webhook id is signed; either of two configured ids may match. */
    *config_slot(&cfg, "PATROND_PAYPAL_WEBHOOK_ID") = "WH-0G2756385H040842W-5Y612302CV158622M";
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    *config_slot(&cfg, "PATROND_PAYPAL_WEBHOOK_ID") = "1AB23456CD7890123E, 4JH86294D6297924G";
    CHECK(verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    *config_slot(&cfg, "PATROND_PAYPAL_WEBHOOK_ID") = "4JH86294D6297924G";

    /* The signed fields themselves. */
    header("PAYPAL-TRANSMISSION-ID", "dfb3be50-fd74-11e4-8bf3-77339302725c");
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    header("PAYPAL-TRANSMISSION-ID", "dfb3be50-fd74-11e4-8bf3-77339302725b");
    header("PAYPAL-TRANSMISSION-TIME", "2015-05-18T15:45:14Z");
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    CHECK_EQ_STR(why, "signature mismatch");
    free(body);
}

static void test_paypal_certs(void)
{
    size_t len;
    char *body = read_fixture("paypal-body.json", &len);
    if (!body) return;
    paypal_headers();
    *config_slot(&cfg, "PATROND_PAYPAL_CERT_FILE") =
        "tests/fixtures/webhooks/paypal-other-cert.pem";
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    CHECK_EQ_STR(why, "signature mismatch");
    /* Two certificates in the file (PayPal's rotation): any may match. */
    *config_slot(&cfg, "PATROND_PAYPAL_CERT_FILE") = "tests/fixtures/webhooks/paypal-two-certs.pem";
    CHECK(verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    *config_slot(&cfg, "PATROND_PAYPAL_CERT_FILE") = "tests/fixtures/webhooks/no-such-file.pem";
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    CHECK_EQ_STR(why, "no certificate readable in the PayPal cert file");
    *config_slot(&cfg, "PATROND_PAYPAL_CERT_FILE") = "tests/fixtures/webhooks/paypal-body.json";
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    /* The certificate expired in 2017: it no longer vouches for anything. */
    *config_slot(&cfg, "PATROND_PAYPAL_CERT_FILE") =
        "tests/fixtures/webhooks/paypal-sandbox-cert.pem";
    CHECK(!verify_n(&provider_paypal, body, len, 1500000000LL));
    CHECK_EQ_STR(why, "no current RSA certificate in the cert file");

    *config_slot(&cfg, "PATROND_PAYPAL_CERT_FILE") = NULL;
    CHECK(!provider_configured(&provider_paypal, &cfg));
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    *config_slot(&cfg, "PATROND_PAYPAL_CERT_FILE") =
        "tests/fixtures/webhooks/paypal-sandbox-cert.pem";
    *config_slot(&cfg, "PATROND_PAYPAL_WEBHOOK_ID") = " , ";
    CHECK(!provider_configured(&provider_paypal, &cfg));
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    *config_slot(&cfg, "PATROND_PAYPAL_WEBHOOK_ID") = "4JH86294D6297924G";
    free(body);
}

static void test_paypal_headers(void)
{
    size_t len;
    char *body = read_fixture("paypal-body.json", &len);
    if (!body) return;
    const char *required[] = {"PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME",
                              "PAYPAL-TRANSMISSION-SIG", "PAYPAL-AUTH-ALGO"};
    for (size_t i = 0; i < 4; i++) {
        paypal_headers();
        header(required[i], NULL);
        CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    }
    paypal_headers();
    header("PAYPAL-AUTH-ALGO", "SHA1withRSA");
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    CHECK_EQ_STR(why, "unsupported PAYPAL-AUTH-ALGO");
    paypal_headers();
    header("PAYPAL-TRANSMISSION-ID", "dfb3be50|fd74");
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    CHECK_EQ_STR(why, "malformed PAYPAL-TRANSMISSION-ID");
    paypal_headers();
    header("PAYPAL-TRANSMISSION-ID", "");
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    paypal_headers();
    header("PAYPAL-TRANSMISSION-TIME", "yesterday");
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    CHECK_EQ_STR(why, "malformed PAYPAL-TRANSMISSION-TIME");
    paypal_headers();
    header("PAYPAL-TRANSMISSION-SIG", "not base64!");
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    CHECK_EQ_STR(why, "malformed PAYPAL-TRANSMISSION-SIG");
    header("PAYPAL-TRANSMISSION-SIG", "");
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    header("PAYPAL-TRANSMISSION-SIG", "AAAA");
    CHECK(!verify_n(&provider_paypal, body, len, PAYPAL_TIME));
    CHECK_EQ_STR(why, "signature mismatch");
    free(body);
}

static void test_paypal_parse_fixture(void)
{
    size_t len;
    char *body = read_fixture("paypal-body.json", &len);
    if (!body) return;
    struct wh_event ev;
    CHECK(parse(&provider_paypal, body, &ev));
    CHECK_EQ_STR(ev.event_key, "WH-0G2756385H040842W-5Y612302CV158622M");
    CHECK_EQ_STR(ev.type, "PAYMENT.SALE.COMPLETED");
    CHECK_EQ_INT(ev.kind, WH_PAYMENT_SUCCEEDED);
    CHECK_EQ_STR(ev.payment_id, "4EU7004268015634R");
    CHECK(ev.has_amount);
    CHECK_EQ_INT(ev.amount_minor, 2000);
    CHECK_EQ_STR(ev.currency, "USD");
    CHECK_EQ_STR(ev.subscription_ref, "");
    CHECK_EQ_STR(ev.interval, "once");
    CHECK_EQ_STR(ev.occurred_at, "2015-05-18T15:45:13Z");
    free(body);
}

// clang-format off
static const struct wh_case test_paypal_parse_subscriptions_cases[] = {
    {NULL, &provider_paypal,
     "{'id':'WH-1','event_type':'BILLING.SUBSCRIPTION.ACTIVATED',"
     "'create_time':'2024-03-01T10:00:00.123Z','resource':{'id':'I-BW452GLLEP1G',"
     "'status':'ACTIVE','custom_id':'0b7e8f5c-3c1a-4d2e-9f00-123456789abc',"
     "'subscriber':{'email_address':'reader@example.org','payer_id':'PAYER1',"
     "'name':{'given_name':'Ann','surname':'Reader'}},'billing_info':{"
     "'next_billing_time':'2024-04-01T10:00:00Z','last_payment':{'amount':{"
     "'value':'5.00','currency_code':'EUR'}}}}}",
     WH_PLEDGE_ACTIVATED, {{"event_key", "WH-1"}, {"subscription_ref", "I-BW452GLLEP1G"},
      {"pledge_id", "0b7e8f5c-3c1a-4d2e-9f00-123456789abc"}, {"email", "reader@example.org"},
      {"name", "Ann Reader"}, {"customer_ref", "PAYER1"}, {"period_end", "2024-04-01T10:00:00Z"},
      {"occurred_at", "2024-03-01T10:00:00Z"}, {"amount", "500"}, {"currency", "EUR"}}},
    /* custom_id is free-form: only a UUID is taken as our pledge id. */
    {NULL, &provider_paypal,
     "{'id':'WH-2','event_type':'BILLING.SUBSCRIPTION.ACTIVATED','resource':{"
     "'id':'I-2','custom_id':'order-77'}}",
     WH_ANY_KIND, {{"pledge_id", ""}, {"amount", "none"}, {"name", ""}}},
    {NULL, &provider_paypal,
     "{'id':'WH-3','event_type':'BILLING.SUBSCRIPTION.PAYMENT.FAILED','resource':{"
     "'id':'I-2','billing_info':{'last_failed_payment':{'reason_code':"
     "'PAYMENT_DENIED','amount':{'value':'5.00','currency_code':'USD'}}}}}",
     WH_PAYMENT_FAILED, {{"reason", "PAYMENT_DENIED"}, {"payment_id", "WH-3"},
      {"subscription_ref", "I-2"}, {"amount_minor", "500"}}},
    {NULL, &provider_paypal,
     "{'id':'WH-4','event_type':'BILLING.SUBSCRIPTION.PAYMENT.FAILED',"
     "'resource':{'id':'I-2'}}",
     WH_ANY_KIND, {{"reason", "payment failed"}}},
};
// clang-format on

// clang-format off
static const struct wh_case test_paypal_parse_subscriptions_cases_2[] = {
    {NULL, &provider_paypal,
     "{'id':'WH-6','event_type':'BILLING.SUBSCRIPTION.CANCELLED','resource':{}}",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

static void test_paypal_parse_subscriptions(void)
{
    struct wh_event ev;
    WH_RUN(test_paypal_parse_subscriptions_cases);
    const char *ended[] = {"CANCELLED", "EXPIRED"};
    for (size_t i = 0; i < 2; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"id\":\"WH-5\",\"event_type\":\"BILLING.SUBSCRIPTION.%s\","
                 "\"resource\":{\"id\":\"I-2\"}}",
                 ended[i]);
        CHECK(parse(&provider_paypal, body, &ev));
        CHECK_EQ_INT(ev.kind, WH_PLEDGE_CANCELED);
        CHECK_EQ_STR(ev.subscription_ref, "I-2");
    }
    WH_RUN(test_paypal_parse_subscriptions_cases_2);
    CHECK_EQ_STR(why, "subscription has no id");
}

// clang-format off
static const struct wh_case test_paypal_parse_sales_cases[] = {
    {NULL, &provider_paypal,
     "{'id':'WH-7','event_type':'PAYMENT.SALE.COMPLETED','resource':{"
     "'id':'5CS38179PL895402Y','billing_agreement_id':'I-0HNJGFKLTLMP',"
     "'custom':'0B7E8F5C-3C1A-4D2E-9F00-123456789ABC',"
     "'amount':{'total':'14.90','currency':'USD'}}}",
     WH_PAYMENT_SUCCEEDED, {{"subscription_ref", "I-0HNJGFKLTLMP"},
      {"payment_id", "5CS38179PL895402Y"}, {"pledge_id", "0B7E8F5C-3C1A-4D2E-9F00-123456789ABC"},
      {"amount_minor", "1490"}, {"interval", ""}}},
    /* JPY has no minor unit. */
    {NULL, &provider_paypal,
     "{'id':'WH-8','event_type':'PAYMENT.SALE.COMPLETED','resource':{'id':'S1',"
     "'amount':{'total':'500','currency':'JPY'}}}",
     WH_ANY_KIND, {{"amount_minor", "500"}}},
    {NULL, &provider_paypal,
     "{'id':'WH-9','event_type':'PAYMENT.SALE.REFUNDED','resource':{'id':'R1',"
     "'sale_id':'S1','amount':{'total':'2.50','currency':'usd'}}}",
     WH_PAYMENT_REFUNDED, {{"payment_id", "R1"}, {"amount_minor", "250"}, {"currency", "USD"}}},
    /* Amounts are exact or refused. */
    {NULL, &provider_paypal,
     "{'id':'WH-10','event_type':'PAYMENT.SALE.COMPLETED','resource':{'id':'S1',"
     "'amount':{'total':'20.001','currency':'USD'}}}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paypal,
     "{'id':'WH-10','event_type':'PAYMENT.SALE.COMPLETED','resource':{'id':'S1',"
     "'amount':{'total':'-1.00','currency':'USD'}}}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paypal,
     "{'id':'WH-10','event_type':'PAYMENT.SALE.COMPLETED','resource':{'id':'S1',"
     "'amount':{'total':'1.00','currency':'XYZ'}}}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paypal,
     "{'id':'WH-10','event_type':'PAYMENT.SALE.COMPLETED','resource':{'id':'S1',"
     "'amount':{'total':1.5,'currency':'USD'}}}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paypal,
     "{'id':'WH-10','event_type':'PAYMENT.SALE.COMPLETED','resource':{'id':'S1'}}",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

static void test_paypal_parse_sales(void)
{
    WH_RUN(test_paypal_parse_sales_cases);
    CHECK_EQ_STR(why, "sale without id or amount");
}

// clang-format off
static const struct wh_case test_paypal_parse_envelope_cases[] = {
    {NULL, &provider_paypal, "{'id':'WH-11','event_type':'CUSTOMER.DISPUTE.CREATED','resource':{}}",
     WH_IGNORED, {{"type", "CUSTOMER.DISPUTE.CREATED"}}},
    {NULL, &provider_paypal, "{'event_type':'PAYMENT.SALE.COMPLETED'}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paypal, "{'id':'WH-12'}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paypal, "{'id':'WH-12','event_type':'PAYMENT.SALE.COMPLETED'}",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

// clang-format off
static const struct wh_case test_paypal_parse_envelope_cases_2[] = {
    {NULL, &provider_paypal, "{'id':'WH-12','event_type':'X','create_time':'soon'}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paypal, "{'id':7,'event_type':'X'}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paypal, "[1]",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paypal, "{\"id\":",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paypal, "{'id':'a','id':'b','event_type':'X'}",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

static void test_paypal_parse_envelope(void)
{
    WH_RUN(test_paypal_parse_envelope_cases);
    CHECK_EQ_STR(why, "resource is missing");
    WH_RUN(test_paypal_parse_envelope_cases_2);
}

/* ---- Monobank: the official doc example (§13.3) ---- */

static const char mono_pubkey[] =
    "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFQUc1LzZ3"
    "NnZubGJZb0ZmRHlYWE4vS29CbVVjTgo3NWJSUWg4MFBhaEdldnJoanFCQnI3OXNSS0JSbnpHODFUZVQ5OEFOakU1c0R3"
    "RmZ5Znhub0ZJcmZBPT0KLS0tLS1FTkQgUFVCTElDIEtFWS0tLS0tCg==";
static const char mono_sign[] =
    "MEUCIQC/"
    "mVKhi8FKoayul2Mim3E2oaIOCNJk5dEXxTqbkeJSOQIgOM0hsW0qcP2H8iXy1aQYpmY0SJWEaWur7nQXlKDCFxA=";

/* A fresh key pair of the given type ("EC" P-256 or "RSA"). */
static EVP_PKEY *new_key(const char *type)
{
    if (!strcmp(type, "EC")) return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

/* base64 of the key's public PEM, as Monobank serves it, into out. */
static bool served_pubkey(EVP_PKEY *key, char *out, size_t out_len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem;
    bool ok = bio && PEM_write_bio_PUBKEY(bio, key) == 1;
    long n = ok ? BIO_get_mem_data(bio, &pem) : 0;
    ok = ok && n > 0 && 4 * (((size_t)n + 2) / 3) + 1 <= out_len;
    if (ok) base64_encode((const uint8_t *)pem, (size_t)n, out);
    BIO_free(bio);
    return ok;
}

/* base64 of an ECDSA/SHA-256 signature over body, into out. */
static bool sign_body(EVP_PKEY *key, const char *body, char *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t sig[256];
    size_t n = sizeof sig;
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
              EVP_DigestSign(ctx, sig, &n, (const uint8_t *)body, strlen(body)) == 1;
    EVP_MD_CTX_free(ctx);
    if (ok) base64_encode(sig, n, out);
    return ok;
}

static void test_monobank_official(void)
{
    size_t len;
    char *body = read_fixture("monobank-body.json", &len);
    CHECK(body && len == 582);
    if (!body) return;
    *config_slot(&cfg, "PATROND_MONOBANK_PUBKEY") = (char *)mono_pubkey;
    CHECK(provider_configured(&provider_monobank, &cfg));
    nheaders = 0;
    header("X-Sign", mono_sign);
    CHECK(verify_n(&provider_monobank, body, len, 0));

    body[20] ^= 1;
    CHECK(!verify_n(&provider_monobank, body, len, 0));
    CHECK_EQ_STR(why, "signature mismatch");
    body[20] ^= 1;
    CHECK(!verify_n(&provider_monobank, body, len - 1, 0));
    /* A trailing newline is a different body. */
    char *longer = malloc(len + 2);
    if (longer) {
        memcpy(longer, body, len);
        memcpy(longer + len, "\n", 2);
        CHECK(!verify_n(&provider_monobank, longer, len + 1, 0));
        free(longer);
    }

    header("X-Sign", NULL);
    CHECK(!verify_n(&provider_monobank, body, len, 0));
    CHECK_EQ_STR(why, "missing X-Sign header");
    header("X-Sign", "!!!not-base64");
    CHECK(!verify_n(&provider_monobank, body, len, 0));
    CHECK_EQ_STR(why, "malformed X-Sign");
    header("X-Sign", "MEUCIQC/mVKhi8FKoayul2Mim3E2oaIOCNJk5dEXxTqbkeJSOQ==");
    CHECK(!verify_n(&provider_monobank, body, len, 0));
    free(body);
}

static void test_monobank_keys(void)
{
    size_t len;
    char *body = read_fixture("monobank-body.json", &len);
    EVP_PKEY *ec = new_key("EC"), *rsa = new_key("RSA");
    static char ec_served[1024], rsa_served[2048], list[2048];
    CHECK(body && ec && rsa && served_pubkey(ec, ec_served, sizeof ec_served) &&
          served_pubkey(rsa, rsa_served, sizeof rsa_served));
    if (!body || !ec || !rsa) goto out;
    nheaders = 0;
    header("X-Sign", mono_sign);

    *config_slot(&cfg, "PATROND_MONOBANK_PUBKEY") = ec_served;
    CHECK(!verify_n(&provider_monobank, body, len, 0));
    CHECK_EQ_STR(why, "signature mismatch");
    /* Rotation: the official key second. */
    snprintf(list, sizeof list, "%s,%s", ec_served, mono_pubkey);
    *config_slot(&cfg, "PATROND_MONOBANK_PUBKEY") = list;
    CHECK(verify_n(&provider_monobank, body, len, 0));
    /* A broken entry is skipped, not fatal. */
    snprintf(list, sizeof list, "bm90IGEgUEVN,%s", mono_pubkey);
    CHECK(verify_n(&provider_monobank, body, len, 0));
    *config_slot(&cfg, "PATROND_MONOBANK_PUBKEY") = "bm90IGEgUEVN";
    CHECK(!verify_n(&provider_monobank, body, len, 0));
    CHECK_EQ_STR(why, "no usable EC public key configured");
    *config_slot(&cfg, "PATROND_MONOBANK_PUBKEY") = "%%%";
    CHECK(!verify_n(&provider_monobank, body, len, 0));
    *config_slot(&cfg, "PATROND_MONOBANK_PUBKEY") = rsa_served;
    CHECK(!verify_n(&provider_monobank, body, len, 0));
    CHECK_EQ_STR(why, "no usable EC public key configured");
    *config_slot(&cfg, "PATROND_MONOBANK_PUBKEY") = NULL;
    CHECK(!provider_configured(&provider_monobank, &cfg));
    CHECK(!verify_n(&provider_monobank, body, len, 0));

    /* A body of our own, signed with our own key. */
    static char sign[256];
    const char *mine = J("{'invoiceId':'p2_x','status':'success','amount':100,'ccy':980,"
                         "'modifiedDate':'2024-01-01T00:00:00Z'}");
    CHECK(sign_body(ec, mine, sign));
    header("X-Sign", sign);
    *config_slot(&cfg, "PATROND_MONOBANK_PUBKEY") = ec_served;
    CHECK(verify(&provider_monobank, mine, 0));
    *config_slot(&cfg, "PATROND_MONOBANK_PUBKEY") = (char *)mono_pubkey;
    CHECK(!verify(&provider_monobank, mine, 0));
out:
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
    free(body);
}

// clang-format off
static const struct wh_case test_monobank_parse_cases[] = {
    {NULL, &provider_monobank,
     "{'invoiceId':'inv1','status':'success','amount':4200,'finalAmount':3000,"
     "'ccy':840,'reference':'0b7e8f5c-3c1a-4d2e-9f00-123456789abc',"
     "'modifiedDate':'2024-01-01T12:00:00.123Z'}",
     WH_PAYMENT_SUCCEEDED, {{"amount_minor", "3000"}, {"currency", "USD"}, {"payment_id", "inv1"},
      {"pledge_id", "0b7e8f5c-3c1a-4d2e-9f00-123456789abc"}, {"sequence", "1704110400123"},
      {"occurred_at", "2024-01-01T12:00:00Z"}}},
    /* processing then success within one second still order by the ms. */
    {NULL, &provider_monobank,
     "{'invoiceId':'inv1','status':'processing','amount':4200,'ccy':980,"
     "'modifiedDate':'2024-01-01T12:00:00.1Z'}",
     WH_IGNORED, {{"sequence", "1704110400100"}}},
    {NULL, &provider_monobank,
     "{'invoiceId':'inv2','status':'failure','failureReason':'Insufficient funds',"
     "'amount':4200,'ccy':978,'reference':'order-1',"
     "'modifiedDate':'2024-01-01T12:00:00+02:00'}",
     WH_PAYMENT_FAILED, {{"reason", "Insufficient funds"}, {"payment_id", "inv2:failure"},
      {"currency", "EUR"}, {"pledge_id", ""}, {"occurred_at", "2024-01-01T10:00:00Z"},
      {"event_key", "inv2:failure:2024-01-01T12:00:00+02:00"}}},
    {NULL, &provider_monobank,
     "{'invoiceId':'inv3','status':'reversed','amount':4200,'finalAmount':1200,"
     "'ccy':980,'modifiedDate':'2024-01-02T00:00:00Z'}",
     WH_PAYMENT_REFUNDED, {{"amount_minor", "3000"}, {"payment_id", "inv3:reversed"}}},
    {NULL, &provider_monobank,
     "{'invoiceId':'inv3','status':'reversed','amount':4200,'finalAmount':0,"
     "'ccy':980,'modifiedDate':'2024-01-02T00:00:00Z'}",
     WH_ANY_KIND, {{"amount_minor", "4200"}}},
};
// clang-format on

static void test_monobank_parse(void)
{
    size_t len;
    char *body = read_fixture("monobank-body.json", &len);
    struct wh_event ev;
    CHECK(body && parse(&provider_monobank, body, &ev));
    CHECK_EQ_INT(ev.kind, WH_IGNORED);
    CHECK_EQ_STR(ev.type, "created");
    CHECK_EQ_STR(ev.subscription_ref, "p2_9ZgpZVsl3");
    CHECK_EQ_STR(ev.payment_id, "p2_9ZgpZVsl3");
    CHECK(ev.has_amount && ev.amount_minor == 4200);
    CHECK_EQ_STR(ev.currency, "UAH");
    CHECK_EQ_STR(ev.pledge_id, "84d0070e-e4e4-4667-b313-71d8f8813947");
    CHECK_EQ_INT(ev.sequence, 1566656122000LL);
    CHECK_EQ_STR(ev.occurred_at, "2019-08-24T14:15:22Z");
    CHECK_EQ_STR(ev.event_key, "p2_9ZgpZVsl3:created:2019-08-24T14:15:22Z");
    free(body);

    WH_RUN(test_monobank_parse_cases);
}

// clang-format off
static const struct wh_case test_monobank_parse_refused_cases[] = {
    {NULL, &provider_monobank,
     "{'invoiceId':'i','status':'success','amount':100,'ccy':999,"
     "'modifiedDate':'2024-01-01T00:00:00Z'}",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

// clang-format off
static const struct wh_case test_monobank_parse_refused_cases_2[] = {
    {NULL, &provider_monobank,
     "{'invoiceId':'i','status':'success','amount':100,"
     "'modifiedDate':'2024-01-01T00:00:00Z'}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_monobank,
     "{'invoiceId':'i','status':'success','amount':42.5,'ccy':980,"
     "'modifiedDate':'2024-01-01T00:00:00Z'}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_monobank,
     "{'invoiceId':'i','status':'success','amount':-5,'ccy':980,"
     "'modifiedDate':'2024-01-01T00:00:00Z'}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_monobank,
     "{'invoiceId':'i','status':'success','ccy':980,"
     "'modifiedDate':'2024-01-01T00:00:00Z'}",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

// clang-format off
static const struct wh_case test_monobank_parse_refused_cases_3[] = {
    {NULL, &provider_monobank, "{'invoiceId':'i','status':'success','amount':1,'ccy':980}",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

// clang-format off
static const struct wh_case test_monobank_parse_refused_cases_4[] = {
    {NULL, &provider_monobank,
     "{'invoiceId':'i','status':'success','amount':1,'ccy':980,"
     "'modifiedDate':'2024-13-01T00:00:00Z'}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_monobank,
     "{'status':'success','amount':1,'ccy':980,'modifiedDate':'2024-01-01T00:00:00Z'}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_monobank, "not json",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

static void test_monobank_parse_refused(void)
{
    WH_RUN(test_monobank_parse_refused_cases);
    CHECK_EQ_STR(why, "ccy is not a known ISO 4217 numeric code");
    WH_RUN(test_monobank_parse_refused_cases_2);
    CHECK_EQ_STR(why, "amount is missing");
    WH_RUN(test_monobank_parse_refused_cases_3);
    CHECK_EQ_STR(why, "modifiedDate is missing");
    WH_RUN(test_monobank_parse_refused_cases_4);
}

/* ---- LiqPay: the worked example (§13.7) ---- */

static const char liqpay_data[] =
    "eyJhY3Rpb24iOiJzdWJzY3JpYmUiLCJwYXltZW50X2lkIjoxNjUxNTYsInN0YXR1cyI6InN1YnNjcmliZWQiLCJ2ZXJz"
    "aW9uIjozLCJvcmRlcl9pZCI6InBsZWRnZS00MiIsImFtb3VudCI6NS4wLCJjdXJyZW5jeSI6IlVBSCIsImVuZF9kYXRl"
    "IjoxNTAxNjgwODU0NTk5fQ==";
static const char liqpay_sig[] = "JY9xJnBFkmS+vDHxo6U0lkYmMHQ=";

/* Percent-encodes the characters base64 shares with form syntax. */
static void form_escape(const char *in, char *out)
{
    for (; *in; in++) {
        if (*in == '+' || *in == '/' || *in == '=') {
            sprintf(out, "%%%02X", (unsigned char)*in);
            out += 3;
        } else {
            *out++ = *in;
        }
    }
    *out = '\0';
}

static char form_buf[8192];

/* "data=...&signature=..." for data and signature, escaped. */
static const char *liqpay_form(const char *data, const char *sig)
{
    static char d[4096], s[128];
    form_escape(data, d);
    form_escape(sig, s);
    snprintf(form_buf, sizeof form_buf, "data=%s&signature=%s", d, s);
    return form_buf;
}

/* A signed form carrying json (with ' for "), signed with key. */
static const char *liqpay_signed(const char *json, const char *key)
{
    static char data[4096];
    char sig[29];
    const char *text = J(json);
    base64_encode((const uint8_t *)text, strlen(text), data);
    if (!liqpay_signature(key, data, sig)) return "";
    return liqpay_form(data, sig);
}

static void test_liqpay_verify(void)
{
    *config_slot(&cfg, "PATROND_LIQPAY_PRIVATE_KEY") = "sandbox_private_key_test";
    *config_slot(&cfg, "PATROND_LIQPAY_PUBLIC_KEY") = NULL;
    CHECK(provider_configured(&provider_liqpay, &cfg));
    nheaders = 0;
    CHECK(verify(&provider_liqpay, liqpay_form(liqpay_data, liqpay_sig), 0));
    /* Fields in either order, extra fields ignored. */
    char body[1024];
    snprintf(body, sizeof body, "x=1&signature=%s&data=%s", "JY9xJnBFkmS%2BvDHxo6U0lkYmMHQ%3D",
             liqpay_data);
    CHECK(verify(&provider_liqpay, body, 0));
    /* A '+' that arrived unescaped decodes to a space and is restored. */
    snprintf(body, sizeof body, "data=%s&signature=%s", liqpay_data, liqpay_sig);
    CHECK(verify(&provider_liqpay, body, 0));

    char tampered[sizeof liqpay_data];
    memcpy(tampered, liqpay_data, sizeof liqpay_data);
    tampered[10] = tampered[10] == 'A' ? 'B' : 'A';
    CHECK(!verify(&provider_liqpay, liqpay_form(tampered, liqpay_sig), 0));
    CHECK_EQ_STR(why, "signature mismatch");
    CHECK(!verify(&provider_liqpay, liqpay_form(liqpay_data, "JY9xJnBFkmS+vDHxo6U0lkYmMHQ"), 0));

    *config_slot(&cfg, "PATROND_LIQPAY_PRIVATE_KEY") = "sandbox_private_key_other";
    CHECK(!verify(&provider_liqpay, liqpay_form(liqpay_data, liqpay_sig), 0));
    *config_slot(&cfg, "PATROND_LIQPAY_PRIVATE_KEY") =
        "sandbox_private_key_other, sandbox_private_key_test";
    CHECK(verify(&provider_liqpay, liqpay_form(liqpay_data, liqpay_sig), 0));
    *config_slot(&cfg, "PATROND_LIQPAY_PRIVATE_KEY") = "sandbox_private_key_test";

    CHECK(!verify(&provider_liqpay, "data=abc", 0));
    CHECK_EQ_STR(why, "missing data or signature field");
    snprintf(body, sizeof body, "data=%s&data=%s&signature=%s", liqpay_data, liqpay_data,
             "JY9xJnBFkmS%2BvDHxo6U0lkYmMHQ%3D");
    CHECK(!verify(&provider_liqpay, body, 0));
    CHECK_EQ_STR(why, "malformed form body");
    CHECK(!verify(&provider_liqpay, "data=%G0&signature=x", 0));
    CHECK_EQ_STR(why, "malformed form body");
    CHECK(!verify(&provider_liqpay, J("{'data':'x','signature':'y'}"), 0));
    CHECK(!verify(&provider_liqpay, "", 0));

    *config_slot(&cfg, "PATROND_LIQPAY_PRIVATE_KEY") = NULL;
    CHECK(!provider_configured(&provider_liqpay, &cfg));
    CHECK(!verify(&provider_liqpay, liqpay_form(liqpay_data, liqpay_sig), 0));
    *config_slot(&cfg, "PATROND_LIQPAY_PRIVATE_KEY") = "sandbox_private_key_test";
}

static void test_liqpay_parse(void)
{
    struct wh_event ev;
    CHECK(parse(&provider_liqpay, liqpay_form(liqpay_data, liqpay_sig), &ev));
    CHECK_EQ_INT(ev.kind, WH_PLEDGE_ACTIVATED);
    CHECK_EQ_STR(ev.type, "subscribed");
    CHECK_EQ_STR(ev.subscription_ref, "pledge-42");
    CHECK_EQ_STR(ev.pledge_id, "");
    CHECK_EQ_STR(ev.payment_id, "165156");
    CHECK_EQ_STR(ev.event_key, "165156:subscribed");
    CHECK(ev.has_amount && ev.amount_minor == 500);
    CHECK_EQ_STR(ev.currency, "UAH");
    CHECK_EQ_STR(ev.occurred_at, "2017-08-02T13:34:14Z");
    CHECK_EQ_STR(ev.interval, "");

    /* 3.5 UAH is 350 kopiykas exactly, end to end through a signed form. */
    const char *form = liqpay_signed("{'action':'pay','payment_id':2001,'status':'success',"
                                     "'order_id':'0b7e8f5c-3c1a-4d2e-9f00-123456789abc',"
                                     "'amount':3.5,'currency':'UAH','create_date':1700000000000}",
                                     "sandbox_private_key_test");
    CHECK(verify(&provider_liqpay, form, 0));
    CHECK(parse(&provider_liqpay, form, &ev));
    CHECK_EQ_INT(ev.kind, WH_PAYMENT_SUCCEEDED);
    CHECK_EQ_INT(ev.amount_minor, 350);
    CHECK_EQ_STR(ev.pledge_id, "0b7e8f5c-3c1a-4d2e-9f00-123456789abc");
    CHECK_EQ_STR(ev.payment_id, "2001");
    CHECK_EQ_STR(ev.event_key, "2001:success");
    CHECK_EQ_STR(ev.interval, "once");
    CHECK_EQ_STR(ev.occurred_at, "2023-11-14T22:13:20Z");

    CHECK(parse(&provider_liqpay,
                liqpay_signed("{'payment_id':'2002','status':'failure','order_id':'p',"
                              "'amount':0.29,'currency':'USD','err_code':'limit',"
                              "'err_description':'Limit exceeded'}",
                              "k"),
                &ev));
    CHECK_EQ_INT(ev.kind, WH_PAYMENT_FAILED);
    CHECK_EQ_INT(ev.amount_minor, 29);
    CHECK_EQ_STR(ev.reason, "Limit exceeded");
    CHECK_EQ_STR(ev.payment_id, "2002:failure");
    CHECK(parse(
        &provider_liqpay,
        liqpay_signed("{'payment_id':2003,'status':'error','order_id':'p','err_code':90}", "k"),
        &ev));
    CHECK_EQ_STR(ev.reason, "90");
    CHECK(parse(&provider_liqpay,
                liqpay_signed("{'payment_id':2004,'status':'reversed','order_id':'p',"
                              "'amount':12345678.91,'currency':'UAH'}",
                              "k"),
                &ev));
    CHECK_EQ_INT(ev.kind, WH_PAYMENT_REFUNDED);
    CHECK_EQ_INT(ev.amount_minor, 1234567891LL);
    CHECK_EQ_STR(ev.payment_id, "2004:reversed");
    CHECK(parse(&provider_liqpay,
                liqpay_signed("{'payment_id':2005,'status':'unsubscribed','order_id':'p'}", "k"),
                &ev));
    CHECK_EQ_INT(ev.kind, WH_PLEDGE_CANCELED);
    CHECK(parse(&provider_liqpay,
                liqpay_signed("{'payment_id':2006,'status':'wait_secure','order_id':'p'}", "k"),
                &ev));
    CHECK_EQ_INT(ev.kind, WH_IGNORED);
    /* No payment_id: the order id keys the event. */
    CHECK(parse(&provider_liqpay, liqpay_signed("{'status':'unsubscribed','order_id':'p9'}", "k"),
                &ev));
    CHECK_EQ_STR(ev.event_key, "p9:unsubscribed");
    CHECK_EQ_STR(ev.payment_id, "");
}

static void test_liqpay_parse_refused(void)
{
    struct wh_event ev;
    CHECK(!parse(&provider_liqpay,
                 liqpay_signed("{'payment_id':1,'status':'success','order_id':'p',"
                               "'amount':3.555,'currency':'UAH'}",
                               "k"),
                 &ev));
    CHECK(!parse(&provider_liqpay,
                 liqpay_signed("{'payment_id':1,'status':'success','order_id':'p',"
                               "'amount':3.5e1,'currency':'UAH'}",
                               "k"),
                 &ev));
    CHECK(!parse(&provider_liqpay,
                 liqpay_signed("{'payment_id':1,'status':'success','order_id':'p',"
                               "'amount':3.5,'currency':'ABC'}",
                               "k"),
                 &ev));
    CHECK(!parse(&provider_liqpay,
                 liqpay_signed("{'payment_id':1,'status':'success','order_id':'p'}", "k"), &ev));
    CHECK_EQ_STR(why, "payment without amount or currency");
    CHECK(!parse(&provider_liqpay, liqpay_signed("{'payment_id':1,'order_id':'p'}", "k"), &ev));
    CHECK(!parse(&provider_liqpay, liqpay_signed("{'status':'success'}", "k"), &ev));
    CHECK(!parse(&provider_liqpay, liqpay_signed("[1,2]", "k"), &ev));
    CHECK_EQ_STR(why, "data is not a JSON object");
    CHECK(!parse(&provider_liqpay, liqpay_form("!!!!", "x"), &ev));
    CHECK_EQ_STR(why, "data is not base64");

    *config_slot(&cfg, "PATROND_LIQPAY_PUBLIC_KEY") = "sandbox_i000";
    const char *other = "{'public_key':'sandbox_i999','payment_id':1,'status':'success',"
                        "'order_id':'p','amount':1,'currency':'UAH'}";
    CHECK(!parse(&provider_liqpay, liqpay_signed(other, "k"), &ev));
    CHECK_EQ_STR(why, "public_key is not ours");
    *config_slot(&cfg, "PATROND_LIQPAY_PUBLIC_KEY") = "sandbox_i000,sandbox_i999";
    CHECK(parse(&provider_liqpay, liqpay_signed(other, "k"), &ev));
    *config_slot(&cfg, "PATROND_LIQPAY_PUBLIC_KEY") = NULL;
}

/* ---- WayForPay: the worked example (§13.9) ---- */

static const char wfp_approved[] =
    "{'merchantAccount':'test_merch_n1','orderReference':'DH1700000000',"
    "'merchantSignature':'%s','amount':%s,'currency':'UAH','authCode':'541963',"
    "'email':'client@example.org','phone':'380501234567','createdDate':1700000000,"
    "'processingDate':1700000050,'cardPan':'41****8217','cardType':'Visa',"
    "'transactionStatus':'%s','reason':'%s','reasonCode':%s,'fee':0}";

/* The approved callback with some parts replaced. */
static const char *wfp(const char *sig, const char *amount, const char *status, const char *reason,
                       const char *code)
{
    static char body[2048];
    snprintf(body, sizeof body, wfp_approved, sig, amount, status, reason, code);
    return J(body);
}

#define WFP_SIG "1b3038d38b6324fa1f6b29f057d4d709"

static void test_wayforpay_verify(void)
{
    *config_slot(&cfg, "PATROND_WAYFORPAY_MERCHANT") = "test_merch_n1";
    *config_slot(&cfg, "PATROND_WAYFORPAY_SECRET") = "flk3409refn54t54t*FNJRET";
    CHECK(provider_configured(&provider_wayforpay, &cfg));
    nheaders = 0;
    CHECK(verify(&provider_wayforpay, wfp(WFP_SIG, "100", "Approved", "Ok", "1100"), 0));
    /* PHP prints 100.00 as "100"; a string amount and reasonCode read the same. */
    CHECK(verify(&provider_wayforpay, wfp(WFP_SIG, "100.00", "Approved", "Ok", "1100"), 0));
    CHECK(verify(&provider_wayforpay, wfp(WFP_SIG, "'100'", "Approved", "Ok", "'1100'"), 0));
    CHECK(verify(&provider_wayforpay,
                 wfp("1B3038D38B6324FA1F6B29F057D4D709", "100", "Approved", "Ok", "1100"), 0));

    CHECK(!verify(&provider_wayforpay, wfp(WFP_SIG, "101", "Approved", "Ok", "1100"), 0));
    CHECK_EQ_STR(why, "signature mismatch");
    CHECK(!verify(&provider_wayforpay, wfp(WFP_SIG, "100.5", "Approved", "Ok", "1100"), 0));
    CHECK(!verify(&provider_wayforpay, wfp(WFP_SIG, "100", "Declined", "Ok", "1100"), 0));
    CHECK(!verify(&provider_wayforpay, wfp(WFP_SIG, "100", "Approved", "Ok", "1101"), 0));
    CHECK(!verify(&provider_wayforpay,
                  wfp("1b3038d38b6324fa1f6b29f057d4d7", "100", "Approved", "Ok", "1100"), 0));
    CHECK_EQ_STR(why, "missing or malformed merchantSignature");
    CHECK(!verify(&provider_wayforpay,
                  wfp("zz3038d38b6324fa1f6b29f057d4d709", "100", "Approved", "Ok", "1100"), 0));
    CHECK(!verify(&provider_wayforpay, wfp(WFP_SIG, "true", "Approved", "Ok", "1100"), 0));
    CHECK(!verify(&provider_wayforpay, J("{'merchantAccount':'test_merch_n1'}"), 0));
    CHECK(!verify(&provider_wayforpay, "merchantAccount=test_merch_n1", 0));

    *config_slot(&cfg, "PATROND_WAYFORPAY_MERCHANT") = "other_merchant";
    CHECK(!verify(&provider_wayforpay, wfp(WFP_SIG, "100", "Approved", "Ok", "1100"), 0));
    CHECK_EQ_STR(why, "merchantAccount is not ours");
    *config_slot(&cfg, "PATROND_WAYFORPAY_MERCHANT") = "test_merch_n1";
    *config_slot(&cfg, "PATROND_WAYFORPAY_SECRET") = "another-secret";
    CHECK(!verify(&provider_wayforpay, wfp(WFP_SIG, "100", "Approved", "Ok", "1100"), 0));
    *config_slot(&cfg, "PATROND_WAYFORPAY_SECRET") = "another-secret,flk3409refn54t54t*FNJRET";
    CHECK(verify(&provider_wayforpay, wfp(WFP_SIG, "100", "Approved", "Ok", "1100"), 0));
    *config_slot(&cfg, "PATROND_WAYFORPAY_SECRET") = NULL;
    CHECK(!provider_configured(&provider_wayforpay, &cfg));
    CHECK(!verify(&provider_wayforpay, wfp(WFP_SIG, "100", "Approved", "Ok", "1100"), 0));
    *config_slot(&cfg, "PATROND_WAYFORPAY_SECRET") = "flk3409refn54t54t*FNJRET";
}

// clang-format off
static const struct wh_case test_wayforpay_parse_cases[] = {
    {NULL, &provider_wayforpay,
     "{'orderReference':'0b7e8f5c-3c1a-4d2e-9f00-123456789abc',"
     "'transactionStatus':'Approved','amount':5,'currency':'USD'}",
     WH_ANY_KIND, {{"pledge_id", "0b7e8f5c-3c1a-4d2e-9f00-123456789abc"}, {"occurred_at", ""},
      {"event_key", "0b7e8f5c-3c1a-4d2e-9f00-123456789abc:Approved:::500"}}},
};
// clang-format on

// clang-format off
static const struct wh_case test_wayforpay_parse_cases_2[] = {
    {NULL, &provider_wayforpay, "{'orderReference':'r','transactionStatus':'Approved'}",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

// clang-format off
static const struct wh_case test_wayforpay_parse_cases_3[] = {
    {NULL, &provider_wayforpay, "{'transactionStatus':'Approved','amount':1,'currency':'UAH'}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_wayforpay,
     "{'orderReference':'r','transactionStatus':'Approved','amount':1,"
     "'currency':'UAH','processingDate':'soon'}",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

static void test_wayforpay_parse(void)
{
    struct wh_event ev;
    CHECK(parse(&provider_wayforpay, wfp(WFP_SIG, "100", "Approved", "Ok", "1100"), &ev));
    CHECK_EQ_INT(ev.kind, WH_PAYMENT_SUCCEEDED);
    CHECK_EQ_STR(ev.subscription_ref, "DH1700000000");
    CHECK_EQ_STR(ev.payment_id, "DH1700000000:541963");
    CHECK_EQ_STR(ev.event_key, "DH1700000000:Approved:541963:1100:10000");
    CHECK_EQ_INT(ev.amount_minor, 10000);
    CHECK_EQ_STR(ev.currency, "UAH");
    CHECK_EQ_STR(ev.email, "client@example.org");
    CHECK_EQ_STR(ev.occurred_at, "2023-11-14T22:14:10Z");
    CHECK_EQ_STR(ev.pledge_id, "");
    /* processingDate is unsigned: never later than the receipt */
    CHECK(parse_at(&provider_wayforpay, wfp(WFP_SIG, "100", "Approved", "Ok", "1100"), 1700000000LL,
                   &ev));
    CHECK_EQ_STR(ev.occurred_at, "2023-11-14T22:13:20Z");

    CHECK(parse(&provider_wayforpay, wfp(WFP_SIG, "1.5", "Approved", "Ok", "1100"), &ev));
    CHECK_EQ_INT(ev.amount_minor, 150);
    CHECK(parse(&provider_wayforpay, wfp(WFP_SIG, "'12.30'", "Approved", "Ok", "1100"), &ev));
    CHECK_EQ_INT(ev.amount_minor, 1230);

    CHECK(
        parse(&provider_wayforpay, wfp(WFP_SIG, "100", "Declined", "Card declined", "1101"), &ev));
    CHECK_EQ_INT(ev.kind, WH_PAYMENT_FAILED);
    CHECK_EQ_STR(ev.reason, "Card declined");
    CHECK(!strncmp(ev.payment_id, "DH1700000000:Declined:", 22));
    CHECK(parse(&provider_wayforpay, wfp(WFP_SIG, "100", "Expired", "", "1120"), &ev));
    CHECK_EQ_INT(ev.kind, WH_PAYMENT_FAILED);
    CHECK_EQ_STR(ev.reason, "Expired 1120");
    CHECK(parse(&provider_wayforpay, wfp(WFP_SIG, "100", "Refunded", "Ok", "1100"), &ev));
    CHECK_EQ_INT(ev.kind, WH_PAYMENT_REFUNDED);
    CHECK(!strncmp(ev.payment_id, "DH1700000000:Refunded:", 22));
    CHECK(parse(&provider_wayforpay, wfp(WFP_SIG, "100", "InProcessing", "Ok", "1100"), &ev));
    CHECK_EQ_INT(ev.kind, WH_IGNORED);

    WH_RUN(test_wayforpay_parse_cases);
    CHECK(!parse(&provider_wayforpay, wfp(WFP_SIG, "100.001", "Approved", "Ok", "1100"), &ev));
    WH_RUN(test_wayforpay_parse_cases_2);
    CHECK_EQ_STR(why, "amount or currency is missing");
    WH_RUN(test_wayforpay_parse_cases_3);
}

static void test_wayforpay_ack(void)
{
    struct wh_event ev;
    memset(&ev, 0, sizeof ev);
    strcpy(ev.reply_ref, "DH1700000000");
    *config_slot(&cfg, "PATROND_WAYFORPAY_SECRET") = "flk3409refn54t54t*FNJRET";
    char *reply = provider_wayforpay.ack(&cfg, &ev, 1700000100);
    CHECK_EQ_STR(reply, "{\"orderReference\":\"DH1700000000\",\"status\":\"accept\","
                        "\"time\":1700000100,\"signature\":\"e874f6966cd204abf15badd20cc5bd8d\"}");
    free(reply);
    /* The first listed secret is the current one. */
    *config_slot(&cfg, "PATROND_WAYFORPAY_SECRET") = "flk3409refn54t54t*FNJRET,older-secret";
    reply = provider_wayforpay.ack(&cfg, &ev, 1700000100);
    CHECK(reply && strstr(reply, "e874f6966cd204abf15badd20cc5bd8d"));
    free(reply);
    *config_slot(&cfg, "PATROND_WAYFORPAY_SECRET") = "older-secret,flk3409refn54t54t*FNJRET";
    reply = provider_wayforpay.ack(&cfg, &ev, 1700000100);
    CHECK(reply && !strstr(reply, "e874f6966cd204abf15badd20cc5bd8d"));
    free(reply);
    *config_slot(&cfg, "PATROND_WAYFORPAY_SECRET") = "flk3409refn54t54t*FNJRET";
    ev.reply_ref[0] = '\0';
    CHECK(provider_wayforpay.ack(&cfg, &ev, 1700000100) == NULL);
    CHECK(provider_paypal.ack == NULL && provider_liqpay.ack == NULL &&
          provider_monobank.ack == NULL);
}

int main(void)
{
    test_paypal_verify();
    test_paypal_certs();
    test_paypal_headers();
    test_paypal_parse_fixture();
    test_paypal_parse_subscriptions();
    test_paypal_parse_sales();
    test_paypal_parse_envelope();
    test_monobank_official();
    test_monobank_keys();
    test_monobank_parse();
    test_monobank_parse_refused();
    test_liqpay_verify();
    test_liqpay_parse();
    test_liqpay_parse_refused();
    test_wayforpay_verify();
    test_wayforpay_parse();
    test_wayforpay_ack();
    return CHECK_DONE();
}
