/* Every endpoint: method, path pattern, handler, who may call it, and
 * what its body is. The pattern is also the route's metrics label. */
#include "handlers.h"
#include "router.h"

const struct route routes[] = {
    {"GET", "/healthz", health_live, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/readyz", health_ready, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/metrics", metrics_get, AUTH_PUBLIC, BODY_NONE},

    {"GET", "/donate", pages_donate, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/donate/thanks", pages_thanks, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/members", pages_members, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/admin", pages_admin, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/assets/{name}", pages_asset, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/openapi.yaml", pages_openapi, AUTH_PUBLIC, BODY_NONE},

    {"GET", "/v1/patrons", patrons_list, AUTH_ADMIN, BODY_NONE},
    {"POST", "/v1/patrons", patrons_create, AUTH_ADMIN, BODY_JSON},
    {"GET", "/v1/patrons/{id}", patrons_get, AUTH_ADMIN, BODY_NONE},
    {"PATCH", "/v1/patrons/{id}", patrons_update, AUTH_ADMIN, BODY_JSON},
    {"DELETE", "/v1/patrons/{id}", patrons_erase, AUTH_ADMIN, BODY_NONE},
    {"GET", "/v1/patrons/{id}/export", patrons_export, AUTH_ADMIN, BODY_NONE},

    {"GET", "/v1/tiers", tiers_list, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/tiers", tiers_create, AUTH_ADMIN, BODY_JSON},
    {"GET", "/v1/tiers/{id}", tiers_get, AUTH_PUBLIC, BODY_NONE},
    {"PATCH", "/v1/tiers/{id}", tiers_update, AUTH_ADMIN, BODY_JSON},
    {"DELETE", "/v1/tiers/{id}", tiers_delete, AUTH_ADMIN, BODY_NONE},

    {"GET", "/v1/pledges", pledges_list, AUTH_ADMIN, BODY_NONE},
    {"POST", "/v1/pledges", pledges_create, AUTH_ADMIN, BODY_JSON},
    {"GET", "/v1/pledges/{id}", pledges_get, AUTH_ADMIN, BODY_NONE},
    {"PATCH", "/v1/pledges/{id}", pledges_update, AUTH_ADMIN, BODY_JSON},

    {"GET", "/v1/payments", payments_list, AUTH_ADMIN, BODY_NONE},
    {"GET", "/v1/payments/{id}", payments_get, AUTH_ADMIN, BODY_NONE},

    {"GET", "/v1/audit", audit_list, AUTH_ADMIN, BODY_NONE},

    {"GET", "/v1/reports/summary", reports_summary, AUTH_ADMIN, BODY_NONE},
    {"GET", "/v1/reports/mrr", reports_mrr, AUTH_ADMIN, BODY_NONE},

    {"POST", "/v1/auth/magic-link", auth_magic_link, AUTH_PUBLIC, BODY_JSON},
    {"POST", "/v1/auth/session", auth_session_create, AUTH_PUBLIC, BODY_JSON},
    {"DELETE", "/v1/auth/session", auth_session_delete, AUTH_PATRON, BODY_NONE},
    {"GET", "/v1/me", me_get, AUTH_PATRON, BODY_NONE},
    {"DELETE", "/v1/me", me_erase, AUTH_PATRON, BODY_NONE},
    {"GET", "/v1/me/export", me_export, AUTH_PATRON, BODY_NONE},

    {"POST", "/v1/checkout", checkout_create, AUTH_PUBLIC, BODY_JSON},
    {"GET", "/v1/checkout/options", checkout_options, AUTH_PUBLIC, BODY_NONE},

    {"POST", "/v1/webhooks/{provider}", webhooks_receive, AUTH_PUBLIC, BODY_RAW},
    {"GET", "/v1/webhook-events", webhook_events_list, AUTH_ADMIN, BODY_NONE},
    {"GET", "/v1/webhook-events/{id}", webhook_events_get, AUTH_ADMIN, BODY_NONE},
    {"POST", "/v1/webhook-events/{id}/replay", webhook_events_replay, AUTH_ADMIN, BODY_NONE},

    {"GET", "/v1/topics", topics_list, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/topics", topics_create, AUTH_PATRON_OR_ADMIN, BODY_JSON},
    {"GET", "/v1/topics/{id}", topics_get, AUTH_PUBLIC, BODY_NONE},
    {"PATCH", "/v1/topics/{id}", topics_update, AUTH_ADMIN, BODY_JSON},
    {"DELETE", "/v1/topics/{id}", topics_delete, AUTH_ADMIN, BODY_NONE},

    {"GET", "/v1/rounds", rounds_list, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/rounds", rounds_create, AUTH_ADMIN, BODY_JSON},
    {"GET", "/v1/rounds/current", rounds_current, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/rounds/current/tally", rounds_current_tally, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/rounds/{id}", rounds_get, AUTH_PUBLIC, BODY_NONE},
    {"PATCH", "/v1/rounds/{id}", rounds_update, AUTH_ADMIN, BODY_JSON},
    {"POST", "/v1/rounds/{id}/close", rounds_close, AUTH_ADMIN, BODY_NONE},
    {"GET", "/v1/rounds/{id}/tally", rounds_tally, AUTH_PUBLIC, BODY_NONE},
    {"PUT", "/v1/rounds/{id}/ballot", ballots_put, AUTH_PATRON, BODY_JSON},
    {"GET", "/v1/rounds/{id}/ballot", ballots_get, AUTH_PATRON, BODY_NONE},
    {"DELETE", "/v1/rounds/{id}/ballot", ballots_delete, AUTH_PATRON, BODY_NONE},
};

const size_t routes_count = sizeof routes / sizeof routes[0];
