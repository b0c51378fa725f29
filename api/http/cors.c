/* CORS (include/cors.h). A preflight from an origin not on the list gets
 * the same 204, only without the Access-Control-Allow-* headers: the
 * browser then refuses the real request, which is the whole protection
 * CORS gives; a 403 would add nothing for clients that ignore CORS, and
 * a uniform answer is simpler to cache behind a proxy. */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "cors.h"

#define ALLOWED_HEADERS "Content-Type, Authorization, Idempotency-Key, X-Request-Id, If-None-Match"
/* Headers a page may read beyond the CORS-safelisted ones. */
#define EXPOSED_HEADERS "Retry-After, X-Request-Id, Idempotent-Replayed, ETag"
/* How long a browser may reuse a preflight answer (seconds). */
#define PREFLIGHT_MAX_AGE "600"

static const char *const browser_prefixes[] = {
    "/v1/checkout", "/v1/tiers", "/v1/auth", "/v1/me", "/v1/topics", "/v1/rounds",
};

bool cors_browser_path(const char *path)
{
    for (size_t i = 0; i < sizeof browser_prefixes / sizeof browser_prefixes[0]; i++) {
        size_t n = strlen(browser_prefixes[i]);
        if (!strncmp(path, browser_prefixes[i], n) && (path[n] == '\0' || path[n] == '/'))
            return true;
    }
    return false;
}

/* The list is stored trimmed and comma-joined (api/config.c). Scheme and
 * host are case-insensitive, and browsers send them in lower case. */
bool cors_origin_allowed(const char *allowlist, const char *origin)
{
    if (!allowlist || !origin || !*origin) return false;
    size_t len = strlen(origin);
    for (const char *p = allowlist; *p;) {
        size_t n = strcspn(p, ",");
        if ((n == 1 && *p == '*') || (n == len && !strncasecmp(p, origin, n))) return true;
        p += n;
        if (*p == ',') p++;
    }
    return false;
}

/* The Origin of a browser endpoint's request when allowlisted, else NULL. */
static const char *allowed_origin(struct req *r)
{
    if (!cfg.cors_origins || !cors_browser_path(r->path)) return NULL;
    const char *origin = req_header(r, "Origin");
    return cors_origin_allowed(cfg.cors_origins, origin) ? origin : NULL;
}

bool cors_preflight(struct req *r)
{
    if (strcmp(r->method, "OPTIONS") != 0) return false;
    char allow[128];
    if (router_match(routes, routes_count, r->method, r->path, NULL, NULL, allow, sizeof allow) !=
        ROUTE_METHOD_NOT_ALLOWED)
        return false;
    reply_header(r, "Allow", allow);
    if (allowed_origin(r)) {
        reply_header(r, "Access-Control-Allow-Methods", allow);
        reply_header(r, "Access-Control-Allow-Headers", ALLOWED_HEADERS);
        reply_header(r, "Access-Control-Max-Age", PREFLIGHT_MAX_AGE);
    }
    reply_empty(r, 204);
    return true;
}

void cors_decorate(struct req *r)
{
    if (!cfg.cors_origins || !cors_browser_path(r->path)) return;
    /* The answer differs by Origin, so shared caches must key on it. */
    reply_header(r, "Vary", "Origin");
    const char *origin = allowed_origin(r);
    if (!origin) return;
    reply_header(r, "Access-Control-Allow-Origin", origin);
    if (strcmp(r->method, "OPTIONS") != 0)
        reply_header(r, "Access-Control-Expose-Headers", EXPOSED_HEADERS);
}
