/* libFuzzer target: the paypal webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    *config_slot(&cfg, "PATROND_PAYPAL_WEBHOOK_ID") = "4JH86294D6297924G";
    *config_slot(&cfg, "PATROND_PAYPAL_CERT_FILE") =
        "tests/fixtures/webhooks/paypal-sandbox-cert.pem";
}

FUZZ_PROVIDER(provider_paypal)
