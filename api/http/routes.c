/* The server's route table; the routes themselves are in routes.def. */
#include "handlers.h"
#include "router.h"

const struct route routes[] = {
#define ROUTE(method, pattern, handler, auth, body, memory)                                        \
    {method, pattern, handler, auth, body, memory},
#include "routes.def"
#undef ROUTE
};

const size_t routes_count = sizeof routes / sizeof routes[0];
