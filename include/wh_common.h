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
bool wh_hmac(const char *digest, const void *key, size_t key_len, const void *data,
             size_t data_len, uint8_t *out, size_t *out_len);
/* Constant-time equality of two byte strings (false if lengths differ). */
bool wh_equal(const void *a, size_t a_len, const void *b, size_t b_len);
/* Hex (either case) → bytes; false on odd length / bad digit / too long. */
bool wh_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *out_len);
/* Standard or URL-safe base64 (padding optional) → bytes. */
bool wh_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len);
/* Standard base64 with padding; out needs 4*((len+2)/3)+1 bytes. */
void wh_base64_encode(const uint8_t *in, size_t len, char *out);

/* Splits a comma-separated secret list (rotation: at most two are used)
 * into trimmed entries; returns how many (0..2). Entries point into buf,
 * a copy the caller provides (modified in place). */
int wh_secrets(const char *csv, char *buf, size_t buf_len, const char *out[2]);

/* Copies src into dst (size dst_len) only if it fits; else false. */
bool wh_copy(char *dst, size_t dst_len, const char *src);
/* dst ← the string at `path` ("data.object.id", dots between keys) in
 * root; absent/null leaves "" and returns true; a non-string or a value
 * too long returns false. */
bool wh_json_str(json_t *root, const char *path, char *dst, size_t dst_len);
/* The JSON value at a dotted path, or NULL. */
json_t *wh_json_at(json_t *root, const char *path);
/* Unix seconds (or ms when `millis`) → RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ". */
bool wh_unix_to_rfc3339(long long t, bool millis, char *dst, size_t dst_len);

#endif
