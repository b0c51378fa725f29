/* Request inputs and the request's lifetime. */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "request.h"

const char *req_param(struct req *r, int i)
{
    return i < r->params.n ? r->params.v[i] : NULL;
}

const char *req_query(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *req_header(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *req_uuid_param(struct req *r, int i)
{
    const char *id = req_param(r, i);
    if (id && valid_uuid(id)) return id;
    reply_problem(r, 404, "No such resource.");
    return NULL;
}

bool req_validate(struct req *r, const struct field *fields)
{
    json_t *errors = NULL;
    if (validate_object(r->json, fields, true, &errors)) return true;
    reply_invalid(r, errors);
    return false;
}

bool req_query_uuid(struct req *r, const char *name, const char **out)
{
    *out = req_query(r, name);
    if (!*out || valid_uuid(*out)) return true;
    reply_invalid_field(r, name, "must be a UUID");
    return false;
}

bool req_query_enum(struct req *r, const char *name, const char *const *choices,
                    const char **out)
{
    *out = req_query(r, name);
    if (!*out) return true;
    for (const char *const *c = choices; *c; c++)
        if (!strcmp(*c, *out)) return true;
    char msg[256] = "must be one of:";
    for (const char *const *c = choices; *c; c++) {
        strncat(msg, c == choices ? " " : ", ", sizeof msg - strlen(msg) - 1);
        strncat(msg, *c, sizeof msg - strlen(msg) - 1);
    }
    reply_invalid_field(r, name, msg);
    return false;
}

bool req_body_append(struct req *r, const char *data, size_t len, size_t limit)
{
    if (r->body_too_large || r->body_len + len > limit) {
        r->body_too_large = true;
        return true;
    }
    if (r->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + len + 1) cap *= 2;
        char *grown = realloc(r->body, cap);
        if (!grown) return false;
        r->body = grown;
        r->body_cap = cap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return true;
}

void req_free(struct req *r)
{
    free(r->body);
    json_decref(r->json);
    free(r->idem_key);
    free(r->resp);
    for (int i = 0; i < r->nheaders; i++) free(r->headers[i].value);
    free(r);
}
