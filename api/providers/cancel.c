/* Cancelling a subscription at its provider (include/provider.h): the
 * module builds the request and reads the answer, this makes the call. */
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "provider_kit.h"

char *cancel_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!out) return NULL;
    va_start(ap, fmt);
    int m = vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (m == n) return out;
    free(out);
    return NULL;
}

json_t *cancel_answer(long status, const char *body, size_t len, char *why, size_t why_len)
{
    if (status < 200 || status > 299) {
        snprintf(why, why_len, "answered HTTP %ld", status);
        return NULL;
    }
    json_error_t err;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
    if (json_is_object(root)) return root;
    json_decref(root);
    snprintf(why, why_len, "answered something other than a JSON object");
    return NULL;
}

bool cancel_ref_plain(const char *ref)
{
    size_t n = strspn(ref, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-");
    return n > 0 && n <= 200 && ref[n] == '\0';
}

static void cleanse_free(char *s)
{
    if (!s) return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void provider_call_free(struct provider_call *call)
{
    cleanse_free(call->url);
    cleanse_free(call->body);
    for (size_t i = 0; i < PROVIDER_CALL_HEADERS; i++)
        cleanse_free(call->headers[i]);
    memset(call, 0, sizeof *call);
}

/* A call is made on a database thread, which waits up to
 * HTTP_CLIENT_TIMEOUT_MS for the answer: without a bound, a provider that
 * hangs would take every database thread with a few patrons' clicks, and
 * stall ballots and webhooks. A quarter of them may wait on providers. */
static atomic_uint calls_in_flight;

static unsigned calls_max(const struct config *c)
{
    return c->db_threads / 4 ? c->db_threads / 4 : 1;
}

static enum cancel_outcome call_provider(const struct provider *p, const struct config *c,
                                         const char *ref, char *why, size_t why_len)
{
    struct provider_call call = {0};
    if (!p->cancel->request(c, ref, &call, why, why_len)) {
        provider_call_free(&call);
        return CANCEL_FAILED;
    }
    struct http_response res;
    char err[256];
    enum cancel_outcome out = CANCEL_FAILED;
    if (!http_post(call.url, (const char *const *)call.headers, call.body, &res, err, sizeof err))
        snprintf(why, why_len, "%s: %s", p->name, err);
    else
        out = p->cancel->outcome(ref, res.status, res.body, res.len, why, why_len);
    http_response_free(&res);
    provider_call_free(&call);
    return out;
}

enum cancel_outcome provider_cancel(const struct provider *p, const struct config *c,
                                    const char *ref, char *why, size_t why_len)
{
    if (!p->cancel) {
        snprintf(why, why_len, "%s subscriptions are not cancelled through its API", p->name);
        return CANCEL_FAILED;
    }
    if (!p->cancel->configured(c)) {
        snprintf(why, why_len, "%s's API is not configured", p->name);
        return CANCEL_NOT_CONFIGURED;
    }
    unsigned max = calls_max(c);
    if (atomic_fetch_add(&calls_in_flight, 1) >= max) {
        atomic_fetch_sub(&calls_in_flight, 1);
        snprintf(why, why_len, "%u calls to providers already in flight", max);
        return CANCEL_BUSY;
    }
    enum cancel_outcome out = call_provider(p, c, ref, why, why_len);
    atomic_fetch_sub(&calls_in_flight, 1);
    return out;
}
