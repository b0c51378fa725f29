#ifndef PATROND_SIGNING_KEYS_H
#define PATROND_SIGNING_KEYS_H

/* The process's member-token keys (SPEC §4b): the current one signs, the
 * previous one is only published, so tokens it signed before a rotation
 * still verify until they expire. Loaded once at start-up, read-only
 * afterwards (api/core/signing_keys.c). */

#include <stdbool.h>
#include <stddef.h>

#include "jwt.h"

/* Loads PEM (PKCS#8) Ed25519 private keys from the files; either path may
 * be NULL. A previous key needs a current one. On failure err names the
 * variable and the file and nothing is kept. */
bool signing_keys_load(const char *current_file, const char *previous_file, char *err,
                       size_t err_len);
void signing_keys_free(void);

/* The key that signs, or NULL when none is configured. */
const struct signing_key *signing_keys_current(void);

/* The JWK Set document {"keys": [current, previous]} (no keys when none is
 * configured) as JSON text, and its quoted strong ETag. */
const char *signing_keys_jwks(size_t *len);
const char *signing_keys_jwks_etag(void);

#endif
