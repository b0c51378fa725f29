/* libFuzzer target: the wayforpay webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    *config_slot(&cfg, "PATROND_WAYFORPAY_MERCHANT") = "test_merch_n1";
    *config_slot(&cfg, "PATROND_WAYFORPAY_SECRET") = "flk3409refn54t54t*FNJRET";
}

FUZZ_PROVIDER(provider_wayforpay)
