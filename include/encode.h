#ifndef PATROND_ENCODE_H
#define PATROND_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Unpadded base64url of len bytes into out (at least 4*len/3+4 bytes). */
void base64url_encode(const uint8_t *in, size_t len, char *out);
/* s percent-encoded for a URL's query (RFC 3986 unreserved characters
 * kept), malloc'd; NULL without memory. */
char *query_escape(const char *s);
/* Standard base64 with padding; out needs 4*((len+2)/3)+1 bytes. */
void base64_encode(const uint8_t *in, size_t len, char *out);
/* Standard or URL-safe base64 (padding optional) → bytes; false on a bad
 * character or padding, or when it needs more than cap bytes. */
bool base64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len);
/* Hex (either case) → bytes; false on odd length / bad digit / too long. */
bool hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *out_len);
/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* SHA-256 of data; false only if OpenSSL fails. */
bool sha256(const void *data, size_t len, uint8_t out[32]);
/* SHA-256 of bytes that arrive in pieces (an upload that is not kept):
 * NULL when out of memory; sha256_end finalizes and frees (false only if
 * OpenSSL fails), sha256_abort frees without a digest. */
struct sha256_stream;
struct sha256_stream *sha256_begin(void);
bool sha256_update(struct sha256_stream *s, const void *data, size_t len);
bool sha256_end(struct sha256_stream *s, uint8_t out[32]);
void sha256_abort(struct sha256_stream *s);
/* A new secret: 32 random bytes as base64url (43 chars + NUL). */
bool random_token(char out[44]);
/* A random (version 4) UUID in canonical text form. */
bool random_uuid(char out[37]);
/* The same shape from a per-thread generator seeded by random_uuid's
 * source: unpredictable enough to label a request, not for secrets, and
 * without a call into OpenSSL (and a getpid) on every request. */
bool label_uuid(char out[37]);
/* src into dst (cap bytes, NUL included), cut short when it does not fit;
 * false then. snprintf's "%s" without its cost on every request. */
bool text_copy(char *dst, size_t cap, const char *src);

#endif
