/* Webhook verifiers and parsers: Stripe, Standard Webhooks, Paddle,
 * Patreon, and the shared helpers (reference vectors from
 * /work/shared/reference/webhooks.md §13, fixtures in tests/fixtures/webhooks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "config.h"
#include "encode.h"
#include "provider.h"
#include "provider_kit.h"

#include "wh_cases.h"
#include "wh_fake.h"

/* The secrets are arrays: cfg's fields are not const. */
static char stripe_secret[] = "whsec_test_secret";
static char stripe_rotated[] = " whsec_previous , whsec_test_secret ";
static char stripe_wrong[] = "whsec_other_secret";
static char std_secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static char std_rotated[] =
    "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static char std_wrong[] = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
static char std_short[] = "whsec_abc";
static char paddle_secret[] = "pdl_ntfset_01h8test_secretkey";
static char paddle_rotated[] = "pdl_ntfset_old,pdl_ntfset_01h8test_secretkey";
static char patreon_secret[] = "patreon_test_secret";
static char patreon_rotated[] = "old_patreon_secret,patreon_test_secret";
static char usd[] = "USD", eur[] = "EUR", bogus[] = "XYZ";

/* ---- shared helpers ---- */

static void test_common(void)
{
    uint8_t mac[64], buf[64];
    size_t n;
    char hex[129], text[64];
    const char *msg = "1700000000.{\"id\":\"evt_test_webhook\",\"object\":\"event\"}";
    CHECK(hmac("SHA256", "whsec_test_secret", 17, msg, strlen(msg), mac, &n));
    hex_encode(mac, n, hex);
    CHECK_EQ_STR(hex, "d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990");
    CHECK(hmac_prefixed("SHA256", "whsec_test_secret", 17, "1700000000.", msg + 11,
                        strlen(msg + 11), mac, &n));
    hex_encode(mac, n, hex);
    CHECK_EQ_STR(hex, "d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990");
    CHECK(hmac("MD5", "k", 1, "", 0, mac, &n) && n == 16);
    CHECK(!hmac("NO-SUCH-DIGEST", "k", 1, "x", 1, mac, &n));

    CHECK(bytes_equal("abc", 3, "abc", 3));
    CHECK(!bytes_equal("abc", 3, "abd", 3));
    CHECK(!bytes_equal("abc", 3, "abcd", 4));

    CHECK(hex_decode("0aFf", buf, sizeof buf, &n) && n == 2 && buf[0] == 0x0a && buf[1] == 0xff);
    CHECK(!hex_decode("abc", buf, sizeof buf, &n));
    CHECK(!hex_decode("zz", buf, sizeof buf, &n));
    CHECK(!hex_decode("00112233", buf, 3, &n));

    CHECK(base64_decode("YWI=", 4, buf, sizeof buf, &n) && n == 2 && !memcmp(buf, "ab", 2));
    CHECK(base64_decode("YWI", 3, buf, sizeof buf, &n) && n == 2);
    CHECK(base64_decode("-_8", 3, buf, sizeof buf, &n) && n == 2 && buf[0] == 0xfb &&
          buf[1] == 0xff);
    CHECK(!base64_decode("YW=", 3, buf, sizeof buf, &n));
    CHECK(!base64_decode("Y", 1, buf, sizeof buf, &n));
    CHECK(!base64_decode("YW!I", 4, buf, sizeof buf, &n));
    CHECK(!base64_decode("YWJj", 4, buf, 2, &n));
    base64_encode((const uint8_t *)"ab", 2, text);
    CHECK_EQ_STR(text, "YWI=");

    char sbuf[64];
    const char *keys[2];
    CHECK_EQ_INT(secret_list(" a , ,b ,c", sbuf, sizeof sbuf, keys), 2);
    CHECK_EQ_STR(keys[0], "a");
    CHECK_EQ_STR(keys[1], "b");
    CHECK_EQ_INT(secret_list(NULL, sbuf, sizeof sbuf, keys), 0);
    CHECK_EQ_INT(secret_list(" , ", sbuf, sizeof sbuf, keys), 0);
    CHECK_EQ_INT(secret_list("abcdef", sbuf, 4, keys), 0);

    CHECK(wh_copy(text, 4, "abc"));
    CHECK(!wh_copy(text, 3, "abc"));

    json_t *root = json_loads(J("{'a':{'b':[{'c':'x'},5],'n':null,'long':'abcdefgh'}}"), 0, NULL);
    CHECK(wh_json_str(root, "a.b.0.c", text, sizeof text));
    CHECK_EQ_STR(text, "x");
    CHECK(wh_json_str(root, "a.missing", text, sizeof text) && !*text);
    CHECK(wh_json_str(root, "a.n", text, sizeof text) && !*text);
    CHECK(wh_json_str(root, "a.b.9.c", text, sizeof text) && !*text);
    CHECK(!wh_json_str(root, "a.b.1", text, sizeof text));
    CHECK(!wh_json_str(root, "a.long", text, 4));
    CHECK(!wh_field(root, "a.b", text, sizeof text, why, sizeof why));
    CHECK(strstr(why, "a.b") != NULL);
    int64_t v;
    bool present;
    CHECK(wh_json_int(root, "a.b.1", &v, &present) && present && v == 5);
    CHECK(wh_json_int(root, "a.zz", &v, &present) && !present);
    CHECK(!wh_json_int(root, "a.long", &v, &present));
    json_decref(root);

    CHECK(unix_to_rfc3339(1700000000, false, text, sizeof text));
    CHECK_EQ_STR(text, "2023-11-14T22:13:20Z");
    CHECK(unix_to_rfc3339(1700000000999LL, true, text, sizeof text));
    CHECK_EQ_STR(text, "2023-11-14T22:13:20Z");
    CHECK(!unix_to_rfc3339(1700000000, false, text, 10));

    long long t;
    CHECK(rfc3339_to_unix("2023-11-14T22:13:20.000000Z", &t) && t == 1700000000);
    CHECK(rfc3339_to_unix("2023-11-15T00:13:20+02:00", &t) && t == 1700000000);
    CHECK(!rfc3339_to_unix("2023-02-29T00:00:00Z", &t));
    CHECK(!rfc3339_to_unix("2023-11-14 22:13:20Z", &t));
    CHECK(!rfc3339_to_unix("2023-11-14T22:13:20", &t));
    CHECK(!rfc3339_to_unix("2023-11-14T22:13:20Zjunk", &t));
    CHECK(rfc3339_normalize("2024-02-29T23:59:60Z", text, sizeof text));
    CHECK_EQ_STR(text, "2024-02-29T23:59:59Z");
    CHECK(rfc3339_normalize("", text, sizeof text) && !*text);

    CHECK(wh_parse_unix("1700000000", &t) && t == 1700000000);
    CHECK(!wh_parse_unix("", &t));
    CHECK(!wh_parse_unix("-1", &t));
    CHECK(!wh_parse_unix(" 1", &t));
    CHECK(!wh_parse_unix("17000000a0", &t));
    CHECK(!wh_parse_unix("1234567890123", &t));
    CHECK(wh_fresh(1000, 1300) && wh_fresh(1300, 1000));
    CHECK(!wh_fresh(1000, 1301) && !wh_fresh(1301, 1000));

    char cur[4], id[37];
    CHECK(wh_currency(cur, "usd"));
    CHECK_EQ_STR(cur, "USD");
    CHECK(!wh_currency(cur, "ZZZ"));
    CHECK(!wh_currency(cur, "US"));
    CHECK(wh_uuid(id, "d485d5ac-6c82-42c6-9c08-c50cf01b73d7"));
    CHECK(!wh_uuid(id, "pledge-42") && !*id);
    CHECK(!wh_uuid(id, "d485d5ac-6c82-42c6-9c08-c50cf01b73dz"));
}

/* ---- Stripe ---- */

#define STRIPE_BODY "{\"id\":\"evt_test_webhook\",\"object\":\"event\"}"
#define STRIPE_V1 "d95c6b7477fbd7e9f90b1b0ef5f9c7ac25abca5382460e0d988c2b2a5b71b990"

static bool stripe_verify(const char *sig, const char *body, long long now)
{
    headers_reset();
    if (sig) header("Stripe-Signature", sig);
    return verify(&provider_stripe, body, now);
}

static void test_stripe_verify(void)
{
    const char *good = "t=1700000000,v1=" STRIPE_V1;
    *config_slot(&cfg, "PATROND_STRIPE_WEBHOOK_SECRET") = NULL;
    CHECK(!provider_configured(&provider_stripe, &cfg));
    *config_slot(&cfg, "PATROND_STRIPE_WEBHOOK_SECRET") = stripe_secret;
    CHECK(provider_configured(&provider_stripe, &cfg));

    CHECK(stripe_verify(good, STRIPE_BODY, 1700000010));
    CHECK(stripe_verify("t=1700000000,v1=deadbeef,v0=abc,v1=" STRIPE_V1, STRIPE_BODY, 1700000000));
    CHECK(stripe_verify("t=1700000000,v1=" STRIPE_V1 ",v1=deadbeef", STRIPE_BODY, 1700000000));
    CHECK(stripe_verify(good, STRIPE_BODY, 1700000300));
    CHECK(!stripe_verify(good, STRIPE_BODY, 1700000301));
    CHECK_EQ_STR(why, "timestamp out of tolerance");
    CHECK(!stripe_verify(good, STRIPE_BODY, 1699999699)); /* t five minutes and more ahead */
    CHECK(!stripe_verify(good, "{\"id\":\"evt_test_webhook\",\"object\":\"evenT\"}", 1700000000));
    CHECK_EQ_STR(why, "signature mismatch");
    /* NUL bytes are part of the signed body. */
    CHECK(!verify_n(&provider_stripe, STRIPE_BODY "\0", sizeof STRIPE_BODY, 1700000000));
    CHECK(!stripe_verify("t=1700000000, v1=" STRIPE_V1, STRIPE_BODY, 1700000000));
    CHECK(!stripe_verify(
        "t=1700000000,v1=D95C6B7477FBD7E9F90B1B0EF5F9C7AC25ABCA5382460E0D988C2B2A5B71B990",
        STRIPE_BODY, 1700000000));
    CHECK(!stripe_verify("t=1700000001,v1=" STRIPE_V1, STRIPE_BODY, 1700000000));
    CHECK(!stripe_verify(NULL, STRIPE_BODY, 1700000000));
    CHECK_EQ_STR(why, "missing Stripe-Signature header");
    CHECK(!stripe_verify("", STRIPE_BODY, 1700000000));
    CHECK(!stripe_verify("v1=" STRIPE_V1, STRIPE_BODY, 1700000000));
    CHECK(!stripe_verify("t=abc,v1=" STRIPE_V1, STRIPE_BODY, 1700000000));
    CHECK(!stripe_verify("t=-1700000000,v1=" STRIPE_V1, STRIPE_BODY, 1700000000));
    CHECK(!stripe_verify("t=1700000000,t=1700000000,v1=" STRIPE_V1, STRIPE_BODY, 1700000000));
    CHECK(!stripe_verify("t=1700000000,v0=" STRIPE_V1, STRIPE_BODY, 1700000000));
    CHECK_EQ_STR(why, "no v1 signature");

    *config_slot(&cfg, "PATROND_STRIPE_WEBHOOK_SECRET") = stripe_wrong;
    CHECK(!stripe_verify(good, STRIPE_BODY, 1700000000));
    CHECK(strstr(why, "secret") == NULL);
    *config_slot(&cfg, "PATROND_STRIPE_WEBHOOK_SECRET") = stripe_rotated;
    CHECK(stripe_verify(good, STRIPE_BODY, 1700000000));
    *config_slot(&cfg, "PATROND_STRIPE_WEBHOOK_SECRET") = stripe_secret;
}

static bool stripe_parse(const char *payload, struct wh_event *ev)
{
    headers_reset();
    return parse(&provider_stripe, J(payload), ev);
}

// clang-format off
static const struct wh_case test_stripe_parse_cases[] = {
    {stripe_parse, NULL,
     "{'id':'evt_1','type':'checkout.session.completed','created':1700000000,"
     "'data':{'object':{'id':'cs_1','mode':'subscription','payment_status':'paid',"
     "'client_reference_id':'d485d5ac-6c82-42c6-9c08-c50cf01b73d7',"
     "'customer':'cus_1','subscription':'sub_1','amount_total':500,'currency':'uah',"
     "'customer_details':{'email':'a@example.com','name':'Ann'}}}}",
     WH_PLEDGE_ACTIVATED, {{"event_key", "evt_1"}, {"type", "checkout.session.completed"},
      {"occurred_at", "2023-11-14T22:13:20Z"},
      {"pledge_id", "d485d5ac-6c82-42c6-9c08-c50cf01b73d7"}, {"email", "a@example.com"},
      {"name", "Ann"}, {"subscription_ref", "sub_1"}, {"customer_ref", "cus_1"}, {"amount", "500"},
      {"currency", "UAH"}}},
    {stripe_parse, NULL,
     "{'id':'evt_2','type':'checkout.session.completed','data':{'object':{"
     "'id':'cs_2','mode':'payment','payment_status':'paid','payment_intent':'pi_2',"
     "'client_reference_id':'not-ours','amount_total':1000,'currency':'usd',"
     "'customer_email':'b@example.com'}}}",
     WH_PAYMENT_SUCCEEDED, {{"payment_id", "pi_2"}, {"interval", "once"}, {"pledge_id", ""},
      {"email", "b@example.com"}, {"amount_minor", "1000"}}},
    {stripe_parse, NULL,
     "{'id':'evt_3','type':'checkout.session.completed','data':{'object':{"
     "'id':'cs_3','mode':'payment','payment_status':'unpaid'}}}",
     WH_IGNORED, {{NULL, NULL}}},
    /* API 2025-03-31 (basil) invoice shape */
    {stripe_parse, NULL,
     "{'id':'evt_4','type':'invoice.paid','data':{'object':{'id':'in_4',"
     "'customer':'cus_1','customer_email':'a@example.com','amount_paid':12345,"
     "'currency':'eur','parent':{'subscription_details':{'subscription':'sub_4',"
     "'metadata':{'pledge_id':'d485d5ac-6c82-42c6-9c08-c50cf01b73d7'}}},"
     "'lines':{'data':[{'period':{'end':1702592000},'price':{'recurring':"
     "{'interval':'month','interval_count':1}}}]}}}}",
     WH_PAYMENT_SUCCEEDED, {{"payment_id", "in_4"}, {"subscription_ref", "sub_4"},
      {"pledge_id", "d485d5ac-6c82-42c6-9c08-c50cf01b73d7"}, {"amount", "12345"},
      {"currency", "EUR"}, {"period_end", "2023-12-14T22:13:20Z"}, {"interval", "month"}}},
    /* the older shape, and a quarterly price (no pledge interval) */
    {stripe_parse, NULL,
     "{'id':'evt_5','type':'invoice.payment_succeeded','data':{'object':{"
     "'id':'in_5','subscription':'sub_5','amount_paid':100,'currency':'jpy',"
     "'lines':{'data':[{'price':{'recurring':{'interval':'month',"
     "'interval_count':3}}}]}}}}",
     WH_PAYMENT_SUCCEEDED, {{"subscription_ref", "sub_5"}, {"currency", "JPY"}, {"interval", ""}}},
    {stripe_parse, NULL,
     "{'id':'evt_6','type':'invoice.paid','data':{'object':{'id':'in_6',"
     "'amount_paid':0,'currency':'usd'}}}",
     WH_IGNORED, {{NULL, NULL}}},
    {stripe_parse, NULL,
     "{'id':'evt_7','type':'invoice.paid','data':{'object':{'id':'in_7',"
     "'amount_paid':'500','currency':'usd'}}}",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL,
     "{'id':'evt_7','type':'invoice.paid','data':{'object':{'id':'in_7',"
     "'amount_paid':500,'currency':'xyz'}}}",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL,
     "{'id':'evt_7','type':'invoice.paid','data':{'object':{'id':'in_7',"
     "'amount_paid':-5,'currency':'usd'}}}",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL,
     "{'id':'evt_7','type':'invoice.paid','data':{'object':{'id':'in_7',"
     "'amount_paid':5.5,'currency':'usd'}}}",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL,
     "{'id':'evt_7','type':'invoice.paid','data':{'object':{'id':'in_7',"
     "'currency':'usd'}}}",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL,
     "{'id':'evt_8','type':'invoice.payment_failed','data':{'object':{"
     "'id':'in_8','subscription':'sub_8','amount_due':500,'currency':'usd',"
     "'attempt_count':2,'next_payment_attempt':1700000000}}}",
     WH_PAYMENT_FAILED, {{"payment_id", "in_8:failed:2"},
      {"reason", "payment attempt 2 failed; next attempt at 2023-11-14T22:13:20Z"},
      {"amount_minor", "500"}}},
    {stripe_parse, NULL,
     "{'id':'evt_9','type':'invoice.payment_failed','data':{'object':{"
     "'id':'in_9','amount_due':500,'currency':'usd','attempt_count':1,"
     "'last_finalization_error':{'message':'Card declined'}}}}",
     WH_ANY_KIND, {{"reason", "Card declined"}}},
    {stripe_parse, NULL,
     "{'id':'evt_10','type':'customer.subscription.created','data':{'object':{"
     "'id':'sub_10','customer':'cus_10','status':'active','currency':'usd',"
     "'metadata':{'pledge_id':'d485d5ac-6c82-42c6-9c08-c50cf01b73d7'},"
     "'items':{'data':[{'quantity':3,'current_period_end':1700000000,"
     "'price':{'unit_amount':500,'recurring':{'interval':'year'}}}]}}}}",
     WH_PLEDGE_ACTIVATED, {{"subscription_ref", "sub_10"}, {"amount", "1500"}, {"interval", "year"},
      {"period_end", "2023-11-14T22:13:20Z"},
      {"pledge_id", "d485d5ac-6c82-42c6-9c08-c50cf01b73d7"}}},
    {stripe_parse, NULL,
     "{'id':'evt_11','type':'customer.subscription.updated','data':{'object':{"
     "'id':'sub_10','status':'incomplete','current_period_end':1700000000}}}",
     WH_IGNORED, {{"period_end", "2023-11-14T22:13:20Z"}}},
    {stripe_parse, NULL,
     "{'id':'evt_11','type':'customer.subscription.updated','data':{'object':{"
     "'id':'sub_10','status':'active','currency':'usd','items':{'data':[{"
     "'quantity':2,'price':{'unit_amount':9223372036854775807}}]}}}}",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL,
     "{'id':'evt_12','type':'customer.subscription.deleted','data':{'object':{"
     "'id':'sub_10','customer':'cus_10','status':'canceled',"
     "'cancellation_details':{'reason':'cancellation_requested'}}}}",
     WH_PLEDGE_CANCELED, {{"subscription_ref", "sub_10"}, {"reason", "cancellation_requested"}}},
    {stripe_parse, NULL,
     "{'id':'evt_13','type':'charge.refunded','data':{'object':{'id':'ch_13',"
     "'customer':'cus_1','amount_refunded':700,'currency':'usd',"
     "'billing_details':{'email':'a@example.com'},"
     "'refunds':{'data':[{'id':'re_2','amount':200},{'id':'re_1','amount':500}]}}}}",
     WH_PAYMENT_REFUNDED, {{"payment_id", "re_2"}, {"amount_minor", "200"},
      {"email", "a@example.com"}}},
    {stripe_parse, NULL,
     "{'id':'evt_14','type':'charge.refunded','data':{'object':{'id':'ch_14',"
     "'amount_refunded':700,'currency':'usd'}}}",
     WH_ANY_KIND, {{"payment_id", "ch_14:refund:700"}, {"amount_minor", "700"}}},
    /* a second partial refund of the same charge, without the refunds list */
    {stripe_parse, NULL,
     "{'id':'evt_14b','type':'charge.refunded','data':{'object':{'id':'ch_14',"
     "'amount_refunded':700,'currency':'usd'},"
     "'previous_attributes':{'amount_refunded':500,'refunded':false}}}",
     WH_ANY_KIND, {{"payment_id", "ch_14:refund:700"}, {"amount_minor", "200"}}},
    {stripe_parse, NULL,
     "{'id':'evt_14c','type':'charge.refunded','data':{'object':{'id':'ch_14',"
     "'amount_refunded':700,'currency':'usd'},"
     "'previous_attributes':{'amount_refunded':700}}}",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL,
     "{'id':'evt_14d','type':'charge.refunded','data':{'object':{'id':'ch_14',"
     "'amount_refunded':700,'currency':'usd'},"
     "'previous_attributes':{'amount_refunded':'500'}}}",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL, "{'id':'evt_14e','type':'charge.refunded','data':{}}",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL,
     "{'id':'evt_15','type':'charge.dispute.created','data':{'object':{"
     "'id':'dp_15','charge':'ch_1','amount':500,'currency':'usd',"
     "'reason':'fraudulent','status':'needs_response'}}}",
     WH_DISPUTE_OPENED, {{"payment_id", "dp_15"}, {"reason", "fraudulent"},
      {"amount_minor", "500"}}},
    {stripe_parse, NULL,
     "{'id':'evt_16','type':'charge.dispute.closed','data':{'object':{"
     "'id':'dp_15','amount':500,'currency':'usd','status':'won'}}}",
     WH_DISPUTE_WON, {{"payment_id", "dp_15:won"}}},
    {stripe_parse, NULL,
     "{'id':'evt_17','type':'charge.dispute.closed','data':{'object':{"
     "'id':'dp_15','amount':500,'currency':'usd','status':'lost'}}}",
     WH_IGNORED, {{NULL, NULL}}},
    {stripe_parse, NULL, "{'id':'evt_18','type':'customer.created','data':{'object':{}}}",
     WH_IGNORED, {{"event_key", "evt_18"}}},
};
// clang-format on

// clang-format off
static const struct wh_case test_stripe_parse_cases_2[] = {
    {stripe_parse, NULL, "{'type':'invoice.paid'}",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL, "{'id':'evt_19','type':'invoice.paid'}",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL, "{'id':'evt_19','id':'evt_20','type':'x'}",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL, "[1,2]",
     WH_FAILS, {{NULL, NULL}}},
    {stripe_parse, NULL, "{'id':",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

static void test_stripe_parse(void)
{
    struct wh_event ev;
    WH_RUN(test_stripe_parse_cases);
    headers_reset();
    CHECK(parse(&provider_stripe, STRIPE_BODY, &ev) == false); /* no type */
    WH_RUN(test_stripe_parse_cases_2);
}

/* ---- Standard Webhooks ---- */

#define STD_BODY "{\"test\": 2432232314}"
#define STD_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
#define STD_DECOY "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
#define STD_TS 1614265330

static void std_headers(const char *id, const char *ts, const char *sig)
{
    headers_reset();
    if (id) header("webhook-id", id);
    if (ts) header("Webhook-Timestamp", ts);
    if (sig) header("webhook-signature", sig);
}

static bool std_verify(const char *sig, const char *body, long long now)
{
    std_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", sig);
    return verify(&provider_standard, body, now);
}

static void test_standard_verify(void)
{
    *config_slot(&cfg, "PATROND_STANDARD_WEBHOOK_SECRET") = NULL;
    CHECK(!provider_configured(&provider_standard, &cfg));
    *config_slot(&cfg, "PATROND_STANDARD_WEBHOOK_SECRET") = std_secret;
    CHECK(provider_configured(&provider_standard, &cfg));

    CHECK(std_verify(STD_SIG, STD_BODY, STD_TS));
    CHECK(std_verify(STD_DECOY " " STD_SIG, STD_BODY, STD_TS));
    CHECK(std_verify("v1a,AAAA v2,xyz " STD_SIG, STD_BODY, STD_TS));
    CHECK(!std_verify(STD_DECOY, STD_BODY, STD_TS));
    CHECK_EQ_STR(why, "signature mismatch");
    CHECK(!std_verify("v1a,AAAA", STD_BODY, STD_TS));
    CHECK_EQ_STR(why, "no v1 signature");
    CHECK(!std_verify(STD_SIG, "{\"test\": 2432232315}", STD_TS));
    CHECK(!std_verify(STD_SIG, STD_BODY, STD_TS + 301));
    CHECK_EQ_STR(why, "timestamp out of tolerance");
    CHECK(!std_verify(STD_SIG, STD_BODY, STD_TS - 301));
    CHECK(std_verify(STD_SIG, STD_BODY, STD_TS + 300));
    CHECK(std_verify(STD_SIG, STD_BODY, STD_TS - 300));

    std_headers("msg_p5jXN8AQM9LWM0D4loKWxJel", "1614265330", STD_SIG);
    CHECK(!verify(&provider_standard, STD_BODY, STD_TS));
    std_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265331", STD_SIG);
    CHECK(!verify(&provider_standard, STD_BODY, STD_TS));
    std_headers(NULL, "1614265330", STD_SIG);
    CHECK(!verify(&provider_standard, STD_BODY, STD_TS));
    std_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", NULL, STD_SIG);
    CHECK(!verify(&provider_standard, STD_BODY, STD_TS));
    std_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", NULL);
    CHECK(!verify(&provider_standard, STD_BODY, STD_TS));
    std_headers("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330.5", STD_SIG);
    CHECK(!verify(&provider_standard, STD_BODY, STD_TS));
    CHECK_EQ_STR(why, "malformed webhook-timestamp");
    char long_id[300];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    std_headers(long_id, "1614265330", STD_SIG);
    CHECK(!verify(&provider_standard, STD_BODY, STD_TS));

    *config_slot(&cfg, "PATROND_STANDARD_WEBHOOK_SECRET") = std_wrong;
    CHECK(!std_verify(STD_SIG, STD_BODY, STD_TS));
    CHECK(strstr(why, "AAAA") == NULL);
    *config_slot(&cfg, "PATROND_STANDARD_WEBHOOK_SECRET") = std_rotated;
    CHECK(std_verify(STD_SIG, STD_BODY, STD_TS));
    *config_slot(&cfg, "PATROND_STANDARD_WEBHOOK_SECRET") = std_short;
    CHECK(!std_verify(STD_SIG, STD_BODY, STD_TS));
    CHECK(strstr(why, "configured secret") != NULL);
    CHECK(strstr(why, "abc") == NULL);
    *config_slot(&cfg, "PATROND_STANDARD_WEBHOOK_SECRET") = std_secret;
}

static bool std_parse(const char *payload, struct wh_event *ev)
{
    std_headers("msg_1", "1614265330", STD_SIG);
    return parse(&provider_standard, J(payload), ev);
}

// clang-format off
static const struct wh_case test_standard_parse_cases[] = {
    {std_parse, NULL,
     "{'type':'payment.succeeded','timestamp':'2023-11-14T22:13:20.5Z',"
     "'data':{'email':'a@example.com','name':'Ann','subscription_id':'sub_1',"
     "'payment_id':'pay_1','amount_minor':5000,'currency':'uah','interval':'month',"
     "'period_end':'2023-12-14T22:13:20+00:00','extra':true}}",
     WH_PAYMENT_SUCCEEDED, {{"event_key", "msg_1"}, {"type", "payment.succeeded"},
      {"occurred_at", "2023-11-14T22:13:20Z"}, {"email", "a@example.com"}, {"name", "Ann"},
      {"subscription_ref", "sub_1"}, {"payment_id", "pay_1"}, {"amount", "5000"},
      {"currency", "UAH"}, {"interval", "month"}, {"period_end", "2023-12-14T22:13:20Z"}}},
    {std_parse, NULL,
     "{'type':'pledge.activated','data':{'email':'a@example.com',"
     "'amount_minor':500,'currency':'USD','interval':'year'}}",
     WH_PLEDGE_ACTIVATED, {{"occurred_at", ""}}},
    {std_parse, NULL,
     "{'type':'payment.failed','timestamp':1700000000,'data':{'subscription_id':"
     "'sub_1','reason':'card expired'}}",
     WH_PAYMENT_FAILED, {{"reason", "card expired"}, {"occurred_at", "2023-11-14T22:13:20Z"}}},
    {std_parse, NULL, "{'type':'pledge.canceled','data':{'subscription_id':'sub_1'}}",
     WH_PLEDGE_CANCELED, {{NULL, NULL}}},
    {std_parse, NULL,
     "{'type':'payment.refunded','data':{'email':'a@example.com',"
     "'payment_id':'ref_1','amount_minor':250,'currency':'EUR'}}",
     WH_PAYMENT_REFUNDED, {{"amount_minor", "250"}}},
    {std_parse, NULL, "{'type':'something.else'}",
     WH_IGNORED, {{NULL, NULL}}},
    {std_parse, NULL,
     "{'type':'payment.succeeded','data':{'email':'a@example.com',"
     "'payment_id':'p','currency':'USD'}}",
     WH_FAILS, {{NULL, NULL}}}, /* no amount */
    {std_parse, NULL,
     "{'type':'payment.succeeded','data':{'email':'a@example.com',"
     "'payment_id':'p','amount_minor':5,'currency':'XYZ'}}",
     WH_FAILS, {{NULL, NULL}}},
    {std_parse, NULL,
     "{'type':'payment.succeeded','data':{'email':'a@example.com',"
     "'payment_id':'p','amount_minor':0,'currency':'USD'}}",
     WH_FAILS, {{NULL, NULL}}},
    {std_parse, NULL,
     "{'type':'payment.succeeded','data':{'email':'a@example.com',"
     "'payment_id':'p','amount_minor':'5','currency':'USD'}}",
     WH_FAILS, {{NULL, NULL}}},
    {std_parse, NULL,
     "{'type':'pledge.activated','data':{'email':'a@example.com',"
     "'interval':'week'}}",
     WH_FAILS, {{NULL, NULL}}},
    {std_parse, NULL,
     "{'type':'pledge.activated','data':{'email':'a@example.com',"
     "'period_end':'tomorrow'}}",
     WH_FAILS, {{NULL, NULL}}},
    {std_parse, NULL, "{'type':'pledge.activated','data':{'name':'nobody'}}",
     WH_FAILS, {{NULL, NULL}}},
    {std_parse, NULL, "{'type':'pledge.activated'}",
     WH_FAILS, {{NULL, NULL}}},
    {std_parse, NULL, "{'data':{}}",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

// clang-format off
static const struct wh_case test_standard_parse_cases_2[] = {
    {NULL, &provider_standard, "{'type':'pledge.canceled','data':{'subscription_id':'s'}}",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

static void test_standard_parse(void)
{
    WH_RUN(test_standard_parse_cases);
    std_headers(NULL, "1614265330", STD_SIG);
    WH_RUN(test_standard_parse_cases_2);
}

/* ---- Paddle ---- */

#define PADDLE_H1 "46bf7447220b9fad17fe5abcf6863231c96880c0586adfab6ccf7cfc9b93eda2"

static bool paddle_verify(const char *sig, const char *body, size_t len, long long now)
{
    headers_reset();
    if (sig) header("Paddle-Signature", sig);
    return verify_n(&provider_paddle, body, len, now);
}

// clang-format off
static const struct wh_case test_paddle_cases[] = {
    {NULL, &provider_paddle,
     "{'event_id':'evt_2','event_type':'subscription.activated','data':{'id':'sub_2',"
     "'status':'active','customer_id':'ctm_2','currency_code':'EUR','custom_data':{'"
     "pledge_id':"
     "'d485d5ac-6c82-42c6-9c08-c50cf01b73d7'},'billing_cycle':{'interval':'month',"
     "'frequency':1},'current_billing_period':{'ends_at':'2023-12-14T22:13:20Z'},"
     "'items':[{'quantity':2,'price':{'unit_price':{'amount':'1000'}}}]}}",
     WH_PLEDGE_ACTIVATED, {{"pledge_id", "d485d5ac-6c82-42c6-9c08-c50cf01b73d7"},
      {"customer_ref", "ctm_2"}, {"currency", "EUR"}, {"interval", "month"},
      {"period_end", "2023-12-14T22:13:20Z"}, {"amount", "2000"}}},
    {NULL, &provider_paddle,
     "{'event_id':'evt_3','event_type':'transaction.completed','data':{'id':'txn_3',"
     "'subscription_id':'sub_2','customer_id':'ctm_2','currency_code':'USD',"
     "'custom_data':{'pledge_id':42},'billing_period':{'ends_at':"
     "'2024-01-14T22:13:20.000000Z'},'details':{'totals':{'grand_total':'1500'}}}}",
     WH_PAYMENT_SUCCEEDED, {{"payment_id", "txn_3"}, {"subscription_ref", "sub_2"},
      {"pledge_id", ""}, {"amount", "1500"}, {"currency", "USD"},
      {"period_end", "2024-01-14T22:13:20Z"}}},
    {NULL, &provider_paddle,
     "{'event_id':'evt_4','event_type':'transaction.completed','data':{'id':'txn_4',"
     "'currency_code':'JPY','details':{'totals':{'grand_total':'700'}}}}",
     WH_ANY_KIND, {{"interval", "once"}, {"amount_minor", "700"}}},
    {NULL, &provider_paddle,
     "{'event_id':'evt_5','event_type':'transaction.completed','data':{'id':'t',"
     "'currency_code':'USD','details':{'totals':{'grand_total':'12.5'}}}}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paddle,
     "{'event_id':'evt_5','event_type':'transaction.completed','data':{'id':'t',"
     "'currency_code':'USD','details':{'totals':{'grand_total':"
     "'99999999999999999999'}}}}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paddle,
     "{'event_id':'evt_5','event_type':'transaction.completed','data':{'id':'t',"
     "'currency_code':'USD','details':{'totals':{'grand_total':1500}}}}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paddle,
     "{'event_id':'evt_5','event_type':'transaction.completed','data':{'id':'t',"
     "'currency_code':'QQQ','details':{'totals':{'grand_total':'1'}}}}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paddle,
     "{'event_id':'evt_6','event_type':'transaction.payment_failed','data':{"
     "'id':'txn_6','subscription_id':'sub_2','currency_code':'USD',"
     "'payments':[{'error_code':'declined'},{'error_code':'expired_card'}],"
     "'details':{'totals':{'grand_total':'1500'}}}}",
     WH_PAYMENT_FAILED, {{"payment_id", "txn_6:failed:2"}, {"reason", "declined"}}},
    {NULL, &provider_paddle,
     "{'event_id':'evt_7','event_type':'subscription.canceled','data':{'id':'sub_2',"
     "'status':'canceled'}}",
     WH_PLEDGE_CANCELED, {{"subscription_ref", "sub_2"}}},
    {NULL, &provider_paddle,
     "{'event_id':'evt_8','event_type':'adjustment.updated','data':{'id':'adj_8',"
     "'action':'refund','status':'approved','transaction_id':'txn_3',"
     "'subscription_id':'sub_2','currency_code':'USD','reason':'requested',"
     "'totals':{'total':'500'}}}",
     WH_PAYMENT_REFUNDED, {{"payment_id", "adj_8"}, {"amount_minor", "500"}}},
    {NULL, &provider_paddle,
     "{'event_id':'evt_9','event_type':'adjustment.created','data':{'id':'adj_8',"
     "'action':'refund','status':'pending_approval','currency_code':'USD',"
     "'totals':{'total':'500'}}}",
     WH_IGNORED, {{NULL, NULL}}},
    {NULL, &provider_paddle,
     "{'event_id':'evt_10','event_type':'adjustment.created','data':{'id':'adj_10',"
     "'action':'chargeback','status':'approved','currency_code':'USD',"
     "'totals':{'total':'1500'}}}",
     WH_DISPUTE_OPENED, {{NULL, NULL}}},
    {NULL, &provider_paddle,
     "{'event_id':'evt_11','event_type':'customer.updated','data':{'email':'x'}}",
     WH_IGNORED, {{NULL, NULL}}},
    {NULL, &provider_paddle, "{'event_type':'customer.updated'}",
     WH_FAILS, {{NULL, NULL}}},
    {NULL, &provider_paddle, "{'event_id':'e','event_type':'subscription.created'}",
     WH_FAILS, {{NULL, NULL}}},
};
// clang-format on

static void test_paddle(void)
{
    size_t len;
    char *body = read_fixture("paddle-body.json", &len);
    CHECK(body != NULL && len == 169);
    if (!body) return;
    const char *good = "ts=1700000000;h1=" PADDLE_H1;
    *config_slot(&cfg, "PATROND_PADDLE_WEBHOOK_SECRET") = NULL;
    CHECK(!provider_configured(&provider_paddle, &cfg));
    *config_slot(&cfg, "PATROND_PADDLE_WEBHOOK_SECRET") = paddle_secret;
    CHECK(provider_configured(&provider_paddle, &cfg));

    CHECK(paddle_verify(good, body, len, 1700000000));
    CHECK(paddle_verify("ts=1700000000;h1=deadbeef;h1=" PADDLE_H1, body, len, 1700000000));
    CHECK(paddle_verify("ts=1700000000;h1=" PADDLE_H1 ";h1=deadbeef", body, len, 1700000000));
    CHECK(paddle_verify(good, body, len, 1700000300));
    CHECK(!paddle_verify(good, body, len, 1700000301));
    CHECK_EQ_STR(why, "timestamp out of tolerance");
    CHECK(!paddle_verify(good, body, len, 1699999699));
    CHECK(!paddle_verify(good, body, len - 1, 1700000000));
    CHECK_EQ_STR(why, "signature mismatch");
    CHECK(!paddle_verify("ts=1700000001;h1=" PADDLE_H1, body, len, 1700000000));
    CHECK(!paddle_verify(NULL, body, len, 1700000000));
    CHECK(!paddle_verify("h1=" PADDLE_H1, body, len, 1700000000));
    CHECK(!paddle_verify("ts=abc;h1=" PADDLE_H1, body, len, 1700000000));
    CHECK(!paddle_verify("ts=1700000000", body, len, 1700000000));
    CHECK_EQ_STR(why, "no h1 signature");
    CHECK(!paddle_verify("ts=1700000000;" PADDLE_H1, body, len, 1700000000));
    *config_slot(&cfg, "PATROND_PADDLE_WEBHOOK_SECRET") = stripe_wrong;
    CHECK(!paddle_verify(good, body, len, 1700000000));
    *config_slot(&cfg, "PATROND_PADDLE_WEBHOOK_SECRET") = paddle_rotated;
    CHECK(paddle_verify(good, body, len, 1700000000));

    struct wh_event ev;
    headers_reset();
    CHECK(parse(&provider_paddle, body, &ev));
    /* The vector's subscription has no status: not known to be active. */
    CHECK_EQ_INT(ev.kind, WH_IGNORED);
    CHECK_EQ_STR(ev.event_key, "evt_01h8test");
    CHECK_EQ_STR(ev.type, "subscription.created");
    CHECK_EQ_STR(ev.subscription_ref, "sub_01h8test");
    CHECK_EQ_STR(ev.occurred_at, "2023-11-14T22:13:20Z");
    CHECK(!ev.has_amount);
    free(body);

    WH_RUN(test_paddle_cases);
}

/* ---- Patreon ---- */

#define PATREON_SIG "feb940cc0b899afe0516132c554a32df"

static bool patreon_verify(const char *sig, const char *body, size_t len)
{
    headers_reset();
    if (sig) header("X-Patreon-Signature", sig);
    header("X-Patreon-Event", "members:pledge:create");
    return verify_n(&provider_patreon, body, len, 1700000000);
}

static bool patreon_parse(const char *trigger, const char *payload, struct wh_event *ev)
{
    headers_reset();
    if (trigger) header("X-Patreon-Event", trigger);
    return parse(&provider_patreon, J(payload), ev);
}

static void test_patreon(void)
{
    size_t len;
    char *body = read_fixture("patreon-body.json", &len);
    CHECK(body != NULL && len == 184);
    if (!body) return;
    *config_slot(&cfg, "PATROND_PATREON_WEBHOOK_SECRET") = NULL;
    CHECK(!provider_configured(&provider_patreon, &cfg));
    *config_slot(&cfg, "PATROND_PATREON_WEBHOOK_SECRET") = patreon_secret;
    CHECK(provider_configured(&provider_patreon, &cfg));
    *config_slot(&cfg, "PATROND_PATREON_CURRENCY") = usd;

    CHECK(patreon_verify(PATREON_SIG, body, len));
    CHECK(patreon_verify("FEB940CC0B899AFE0516132C554A32DF", body, len));
    CHECK(!patreon_verify(PATREON_SIG, body, len - 1));
    CHECK_EQ_STR(why, "signature mismatch");
    CHECK(!patreon_verify("feb940cc0b899afe0516132c554a32de", body, len));
    CHECK(!patreon_verify(NULL, body, len));
    CHECK(!patreon_verify("feb940cc0b899afe0516132c554a32d", body, len));
    CHECK(!patreon_verify("zeb940cc0b899afe0516132c554a32df", body, len));
    *config_slot(&cfg, "PATROND_PATREON_WEBHOOK_SECRET") = stripe_wrong;
    CHECK(!patreon_verify(PATREON_SIG, body, len));
    *config_slot(&cfg, "PATROND_PATREON_WEBHOOK_SECRET") = patreon_rotated;
    CHECK(patreon_verify(PATREON_SIG, body, len));

    struct wh_event ev;
    headers_reset();
    header("X-Patreon-Event", "members:pledge:create");
    CHECK(parse(&provider_patreon, body, &ev));
    CHECK_EQ_INT(ev.kind, WH_PLEDGE_ACTIVATED);
    CHECK_EQ_STR(ev.type, "members:pledge:create");
    CHECK_EQ_STR(ev.subscription_ref, "d485d5ac-6c82-42c6-9c08-c50cf01b73d7");
    CHECK_EQ_STR(ev.email, "patron@example.com");
    CHECK(ev.has_amount && ev.amount_minor == 500);
    CHECK_EQ_STR(ev.currency, "USD");
    /* the key: SHA-256 of the body alone, whatever the unsigned trigger says */
    uint8_t digest[32];
    char hex[65];
    CHECK(sha256(body, len, digest));
    hex_encode(digest, sizeof digest, hex);
    CHECK_EQ_STR(ev.event_key, hex);
    const char *triggers[] = {"members:update", "members:pledge:delete", "members:delete", NULL};
    for (int i = 0; i < 4; i++) {
        headers_reset();
        if (triggers[i]) header("X-Patreon-Event", triggers[i]);
        CHECK(parse(&provider_patreon, body, &ev));
        CHECK_EQ_STR(ev.event_key, hex);
        CHECK_EQ_INT(ev.kind, WH_PLEDGE_ACTIVATED);
        CHECK_EQ_STR(ev.type, triggers[i] ? triggers[i] : "");
    }

    *config_slot(&cfg, "PATROND_PATREON_CURRENCY") = eur;
    CHECK(parse(&provider_patreon, body, &ev));
    CHECK_EQ_STR(ev.currency, "EUR");
    *config_slot(&cfg, "PATROND_PATREON_CURRENCY") = bogus;
    CHECK(!parse(&provider_patreon, body, &ev));
    *config_slot(&cfg, "PATROND_PATREON_CURRENCY") = usd;
    free(body);

    const char *paid =
        "{'data':{'type':'member','id':'m1','attributes':{'patron_status':'active_patron',"
        "'last_charge_status':'Paid','last_charge_date':'2023-11-14T22:13:20.000+00:00',"
        "'next_charge_date':'2023-12-14T22:13:20.000+00:00','pledge_cadence':1,"
        "'currently_entitled_amount_cents':300},'relationships':{'user':{'data':{'id':'u1',"
        "'type':'user'}}}},'included':[{'type':'campaign','id':'u1'},{'type':'user','id':'u1',"
        "'attributes':{'email':'u1@example.com','full_name':'User One'}}]}";
    CHECK(patreon_parse("members:update", paid, &ev));
    CHECK_EQ_INT(ev.kind, WH_PAYMENT_SUCCEEDED);
    CHECK_EQ_STR(ev.payment_id, "m1:2023-11-14T22:13:20Z");
    CHECK_EQ_STR(ev.email, "u1@example.com");
    CHECK_EQ_STR(ev.name, "User One");
    CHECK_EQ_STR(ev.customer_ref, "u1");
    CHECK_EQ_STR(ev.interval, "month");
    CHECK_EQ_STR(ev.period_end, "2023-12-14T22:13:20Z");
    CHECK_EQ_STR(ev.occurred_at, "2023-11-14T22:13:20Z");
    CHECK(ev.amount_minor == 300);
    CHECK(patreon_parse("members:pledge:update", paid, &ev));
    CHECK_EQ_INT(ev.kind, WH_PAYMENT_SUCCEEDED);
    CHECK_EQ_STR(ev.payment_id, "m1:2023-11-14T22:13:20Z");

    CHECK(patreon_parse("members:update",
                        "{'data':{'type':'member','id':'m1','attributes':{'patron_status':"
                        "'declined_patron','last_charge_status':'Declined','last_charge_date':"
                        "'2023-11-14T22:13:20Z','currently_entitled_amount_cents':300}}}",
                        &ev));
    CHECK_EQ_INT(ev.kind, WH_PAYMENT_FAILED);
    CHECK_EQ_STR(ev.payment_id, "m1:failed:2023-11-14T22:13:20Z");
    CHECK(*ev.reason);
    CHECK(patreon_parse("members:update",
                        "{'data':{'type':'member','id':'m1','attributes':{'patron_status':"
                        "'former_patron'}}}",
                        &ev));
    CHECK_EQ_INT(ev.kind, WH_PLEDGE_CANCELED);
    CHECK(patreon_parse("members:create",
                        "{'data':{'type':'member','id':'m2','attributes':{'patron_status':null,"
                        "'currently_entitled_amount_cents':0}}}",
                        &ev));
    CHECK_EQ_INT(ev.kind, WH_IGNORED);
    CHECK(!ev.has_amount);
    CHECK(patreon_parse("members:delete", "{'data':{'type':'member','id':'m2','attributes':{}}}",
                        &ev));
    CHECK_EQ_INT(ev.kind, WH_IGNORED);
    CHECK(patreon_parse("posts:publish", "{'data':{'type':'post','id':'p1'}}", &ev));
    CHECK_EQ_INT(ev.kind, WH_IGNORED);

    CHECK(patreon_parse(NULL, "{'data':{'type':'member','id':'m1','attributes':{}}}", &ev));
    CHECK(
        patreon_parse("members:create", "{'data':{'type':'post','id':'p1','attributes':{}}}", &ev));
    CHECK_EQ_INT(ev.kind, WH_IGNORED);
    CHECK(!patreon_parse("members:create", "{'data':{'id':'p1'}}", &ev));
    CHECK(!patreon_parse("members:create",
                         "{'data':{'type':'member','id':'m1','attributes':"
                         "{'currently_entitled_amount_cents':'500'}}}",
                         &ev));
    CHECK(!patreon_parse("members:create",
                         "{'data':{'type':'member','id':'m1','attributes':"
                         "{'currently_entitled_amount_cents':-1}}}",
                         &ev));
    CHECK(!patreon_parse("members:update",
                         "{'data':{'type':'member','id':'m1','attributes':"
                         "{'last_charge_date':'yesterday'}}}",
                         &ev));
    CHECK(!patreon_parse("members:create", "not json", &ev));
}

int main(void)
{
    test_common();
    test_stripe_verify();
    test_stripe_parse();
    test_standard_verify();
    test_standard_parse();
    test_paddle();
    test_patreon();
    return CHECK_DONE();
}
