/* Who is calling: API keys (SPEC §3). Only the SHA-256 of a key is stored,
 * so the presented key is hashed and looked up. */
#include <string.h>
#include <strings.h>

#include "encode.h"
#include "http.h"
#include "request.h"
#include "store.h"

static const char *bearer_token(struct req *r)
{
    const char *h = req_header(r, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return NULL;
    h += 7;
    while (*h == ' ') h++;
    return *h ? h : NULL;
}

static bool is_read_method(const char *m)
{
    return !strcmp(m, "GET") || !strcmp(m, "HEAD");
}

static bool unauthorized(struct req *r, const char *detail)
{
    reply_header(r, "WWW-Authenticate", "Bearer");
    reply_problem(r, 401, detail);
    return false;
}

/* Fills r->caller from an API key; false after replying. */
static bool api_key_caller(struct req *r, const char *token)
{
    uint8_t digest[32];
    char hex[65], scope[8];
    if (strlen(token) > 256 || !sha256(token, strlen(token), digest)) {
        return unauthorized(r, "The API key is not valid.");
    }
    hex_encode(digest, sizeof digest, hex);
    enum db_rc rc = db_api_key_lookup(r->db, hex, r->caller.id, scope);
    if (rc == DB_NOT_FOUND) return unauthorized(r, "The API key is not valid.");
    if (rc != DB_OK) {
        reply_db(r, rc);
        return false;
    }
    r->caller.kind = !strcmp(scope, "admin") ? CALLER_ADMIN_KEY : CALLER_READ_KEY;
    return true;
}

bool authenticate(struct req *r)
{
    if (r->route->auth == AUTH_PUBLIC) return true;
    const char *token = bearer_token(r);
    if (!token) return unauthorized(r, "This endpoint needs an Authorization: Bearer key.");
    if (!api_key_caller(r, token)) return false;
    if (r->caller.kind == CALLER_READ_KEY && !is_read_method(r->method)) {
        reply_problem(r, 403, "This API key has the read scope; it may only GET.");
        return false;
    }
    return true;
}
