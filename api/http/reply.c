/* Building replies: JSON, RFC 9457 problems, lists. The server sends what
 * the handler left in the request once the handler returns. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"

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

/* Status, type and title come from the registry entry, so one code always
 * answers the same way; "code" is what clients match on. */
static void problem(struct req *r, enum err_code code, const char *detail, json_t *errors,
                    json_t *members)
{
    const struct err_info *e = err_info(code);
    json_t *p = json_pack("{s:s, s:s, s:i, s:s}", "type", e->type, "title", e->title, "status",
                          (int)e->status, "code", e->name);
    if (p && detail) json_object_set_new(p, "detail", json_string(detail));
    if (p && errors) json_object_set(p, "errors", errors);
    /* the registry's members win over an extension of the same name */
    if (p && members && json_object_update_missing(p, members) != 0) {
        json_decref(p);
        p = NULL;
    }
    json_decref(errors);
    json_decref(members);
    reply_document(r, e->status, "application/problem+json", p);
}

void reply_error(struct req *r, enum err_code code, const char *detail)
{
    problem(r, code, detail, NULL, NULL);
}

void reply_error_with(struct req *r, enum err_code code, const char *detail, json_t *members)
{
    problem(r, code, detail, NULL, members);
}

void reply_error_fields(struct req *r, enum err_code code, json_t *errors)
{
    problem(r, code, "The request failed validation.", errors, NULL);
}

void reply_invalid(struct req *r, json_t *errors)
{
    reply_error_fields(r, ERR_validation_failed, errors);
}

void reply_invalid_field(struct req *r, const char *field, const char *message)
{
    reply_invalid(r, json_pack("[{s:s, s:s}]", "field", field, "message", message));
}

/* What to say when SQL did not word the error itself. */
static const char *db_generic_detail(enum db_rc rc)
{
    switch (rc) {
    case DB_NOT_FOUND:
        return "No such resource.";
    case DB_CONFLICT:
        return "The request conflicts with the current state.";
    case DB_INVALID:
        return "The request refers to data that does not exist or is out of range.";
    case DB_FORBIDDEN:
        return "This caller may not do that.";
    case DB_RETRY:
    case DB_UNAVAILABLE:
        return "The database is unavailable; retry shortly.";
    case DB_OK:
    case DB_ERROR:
        break;
    }
    return "Internal error; it has been logged.";
}

void reply_db(struct req *r, const struct db_status *st)
{
    if (st->rc == DB_OK) return;
    const struct db_error *e = &st->err;
    if (e->field[0]) {
        json_t *errors = json_pack("[{s:s, s:s}]", "field", e->field, "message",
                                   e->detail[0] ? e->detail : "is invalid");
        reply_error_fields(r, e->code, errors);
        return;
    }
    enum db_rc rc = st->rc;
    if (rc == DB_RETRY || rc == DB_UNAVAILABLE) reply_header(r, "Retry-After", "5");
    /* A DB_ERROR's text may carry internals: only SQL's own words go out. */
    bool worded = e->detail[0] && rc != DB_ERROR && rc != DB_RETRY && rc != DB_UNAVAILABLE;
    reply_error(r, e->code, worded ? e->detail : db_generic_detail(rc));
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

void reply_location(struct req *r, const char *id)
{
    char url[sizeof r->path + 64];
    if (!id || !*id) return;
    int n = snprintf(url, sizeof url, "%s/%s", r->path, id);
    if (n > 0 && (size_t)n < sizeof url) reply_header(r, "Location", url);
}

/* A resource a collection's POST created is named by Location, as HTTP's
 * 201 has it: the collection's path and the new id. */
void reply_result(struct req *r, const struct db_status *st, unsigned status, json_t *body)
{
    if (st->rc == DB_OK) {
        if (status == 201) reply_location(r, json_string_value(json_object_get(body, "id")));
        reply_json(r, status, body);
    } else {
        json_decref(body); /* a statement may have succeeded before its commit failed */
        reply_db(r, st);
    }
}

void reply_list_result(struct req *r, const struct db_status *st, json_t *rows, int limit)
{
    if (st->rc == DB_OK)
        reply_list(r, rows, limit);
    else
        reply_db(r, st);
}
