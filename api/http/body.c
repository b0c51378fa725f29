/* JSON request bodies: content type, syntax, duplicate keys and nesting. */
#include <string.h>
#include <strings.h>

#include "http.h"
#include "request.h"

#define JSON_MAX_DEPTH 32

static bool is_json_type(const char *ct)
{
    if (!ct) return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0) return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

/* jansson has no depth option, so a document is measured after parsing
 * (its own hard limit keeps the parser's recursion bounded). */
static bool depth_within(json_t *v, int depth)
{
    if (depth > JSON_MAX_DEPTH) return false;
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach(v, k, child) if (!depth_within(child, depth + 1)) return false;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) if (!depth_within(child, depth + 1)) return false;
    }
    return true;
}

/* The object key whose value ends at `pos`, for naming the field of an
 * out-of-range number ("" inside arrays or when it cannot be told). */
static void key_before(const char *body, size_t pos, char *key, size_t key_len)
{
    key[0] = '\0';
    size_t i = pos;
    while (i > 0 && strchr("0123456789+-.eE \t\r\n", body[i - 1]))
        i--;
    if (i == 0 || body[i - 1] != ':') return;
    i--;
    while (i > 0 && strchr(" \t\r\n", body[i - 1]))
        i--;
    if (i == 0 || body[i - 1] != '"') return;
    size_t end = --i;
    while (i > 0 && body[i - 1] != '"')
        i--;
    if (i == 0 || end - i >= key_len || memchr(body + i, '\\', end - i)) return;
    memcpy(key, body + i, end - i);
    key[end - i] = '\0';
}

/* jansson refuses integers beyond 64 bits while parsing; that is valid
 * JSON failing validation, so it is a 422 naming the field. */
static void reply_number_overflow(struct req *r, const json_error_t *err)
{
    char key[65];
    size_t pos = (size_t)err->position < r->body_len ? (size_t)err->position : r->body_len;
    key_before(r->body, pos, key, sizeof key);
    reply_invalid_field(r, key, "is a number out of range");
}

bool parse_json_body(struct req *r)
{
    if (!is_json_type(req_header(r, "Content-Type"))) {
        reply_error(r, ERR_unsupported_media_type,
                    "Send the body as Content-Type: application/json.");
        return false;
    }
    if (r->body_len == 0) {
        reply_error(r, ERR_invalid_body, "The request body is empty; a JSON object is expected.");
        return false;
    }
    json_error_t err;
    r->json = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &err);
    if (!r->json && json_error_code(&err) == json_error_numeric_overflow) {
        reply_number_overflow(r, &err);
        return false;
    }
    if (!r->json) {
        char detail[256];
        snprintf(detail, sizeof detail, "Malformed JSON at line %d column %d: %s", err.line,
                 err.column, err.text);
        reply_error(r, ERR_invalid_json, detail);
        return false;
    }
    if (!depth_within(r->json, 1)) {
        reply_error(r, ERR_invalid_json, "The JSON document is nested too deeply.");
        return false;
    }
    if (!json_is_object(r->json)) {
        reply_error(r, ERR_invalid_body, "The request body must be a JSON object.");
        return false;
    }
    return true;
}
