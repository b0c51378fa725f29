#ifndef PATROND_CRYPTO_H
#define PATROND_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keyed hashes and secret lists shared by the payment providers
 * (api/core/crypto.c). */

/* HMAC with OpenSSL EVP_MAC over prefix (a C string, may be "") followed
 * by data, without copying data: the schemes sign "t.body", "id.ts.body",
 * "ts:body". digest "SHA256", "SHA1", "MD5"; out must hold 64 bytes and
 * *out_len receives the MAC length. */
bool hmac_prefixed(const char *digest, const void *key, size_t key_len, const char *prefix,
                   const void *data, size_t data_len, uint8_t *out, size_t *out_len);
/* hmac_prefixed without a prefix. */
bool hmac(const char *digest, const void *key, size_t key_len, const void *data, size_t data_len,
          uint8_t *out, size_t *out_len);
/* Constant-time equality of two byte strings (false if lengths differ). */
bool bytes_equal(const void *a, size_t a_len, const void *b, size_t b_len);

/* Splits a comma-separated secret list (rotation: at most two are used)
 * into trimmed entries; returns how many (0..2). Entries point into buf,
 * a copy the caller provides (modified in place; cleanse it after use).
 * The first entry is the current one: outgoing signatures use it, while
 * incoming ones may match either. */
int secret_list(const char *csv, char *buf, size_t buf_len, const char *out[2]);
/* A buffer size for secret_list that any sane secret list fits. */
#define SECRET_LIST_MAX 1024
/* Whether a secret list holds at least one usable entry. */
bool secret_list_any(const char *csv);

#endif
