#ifndef PATROND_WEBHOOK_SIGN_H
#define PATROND_WEBHOOK_SIGN_H

#include <stdbool.h>
#include <stddef.h>

/* Standard Webhooks signing for outbound webhooks (SPEC §4b): secrets are
 * "whsec_" + base64 of 32 random bytes; a message is signed with
 * HMAC-SHA256 over "<id>.<timestamp>.<body>", one "v1,<base64>" per
 * active secret, space-separated. Pure logic. */

#define WEBHOOK_SECRET_LEN 50 /* "whsec_" + 44 base64 characters */
/* A new secret into out (WEBHOOK_SECRET_LEN + 1 bytes); false only if the
 * random source fails. */
bool webhook_secret_new(char out[WEBHOOK_SECRET_LEN + 1]);

/* Room for the signature header of up to two secrets. */
#define WEBHOOK_SIGNATURE_MAX 128
/* The webhook-signature header for `n` secrets (1 or 2) into out (cap
 * bytes); false on a malformed secret, no room, or an OpenSSL failure. */
bool webhook_signature(const char *const *secrets, size_t n, const char *id, const char *timestamp,
                       const char *body, size_t body_len, char *out, size_t cap);

#endif
