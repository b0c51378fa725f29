/* libFuzzer target: the paddle webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    cfg.paddle_webhook_secret = "pdl_ntfset_old,pdl_ntfset_01h8test_secretkey";
}

FUZZ_PROVIDER(wh_paddle)
