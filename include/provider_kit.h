#ifndef PATROND_PROVIDER_KIT_H
#define PATROND_PROVIDER_KIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "encode.h"
#include "provider.h"
#include "rfc3339.h"

/* Building blocks shared by the provider modules (api/providers/): the
 * webhooks' in webhook_common.c, the checkouts' in checkout_common.c.
 * Keyed hashes, encodings and times are core's (crypto.h, encode.h,
 * rfc3339.h). */

/* One of a provider's own variables, by its index in its `settings`. */
#define SETTING(c, id, i) ((c)->provider_settings[id][i])

/* Signature headers of the "timestamp plus hex HMAC-SHA256s" family,
 * e.g. "t=..,v1=..,v1=.." or "ts=..;h1=..". */
#define WH_TS_SIGS_MAX 8
struct wh_ts_sigs {
    long long ts;
    bool has_ts;
    const char *sig[WH_TS_SIGS_MAX];
    size_t sig_len[WH_TS_SIGS_MAX];
    int n;
};
/* Items separated by `sep`; the timestamp under `ts_key` (exactly once),
 * signatures under `sig_key`, other keys ignored. With `strict`, an item
 * without '=' makes the header malformed. No whitespace is trimmed. */
bool wh_ts_sigs_parse(const char *h, char sep, const char *ts_key, const char *sig_key, bool strict,
                      struct wh_ts_sigs *s);
/* Whether hex HMAC-SHA256(secret, prefix + body) equals any signature, for
 * any secret of the rotation list; constant-time per comparison. */
bool wh_ts_sigs_verify(const char *secrets, const char *prefix, const struct wh_ts_sigs *s,
                       const struct wh_request *rq);

/* The whole check of such a header: present, well-formed, with at least
 * one signature, one of which is hex HMAC-SHA256 over "<ts><ts_end><body>"
 * by a listed secret, and a fresh timestamp. `scheme` names the header and
 * its keys; why says which step failed. */
struct wh_ts_scheme {
    const char *header;
    char sep;
    const char *ts_key, *sig_key;
    bool strict;
    char ts_end; /* between timestamp and body in the signed text */
};
bool wh_ts_sigs_check(const struct wh_ts_scheme *scheme, const char *secrets,
                      const struct wh_request *rq, char *why, size_t why_len);

/* A JSON number in major units at key "amount", as written in the body
 * (json, len), with the currency at "currency": exact minor units into ev;
 * absent leaves has_amount false. */
bool wh_decimal_amount(json_t *root, const char *json, size_t len, struct wh_event *ev, char *why,
                       size_t why_len);

/* Event-type dispatch shared by the JSON providers: each handler maps the
 * object under the envelope ("data.object", "resource", ...) into the
 * event. */
typedef bool (*wh_json_fn)(json_t *obj, struct wh_event *ev, char *why, size_t why_len);
struct wh_handler {
    const char *type;
    wh_json_fn apply;
    const char *path; /* the object it maps, when not the envelope's */
};
/* Runs the handler for ev->type on the object at `path`; an event type no
 * handler names is WH_IGNORED (recorded, no effect). */
bool wh_dispatch(json_t *root, const char *path, const struct wh_handler *table, size_t n,
                 struct wh_event *ev, char *why, size_t why_len);
/* A time field: dst <- the path's value read by the provider's format,
 * or false with why. */
typedef bool (*wh_time_fn)(json_t *o, const char *path, char *dst, size_t dst_len, char *why,
                           size_t why_len);
/* An RFC 3339 string at path, normalized to UTC; absent leaves "". */
bool wh_time_field(json_t *o, const char *path, char *dst, size_t dst_len, char *why,
                   size_t why_len);
/* Where a JSON provider's envelope keeps the event's id, type and time,
 * and which object its handlers map. */
struct wh_envelope {
    const char *id, *type, *time;
    wh_time_fn read_time;
    const char *object;
    const struct wh_handler *handlers;
    size_t n;
};
/* Parses the body: read id, type and time, refuse an event without id or
 * type, dispatch on the type. */
bool wh_parse_envelope(const struct wh_request *rq, const struct wh_envelope *e,
                       struct wh_event *ev, char *why, size_t why_len);
/* Loads the body as a JSON object and maps it with fn. */
bool wh_parse_json(const struct wh_request *rq, struct wh_event *ev, wh_json_fn fn, char *why,
                   size_t why_len);

/* Writes msg into why and returns false, for one-line failure returns. */
bool wh_fail(char *why, size_t why_len, const char *msg);

/* Copies src into dst (size dst_len) only if it fits; else false. */
bool wh_copy(char *dst, size_t dst_len, const char *src);
/* dst ← the string at `path` ("data.object.id", dots between keys; a
 * segment of digits indexes an array: "items.0.price") in root; absent/null leaves "" and returns
 * true; a non-string or a value too long returns false. */
bool wh_json_str(json_t *root, const char *path, char *dst, size_t dst_len);
/* wh_json_str, writing "<path> is not a string or too long" into why. */
bool wh_field(json_t *root, const char *path, char *dst, size_t dst_len, char *why, size_t why_len);
/* The JSON value at a dotted path, or NULL. */
json_t *wh_json_at(json_t *root, const char *path);
/* Unix seconds written as plain decimal digits (no sign, no spaces). */
bool wh_parse_unix(const char *s, long long *out);
/* ts within WH_TOLERANCE_SECONDS of now, in either direction. */
bool wh_fresh(long long ts, long long now);
/* dst ← the upper-cased code when it is a known ISO 4217 currency. */
bool wh_currency(char dst[4], const char *code);
/* dst ← s when it is a canonical UUID (our pledge id); else "" and false. */
bool wh_uuid(char dst[37], const char *s);
/* The integer at path: absent/null → *present = false, true; a
 * non-integer → false. */
bool wh_json_int(json_t *root, const char *path, int64_t *out, bool *present);
/* The body as a JSON object (duplicate keys refused), or NULL with why. */
json_t *wh_json_load(const struct wh_request *rq, char *why, size_t why_len);

/* ---- checkout (api/providers/checkout_common.c) ---- */

/* The amount in major units with all of the currency's digits ("5.00"). */
bool checkout_amount(const struct checkout_order *o, char *buf, size_t len);
/* The current key of a rotation list ("new,old" -> "new"): checkout signs
 * with it, while webhooks accept either. Copied into buf; NULL if empty. */
const char *checkout_current_key(const char *list, char *buf, size_t len);
/* What the payer sees on the provider's page. */
const char *checkout_description(const char *interval);
/* <public_url>/v1/webhooks/<provider>, malloc'd; NULL when out of memory. */
char *checkout_webhook_url(const struct config *c, const char *provider);

/* ---- self-service cancel (api/providers/cancel.c) ---- */

/* printf into a new malloc'd string; NULL when out of memory. */
char *cancel_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A provider's answer as a JSON object, when its status is 2xx and its
 * body one; else NULL with why. */
json_t *cancel_answer(long status, const char *body, size_t len, char *why, size_t why_len);
/* Whether ref is a plain identifier ([A-Za-z0-9_-]+, at most 200), safe
 * in a URL path. */
bool cancel_ref_plain(const char *ref);

#endif
