/* libFuzzer target: the standard webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    cfg.standard_webhook_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
}

FUZZ_PROVIDER(wh_standard)
