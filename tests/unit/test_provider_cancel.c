/* The self-service cancel's provider side (include/provider.h `cancel`):
 * the request each module builds for its API, and how it reads the
 * answers, without a network. The providers patrond cancels at are the
 * ones sql/79_self_service.sql calls 'provider'. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "encode.h"
#include "form.h"
#include "liqpay_sign.h"
#include "provider.h"

static const char *env(const char *name)
{
    static const struct {
        const char *name, *value;
    } vars[] = {
        {"PATROND_STRIPE_API_KEY", "rk_test_abc"},
        {"PATROND_STRIPE_API_URL", "http://127.0.0.1:9/"},
        {"PATROND_LIQPAY_PUBLIC_KEY", "sandbox_pub"},
        {"PATROND_LIQPAY_PRIVATE_KEY", "sandbox_priv"},
        {"PATROND_WAYFORPAY_MERCHANT", "merch"},
        {"PATROND_WAYFORPAY_SECRET", "sec"},
        {"PATROND_WAYFORPAY_MERCHANT_PASSWORD", "pass\"word"},
    };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (!strcmp(vars[i].name, name)) return vars[i].value;
    return NULL;
}

static const char *env_none(const char *name)
{
    (void)name;
    return NULL;
}

static enum cancel_outcome outcome(const char *provider, const char *ref, long status,
                                   const char *body)
{
    char why[256] = "";
    enum cancel_outcome out =
        provider_find(provider)->cancel->outcome(ref, status, body, strlen(body), why, sizeof why);
    if (out == CANCEL_FAILED) CHECK(why[0] != '\0');
    return out;
}

/* Each of `want` ({name, text} pairs) is a string member of obj, and obj
 * has no member besides them and `others`. */
static void check_members(json_t *obj, const char *const (*want)[2], size_t n, size_t others)
{
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_STR(json_string_value(json_object_get(obj, want[i][0])), want[i][1]);
    CHECK_EQ_INT(json_object_size(obj), n + others);
}

static void test_table(struct config *c)
{
    static const char *const through_api[] = {"liqpay", "stripe", "wayforpay"};
    size_t with_cancel = 0;
    for (size_t i = 0; i < PROVIDERS_COUNT; i++) {
        const struct provider *p = provider_table[i];
        if (!p->cancel) continue;
        with_cancel++;
        CHECK(p->cancel->configured && p->cancel->request && p->cancel->outcome);
        CHECK(p->cancel->configured(c));
        CHECK(!p->manage_url);
    }
    CHECK_EQ_INT(with_cancel, 3);
    for (size_t i = 0; i < 3; i++)
        CHECK(provider_find(through_api[i])->cancel != NULL);
    CHECK_EQ_STR(provider_find("patreon")->manage_url,
                 "https://www.patreon.com/settings/memberships");
    CHECK_EQ_STR(provider_find("paypal")->manage_url, "https://www.paypal.com/myaccount/autopay/");

    /* nothing configured: no call is made */
    struct config none;
    char err[256], why[128];
    CHECK(config_load(&none, env_none, "/tmp", err, sizeof err));
    for (size_t i = 0; i < 3; i++)
        CHECK(provider_cancel(provider_find(through_api[i]), &none, "ref_1", why, sizeof why) ==
              CANCEL_NOT_CONFIGURED);
    CHECK(provider_cancel(provider_find("patreon"), &none, "ref_1", why, sizeof why) ==
          CANCEL_FAILED);
    /* the default API addresses */
    CHECK_EQ_STR(*config_slot(&none, "PATROND_STRIPE_API_URL"), "https://api.stripe.com");
    CHECK_EQ_STR(*config_slot(&none, "PATROND_LIQPAY_API_URL"),
                 "https://www.liqpay.ua/api/request");
    CHECK_EQ_STR(*config_slot(&none, "PATROND_WAYFORPAY_API_URL"),
                 "https://api.wayforpay.com/regularApi");
    config_free(&none);
}

static void test_stripe(struct config *c)
{
    const struct provider_cancel *k = provider_find("stripe")->cancel;
    struct provider_call call = {0};
    char why[128];
    CHECK(k->request(c, "sub_1Abc", &call, why, sizeof why));
    /* the base URL's trailing '/' is not doubled */
    CHECK_EQ_STR(call.url, "http://127.0.0.1:9/v1/subscriptions/sub_1Abc");
    CHECK_EQ_STR(call.body, "cancel_at_period_end=true");
    CHECK_EQ_STR(call.headers[0], "Authorization: Bearer rk_test_abc");
    CHECK_EQ_STR(call.headers[1], "Content-Type: application/x-www-form-urlencoded");
    CHECK(call.headers[2] == NULL);
    provider_call_free(&call);
    /* no path of our choosing reaches Stripe */
    CHECK(!k->request(c, "sub_1/../../v1/customers", &call, why, sizeof why));
    provider_call_free(&call);
    CHECK(!k->request(c, "", &call, why, sizeof why));
    provider_call_free(&call);
}

static void test_liqpay(struct config *c)
{
    const struct provider_cancel *k = provider_find("liqpay")->cancel;
    struct provider_call call = {0};
    char why[128];
    CHECK(k->request(c, "0b7e8f5c-3c1a-4d2e-9f00-123456789abc", &call, why, sizeof why));
    CHECK_EQ_STR(call.url, "https://www.liqpay.ua/api/request");
    CHECK_EQ_STR(call.headers[0], "Content-Type: application/x-www-form-urlencoded");
    char *data = NULL, *signature = NULL;
    size_t len = call.body ? strlen(call.body) : 0;
    CHECK(form_field(call.body, len, "data", &data) == FORM_OK);
    CHECK(form_field(call.body, len, "signature", &signature) == FORM_OK);
    char expected[29] = "";
    CHECK(data && liqpay_signature("sandbox_priv", data, expected));
    CHECK_EQ_STR(signature, expected);
    uint8_t text[512];
    size_t n = 0;
    CHECK(data && base64_decode(data, strlen(data), text, sizeof text - 1, &n));
    json_t *order = json_loadb((const char *)text, n, 0, NULL);
    static const char *const order_members[][2] = {
        {"action", "unsubscribe"},
        {"public_key", "sandbox_pub"},
        {"order_id", "0b7e8f5c-3c1a-4d2e-9f00-123456789abc"},
    };
    check_members(order, order_members, 3, 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(order, "version")), 3);
    json_decref(order);
    free(data);
    free(signature);
    provider_call_free(&call);
}

static void test_wayforpay(struct config *c)
{
    const struct provider_cancel *k = provider_find("wayforpay")->cancel;
    struct provider_call call = {0};
    char why[128];
    CHECK(k->request(c, "order-1", &call, why, sizeof why));
    CHECK_EQ_STR(call.url, "https://api.wayforpay.com/regularApi");
    CHECK_EQ_STR(call.headers[0], "Content-Type: application/json");
    json_t *req = call.body ? json_loads(call.body, 0, NULL) : NULL;
    static const char *const request_members[][2] = {
        {"requestType", "REMOVE"},
        {"merchantAccount", "merch"},
        {"merchantPassword", "pass\"word"}, /* JSON-escaped, not pasted */
        {"orderReference", "order-1"},
    };
    check_members(req, request_members, 4, 0);
    json_decref(req);
    provider_call_free(&call);
}

static const struct {
    const char *provider, *ref;
    long status;
    const char *body;
    enum cancel_outcome want;
} answers[] = {
    {"stripe", "sub_1", 200,
     "{\"id\":\"sub_1\",\"object\":\"subscription\",\"status\":\"active\","
     "\"cancel_at_period_end\":true}",
     CANCEL_AT_PERIOD_END},
    {"stripe", "sub_1", 200,
     "{\"id\":\"sub_1\",\"object\":\"subscription\",\"status\":\"canceled\","
     "\"cancel_at_period_end\":false}",
     CANCEL_ENDED},
    {"stripe", "sub_1", 200,
     "{\"id\":\"sub_1\",\"object\":\"subscription\",\"status\":\"active\","
     "\"cancel_at_period_end\":false}",
     CANCEL_FAILED},
    {"stripe", "sub_1", 200,
     "{\"id\":\"sub_2\",\"object\":\"subscription\",\"status\":\"active\","
     "\"cancel_at_period_end\":true}",
     CANCEL_FAILED},
    {"stripe", "sub_1", 200, "{\"object\":\"customer\",\"id\":\"sub_1\"}", CANCEL_FAILED},
    {"stripe", "sub_1", 404,
     "{\"error\":{\"code\":\"resource_missing\",\"message\":\"No such "
     "subscription\"}}",
     CANCEL_FAILED},
    {"stripe", "sub_1", 200, "<html>", CANCEL_FAILED},
    {"stripe", "sub_1", 200, "", CANCEL_FAILED},
    {"stripe", "sub_1", 302, "", CANCEL_FAILED},
    {"liqpay", "x", 200, "{\"result\":\"ok\",\"status\":\"unsubscribed\"}", CANCEL_ENDED},
    {"liqpay", "x", 200,
     "{\"result\":\"error\",\"status\":\"error\",\"err_code\":\"err_signature\","
     "\"err_description\":\"Invalid signature\"}",
     CANCEL_FAILED},
    {"liqpay", "x", 200, "{\"status\":\"subscribed\"}", CANCEL_FAILED},
    {"liqpay", "x", 200, "{\"status\":1}", CANCEL_FAILED},
    {"liqpay", "x", 503, "{\"status\":\"unsubscribed\"}", CANCEL_FAILED},
    {"wayforpay", "x", 200, "{\"reasonCode\":4100,\"reason\":\"Ok\"}", CANCEL_ENDED},
    {"wayforpay", "x", 200, "{\"reasonCode\":\"4100\",\"reason\":\"Ok\"}", CANCEL_ENDED},
    {"wayforpay", "x", 200, "{\"reasonCode\":1109,\"reason\":\"Invalid merchant\"}", CANCEL_FAILED},
    {"wayforpay", "x", 200, "{\"reason\":\"Ok\"}", CANCEL_FAILED},
    {"wayforpay", "x", 200, "{\"reasonCode\":41000}", CANCEL_FAILED},
    {"wayforpay", "x", 500, "{\"reasonCode\":4100}", CANCEL_FAILED},
};

/* How each module reads its provider's answers. */
static void test_answers(void)
{
    for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++)
        CHECK(outcome(answers[i].provider, answers[i].ref, answers[i].status, answers[i].body) ==
              answers[i].want);
}

int main(void)
{
    struct config c;
    char err[256];
    if (!config_load(&c, env, "/tmp", err, sizeof err)) {
        printf("config: %s\n", err);
        return 1;
    }
    test_table(&c);
    test_stripe(&c);
    test_liqpay(&c);
    test_wayforpay(&c);
    test_answers();
    config_free(&c);
    return CHECK_DONE();
}
