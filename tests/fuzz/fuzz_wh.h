#ifndef PATROND_FUZZ_WH_H
#define PATROND_FUZZ_WH_H

/* One webhook provider under libFuzzer. Framing of an input: header lines
 * "Name: value\n" up to the first empty line, then the raw body. The
 * provider's verify, parse and (when parse succeeds) ack all run, so the
 * signature-header parser, the verifier and the payload mapper are covered
 * even though a random input almost never carries a valid signature. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "provider.h"

#define FUZZ_MAX_HEADERS 8
static char *fz_names[FUZZ_MAX_HEADERS], *fz_values[FUZZ_MAX_HEADERS];
static int fz_n;

static const char *fz_lookup(void *ctx, const char *name)
{
    (void)ctx;
    for (int i = 0; i < fz_n; i++)
        if (!strcasecmp(fz_names[i], name)) return fz_values[i];
    return NULL;
}

/* Splits the copy in place; returns where the body starts. */
static char *fz_headers(char *s, char *end)
{
    fz_n = 0;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl) return s;
        *nl = '\0';
        if (nl == s) return nl + 1;
        char *colon = strchr(s, ':');
        if (colon && fz_n < FUZZ_MAX_HEADERS) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ')
                v++;
            fz_names[fz_n] = s;
            fz_values[fz_n++] = v;
        }
        s = nl + 1;
    }
    return end;
}

static void fz_configure(void);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
static int fz_run(const struct provider *p, const uint8_t *data, size_t size)
{
    static int configured;
    if (!configured) {
        fz_configure();
        configured = 1;
    }
    char *copy = malloc(size + 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    char *body = fz_headers(copy, copy + size);
    size_t body_len = (size_t)(copy + size - body);
    /* the body as the server hands it over: its own buffer, exactly sized */
    char *b = malloc(body_len + 1);
    if (!b) {
        free(copy);
        return 0;
    }
    memcpy(b, body, body_len);
    b[body_len] = '\0';
    struct wh_request rq = {b, body_len, fz_lookup, NULL, 1700000000};
    char why[256];
    why[0] = '\0';
    (void)p->verify(&cfg, &rq, why, sizeof why);
    if (!memchr(why, '\0', sizeof why)) abort();
    struct wh_event ev;
    memset(&ev, 0, sizeof ev);
    why[0] = '\0';
    if (provider_parse(p, &cfg, &rq, &ev, why, sizeof why)) {
        /* the mapped event must be usable as C strings by the store */
        if (!memchr(ev.event_key, '\0', sizeof ev.event_key)) abort();
        if (!memchr(ev.currency, '\0', sizeof ev.currency)) abort();
        if (!memchr(ev.email, '\0', sizeof ev.email)) abort();
        if (p->ack) free(p->ack(&cfg, &ev, 1700000000));
    }
    free(b);
    free(copy);
    return 0;
}

#define FUZZ_PROVIDER(prov)                                                                        \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        return fz_run(&prov, data, size);                                                          \
    }

#endif
