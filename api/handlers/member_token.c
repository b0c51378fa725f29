/* Member tokens for the newsroom's site (SPEC §4b): POST /v1/me/token
 * signs what the database says about the signed-in patron, and
 * /.well-known/jwks.json publishes the keys that verify it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db/member_token.h"
#include "etag.h"
#include "handlers.h"
#include "jwt.h"
#include "signing_keys.h"

/* Short, since a site cannot revoke a token it was handed: a membership
 * that ends shows on the site within this time. */
#define TOKEN_LIFETIME_S (15 * 60)
/* Verifiers refetch on an unknown kid, so a rotation needs no short cache. */
#define JWKS_CACHE_CONTROL "public, max-age=300"

static bool add_registered_claims(json_t *claims, time_t now)
{
    return json_object_set_new(claims, "iss", json_string(cfg.public_url)) == 0 &&
           json_object_set_new(claims, "aud", json_string(cfg.token_audience)) == 0 &&
           json_object_set_new(claims, "iat", json_integer((json_int_t)now)) == 0 &&
           json_object_set_new(claims, "exp", json_integer((json_int_t)now + TOKEN_LIFETIME_S)) ==
               0;
}

static bool rfc3339(time_t t, char out[21])
{
    struct tm tm;
    return gmtime_r(&t, &tm) && strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 20;
}

/* ?return_to= is the page the member page sends the reader back to with
 * the token; asking with it lets the page learn, before it hands the
 * token to any site, that the server agrees the site is the newsroom's. */
void me_token(struct req *r)
{
    const struct signing_key *key = signing_keys_current();
    if (!key) {
        reply_error(r, ERR_member_tokens_not_configured,
                    "Member tokens are not configured: PATROND_SIGNING_KEY_FILE is not set.");
        return;
    }
    const char *return_to = req_query(r, "return_to");
    if (return_to && !origin_listed(cfg.cors_origins, return_to)) {
        reply_invalid_field(r, "return_to",
                            "must be a URL on one of the origins in PATROND_CORS_ORIGINS");
        return;
    }
    json_t *claims = NULL;
    struct db_status st = db_member_token_claims(r->db, r->caller.id, &claims);
    if (st.rc != DB_OK) {
        reply_db(r, &st);
        return;
    }
    time_t now = time(NULL);
    char expires[21];
    char *token = add_registered_claims(claims, now) && rfc3339(now + TOKEN_LIFETIME_S, expires)
                      ? jwt_sign(key, claims)
                      : NULL;
    json_decref(claims);
    json_t *body = token ? json_pack("{s:s, s:s}", "token", token, "expires_at", expires) : NULL;
    free(token);
    if (!body) {
        reply_error(r, ERR_internal_error, "Could not sign the token.");
        return;
    }
    /* a bearer credential for the site: never kept for an idempotent replay */
    r->reply_secret = true;
    reply_json(r, 200, body);
}

void jwks_get(struct req *r)
{
    size_t len;
    const char *doc = signing_keys_jwks(&len);
    const char *etag = signing_keys_jwks_etag();
    char *copy = doc ? malloc(len) : NULL;
    if (!copy) {
        reply_error(r, ERR_internal_error, "The key set is not available.");
        return;
    }
    memcpy(copy, doc, len);
    reply_header(r, "Cache-Control", JWKS_CACHE_CONTROL);
    /* public keys: any page may read them, e.g. to verify in the browser */
    reply_header(r, "Access-Control-Allow-Origin", "*");
    reply_header(r, "ETag", etag);
    if (etag_none_match(req_header(r, "If-None-Match"), etag)) {
        free(copy);
        reply_empty(r, 304);
        return;
    }
    reply_raw(r, 200, "application/jwk-set+json", copy, len);
}
