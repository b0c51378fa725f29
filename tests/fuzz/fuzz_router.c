/* libFuzzer target: the router, over a copy of patrond's route table
 * (api/http/routes.c needs the server; only its patterns matter here).
 * Input: "METHOD path". */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

static void h(struct req *r)
{
    (void)r;
}

static const struct route table[] = {
    {"GET", "/healthz", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/readyz", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/metrics", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/donate", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/donate/thanks", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/members", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/admin", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/assets/{name}", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/openapi.yaml", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/patrons", h, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/patrons", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/patrons/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"PATCH", "/v1/patrons/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"DELETE", "/v1/patrons/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/patrons/{id}/export", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/tiers", h, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/tiers", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/tiers/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"PATCH", "/v1/tiers/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"DELETE", "/v1/tiers/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/pledges", h, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/pledges", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/pledges/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"PATCH", "/v1/pledges/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/payments", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/payments/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/audit", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/reports/summary", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/reports/mrr", h, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/auth/magic-link", h, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/auth/session", h, AUTH_PUBLIC, BODY_NONE},
    {"DELETE", "/v1/auth/session", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/me", h, AUTH_PUBLIC, BODY_NONE},
    {"DELETE", "/v1/me", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/me/export", h, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/checkout", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/checkout/options", h, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/webhooks/{provider}", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/webhook-events", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/webhook-events/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/webhook-events/{id}/replay", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/topics", h, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/topics", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/topics/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"PATCH", "/v1/topics/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"DELETE", "/v1/topics/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/rounds", h, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/rounds", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/rounds/current", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/rounds/current/tally", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/rounds/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"PATCH", "/v1/rounds/{id}", h, AUTH_PUBLIC, BODY_NONE},
    {"POST", "/v1/rounds/{id}/close", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/rounds/{id}/tally", h, AUTH_PUBLIC, BODY_NONE},
    {"PUT", "/v1/rounds/{id}/ballot", h, AUTH_PUBLIC, BODY_NONE},
    {"GET", "/v1/rounds/{id}/ballot", h, AUTH_PUBLIC, BODY_NONE},
    {"DELETE", "/v1/rounds/{id}/ballot", h, AUTH_PUBLIC, BODY_NONE},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    if (!in) return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    char *sp = strchr(in, ' ');
    const char *method = "GET", *path = in;
    if (sp) {
        *sp = '\0';
        method = in;
        path = sp + 1;
    }
    const struct route *found = NULL;
    struct route_params params;
    char allow[128];
    enum route_match m = router_match(table, sizeof table / sizeof *table, method, path, &found,
                                      &params, allow, sizeof allow);
    if (m == ROUTE_FOUND) {
        /* HEAD is answered by the GET route */
        bool head = !strcmp(method, "HEAD") && !strcmp(found->method, "GET");
        if (!found || (strcmp(found->method, method) && !head)) abort();
        if (params.n < 0 || params.n > ROUTE_MAX_PARAMS) abort();
        for (int i = 0; i < params.n; i++)
            if (!memchr(params.v[i], '\0', sizeof params.v[i]) || strchr(params.v[i], '/')) abort();
    } else if (m == ROUTE_METHOD_NOT_ALLOWED) {
        if (!memchr(allow, '\0', sizeof allow)) abort();
    }
    free(in);
    return 0;
}
