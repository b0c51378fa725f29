/* Request bodies: JSON (content type, syntax, duplicate keys and
 * nesting), and CSV read record by record as it arrives. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "csv_reader.h"
#include "encode.h"
#include "http.h"
#include "request.h"

#define JSON_MAX_DEPTH 32

/* CSV bodies are read before the caller's key is checked (that needs the
 * database, which the HTTP threads do not wait for), so the memory that
 * anyone can make them hold is bounded: this many at a time, each holding
 * at most CSV_MEMORY_FACTOR times PATROND_IMPORT_MAX_BYTES as records (a
 * file of mostly empty fields takes more room as records than as text). */
#define CSV_UPLOADS_MAX 4
#define CSV_MEMORY_FACTOR 2

static atomic_int csv_uploads;

static bool is_type(const char *ct, const char *want)
{
    if (!ct) return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n) != 0) return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static bool is_json_type(const char *ct)
{
    return is_type(ct, "application/json");
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

bool csv_body_begin(struct req *r)
{
    /* without even a token, authenticate() would refuse it: before the upload */
    if (!req_bearer_token(r)) {
        reply_header(r, "WWW-Authenticate", "Bearer");
        reply_error(r, ERR_unauthorized, "This endpoint needs an Authorization: Bearer token.");
        return false;
    }
    if (!is_type(req_header(r, "Content-Type"), "text/csv")) return true;
    if (atomic_fetch_add(&csv_uploads, 1) >= CSV_UPLOADS_MAX) {
        atomic_fetch_sub(&csv_uploads, 1);
        reply_header(r, "Retry-After", "5");
        reply_error(r, ERR_rate_limited, "Too many imports are being uploaded at once; retry.");
        return false;
    }
    r->csv = csv_reader_new();
    r->csv_hash = sha256_begin();
    if (!r->csv || !r->csv_hash) {
        sha256_abort(r->csv_hash);
        r->csv_hash = NULL;
        csv_reader_free(r->csv); /* NULL-safe, as free() */
        r->csv = NULL;
        atomic_fetch_sub(&csv_uploads, 1);
        reply_error(r, ERR_internal_error, "Out of memory.");
        return false;
    }
    return true;
}

bool csv_body_typed(struct req *r)
{
    if (r->csv) return true;
    reply_error(r, ERR_unsupported_media_type,
                "Send the file as Content-Type: text/csv (UTF-8, with a header row).");
    return false;
}

bool csv_body_append(struct req *r, const char *data, size_t len)
{
    if (r->body_too_large || r->body_len + len > cfg.import_max_bytes) {
        r->body_too_large = true;
        return req_body_drop(r, len);
    }
    r->body_len += len;
    if (!sha256_update(r->csv_hash, data, len) || !csv_reader_feed(r->csv, data, len)) return false;
    if (csv_reader_memory(r->csv) > CSV_MEMORY_FACTOR * cfg.import_max_bytes) {
        /* answered like an oversized body; what was read is let go now */
        r->body_too_large = true;
        csv_reader_discard(r->csv);
    }
    return true;
}

bool csv_body_end(struct req *r)
{
    if (r->body_too_large) return true;
    uint8_t digest[32];
    bool hashed = sha256_end(r->csv_hash, digest);
    r->csv_hash = NULL;
    if (!hashed) return false;
    hex_encode(digest, sizeof digest, r->csv_digest);
    return csv_reader_finish(r->csv);
}

void csv_body_free(struct req *r)
{
    if (!r->csv) return;
    sha256_abort(r->csv_hash);
    r->csv_hash = NULL;
    csv_reader_free(r->csv);
    r->csv = NULL;
    atomic_fetch_sub(&csv_uploads, 1);
}
