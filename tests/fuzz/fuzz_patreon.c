/* libFuzzer target: the patreon webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    cfg.patreon_webhook_secret = "patreon_test_secret";
    cfg.patreon_currency = "USD";
}

FUZZ_PROVIDER(wh_patreon)
