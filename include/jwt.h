#ifndef PATROND_JWT_H
#define PATROND_JWT_H

/* Member tokens (SPEC §4b): JWTs signed with EdDSA over Ed25519
 * (RFC 8037), and the public keys as JWKs for /.well-known/jwks.json.
 * api/core/jwt.c; the process's keys are in signing_keys.h. */

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>

/* An Ed25519 private key with what its JWK needs. */
struct signing_key {
    EVP_PKEY *pkey;
    char x[44];   /* the raw public key, base64url (43 chars) */
    char kid[44]; /* its RFC 7638 JWK thumbprint, base64url (43 chars) */
};

/* Takes `pkey` (owned by k afterwards, also on failure) and works out its
 * x and kid. False when it is not an Ed25519 private key. */
bool signing_key_init(struct signing_key *k, EVP_PKEY *pkey);
void signing_key_free(struct signing_key *k);

/* {"kty":"OKP","crv":"Ed25519","x","kid","alg":"EdDSA","use":"sig"}, or
 * NULL without memory. */
json_t *signing_key_jwk(const struct signing_key *k);

/* The compact JWS BASE64URL(header) "." BASE64URL(payload) "."
 * BASE64URL(Ed25519 signature), header being JSON text. malloc'd; NULL
 * when OpenSSL or memory fails. */
char *jws_sign_ed25519(EVP_PKEY *pkey, const char *header, const char *payload, size_t len);

/* A JWT of `claims` under {"alg":"EdDSA","typ":"JWT","kid"}; malloc'd,
 * NULL on failure. */
char *jwt_sign(const struct signing_key *k, json_t *claims);

#endif
