/* Building replies: JSON, RFC 9457 problems, lists. The server sends what
 * the handler left in the request once the handler returns. */
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"

static const char *reason(unsigned status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

void reply_raw(struct req *r, unsigned status, const char *type, char *body, size_t len)
{
    if (r->replied) {
        free(body);
        return;
    }
    r->replied = true;
    r->status = status;
    r->resp_type = type;
    r->resp = body;
    r->resp_len = len;
}

void reply_stream(struct req *r, unsigned status, const char *type, reply_stream_fn fn, void *cls,
                  void (*free_cls)(void *cls))
{
    if (r->replied) {
        free_cls(cls);
        return;
    }
    reply_raw(r, status, type, NULL, 0);
    r->stream = fn;
    r->stream_cls = cls;
    r->stream_free = free_cls;
}

void reply_header(struct req *r, const char *name, const char *value)
{
    if (r->nheaders >= REPLY_MAX_HEADERS) return;
    char *copy = strdup(value);
    if (!copy) return;
    r->headers[r->nheaders].name = name;
    r->headers[r->nheaders].value = copy;
    r->nheaders++;
}

/* Serialising can only fail for lack of memory; the server then answers a
 * bodiless 500 rather than a truncated document. */
static void reply_document(struct req *r, unsigned status, const char *type, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(body);
    if (!text) {
        reply_raw(r, 500, "text/plain", NULL, 0);
        return;
    }
    reply_raw(r, status, type, text, strlen(text));
}

void reply_json(struct req *r, unsigned status, json_t *body)
{
    reply_document(r, status, "application/json", body);
}

void reply_empty(struct req *r, unsigned status)
{
    reply_raw(r, status, NULL, NULL, 0);
}

static void problem(struct req *r, unsigned status, const char *detail, json_t *errors)
{
    json_t *p = json_pack("{s:s, s:s, s:i}", "type", "about:blank", "title", reason(status),
                          "status", (int)status);
    if (p && detail) json_object_set_new(p, "detail", json_string(detail));
    if (p && errors) json_object_set(p, "errors", errors);
    json_decref(errors);
    reply_document(r, status, "application/problem+json", p);
}

void reply_problem(struct req *r, unsigned status, const char *detail)
{
    problem(r, status, detail, NULL);
}

void reply_invalid(struct req *r, json_t *errors)
{
    problem(r, 422, "The request failed validation.", errors);
}

void reply_invalid_field(struct req *r, const char *field, const char *message)
{
    reply_invalid(r, json_pack("[{s:s, s:s}]", "field", field, "message", message));
}

void reply_db(struct req *r, enum db_rc rc)
{
    const char *detail = r->db ? db_last_detail(r->db) : NULL;
    if (detail && rc == DB_FORBIDDEN) {
        reply_problem(r, 403, detail);
        return;
    }
    /* A PT422 raised with CONSTRAINT = '<field>' names the request field. */
    if (detail && rc == DB_INVALID && *db_last_constraint(r->db)) {
        reply_invalid_field(r, db_last_constraint(r->db), detail);
        return;
    }
    if (detail && (rc == DB_NOT_FOUND || rc == DB_CONFLICT || rc == DB_INVALID)) {
        reply_problem(r, rc == DB_NOT_FOUND ? 404 : rc == DB_CONFLICT ? 409 : 422, detail);
        return;
    }
    switch (rc) {
    case DB_OK:
        break;
    case DB_NOT_FOUND:
        reply_problem(r, 404, "No such resource.");
        break;
    case DB_CONFLICT:
        reply_problem(r, 409, "The request conflicts with the current state.");
        break;
    case DB_INVALID:
        reply_problem(r, 422, "The request refers to data that does not exist or is out of range.");
        break;
    case DB_FORBIDDEN:
        reply_problem(r, 403, "This caller may not do that.");
        break;
    case DB_RETRY:
    case DB_UNAVAILABLE:
        reply_header(r, "Retry-After", "5");
        reply_problem(r, 503, "The database is unavailable; retry shortly.");
        break;
    case DB_ERROR:
        reply_problem(r, 500, "Internal error; it has been logged.");
        break;
    }
}

void reply_list(struct req *r, json_t *rows, int limit)
{
    json_t *next = json_null();
    if (json_array_size(rows) > (size_t)limit) {
        json_array_remove(rows, (size_t)limit);
        json_decref(next);
        next = json_incref(json_object_get(json_array_get(rows, (size_t)limit - 1), "id"));
    }
    reply_json(r, 200, json_pack("{s:o, s:o}", "data", rows, "next_cursor", next));
}

void reply_result(struct req *r, enum db_rc rc, unsigned status, json_t *body)
{
    if (rc == DB_OK) {
        reply_json(r, status, body);
    } else {
        json_decref(body);
        reply_db(r, rc);
    }
}

void reply_list_result(struct req *r, enum db_rc rc, json_t *rows, int limit)
{
    if (rc == DB_OK)
        reply_list(r, rows, limit);
    else
        reply_db(r, rc);
}
