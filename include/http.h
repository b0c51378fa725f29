#ifndef PATROND_HTTP_H
#define PATROND_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "db.h"
#include "router.h"
#include "validate.h"

struct MHD_Connection;
struct csv_reader;
struct sha256_stream;

/* Who is calling, once authenticated. */
enum caller_kind {
    CALLER_ANONYMOUS,
    CALLER_ADMIN_KEY,
    CALLER_READ_KEY,
    CALLER_PATRON,
};

struct caller {
    enum caller_kind kind;
    char id[37]; /* api key id, or patron id */
};

/* Produces the next bytes of a streamed body into buf (at most max): the
 * count written, 0 at the end, or -1 on failure (the connection is then
 * closed, so the client sees a truncated body, never a false end). It runs
 * on the request's worker thread, so it may use that thread's database
 * connection. */
typedef long (*reply_stream_fn)(void *cls, char *buf, size_t max);

#define REPLY_MAX_HEADERS 16

/* One request, from its first byte to the completion callback, which frees
 * it and everything hanging off it. Handlers read the input fields, call
 * one reply_* function, and never touch libmicrohttpd. */
struct req {
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    char path[512];
    char request_id[65];
    char client_ip[64]; /* req_client_ip's answer, once asked; "" before */
    struct timespec started;
    const struct route *route;
    struct route_params params;
    struct caller caller;
    struct db *db;

    char *body; /* raw bytes, NUL-terminated */
    size_t body_len, body_cap;
    size_t body_dropped; /* bytes read and thrown away: past the limit, or after an early answer */
    bool body_too_large;
    json_t *json; /* parsed body of BODY_JSON routes */
    /* the records of a BODY_CSV route's body, read to its end (csv_reader.h);
     * body_len then counts its bytes, which are not kept: their SHA-256
     * (hex, once read to the end) stands for them in Idempotency-Key */
    struct csv_reader *csv;
    struct sha256_stream *csv_hash;
    char csv_digest[65];

    char *idem_key; /* Idempotency-Key of a POST */
    char idem_scope[48];

    /* the reply, sent by the server once the handler returns */
    unsigned status;
    char *resp;
    size_t resp_len;
    const char *resp_type;
    struct {
        const char *name;
        char *value;
    } headers[REPLY_MAX_HEADERS];
    int nheaders;
    bool replied;
    bool pooled; /* handed to the handler pool (handler_pool.h) */
    /* a streamed reply (reply_stream) instead of resp/resp_len */
    reply_stream_fn stream;
    void *stream_cls;
    void (*stream_free)(void *cls);
    bool reply_secret; /* the reply holds a secret: never stored for replay */
};

/* Request input */
const char *req_param(struct req *r, int i);             /* i-th {param} of the route */
const char *req_query(struct req *r, const char *name);  /* NULL when absent */
const char *req_header(struct req *r, const char *name); /* NULL when absent */
/* The token of an `Authorization: Bearer` header, or NULL (api/http/auth.c). */
const char *req_bearer_token(struct req *r);
/* The client's address as text (an IPv4-mapped IPv6 address as IPv4):
 * the peer's, or, when the peer is in PATROND_TRUSTED_PROXIES, the one
 * X-Forwarded-For names (see cidr_client_addr). False when it cannot be
 * told. Worked out once per request; call it first while the request's
 * headers are still there (the server does so as the request arrives). */
bool req_client_ip(struct req *r, char *out, size_t len);
/* A per-instance limit of `limit` requests per `window_s` seconds for the
 * client's address (see rate_limit.h; `bucket` a string literal naming
 * the limit). False after queuing a 429 with Retry-After. */
bool req_rate_limit(struct req *r, const char *bucket, unsigned limit, unsigned window_s);

/* Replies. Exactly one per request; a second call is ignored. */
void reply_json(struct req *r, unsigned status, json_t *body); /* steals body */
void reply_raw(struct req *r, unsigned status, const char *type, char *body, size_t len);
void reply_empty(struct req *r, unsigned status);
/* A body produced piece by piece as the client reads it; `free_cls` runs
 * once the response is done (also when it is never sent). */
void reply_stream(struct req *r, unsigned status, const char *type, reply_stream_fn fn, void *cls,
                  void (*free_cls)(void *cls));
void reply_header(struct req *r, const char *name, const char *value);
/* RFC 9457 problem+json for a registry entry (include/errors.def): its
 * status, type and title, "code": its name; detail may be NULL. */
void reply_error(struct req *r, enum err_code code, const char *detail);
/* The same with an `errors` array (stolen) of {field, message}. */
void reply_error_fields(struct req *r, enum err_code code, json_t *errors);
/* reply_error with extension members (RFC 9457 §3.2), e.g. {"manage_url"}
 * (stolen). */
void reply_error_with(struct req *r, enum err_code code, const char *detail, json_t *members);
/* validation_failed (422) with an `errors` array (stolen). */
void reply_invalid(struct req *r, json_t *errors);
/* validation_failed naming one field. */
void reply_invalid_field(struct req *r, const char *field, const char *message);
/* The reply for a failed database call: its status's error (nothing when
 * the call succeeded). */
void reply_db(struct req *r, const struct db_status *st);

/* The route's {id} (parameter i) when it is a UUID; otherwise replies 404
 * (a malformed id names no resource) and returns NULL. */
const char *req_uuid_param(struct req *r, int i);
/* Validates the JSON body strictly (unknown keys rejected); false after a
 * 422 was queued. */
bool req_validate(struct req *r, const struct field *fields);

/* Optional query filters: *out is NULL when absent. False after a 422
 * naming the parameter (not a UUID / not one of `choices`). */
bool req_query_uuid(struct req *r, const char *name, const char **out);
bool req_query_enum(struct req *r, const char *name, const char *const *choices, const char **out);

/* Location: the request's path and `id`, for a created resource; nothing
 * without an id. */
void reply_location(struct req *r, const char *id);
/* reply_json(status, body) when st is DB_OK (a 201 names body's id in
 * Location), else reply_db(st) (and body is freed). */
void reply_result(struct req *r, const struct db_status *st, unsigned status, json_t *body);

/* List helpers (SPEC §2): ?limit= (default 50, max 500) and ?after=. A
 * false return means a 422 was already queued. */
bool req_list_params(struct req *r, int *limit, const char **after);
/* {"data": rows, "next_cursor": id of the last row | null}; `rows` holds
 * up to limit+1 objects with an "id" (the extra one only signals more). */
void reply_list(struct req *r, json_t *rows, int limit);
/* reply_list when st is DB_OK, else reply_db(st). */
void reply_list_result(struct req *r, const struct db_status *st, json_t *rows, int limit);

#endif
