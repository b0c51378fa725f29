/* libFuzzer target: the router over patrond's route table (include/routes.def)
 * with the handlers left out, as they need the server. Input: "METHOD path". */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "router.h"

static void h(struct req *r)
{
    (void)r;
}

/* The server's own patterns; handlers are never called here. */
static const struct route table[] = {
#define ROUTE(method, pattern, handler, auth, body, memory) {method, pattern, h, auth, body, NULL},
#include "routes.def"
#undef ROUTE
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size);
    if (!in) return 0;
    char *sp = strchr(in, ' ');
    const char *method = "GET", *path = in;
    if (sp) {
        *sp = '\0';
        method = in;
        path = sp + 1;
    }
    const struct route *found = NULL;
    struct route_params params;
    char allow[128];
    enum route_match m = router_match(table, sizeof table / sizeof *table, method, path, &found,
                                      &params, allow, sizeof allow);
    if (m == ROUTE_FOUND) {
        /* HEAD is answered by the GET route */
        bool head = !strcmp(method, "HEAD") && !strcmp(found->method, "GET");
        if (!found || (strcmp(found->method, method) && !head)) abort();
        if (params.n < 0 || params.n > ROUTE_MAX_PARAMS) abort();
        for (int i = 0; i < params.n; i++)
            if (!memchr(params.v[i], '\0', sizeof params.v[i]) || strchr(params.v[i], '/')) abort();
    } else if (m == ROUTE_METHOD_NOT_ALLOWED) {
        if (!memchr(allow, '\0', sizeof allow)) abort();
    }
    free(in);
    return 0;
}
