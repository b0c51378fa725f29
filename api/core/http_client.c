/* A blocking libcurl POST for the provider calls of the self-service
 * cancel (include/http_client.h). Each call has its own easy handle: they
 * are rare (a patron's click), so no connection is kept between them. */
#include "http_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sink {
    struct http_response *r;
    size_t cap;
    bool too_big;
};

/* Returning less than offered ends the transfer (CURLE_WRITE_ERROR). */
static size_t collect(char *data, size_t size, size_t n, void *cls)
{
    struct sink *s = cls;
    size_t add = size * n;
    if (add > HTTP_CLIENT_RESPONSE_MAX - s->r->len) {
        s->too_big = true;
        return 0;
    }
    if (s->r->len + add + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        while (cap < s->r->len + add + 1)
            cap *= 2;
        char *grown = realloc(s->r->body, cap);
        if (!grown) return 0;
        s->r->body = grown;
        s->cap = cap;
    }
    memcpy(s->r->body + s->r->len, data, add);
    s->r->len += add;
    s->r->body[s->r->len] = '\0';
    return add;
}

static bool fail(char *why, size_t why_len, const char *msg)
{
    snprintf(why, why_len, "%s", msg);
    return false;
}

static CURLcode set_options(CURL *e, const char *url, struct curl_slist *headers, const char *body,
                            struct sink *sink, char *error)
{
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    if (rc == CURLE_OK) rc = curl_easy_setopt(e, opt, val)
    SET(CURLOPT_URL, url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_TIMEOUT_MS, HTTP_CLIENT_TIMEOUT_MS);
    SET(CURLOPT_CONNECTTIMEOUT_MS, HTTP_CLIENT_CONNECT_TIMEOUT_MS);
    /* Timeouts by signal would reach other threads of the server. */
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDS, body);
    SET(CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    SET(CURLOPT_HTTPHEADER, headers);
    SET(CURLOPT_USERAGENT, "patrond/1");
    SET(CURLOPT_WRITEFUNCTION, collect);
    SET(CURLOPT_WRITEDATA, sink);
    SET(CURLOPT_ERRORBUFFER, error);
#undef SET
    return rc;
}

bool http_post(const char *url, const char *const *headers, const char *body,
               struct http_response *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    struct curl_slist *list = NULL;
    for (const char *const *h = headers; h && *h; h++) {
        struct curl_slist *l = curl_slist_append(list, *h);
        if (!l) {
            curl_slist_free_all(list);
            return fail(why, why_len, "out of memory");
        }
        list = l;
    }
    /* no "100 Continue" round trip before the body */
    struct curl_slist *l = curl_slist_append(list, "Expect:");
    if (!l) {
        curl_slist_free_all(list);
        return fail(why, why_len, "out of memory");
    }
    list = l;
    char error[CURL_ERROR_SIZE] = "";
    struct sink sink = {.r = out};
    CURL *e = curl_easy_init();
    bool ok = false;
    CURLcode rc;
    if (!e) {
        fail(why, why_len, "cannot start a transfer");
    } else if (set_options(e, url, list, body, &sink, error) != CURLE_OK) {
        fail(why, why_len, "cannot set up the request");
    } else if ((rc = curl_easy_perform(e)) != CURLE_OK) {
        if (sink.too_big)
            fail(why, why_len, "the answer is too large");
        else
            snprintf(why, why_len, "%s", error[0] ? error : curl_easy_strerror(rc));
    } else if (curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &out->status) != CURLE_OK) {
        fail(why, why_len, "no response status");
    } else if (!out->body && !(out->body = calloc(1, 1))) {
        fail(why, why_len, "out of memory");
    } else {
        ok = true;
    }
    curl_easy_cleanup(e);
    curl_slist_free_all(list);
    return ok;
}

void http_response_free(struct http_response *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}
