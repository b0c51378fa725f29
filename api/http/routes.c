/* Every endpoint: method, path pattern, handler, who may call it, and
 * what its body is. The pattern is also the route's metrics label. */
#include "handlers.h"
#include "router.h"

const struct route routes[] = {
    {"GET", "/healthz", health_live, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/readyz", health_ready, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/metrics", metrics_get, AUTH_PUBLIC, BODY_NONE},

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
};

const size_t routes_count = sizeof routes / sizeof routes[0];
