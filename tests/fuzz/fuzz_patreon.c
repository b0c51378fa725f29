/* libFuzzer target: the patreon webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    *config_slot(&cfg, "PATROND_PATREON_WEBHOOK_SECRET") = "patreon_test_secret";
    *config_slot(&cfg, "PATROND_PATREON_CURRENCY") = "USD";
}

FUZZ_PROVIDER(provider_patreon)
