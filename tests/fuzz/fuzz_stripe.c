/* libFuzzer target: the stripe webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    cfg.stripe_webhook_secret = "whsec_test_secret";
}

FUZZ_PROVIDER(wh_stripe)
