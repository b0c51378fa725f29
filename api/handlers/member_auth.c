/* Patron sign-in (SPEC §3): a magic link by e-mail, exchanged once for a
 * session token. Only SHA-256 hashes of either token reach the database,
 * and neither is ever logged. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db/member_auth.h"
#include "encode.h"
#include "handlers.h"
#include "locale_field.h"

/* Per client address and instance. Tokens cannot be guessed, so the
 * session limit only keeps guessing from costing us much. */
#define MAGIC_LINK_PER_MINUTE 10
#define SESSION_PER_MINUTE 30
#define TOKEN_MAX_CHARS 1024

static bool hash_hex(const char *token, char hex[65])
{
    uint8_t digest[32];
    if (!sha256(token, strlen(token), digest)) return false;
    hex_encode(digest, sizeof digest, hex);
    return true;
}

/* A new token and its hash; false (after a 500) if randomness failed. */
static bool new_token(struct req *r, char token[44], char hex[65])
{
    if (random_token(token) && hash_hex(token, hex)) return true;
    reply_error(r, ERR_internal_error, "Could not create a token.");
    return false;
}

static void reply_accepted(struct req *r)
{
    reply_json(r, 202, json_pack("{s:s}", "status", "accepted"));
}

/* The sign-in link: the member page, and where it sends the reader back
 * to with a member token (SPEC §4b) when they came from the newsroom's
 * site. NULL without memory. */
static char *sign_in_link(const char *token, const char *return_to)
{
    char *escaped = return_to ? query_escape(return_to) : NULL;
    if (return_to && !escaped) return NULL;
    size_t len = strlen(cfg.public_url) + sizeof "/members?token=" + strlen(token) +
                 (escaped ? sizeof "&return_to=" + strlen(escaped) : 0);
    char *link = malloc(len);
    if (link)
        snprintf(link, len, "%s/members?token=%s%s%s", cfg.public_url, token,
                 escaped ? "&return_to=" : "", escaped ? escaped : "");
    free(escaped);
    return link;
}

/* The same answer, and the same work up to one SQL call, whether or not
 * the address is a patron's, so neither tells who has an account. */
void auth_magic_link(struct req *r)
{
    if (!req_rate_limit(r, "magic-link", MAGIC_LINK_PER_MINUTE, 60)) return;
    const char *email = NULL, *return_to = NULL, *locale = NULL;
    const char *offered[LOCALE_CHOICES_MAX + 1];
    locale_choices(offered);
    struct field fields[] = {
        {.name = "email", .type = FIELD_EMAIL, .required = true, .out.str = &email},
        {.name = "return_to", .type = FIELD_URL, .out.str = &return_to},
        {.name = "locale", .type = FIELD_ENUM, .choices = offered, .out.str = &locale},
        {0},
    };
    if (!req_validate(r, fields)) return;
    if (return_to && !origin_listed(cfg.cors_origins, return_to)) {
        reply_invalid_field(r, "return_to",
                            "must be a URL on one of the origins in PATROND_CORS_ORIGINS");
        return;
    }
    char token[44], hex[65];
    if (!new_token(r, token, hex)) return;
    char *link = sign_in_link(token, return_to);
    OPENSSL_cleanse(token, sizeof token);
    if (!link) {
        reply_error(r, ERR_internal_error, "Out of memory.");
        return;
    }
    struct db_status st = db_magic_link_request(r->db, email, hex, link, locale);
    OPENSSL_cleanse(link, strlen(link));
    free(link);
    if (st.rc == DB_OK)
        reply_accepted(r);
    else
        reply_db(r, &st);
}

static void reply_bad_link(struct req *r)
{
    reply_header(r, "WWW-Authenticate", "Bearer");
    reply_error(r, ERR_sign_in_link_invalid,
                "The sign-in link is invalid, already used or expired; ask for a new one.");
}

void auth_session_create(struct req *r)
{
    if (!req_rate_limit(r, "session", SESSION_PER_MINUTE, 60)) return;
    const char *link_token = NULL;
    struct field fields[] = {
        {.name = "token",
         .type = FIELD_STRING,
         .required = true,
         .min = 1,
         .max = TOKEN_MAX_CHARS,
         .out.str = &link_token},
        {0},
    };
    if (!req_validate(r, fields)) return;
    char link_hex[65], token[44], hex[65];
    if (!hash_hex(link_token, link_hex)) {
        reply_error(r, ERR_internal_error, "Could not hash the token.");
        return;
    }
    if (!new_token(r, token, hex)) return;
    json_t *session = NULL;
    struct db_status st = db_session_open(r->db, link_hex, hex, &session);
    if (st.rc == DB_OK && json_object_set_new(session, "session_token", json_string(token)) != 0)
        st = db_fail(DB_ERROR);
    OPENSSL_cleanse(token, sizeof token);
    if (st.rc == DB_OK) {
        r->reply_secret = true;
        reply_json(r, 201, session);
        return;
    }
    json_decref(session);
    if (st.rc == DB_NOT_FOUND)
        reply_bad_link(r);
    else
        reply_db(r, &st);
}

/* Signs out the session presented (others of the patron stay). */
void auth_session_delete(struct req *r)
{
    const char *token = req_bearer_token(r);
    char hex[65];
    if (!token || !hash_hex(token, hex)) {
        reply_error(r, ERR_internal_error, "Could not hash the session token.");
        return;
    }
    struct db_status st = db_session_revoke(r->db, r->caller.id, hex);
    if (st.rc == DB_OK)
        reply_empty(r, 204);
    else
        reply_db(r, &st);
}
