/* Path routing. The table is small, so matching is a linear scan; when
 * several patterns fit ("/v1/rounds/current" and "/v1/rounds/{id}") the
 * one with fewer parameters wins, whatever the table order and whatever
 * the method: "/v1/patrons/import" is a resource of its own, so a GET of
 * it is 405 (Allow: POST), not a patron whose id is "import". */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "router.h"

#define MAX_ALLOW_METHODS 16

/* Matches path against pattern, filling params (may be NULL); returns the
 * number of parameters, or -1 when the path does not fit. */
static int match_pattern(const char *pattern, const char *path, struct route_params *params)
{
    int n = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '{') {
            if (*p++ != *s++) return -1;
            continue;
        }
        const char *close = strchr(p, '}');
        size_t len = strcspn(s, "/");
        if (!close || len == 0 || len > ROUTE_PARAM_MAX || n == ROUTE_MAX_PARAMS) return -1;
        if (params) {
            memcpy(params->v[n], s, len);
            params->v[n][len] = '\0';
        }
        n++;
        p = close + 1;
        s += len;
    }
    return *p || *s ? -1 : n;
}

/* HEAD is answered by the GET route; `head` says the request is a HEAD. */
static bool method_fits(const char *route_method, const char *method, bool head)
{
    if (head) return !strcmp(route_method, "GET") || !strcmp(route_method, "HEAD");
    return route_method[0] == method[0] && !strcmp(route_method, method);
}

/* Appends a method to the list unless it is already there. */
static void add_method(const char **list, size_t *n, const char *method)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(list[i], method)) return;
    if (*n < MAX_ALLOW_METHODS) list[(*n)++] = method;
}

static void format_allow(const struct route *table, size_t n, const char *path, int params,
                         char *allow, size_t allow_len)
{
    const char *methods[MAX_ALLOW_METHODS];
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (match_pattern(table[i].pattern, path, NULL) != params) continue;
        add_method(methods, &count, table[i].method);
        if (!strcmp(table[i].method, "GET")) add_method(methods, &count, "HEAD");
    }
    if (!allow || allow_len == 0) return;
    size_t used = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < count; i++) {
        int w = snprintf(allow + used, allow_len - used, "%s%s", i ? ", " : "", methods[i]);
        if (w < 0 || (size_t)w >= allow_len - used) {
            allow[used] = '\0'; /* a cut-off method name would mislead */
            return;
        }
        used += (size_t)w;
    }
}

enum route_match router_match(const struct route *table, size_t n, const char *method,
                              const char *path, const struct route **found,
                              struct route_params *params, char *allow, size_t allow_len)
{
    if (params) params->n = 0;
    if (allow && allow_len) allow[0] = '\0';
    if (!method || !path || path[0] != '/') return ROUTE_NOT_FOUND;
    const struct route *best = NULL;
    int fewest = ROUTE_MAX_PARAMS + 1;
    bool head = !strcmp(method, "HEAD");
    for (size_t i = 0; i < n; i++) {
        int np = match_pattern(table[i].pattern, path, NULL);
        if (np < 0 || np > fewest) continue;
        bool fits = method_fits(table[i].method, method, head);
        if (np < fewest)
            best = fits ? &table[i] : NULL;
        else if (fits && !best)
            best = &table[i];
        fewest = np;
    }
    if (fewest > ROUTE_MAX_PARAMS) return ROUTE_NOT_FOUND;
    if (!best) {
        format_allow(table, n, path, fewest, allow, allow_len);
        return ROUTE_METHOD_NOT_ALLOWED;
    }
    if (found) *found = best;
    if (params) params->n = match_pattern(best->pattern, path, params);
    return ROUTE_FOUND;
}
