/* Who is calling: API keys and patron sessions (SPEC §3). Only the SHA-256 of a key is stored,
 * so the presented key is hashed and looked up. */
#include <string.h>
#include <strings.h>

#include "db/api_keys.h"
#include "db/sessions.h"
#include "encode.h"
#include "http.h"
#include "request.h"

const char *req_bearer_token(struct req *r)
{
    const char *h = req_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

static bool is_read_method(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD");
}

static bool unauthorized(struct req *r, const char *detail)
{
    reply_header(r, "WWW-Authenticate", "Bearer");
    reply_error(r, ERR_unauthorized, detail);
    return false;
}

/* Fills r->caller from an API key's hash; false after replying. */
static bool api_key_caller(struct req *r, const char *hex)
{
    char scope[8];
    struct db_status st = db_api_key_lookup(r->db, hex, r->caller.id, scope);
    char patron[37];
    if (st.rc == DB_NOT_FOUND && db_session_lookup(r->db, hex, patron).rc == DB_OK) {
        reply_error(r, ERR_forbidden,
                    "This endpoint needs an admin API key, not a patron session.");
        return false;
    }
    if (st.rc == DB_NOT_FOUND) return unauthorized(r, "The API key is not valid.");
    if (st.rc != DB_OK) {
        reply_db(r, &st);
        return false;
    }
    r->caller.kind = !strcmp(scope, "admin") ? CALLER_ADMIN_KEY : CALLER_READ_KEY;
    return true;
}

/* Tokens are stored as the hex SHA-256 of their text. */
static bool token_hash(const char *token, char hex[65])
{
    uint8_t digest[32];
    if (strlen(token) > 256 || !sha256(token, strlen(token), digest)) return false;
    hex_encode(digest, sizeof digest, hex);
    return true;
}

/* A public read answers anyone as before; a valid API key only adds to
 * what it shows. Any other token reads as none, so a browser's stale
 * session cannot break a public page. */
static bool optional_key_caller(struct req *r)
{
    const char *token = req_bearer_token(r);
    char hex[65], scope[8];
    if (!token || !token_hash(token, hex)) return true;
    struct db_status st = db_api_key_lookup(r->db, hex, r->caller.id, scope);
    if (st.rc == DB_NOT_FOUND) return true;
    if (st.rc != DB_OK) {
        reply_db(r, &st);
        return false;
    }
    r->caller.kind = !strcmp(scope, "admin") ? CALLER_ADMIN_KEY : CALLER_READ_KEY;
    return true;
}

/* A patron's session token, else an API key: both are bearer tokens, told
 * apart by which table holds their hash. */
static bool token_caller(struct req *r, const char *token, bool patron_ok, bool key_ok)
{
    char hex[65];
    if (!token_hash(token, hex)) return unauthorized(r, "The bearer token is not valid.");
    if (patron_ok) {
        struct db_status st = db_session_lookup(r->db, hex, r->caller.id);
        if (st.rc == DB_OK) {
            r->caller.kind = CALLER_PATRON;
            return true;
        }
        if (st.rc != DB_NOT_FOUND) {
            reply_db(r, &st);
            return false;
        }
    }
    if (!key_ok) {
        char id[37], scope[8];
        if (db_api_key_lookup(r->db, hex, id, scope).rc == DB_OK) {
            reply_error(r, ERR_forbidden,
                        "This endpoint acts for a signed-in patron, not an API key.");
            return false;
        }
        return unauthorized(r, "The session is not valid or has expired; sign in again.");
    }
    return api_key_caller(r, hex);
}

bool authenticate(struct req *r)
{
    enum route_auth need = r->route->auth;
    if (need == AUTH_PUBLIC) return true;
    if (need == AUTH_PUBLIC_OR_KEY) return optional_key_caller(r);
    const char *token = req_bearer_token(r);
    if (!token) return unauthorized(r, "This endpoint needs an Authorization: Bearer token.");
    bool patron_ok = need == AUTH_PATRON || need == AUTH_PATRON_OR_ADMIN;
    bool key_ok = need == AUTH_ADMIN || need == AUTH_PATRON_OR_ADMIN;
    if (!token_caller(r, token, patron_ok, key_ok)) return false;
    if (r->caller.kind == CALLER_PATRON) return true;
    if (r->caller.kind == CALLER_READ_KEY && !is_read_method(r->method)) {
        reply_error(r, ERR_forbidden, "This API key has the read scope; it may only GET.");
        return false;
    }
    return true;
}
