/* libFuzzer target: the liqpay webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    cfg.liqpay_private_key = "sandbox_private_key_test";
}

FUZZ_PROVIDER(wh_liqpay)
