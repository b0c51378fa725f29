/* The donation form, the member and admin pages, their assets and the
 * OpenAPI description (SPEC §5), served from the copies compiled into the
 * binary (tools/embed_files.c). The pages run no inline script, so the
 * Content-Security-Policy can forbid it outright; only the donation form
 * may be framed, because newsrooms embed it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "config.h"
#include "etag.h"
#include "handlers.h"
#include "provider.h"

#define CSP_MAX 1024

#define CSP_PAGE                                                                                   \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; "
/* a file that is not a page runs nothing and shows nowhere else */
#define CSP_FILE "default-src 'none'; frame-ancestors 'none'"

static const struct asset *asset_find(const char *path)
{
    for (size_t i = 0; i < assets_count; i++)
        if (!strcmp(assets[i].path, path)) return &assets[i];
    return NULL;
}

/* The page under its validators, or a 304 when the client's copy is
 * current; every copy is revalidated, so a deploy shows at once. */
static void serve(struct req *r, const char *path, const char *csp)
{
    const struct asset *a = asset_find(path);
    if (!a) {
        reply_error(r, ERR_not_found, "No such file.");
        return;
    }
    bool fresh = etag_none_match(req_header(r, "If-None-Match"), a->etag);
    char *copy = fresh ? NULL : malloc(a->len + 1);
    if (!fresh && !copy) {
        reply_error(r, ERR_internal_error, "Out of memory.");
        return;
    }
    reply_header(r, "ETag", a->etag);
    reply_header(r, "Cache-Control", "no-cache");
    reply_header(r, "Content-Security-Policy", csp);
    reply_header(r, "X-Content-Type-Options", "nosniff");
    /* the member page's URL carries a sign-in token until its script runs */
    reply_header(r, "Referrer-Policy", "no-referrer");
    if (fresh) {
        reply_empty(r, 304);
        return;
    }
    memcpy(copy, a->data, a->len);
    reply_raw(r, 200, a->type, copy, a->len);
}

void pages_donate(struct req *r)
{
    /* each origin at most once: far below the buffer's size */
    char form_action[CSP_MAX / 2] = "'self'";
    const char *configured[PROVIDERS_COUNT + 1];
    checkout_providers(&cfg, configured);
    /* A signed form the page submits is governed by form-action; the
     * other providers' checkouts are links the page navigates to. */
    for (size_t i = 0; configured[i]; i++) {
        const char *origin = provider_find(configured[i])->form_origin;
        if (!origin) continue;
        strcat(form_action, " ");
        strcat(form_action, origin);
    }
    char csp[CSP_MAX];
    snprintf(csp, sizeof csp, CSP_PAGE "form-action %s; frame-ancestors *", form_action);
    serve(r, "/donate", csp);
}

void pages_thanks(struct req *r)
{
    serve(r, "/donate/thanks", CSP_PAGE "form-action 'none'; frame-ancestors *");
}

void pages_members(struct req *r)
{
    reply_header(r, "X-Frame-Options", "DENY");
    serve(r, "/members", CSP_PAGE "form-action 'self'; frame-ancestors 'none'");
}

void pages_admin(struct req *r)
{
    reply_header(r, "X-Frame-Options", "DENY");
    serve(r, "/admin", CSP_PAGE "form-action 'self'; frame-ancestors 'none'");
}

void pages_asset(struct req *r)
{
    char path[ROUTE_PARAM_MAX + sizeof "/assets/"];
    snprintf(path, sizeof path, "/assets/%s", req_param(r, 0));
    serve(r, path, CSP_FILE);
}

/* The language catalogues, for the pages' scripts and for embed.js and
 * member.js, which run on the newsroom's own site: public texts, so any
 * origin may read them. */
void pages_catalogue(struct req *r)
{
    char path[ROUTE_PARAM_MAX + sizeof "/assets/i18n/"];
    snprintf(path, sizeof path, "/assets/i18n/%s", req_param(r, 0));
    reply_header(r, "Access-Control-Allow-Origin", "*");
    serve(r, path, CSP_FILE);
}

void pages_openapi(struct req *r)
{
    serve(r, "/v1/openapi.yaml", CSP_FILE);
}
