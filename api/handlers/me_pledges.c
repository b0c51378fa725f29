/* POST /v1/me/pledges/{id}/cancel: a patron cancels their own pledge
 * (SPEC §4c) at the provider where patrond can, in patrond where it is the
 * authority, or is sent to the provider's page. Two database calls around
 * the provider's: its seconds hold no transaction open, and the pledge
 * changes only once the provider said yes, so a failure leaves it as it
 * was. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db/me_pledges.h"
#include "handlers.h"
#include "log.h"
#include "provider.h"
#include "tally_notify.h"

/* Seconds a patron is asked to wait after a provider failed, and while
 * other calls to providers fill their share of the database threads. */
#define PROVIDER_RETRY_AFTER "60"
#define PROVIDER_BUSY_RETRY_AFTER "5"

static const char *text(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* Patreon and PayPal: the patron cancels on the provider's page; others
 * patrond cannot end (Monobank, Paddle, no subscription id known). */
static void reply_elsewhere(struct req *r, const struct provider *p, const char *name)
{
    char detail[200];
    if (p && p->manage_url) {
        snprintf(detail, sizeof detail,
                 "A %s pledge is canceled at the provider, on the page in manage_url.", name);
        reply_error_with(r, ERR_pledge_not_cancelable, detail,
                         json_pack("{s:s}", "manage_url", p->manage_url));
        return;
    }
    snprintf(detail, sizeof detail,
             "patrond cannot cancel this %s pledge; write to the newsroom to end it.", name);
    reply_error(r, ERR_pledge_not_cancelable, detail);
}

/* Asks the provider; false when it has replied (a failure). */
static bool cancel_at_provider(struct req *r, const char *name, const char *ref, bool *ended)
{
    const struct provider *p = provider_find(name);
    char why[256] = "";
    enum cancel_outcome out = p ? provider_cancel(p, &cfg, ref, why, sizeof why) : CANCEL_FAILED;
    switch (out) {
    case CANCEL_ENDED:
    case CANCEL_AT_PERIOD_END:
        *ended = out == CANCEL_ENDED;
        return true;
    case CANCEL_NOT_CONFIGURED:
        log_warn("pledge cancel: %s", why);
        reply_error(r, ERR_provider_not_configured,
                    "Cancelling through this provider is not set up here; write to the newsroom.");
        return false;
    case CANCEL_BUSY:
        log_warn("pledge cancel at %s not tried: %s", name, why);
        reply_header(r, "Retry-After", PROVIDER_BUSY_RETRY_AFTER);
        reply_error(r, ERR_provider_busy,
                    "Too many cancellations are waiting for payment providers right now; the "
                    "pledge is unchanged. Try again in a few seconds.");
        return false;
    case CANCEL_FAILED:
        break;
    }
    log_warn("pledge cancel at %s failed: %s", name, why[0] ? why : "unknown provider");
    reply_header(r, "Retry-After", PROVIDER_RETRY_AFTER);
    reply_error(r, ERR_provider_unavailable,
                "The payment provider did not confirm the cancellation; the pledge is unchanged. "
                "Try again later.");
    return false;
}

void me_pledge_cancel(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    json_t *target = NULL;
    struct db_status st = db_me_pledge_cancel_target(r->db, r->caller.id, id, &target);
    if (st.rc != DB_OK) {
        reply_db(r, &st);
        return;
    }
    const char *mode = text(target, "cancelable"), *provider = text(target, "provider");
    bool ended = true;
    if (!strcmp(mode, "no")) {
        reply_error(r, ERR_pledge_not_cancelable, text(target, "why_not"));
    } else if (!strcmp(mode, "elsewhere")) {
        reply_elsewhere(r, provider_find(provider), provider);
    } else if (strcmp(mode, "patrond") &&
               !cancel_at_provider(r, provider, text(target, "provider_ref"), &ended)) {
        /* replied */
    } else {
        json_t *done = NULL;
        bool moved = false;
        st = db_me_pledge_cancel(r->db, r->caller.id, id, ended, &done, &moved);
        if (moved) tally_changed();
        reply_result(r, &st, 200, done);
    }
    json_decref(target);
}
