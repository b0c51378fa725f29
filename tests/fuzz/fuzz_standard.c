/* libFuzzer target: the standard webhook (signature header, verifier, mapper). */
#include "fuzz_wh.h"

static void fz_configure(void)
{
    *config_slot(&cfg, "PATROND_STANDARD_WEBHOOK_SECRET") =
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
}

FUZZ_PROVIDER(provider_standard)
