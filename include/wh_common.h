#ifndef PATROND_WH_COMMON_H
#define PATROND_WH_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "webhook.h"

/* Building blocks shared by the provider files (api/webhooks/common.c). */

/* HMAC over data with OpenSSL EVP_MAC; digest "SHA256", "SHA1", "MD5".
 * out must hold 64 bytes; *out_len receives the MAC length. */
bool wh_hmac(const char *digest, const void *key, size_t key_len, const void *data, size_t data_len,
             uint8_t *out, size_t *out_len);
/* Constant-time equality of two byte strings (false if lengths differ). */
bool wh_equal(const void *a, size_t a_len, const void *b, size_t b_len);
/* Hex (either case) → bytes; false on odd length / bad digit / too long. */
bool wh_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *out_len);
/* Standard or URL-safe base64 (padding optional) → bytes. */
bool wh_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len);
/* Standard base64 with padding; out needs 4*((len+2)/3)+1 bytes. */
void wh_base64_encode(const uint8_t *in, size_t len, char *out);

/* wh_hmac over prefix (a C string, may be "") followed by data, without
 * copying the body: the schemes sign "t.body", "id.ts.body", "ts:body". */
bool wh_hmac_prefixed(const char *digest, const void *key, size_t key_len, const char *prefix,
                      const void *data, size_t data_len, uint8_t *out, size_t *out_len);

/* Splits a comma-separated secret list (rotation: at most two are used)
 * into trimmed entries; returns how many (0..2). Entries point into buf,
 * a copy the caller provides (modified in place). */
int wh_secrets(const char *csv, char *buf, size_t buf_len, const char *out[2]);
/* A buffer size for wh_secrets that any sane secret list fits. */
#define WH_SECRET_LIST_MAX 1024

/* Signature headers of the "timestamp plus hex HMAC-SHA256s" family:
 * Stripe "t=..,v1=..,v1=.." and Paddle "ts=..;h1=..". */
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
bool wh_ts_sigs_verify(const char *secret_list, const char *prefix, const struct wh_ts_sigs *s,
                       const struct wh_request *rq);

/* Event-type dispatch shared by the JSON providers: each handler maps the
 * object under the envelope (Stripe "data.object", PayPal "resource", ...)
 * into the event. */
typedef bool (*wh_json_fn)(json_t *obj, struct wh_event *ev, char *why, size_t why_len);
struct wh_handler {
    const char *type;
    wh_json_fn apply;
};
/* Runs the handler for ev->type on the object at `path`; an event type no
 * handler names is WH_IGNORED (recorded, no effect). */
bool wh_dispatch(json_t *root, const char *path, const struct wh_handler *table, size_t n,
                 struct wh_event *ev, char *why, size_t why_len);
/* Loads the body as a JSON object and maps it with fn. */
bool wh_parse_json(const struct wh_request *rq, struct wh_event *ev, wh_json_fn fn, char *why,
                   size_t why_len);

/* Whether a secret list holds at least one usable entry. */
bool wh_has_secret(const char *csv);
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
/* Unix seconds (or ms when `millis`) → RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ". */
bool wh_unix_to_rfc3339(long long t, bool millis, char *dst, size_t dst_len);

/* Unix seconds written as plain decimal digits (no sign, no spaces). */
bool wh_parse_unix(const char *s, long long *out);
/* ts within WH_TOLERANCE_SECONDS of now, in either direction. */
bool wh_fresh(long long ts, long long now);
/* RFC 3339 ("2023-11-14T22:13:20.000000Z", offsets allowed) → unix seconds. */
bool wh_rfc3339_to_unix(const char *s, long long *out);
/* Rewrites an RFC 3339 time as UTC "YYYY-MM-DDTHH:MM:SSZ"; "" stays "". */
bool wh_rfc3339_normalize(const char *in, char *dst, size_t dst_len);

/* dst ← the upper-cased code when it is a known ISO 4217 currency. */
bool wh_currency(char dst[4], const char *code);
/* dst ← s when it is a canonical UUID (our pledge id); else "" and false. */
bool wh_uuid(char dst[37], const char *s);
/* The integer at path: absent/null → *present = false, true; a
 * non-integer → false. */
bool wh_json_int(json_t *root, const char *path, int64_t *out, bool *present);
/* The body as a JSON object (duplicate keys refused), or NULL with why. */
json_t *wh_json_load(const struct wh_request *rq, char *why, size_t why_len);

#endif
