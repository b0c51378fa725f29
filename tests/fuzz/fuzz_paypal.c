/* libFuzzer target: the paypal webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    cfg.paypal_webhook_id = "4JH86294D6297924G";
    cfg.paypal_cert_file = "tests/fixtures/webhooks/paypal-sandbox-cert.pem";
}

FUZZ_PROVIDER(wh_paypal)
