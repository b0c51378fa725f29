/* libFuzzer target: the stripe webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    *config_slot(&cfg, "PATROND_STRIPE_WEBHOOK_SECRET") = "whsec_test_secret";
}

FUZZ_PROVIDER(provider_stripe)
