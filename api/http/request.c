/* Request inputs and the request's lifetime. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cidr.h"
#include "config.h"
#include "encode.h"
#include "http.h"
#include "rate_limit.h"
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

static bool peer_ip(struct req *r, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (!sa) return false;
    if (sa->sa_family == AF_INET)
        return cidr_ipv4_text((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr, out,
                              len);
    if (sa->sa_family != AF_INET6) return false;
    return inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
}

struct joined {
    char *text;
    size_t len;
    bool failed;
};

/* A proxy may add its own X-Forwarded-For line after the client's, so all
 * of them count, in order, as if joined with commas (RFC 9110 §5.3). */
static enum MHD_Result join_forwarded(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    struct joined *j = cls;
    if (!key || !value || strcasecmp(key, "X-Forwarded-For")) return MHD_YES;
    size_t n = strlen(value);
    char *grown = realloc(j->text, j->len + n + 2);
    if (!grown) {
        j->failed = true;
        return MHD_NO;
    }
    j->text = grown;
    if (j->len) j->text[j->len++] = ',';
    memcpy(j->text + j->len, value, n + 1);
    j->len += n;
    return MHD_YES;
}

bool req_client_ip(struct req *r, char *out, size_t len)
{
    if (!r->client_ip[0]) {
        char peer[INET6_ADDRSTRLEN];
        if (!peer_ip(r, peer, sizeof peer)) return false;
        struct joined xff = {0};
        if (cfg.trusted_proxies.n)
            MHD_get_connection_values(r->conn, MHD_HEADER_KIND, join_forwarded, &xff);
        /* without the header's text, the peer is all that can be trusted */
        bool ok = cidr_client_addr(&cfg.trusted_proxies, peer, xff.failed ? NULL : xff.text,
                                   r->client_ip, sizeof r->client_ip);
        free(xff.text);
        if (!ok) {
            r->client_ip[0] = '\0';
            return false;
        }
    }
    return text_copy(out, len, r->client_ip);
}

bool req_rate_limit(struct req *r, const char *bucket, unsigned limit, unsigned window_s)
{
    char ip[INET6_ADDRSTRLEN], key[RATE_KEY_MAX];
    if (!req_client_ip(r, ip, sizeof ip) || !rate_ip_key(ip, key, sizeof key))
        snprintf(key, sizeof key, "unknown");
    unsigned retry = 0;
    if (rate_limit_allow(bucket, key, limit, window_s, &retry)) return true;
    char seconds[16];
    snprintf(seconds, sizeof seconds, "%u", retry);
    reply_header(r, "Retry-After", seconds);
    reply_error(r, ERR_rate_limited,
                "Too many requests from this address; retry after the given delay.");
    return false;
}

const char *req_uuid_param(struct req *r, int i)
{
    const char *id = req_param(r, i);
    if (id && valid_uuid(id)) return id;
    reply_error(r, ERR_not_found, "No such resource.");
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

bool req_query_enum(struct req *r, const char *name, const char *const *choices, const char **out)
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

bool req_list_params(struct req *r, int *limit, const char **after)
{
    const char *l = req_query(r, "limit");
    int64_t n = 50;
    if (l && !parse_int_in(l, 1, 500, &n)) {
        reply_invalid_field(r, "limit", "must be an integer between 1 and 500");
        return false;
    }
    *limit = (int)n;
    *after = req_query(r, "after");
    if (*after && !valid_uuid(*after)) {
        reply_invalid_field(r, "after", "is not a cursor returned by this list");
        return false;
    }
    return true;
}

bool req_body_drop(struct req *r, size_t len)
{
    r->body_dropped += len;
    return r->body_dropped <= REQ_BODY_DRAIN_MAX;
}

bool req_body_append(struct req *r, const char *data, size_t len, size_t limit)
{
    if (r->body_too_large || r->body_len + len > limit) {
        r->body_too_large = true;
        return req_body_drop(r, len);
    }
    if (r->body_len + len + 1 > r->body_cap) {
        size_t cap = r->body_cap ? r->body_cap : 4096;
        while (cap < r->body_len + len + 1)
            cap *= 2;
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
    if (r->stream_free) r->stream_free(r->stream_cls);
    free(r->body);
    csv_body_free(r);
    json_decref(r->json);
    free(r->idem_key);
    free(r->resp);
    for (int i = 0; i < r->nheaders; i++)
        free(r->headers[i].value);
    free(r);
}
