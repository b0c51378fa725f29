#include <string.h>

#include "check.h"
#include "router.h"

/* Handlers are only compared by address, never called. */
static void h_list(struct req *r)
{
    (void)r;
}
static void h_create(struct req *r)
{
    (void)r;
}
static void h_get(struct req *r)
{
    (void)r;
}
static void h_delete(struct req *r)
{
    (void)r;
}
static void h_current(struct req *r)
{
    (void)r;
}
static void h_ballot(struct req *r)
{
    (void)r;
}
static void h_root(struct req *r)
{
    (void)r;
}

static const struct route table[] = {
    {"GET", "/", h_root, AUTH_PUBLIC, BODY_NONE, NULL},
    {"GET", "/v1/patrons", h_list, AUTH_ADMIN, BODY_NONE, NULL},
    {"POST", "/v1/patrons", h_create, AUTH_ADMIN, BODY_JSON, NULL},
    {"GET", "/v1/patrons/{id}", h_get, AUTH_ADMIN, BODY_NONE, NULL},
    {"DELETE", "/v1/patrons/{id}", h_delete, AUTH_ADMIN, BODY_NONE, NULL},
    /* Listed before the literal route on purpose: specificity, not order, decides. */
    {"GET", "/v1/rounds/{id}", h_get, AUTH_PUBLIC, BODY_NONE, NULL},
    {"GET", "/v1/rounds/current", h_current, AUTH_PUBLIC, BODY_NONE, NULL},
    {"PUT", "/v1/rounds/{id}/ballot", h_ballot, AUTH_PATRON, BODY_JSON, NULL},
    {"DELETE", "/v1/rounds/{id}/ballot", h_ballot, AUTH_PATRON, BODY_NONE, NULL},
    {"POST", "/v1/webhooks/{provider}", h_create, AUTH_PUBLIC, BODY_RAW, NULL},
    {"GET", "/v1/a/{x}/b/{y}", h_get, AUTH_PUBLIC, BODY_NONE, NULL},
    /* literal and parameter routes under one prefix, for other methods */
    {"POST", "/v1/patrons/import", h_create, AUTH_ADMIN, BODY_CSV, NULL},
    {"PATCH", "/v1/rounds/{id}", h_get, AUTH_ADMIN, BODY_JSON, NULL},
};
#define N (sizeof table / sizeof table[0])

struct result {
    enum route_match m;
    const struct route *route;
    struct route_params params;
    char allow[64];
};

static struct result match(const char *method, const char *path)
{
    struct result r;
    memset(&r, 0x55, sizeof r);
    r.route = NULL;
    r.m = router_match(table, N, method, path, &r.route, &r.params, r.allow, sizeof r.allow);
    return r;
}

static void test_found(void)
{
    struct result r = match("GET", "/v1/patrons");
    CHECK_EQ_INT(r.m, ROUTE_FOUND);
    CHECK(r.route == &table[1]);
    CHECK_EQ_INT(r.params.n, 0);

    r = match("POST", "/v1/patrons");
    CHECK(r.m == ROUTE_FOUND && r.route == &table[2]);

    r = match("GET", "/v1/patrons/abc-123");
    CHECK(r.m == ROUTE_FOUND && r.route == &table[3]);
    CHECK_EQ_INT(r.params.n, 1);
    CHECK_EQ_STR(r.params.v[0], "abc-123");

    r = match("DELETE", "/v1/rounds/r1/ballot");
    CHECK(r.m == ROUTE_FOUND && r.route == &table[8]);
    CHECK_EQ_STR(r.params.v[0], "r1");

    r = match("GET", "/v1/a/one/b/two");
    CHECK(r.m == ROUTE_FOUND && r.params.n == 2);
    CHECK_EQ_STR(r.params.v[0], "one");
    CHECK_EQ_STR(r.params.v[1], "two");

    r = match("GET", "/");
    CHECK(r.m == ROUTE_FOUND && r.route == &table[0]);
}

static void test_specificity(void)
{
    struct result r = match("GET", "/v1/rounds/current");
    CHECK(r.m == ROUTE_FOUND && r.route == &table[6]);
    CHECK_EQ_INT(r.params.n, 0);
    r = match("GET", "/v1/rounds/other");
    CHECK(r.m == ROUTE_FOUND && r.route == &table[5]);
    CHECK_EQ_STR(r.params.v[0], "other");
}

static void test_head(void)
{
    struct result r = match("HEAD", "/v1/patrons/x");
    CHECK(r.m == ROUTE_FOUND && r.route == &table[3]);
    r = match("HEAD", "/v1/webhooks/stripe");
    CHECK_EQ_INT(r.m, ROUTE_METHOD_NOT_ALLOWED);
    CHECK_EQ_STR(r.allow, "POST");
}

static void test_not_found(void)
{
    const char *paths[] = {
        "/v1/patrons/",   /* trailing slash */
        "/v1/patrons/x/", /* trailing slash after a parameter */
        "/v1/patrons//",  /* empty parameter */
        "/v1/rounds//ballot",
        "/v1/patron",
        "/v1/patronsx",
        "/v1/patrons/x/y",
        "v1/patrons",
        "",
        "//",
        "/v1/a/one/b/",
        "/v1/a//b/two",
        "/V1/PATRONS",
        "/v1/patrons?x", /* the caller strips queries */
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct result r = match("GET", paths[i]);
        CHECK_EQ_INT(r.m, ROUTE_NOT_FOUND);
        if (r.m != ROUTE_NOT_FOUND) printf("    path \"%s\"\n", paths[i]);
    }
    CHECK_EQ_INT(match(NULL, "/").m, ROUTE_NOT_FOUND);
    CHECK_EQ_INT(match("GET", NULL).m, ROUTE_NOT_FOUND);
    CHECK_EQ_INT(router_match(table, 0, "GET", "/", NULL, NULL, NULL, 0), ROUTE_NOT_FOUND);
}

static void test_param_length(void)
{
    char path[300] = "/v1/patrons/";
    size_t n = strlen(path);
    memset(path + n, 'p', ROUTE_PARAM_MAX);
    path[n + ROUTE_PARAM_MAX] = '\0';
    struct result r = match("GET", path);
    CHECK(r.m == ROUTE_FOUND && strlen(r.params.v[0]) == ROUTE_PARAM_MAX);
    path[n + ROUTE_PARAM_MAX] = 'p';
    path[n + ROUTE_PARAM_MAX + 1] = '\0';
    CHECK_EQ_INT(match("GET", path).m, ROUTE_NOT_FOUND);
}

static void test_method_not_allowed(void)
{
    struct result r = match("PUT", "/v1/patrons");
    CHECK_EQ_INT(r.m, ROUTE_METHOD_NOT_ALLOWED);
    CHECK_EQ_STR(r.allow, "GET, HEAD, POST");

    r = match("PATCH", "/v1/patrons/x");
    CHECK_EQ_INT(r.m, ROUTE_METHOD_NOT_ALLOWED);
    CHECK_EQ_STR(r.allow, "GET, HEAD, DELETE");

    r = match("GET", "/v1/rounds/x/ballot");
    CHECK_EQ_INT(r.m, ROUTE_METHOD_NOT_ALLOWED);
    CHECK_EQ_STR(r.allow, "PUT, DELETE");

    /* "current" also fits {id}, but the literal route is the resource:
     * neither {id}'s PATCH nor its GET a second time. */
    r = match("POST", "/v1/rounds/current");
    CHECK_EQ_INT(r.m, ROUTE_METHOD_NOT_ALLOWED);
    CHECK_EQ_STR(r.allow, "GET, HEAD");
    r = match("PATCH", "/v1/rounds/current");
    CHECK_EQ_INT(r.m, ROUTE_METHOD_NOT_ALLOWED);
    CHECK_EQ_STR(r.allow, "GET, HEAD");
    CHECK_EQ_INT(match("PATCH", "/v1/rounds/x").m, ROUTE_FOUND);

    /* nor is "import" a patron's id */
    r = match("GET", "/v1/patrons/import");
    CHECK_EQ_INT(r.m, ROUTE_METHOD_NOT_ALLOWED);
    CHECK_EQ_STR(r.allow, "POST");
    CHECK_EQ_INT(match("DELETE", "/v1/patrons/import").m, ROUTE_METHOD_NOT_ALLOWED);
    CHECK(match("POST", "/v1/patrons/import").route->handler == h_create);

    r = match("get", "/v1/patrons");
    CHECK_EQ_INT(r.m, ROUTE_METHOD_NOT_ALLOWED);

    /* A short buffer is never overrun and keeps whole entries. */
    char small[8];
    CHECK_EQ_INT(router_match(table, N, "PUT", "/v1/patrons", NULL, NULL, small, sizeof small),
                 ROUTE_METHOD_NOT_ALLOWED);
    CHECK_EQ_STR(small, "GET");
}

/* The server answers a memory handler before authenticating, so a route
 * that has one must be public. */
static void test_memory_routes_public(void)
{
    static const struct {
        const char *pattern, *memory;
        enum route_auth auth;
    } routes[] = {
#define ROUTE(method, pattern, handler, auth, body, memory) {pattern, #memory, auth},
#include "routes.def"
#undef ROUTE
    };
    int with_memory = 0;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (!strcmp(routes[i].memory, "NULL")) continue;
        with_memory++;
        if (routes[i].auth != AUTH_PUBLIC) fprintf(stderr, "  not public: %s\n", routes[i].pattern);
        CHECK_EQ_INT(routes[i].auth, AUTH_PUBLIC);
    }
    CHECK(with_memory > 0);
}

int main(void)
{
    test_found();
    test_specificity();
    test_head();
    test_not_found();
    test_param_length();
    test_method_not_allowed();
    test_memory_routes_public();
    return CHECK_DONE();
}
