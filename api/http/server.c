/* The two libmicrohttpd callbacks: requests come in through on_request and
 * leave (logged, counted, freed) through on_completed. */
#include <ctype.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "cors.h"
#include "encode.h"
#include "handler_pool.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "server.h"
#include "validate.h"

static bool valid_request_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.:", s[i])) return false;
    return true;
}

static struct req *req_new(struct MHD_Connection *conn, const char *method, const char *url)
{
    struct req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    clock_gettime(CLOCK_MONOTONIC, &r->started);
    r->conn = conn;
    r->method = method;
    r->url = url;
    text_copy(r->path, sizeof r->path, url);
    /* worked out now: the headers it may read are gone by the access log */
    char ip[sizeof r->client_ip];
    req_client_ip(r, ip, sizeof ip);
    const char *rid = req_header(r, "X-Request-Id");
    if (rid && valid_request_id(rid))
        text_copy(r->request_id, sizeof r->request_id, rid);
    else if (!label_uuid(r->request_id))
        text_copy(r->request_id, sizeof r->request_id, "-");
    return r;
}

static bool method_has_body(const char *m)
{
    return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
}

/* Routing errors are answered before the body is read. */
static void route(struct req *r)
{
    char allow[128];
    switch (router_match(routes, routes_count, r->method, r->path, &r->route, &r->params, allow,
                         sizeof allow)) {
    case ROUTE_FOUND:
        return;
    case ROUTE_NOT_FOUND:
        reply_error(r, ERR_not_found, "No such endpoint.");
        return;
    case ROUTE_METHOD_NOT_ALLOWED:
        reply_header(r, "Allow", allow);
        reply_error(r, ERR_method_not_allowed, "This endpoint does not accept that method.");
        return;
    }
}

/* Query values reach handlers and SQL as C strings: a NUL would cut one
 * short unseen, and bytes that are not UTF-8 text match nothing honestly. */
static enum MHD_Result query_arg_ok(void *cls, enum MHD_ValueKind kind, const char *key,
                                    size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    bool *ok = cls;
    if (valid_text(key, key_size, NULL) && (!value || valid_text(value, value_size, NULL)))
        return MHD_YES;
    *ok = false;
    return MHD_NO;
}

static void query_check(struct req *r)
{
    bool ok = true;
    MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, query_arg_ok, &ok);
    if (!ok)
        reply_error(r, ERR_invalid_query,
                    "The query string is not UTF-8 text without control characters.");
}

/* The import's CSV file has its own, larger limit. */
static size_t body_limit(const struct req *r)
{
    return r->route && r->route->body == BODY_CSV ? cfg.import_max_bytes : cfg.body_limit;
}

static void reply_too_large(struct req *r)
{
    char detail[96];
    snprintf(detail, sizeof detail, "The body is larger than %zu bytes.", body_limit(r));
    reply_header(r, "Connection", "close");
    reply_error(r, ERR_payload_too_large, detail);
}

/* 0 without a Content-Length (libmicrohttpd has refused a malformed one) */
static unsigned long long declared_length(struct req *r)
{
    const char *cl = req_header(r, "Content-Length");
    return cl ? strtoull(cl, NULL, 10) : 0;
}

static void declared_length_check(struct req *r)
{
    if (declared_length(r) <= body_limit(r)) return;
    r->body_too_large = true;
    reply_too_large(r);
}

/* Whether an answer decided from the request's head (404, 405, 413, …)
 * goes out at once. Most clients write the whole body before they read,
 * and fail with EPIPE instead of reading the answer when the server stops
 * reading; so the body is read (and dropped) first, unless there is none,
 * the client waits for 100 Continue, or it is declared too long to read
 * through. */
static bool answer_before_body(struct req *r)
{
    const char *expect = req_header(r, "Expect");
    unsigned long long declared = declared_length(r);
    if (!req_header(r, "Transfer-Encoding") && declared == 0) return true;
    if (expect && !strcasecmp(expect, "100-continue")) return true;
    return declared > REQ_BODY_DRAIN_MAX; /* all of it would be dropped */
}

/* What the HTTP thread answers itself, without the database: an oversized
 * body, and whatever the route's memory handler answers. */
static bool from_memory(struct req *r)
{
    if (r->body_too_large) {
        reply_too_large(r);
        return true;
    }
    /* Nothing has been authenticated yet: only a public route may be
     * answered here (test_router checks routes.def keeps to that). */
    if (r->route->memory && r->route->auth == AUTH_PUBLIC) r->route->memory(r);
    if (!r->replied && !r->route->handler)
        reply_error(r, ERR_internal_error, "The handler produced no reply.");
    return r->replied;
}

static void dispatch(struct req *r)
{
    r->db = db_thread();
    if (!authenticate(r)) return;
    if (r->route->body == BODY_JSON && method_has_body(r->method) && !parse_json_body(r)) return;
    if (r->route->body == BODY_CSV && !csv_body_typed(r)) return;
    /* Webhooks dedupe by the provider's own event key, and a shared
     * anonymous key space would let one sender replay another's reply. */
    bool keyed = !strcmp(r->method, "POST") && r->route->body != BODY_RAW;
    if (keyed && !idempotency_begin(r)) return;
    r->route->handler(r);
    if (!r->replied) reply_error(r, ERR_internal_error, "The handler produced no reply.");
    if (r->idem_key) idempotency_finish(r);
}

/* The request outlives its response (it is freed on completion), so it
 * can be the reader's state. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct req *r = cls;
    long n = r->stream(r->stream_cls, buf, max);
    if (n > 0) return n;
    return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static enum MHD_Result send_reply(struct req *r)
{
    cors_decorate(r);
    struct MHD_Response *resp =
        r->stream
            ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_reader, r, NULL)
            : MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_COPY);
    if (!resp) return MHD_NO;
    bool ok = MHD_add_response_header(resp, "X-Request-Id", r->request_id) == MHD_YES;
    if (r->resp_type)
        ok = ok && MHD_add_response_header(resp, "Content-Type", r->resp_type) == MHD_YES;
    for (int i = 0; i < r->nheaders; i++)
        ok =
            ok && MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value) == MHD_YES;
    enum MHD_Result ret = ok ? MHD_queue_response(r->conn, r->status, resp) : MHD_NO;
    MHD_destroy_response(resp);
    return ret;
}

/* On a pool thread while the connection is suspended; resuming it brings
 * libmicrohttpd back to on_request, which sends the reply. */
static void run_pooled(void *arg)
{
    struct req *r = arg;
    dispatch(r);
    MHD_resume_connection(r->conn);
}

/* The request has been read whole; true when the reply goes out later,
 * once libmicrohttpd resumes the connection. The connection is suspended
 * before the task is queued, so the pool never resumes it before it is
 * suspended. A pool that refuses is stopping: the request is refused
 * untouched, so that the stop cuts off no reply to a change it made. */
static bool answer_later(struct req *r)
{
    if (from_memory(r)) return false;
    MHD_suspend_connection(r->conn);
    r->pooled = pool_submit(run_pooled, r);
    if (!r->pooled) {
        reply_header(r, "Retry-After", "1");
        reply_header(r, "Connection", "close");
        reply_error(r, ERR_shutting_down, "The server is shutting down; retry.");
        MHD_resume_connection(r->conn);
    }
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    struct req *r = *con_cls;
    if (!r) {
        if (!(r = req_new(conn, method, url))) return MHD_NO;
        *con_cls = r;
        if (!cors_preflight(r)) route(r);
        if (!r->replied) query_check(r);
        if (!r->replied) declared_length_check(r);
        if (!r->replied && r->route->body == BODY_CSV) csv_body_begin(r);
        /* An early answer sent now makes MHD drop the unread body. */
        return r->replied && answer_before_body(r) ? send_reply(r) : MHD_YES;
    }
    if (*upload_data_size > 0) {
        bool csv = r->route && r->route->body == BODY_CSV;
        bool ok = r->replied || (csv && !r->csv) ? req_body_drop(r, *upload_data_size)
                  : r->csv ? csv_body_append(r, upload_data, *upload_data_size)
                           : req_body_append(r, upload_data, *upload_data_size, cfg.body_limit);
        *upload_data_size = 0;
        return ok ? MHD_YES : MHD_NO;
    }
    if (!r->replied && r->csv && !csv_body_end(r)) return MHD_NO;
    if (!r->replied && answer_later(r)) return MHD_YES;
    return send_reply(r);
}

static double elapsed_seconds(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) + (double)(now.tv_nsec - since->tv_nsec) / 1e9;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    struct req *r = *con_cls;
    if (!r) return;
    unsigned status = r->replied ? r->status : 0;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && !r->replied) status = 499;
    double secs = elapsed_seconds(&r->started);
    size_t route_index = r->route ? (size_t)(r->route - routes) : routes_count;
    metrics_observe(route_index, status, secs);
    if (r->pooled) pool_finished();
    log_access(r->request_id, r->client_ip[0] ? r->client_ip : NULL, r->method, r->path, status,
               secs * 1000.0);
    req_free(r);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn("libmicrohttpd: %s", msg);
}

/* Request counters are labelled with the route's pattern and method. */
static void describe_route(size_t i, const char **pattern, const char **method)
{
    *pattern = routes[i].pattern;
    *method = routes[i].method;
}

struct MHD_Daemon *server_start(const struct sockaddr *addr)
{
    metrics_routes(routes_count, describe_route);
    unsigned flags =
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    if (addr->sa_family == AF_INET6) flags |= MHD_USE_IPv6;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, &on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, &mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg.threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)0, MHD_OPTION_CONNECTION_TIMEOUT,
        cfg.connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_NOTIFY_COMPLETED, &on_completed, NULL, MHD_OPTION_END);
}
