/* Member tokens (include/jwt.h): EdDSA JWS (RFC 8037) with OpenSSL's
 * one-shot Ed25519, which hashes internally, hence no digest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "jwt.h"

#define ED25519_KEY_LEN 32
#define ED25519_SIG_LEN 64

/* Characters of the unpadded base64url of len bytes, NUL excluded. */
static size_t b64url_len(size_t len)
{
    return len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
}

bool signing_key_init(struct signing_key *k, EVP_PKEY *pkey)
{
    memset(k, 0, sizeof *k);
    k->pkey = pkey;
    uint8_t pub[ED25519_KEY_LEN];
    size_t pub_len = sizeof pub;
    if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519 ||
        EVP_PKEY_get_raw_public_key(pkey, pub, &pub_len) != 1 || pub_len != sizeof pub)
        return false;
    base64url_encode(pub, pub_len, k->x);
    /* RFC 7638: the required members in lexical order, no whitespace */
    char members[96];
    int n = snprintf(members, sizeof members, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}",
                     k->x);
    uint8_t digest[32];
    if (n < 0 || (size_t)n >= sizeof members || !sha256(members, (size_t)n, digest)) return false;
    base64url_encode(digest, sizeof digest, k->kid);
    return true;
}

void signing_key_free(struct signing_key *k)
{
    EVP_PKEY_free(k->pkey);
    memset(k, 0, sizeof *k);
}

json_t *signing_key_jwk(const struct signing_key *k)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kty", "OKP", "crv", "Ed25519", "x", k->x,
                     "kid", k->kid, "alg", "EdDSA", "use", "sig");
}

static bool ed25519_sign(EVP_PKEY *pkey, const char *msg, size_t len, uint8_t sig[ED25519_SIG_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t sig_len = ED25519_SIG_LEN;
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
              EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)msg, len) == 1 &&
              sig_len == ED25519_SIG_LEN;
    EVP_MD_CTX_free(ctx);
    return ok;
}

char *jws_sign_ed25519(EVP_PKEY *pkey, const char *header, const char *payload, size_t len)
{
    size_t header_len = strlen(header);
    size_t h = b64url_len(header_len), p = b64url_len(len);
    size_t total = h + 1 + p + 1 + b64url_len(ED25519_SIG_LEN) + 1;
    char *out = malloc(total);
    if (!out) return NULL;
    base64url_encode((const uint8_t *)header, header_len, out);
    out[h] = '.';
    base64url_encode((const uint8_t *)payload, len, out + h + 1);
    uint8_t sig[ED25519_SIG_LEN];
    /* the signing input is the two encoded parts joined by the dot */
    if (!ed25519_sign(pkey, out, h + 1 + p, sig)) {
        free(out);
        return NULL;
    }
    out[h + 1 + p] = '.';
    base64url_encode(sig, sizeof sig, out + h + 1 + p + 1);
    return out;
}

char *jwt_sign(const struct signing_key *k, json_t *claims)
{
    char header[128];
    int n = snprintf(header, sizeof header, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                     k->kid);
    if (n < 0 || (size_t)n >= sizeof header) return NULL;
    char *payload = json_dumps(claims, JSON_COMPACT);
    if (!payload) return NULL;
    char *jwt = jws_sign_ed25519(k->pkey, header, payload, strlen(payload));
    free(payload);
    return jwt;
}
