/* libFuzzer target: the liqpay webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    *config_slot(&cfg, "PATROND_LIQPAY_PRIVATE_KEY") = "sandbox_private_key_test";
}

FUZZ_PROVIDER(provider_liqpay)
