/* libFuzzer target: the wayforpay webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    cfg.wayforpay_merchant = "test_merch_n1";
    cfg.wayforpay_secret = "flk3409refn54t54t*FNJRET";
}

FUZZ_PROVIDER(wh_wayforpay)
