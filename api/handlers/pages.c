/* The donation form, the member and admin pages, their assets and the
 * OpenAPI description (SPEC §5), served from the copies compiled into the
 * binary (tools/embed_files.c). Each page is a template rendered once per
 * offered language at start (SPEC §4c); a request picks its language's
 * copy. The pages run no inline script, so the Content-Security-Policy can
 * forbid it outright; only the donation form may be framed, because
 * newsrooms embed it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "config.h"
#include "etag.h"
#include "handlers.h"
#include "i18n.h"
#include "page_render.h"
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

/* The pages, and the name of each one's texts in the catalogue. */
static const struct {
    const char *path, *texts;
} page_list[] = {
    {"/donate", "donate"},
    {"/donate/thanks", "thanks"},
    {"/members", "members"},
    {"/admin", "admin"},
};
#define PAGES_COUNT (sizeof page_list / sizeof page_list[0])
#define LANGUAGES_MAX 16

/* Each page in each language, filled at start and only read afterwards. */
struct rendered {
    struct asset copy; /* path, type, bytes and tag of this language's page */
    char etag[48];
    const char *lang;
};
static struct rendered rendered[PAGES_COUNT][LANGUAGES_MAX];

bool pages_render(void)
{
    size_t langs = i18n_count() < LANGUAGES_MAX ? i18n_count() : LANGUAGES_MAX;
    for (size_t p = 0; p < PAGES_COUNT; p++) {
        const struct asset *t = asset_find(page_list[p].path);
        if (!t) return false;
        for (size_t l = 0; l < langs; l++) {
            struct rendered *out = &rendered[p][l];
            size_t len = 0;
            char *page =
                page_render((const char *)t->data, t->len, i18n_code(l), page_list[p].texts, &len);
            if (!page) {
                pages_free();
                return false;
            }
            /* FNV-1a of the bytes: the tag only has to change when they do */
            uint64_t h = 14695981039346656037ULL;
            for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char)page[i]) * 1099511628211ULL;
            snprintf(out->etag, sizeof out->etag, "\"%zx-%016llx\"", len, (unsigned long long)h);
            out->copy = (struct asset){t->path, t->type, (unsigned char *)page, len, out->etag};
            out->lang = i18n_code(l);
        }
    }
    return true;
}

void pages_free(void)
{
    for (size_t p = 0; p < PAGES_COUNT; p++)
        for (size_t l = 0; l < LANGUAGES_MAX; l++)
            free((void *)rendered[p][l].copy.data);
    memset(rendered, 0, sizeof rendered);
}

/* The copy of a page for the request's language: ?lang=, else
 * Accept-Language, else the default (the choice a reader stored in the
 * browser comes back as ?lang=, see web/assets/lang.js). */
static const struct rendered *page_find(struct req *r, const char *path)
{
    const char *lang = i18n_negotiate(req_query(r, "lang"), req_header(r, "Accept-Language"));
    for (size_t p = 0; p < PAGES_COUNT; p++) {
        if (strcmp(page_list[p].path, path)) continue;
        for (size_t l = 0; l < LANGUAGES_MAX && rendered[p][l].lang; l++)
            if (!strcmp(rendered[p][l].lang, lang)) return &rendered[p][l];
    }
    return NULL;
}

/* The file under its validators, or a 304 when the client's copy is
 * current; every copy is revalidated, so a deploy shows at once. */
static void serve_asset(struct req *r, const struct asset *a, const char *csp)
{
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

static void serve(struct req *r, const char *path, const char *csp)
{
    serve_asset(r, asset_find(path), csp);
}

/* A page differs by language, so caches keep one copy per Accept-Language. */
static void serve_page(struct req *r, const char *path, const char *csp)
{
    reply_header(r, "Vary", "Accept-Language");
    const struct rendered *page = page_find(r, path);
    if (!page) {
        reply_error(r, ERR_internal_error, "The page was not rendered at start.");
        return;
    }
    reply_header(r, "Content-Language", page->lang);
    serve_asset(r, &page->copy, csp);
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
    serve_page(r, "/donate", csp);
}

void pages_thanks(struct req *r)
{
    serve_page(r, "/donate/thanks", CSP_PAGE "form-action 'none'; frame-ancestors *");
}

void pages_members(struct req *r)
{
    reply_header(r, "X-Frame-Options", "DENY");
    serve_page(r, "/members", CSP_PAGE "form-action 'self'; frame-ancestors 'none'");
}

void pages_admin(struct req *r)
{
    reply_header(r, "X-Frame-Options", "DENY");
    serve_page(r, "/admin", CSP_PAGE "form-action 'self'; frame-ancestors 'none'");
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
