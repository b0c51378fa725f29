#ifndef PATROND_ROUTER_H
#define PATROND_ROUTER_H

#include <stddef.h>

struct req;
typedef void (*handler_fn)(struct req *r);

/* Who may call a route (SPEC §3). ADMIN routes accept `read` keys for GET. */
enum route_auth {
    AUTH_PUBLIC,
    AUTH_PUBLIC_OR_KEY, /* anyone; a valid API key is recognised, so the
                         * handler may show an admin more */
    AUTH_ADMIN,
    AUTH_PATRON,
    AUTH_PATRON_OR_ADMIN,
};

/* What the route does with a request body. */
enum route_body {
    BODY_NONE, /* a body is ignored */
    BODY_JSON, /* Content-Type application/json, parsed with the depth limit */
    BODY_RAW,  /* raw bytes kept for the handler (webhooks) */
    /* Content-Type text/csv, read into a csv_reader as it arrives, never
     * kept whole; up to PATROND_IMPORT_MAX_BYTES (the import) */
    BODY_CSV,
};

struct route {
    const char *method;
    const char *pattern; /* "/v1/patrons/{id}"; also the metrics label */
    handler_fn handler;  /* runs on a database thread (handler_pool.h); may be NULL */
    enum route_auth auth;
    enum route_body body;
    /* Runs first, on the HTTP thread, without the database: what it
     * answers (a page, a cached tally) never waits for PostgreSQL. When it
     * does not reply, `handler` runs. Only on AUTH_PUBLIC routes. */
    handler_fn memory;
};

#define ROUTE_MAX_PARAMS 4
#define ROUTE_PARAM_MAX 128

struct route_params {
    int n;
    char v[ROUTE_MAX_PARAMS][ROUTE_PARAM_MAX + 1];
};

enum route_match {
    ROUTE_FOUND,
    ROUTE_NOT_FOUND,
    ROUTE_METHOD_NOT_ALLOWED,
};

/* Matches method and path (no query string) against the table. A
 * `{name}` segment matches one non-empty segment of at most
 * ROUTE_PARAM_MAX bytes. HEAD matches GET routes. On
 * ROUTE_METHOD_NOT_ALLOWED, `allow` receives the comma-separated methods
 * the path does accept. */
enum route_match router_match(const struct route *table, size_t n, const char *method,
                              const char *path, const struct route **found,
                              struct route_params *params, char *allow, size_t allow_len);

/* The server's route table (include/routes.def, compiled by api/http/routes.c). */
extern const struct route routes[];
extern const size_t routes_count;

#endif
