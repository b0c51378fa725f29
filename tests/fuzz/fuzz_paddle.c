/* libFuzzer target: the paddle webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    *config_slot(&cfg, "PATROND_PADDLE_WEBHOOK_SECRET") =
        "pdl_ntfset_old,pdl_ntfset_01h8test_secretkey";
}

FUZZ_PROVIDER(provider_paddle)
