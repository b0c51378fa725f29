#ifndef PATROND_HTTP_CLIENT_H
#define PATROND_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

/* One outgoing HTTP request to a payment provider's API (the
 * self-service cancel), made by the handler thread that needs its answer.
 * Bounded so that a provider that hangs holds a handler thread for
 * seconds, not minutes: HTTP_CLIENT_TIMEOUT_MS in all, of which
 * HTTP_CLIENT_CONNECT_TIMEOUT_MS to connect; no redirects; a response
 * body over HTTP_CLIENT_RESPONSE_MAX is a failure. */
#define HTTP_CLIENT_TIMEOUT_MS 10000L
#define HTTP_CLIENT_CONNECT_TIMEOUT_MS 5000L
#define HTTP_CLIENT_RESPONSE_MAX (64 * 1024)

struct http_response {
    long status; /* the HTTP status, whatever it is */
    char *body;  /* NUL-terminated; may hold NULs, see len */
    size_t len;
};

/* POSTs `body` to `url` (http or https) with the given header lines
 * ("Name: value", NULL-terminated). True when a response came back within
 * the limits, whatever its status; false on a network error, a timeout,
 * an oversized answer or no memory, with a short reason (never a secret)
 * in why. Free the response with http_response_free in both cases. */
bool http_post(const char *url, const char *const *headers, const char *body,
               struct http_response *out, char *why, size_t why_len);
void http_response_free(struct http_response *r);

#endif
