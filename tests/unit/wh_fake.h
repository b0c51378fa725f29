#ifndef PATROND_TEST_WH_FAKE_H
#define PATROND_TEST_WH_FAKE_H

/* A fake webhook request for the provider unit tests: headers set by the
 * test, the body given per call, and the global `cfg` as configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "provider.h"

#define MAX_HEADERS 6
static const char *header_names[MAX_HEADERS], *header_values[MAX_HEADERS];
static int nheaders;
static char why[256];

static inline const char *lookup(void *ctx, const char *name)
{
    (void)ctx;
    for (int i = 0; i < nheaders; i++)
        if (!strcasecmp(header_names[i], name)) return header_values[i];
    return NULL;
}

static inline void headers_reset(void)
{
    nheaders = 0;
}

/* Sets (or replaces, or with NULL removes) a header. */
static inline void header(const char *name, const char *value)
{
    for (int i = 0; i < nheaders; i++) {
        if (strcasecmp(header_names[i], name)) continue;
        if (value) {
            header_values[i] = value;
        } else {
            header_names[i] = header_names[--nheaders];
            header_values[i] = header_values[nheaders];
        }
        return;
    }
    if (value && nheaders < MAX_HEADERS) {
        header_names[nheaders] = name;
        header_values[nheaders++] = value;
    }
}

static inline bool verify_n(const struct provider *p, const char *body, size_t len, long long now)
{
    struct wh_request rq = {body, len, lookup, NULL, now};
    why[0] = '\0';
    return p->verify(&cfg, &rq, why, sizeof why);
}

static inline bool verify(const struct provider *p, const char *body, long long now)
{
    return verify_n(p, body, strlen(body), now);
}

/* Received at `now` (unix seconds). */
static inline bool parse_at(const struct provider *p, const char *body, long long now,
                            struct wh_event *ev)
{
    struct wh_request rq = {body, strlen(body), lookup, NULL, now};
    why[0] = '\0';
    return provider_parse(p, &cfg, &rq, ev, why, sizeof why);
}

/* Received in 2033, after every time the test payloads carry. */
static inline bool parse(const struct provider *p, const char *body, struct wh_event *ev)
{
    return parse_at(p, body, 2000000000LL, ev);
}

/* JSON written with ' for " so the payloads read cleanly. */
static char json_buf[4096];
static inline const char *J(const char *text)
{
    size_t i = 0;
    for (; text[i] && i + 1 < sizeof json_buf; i++)
        json_buf[i] = text[i] == '\'' ? '"' : text[i];
    json_buf[i] = '\0';
    return json_buf;
}

/* A fixture from tests/fixtures/webhooks (malloc'd, NUL-terminated). */
static inline char *read_fixture(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "tests/fixtures/webhooks/%s", name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(8192);
    *len = buf ? fread(buf, 1, 8191, f) : 0;
    if (buf) buf[*len] = '\0';
    fclose(f);
    return buf;
}

#endif
