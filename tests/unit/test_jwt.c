/* Member tokens: base64url, EdDSA JWS against RFC 8037's worked example,
 * the JWK thumbprint, the JWT shape, key files, and return_to origins. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/pem.h>

#include "check.h"
#include "encode.h"
#include "jwt.h"
#include "signing_keys.h"
#include "validate.h"

/* RFC 8037 appendix A (the RFC 8032 test 1 key) */
static const uint8_t rfc8037_d[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
#define RFC8037_X "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define RFC8037_KID "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
#define RFC8037_JWS                                                                                \
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-"        \
    "09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

static EVP_PKEY *rfc8037_key(void)
{
    return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, rfc8037_d, sizeof rfc8037_d);
}

/* Unpadded base64url back to bytes; -1 on a character outside the alphabet. */
static long b64url_decode(const char *s, size_t n, uint8_t *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t acc = 0;
    int bits = 0;
    long o = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = s[i] ? strchr(alphabet, s[i]) : NULL;
        if (!p) return -1;
        acc = (acc << 6) | (uint32_t)(p - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o;
}

static void test_base64url(void)
{
    /* RFC 4648 §10 vectors, unpadded */
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        char out[16];
        base64url_encode((const uint8_t *)in[i], strlen(in[i]), out);
        CHECK_EQ_STR(out, want[i]);
    }
    /* the two characters that differ from base64 */
    const uint8_t b[] = {0xfb, 0xff, 0xbf};
    char out[8];
    base64url_encode(b, sizeof b, out);
    CHECK_EQ_STR(out, "-_-_");
}

static void test_rfc8037(void)
{
    struct signing_key k;
    CHECK(signing_key_init(&k, rfc8037_key()));
    CHECK_EQ_STR(k.x, RFC8037_X);
    CHECK_EQ_STR(k.kid, RFC8037_KID);
    /* Ed25519 is deterministic, so the RFC's signature is the one we make */
    const char *payload = "Example of Ed25519 signing";
    char *jws = jws_sign_ed25519(k.pkey, "{\"alg\":\"EdDSA\"}", payload, strlen(payload));
    CHECK_EQ_STR(jws, RFC8037_JWS);
    free(jws);

    json_t *jwk = signing_key_jwk(&k);
    char *text = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK_EQ_STR(text, "{\"alg\":\"EdDSA\",\"crv\":\"Ed25519\",\"kid\":\"" RFC8037_KID
                       "\",\"kty\":\"OKP\",\"use\":\"sig\",\"x\":\"" RFC8037_X "\"}");
    free(text);
    json_decref(jwk);
    signing_key_free(&k);
}

/* A JWT's three parts: the header and claims parse, and the signature
 * verifies over the first two with the public key. */
static void test_jwt_shape(void)
{
    struct signing_key k;
    CHECK(signing_key_init(&k, rfc8037_key()));
    json_t *claims = json_pack("{s:s, s:b, s:n, s:s, s:i}", "sub", "0a7c1a8e", "member", 1,
                               "member_until", "tier", "Приятель", "vote_weight", 3);
    char *jwt = jwt_sign(&k, claims);
    CHECK(jwt != NULL);
    const char *dot1 = jwt ? strchr(jwt, '.') : NULL, *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    CHECK(dot1 && dot2 && !strchr(dot2 + 1, '.'));
    if (!dot1 || !dot2) {
        free(jwt);
        json_decref(claims);
        signing_key_free(&k);
        return;
    }
    uint8_t buf[512];
    long n = b64url_decode(jwt, (size_t)(dot1 - jwt), buf);
    CHECK(n > 0);
    CHECK_EQ_INT(n, strlen("{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"" RFC8037_KID "\"}"));
    CHECK(n > 0 && !memcmp(buf, "{\"alg\":\"EdDSA\",\"typ\":\"JWT\",\"kid\":\"" RFC8037_KID "\"}",
                           (size_t)n));
    n = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), buf);
    json_t *back = n > 0 ? json_loadb((const char *)buf, (size_t)n, 0, NULL) : NULL;
    CHECK(back && json_equal(back, claims));
    json_decref(back);

    uint8_t sig[64];
    CHECK_EQ_INT(b64url_decode(dot2 + 1, strlen(dot2 + 1), sig), 64);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    CHECK(ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k.pkey) == 1 &&
          EVP_DigestVerify(ctx, sig, sizeof sig, (const uint8_t *)jwt, (size_t)(dot2 - jwt)) == 1);
    /* and not over anything else */
    sig[0] ^= 1;
    CHECK(ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k.pkey) == 1 &&
          EVP_DigestVerify(ctx, sig, sizeof sig, (const uint8_t *)jwt, (size_t)(dot2 - jwt)) != 1);
    EVP_MD_CTX_free(ctx);
    free(jwt);
    json_decref(claims);
    signing_key_free(&k);
}

static void test_not_ed25519(void)
{
    struct signing_key k;
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    CHECK(ec != NULL);
    CHECK(!signing_key_init(&k, ec));
    signing_key_free(&k);
    CHECK(!signing_key_init(&k, NULL));
    signing_key_free(&k);
}

static char dir[] = "/tmp/test_jwt.XXXXXX";

static const char *write_file(const char *name, EVP_PKEY *pkey, const char *text)
{
    static char paths[8][64];
    static int next;
    char *path = paths[next++ % 8];
    snprintf(path, 64, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return path;
    if (pkey) PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
    if (text) fputs(text, f);
    fclose(f);
    return path;
}

static void test_key_files(void)
{
    CHECK(mkdtemp(dir) != NULL);
    EVP_PKEY *a = rfc8037_key(), *b = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"),
             *ec = EVP_EC_gen("P-256");
    const char *fa = write_file("a.pem", a, NULL), *fb = write_file("b.pem", b, NULL),
               *fec = write_file("ec.pem", ec, NULL),
               *junk = write_file("junk.pem", NULL, "hello\n");
    char err[512];
    size_t len;

    /* none configured: no signer, an empty set */
    CHECK(signing_keys_load(NULL, NULL, err, sizeof err));
    CHECK(signing_keys_current() == NULL);
    CHECK_EQ_STR(signing_keys_jwks(&len), "{\"keys\":[]}");

    CHECK(signing_keys_load(fa, NULL, err, sizeof err));
    CHECK(signing_keys_current() && !strcmp(signing_keys_current()->kid, RFC8037_KID));
    json_t *doc = json_loads(signing_keys_jwks(&len), 0, NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(doc, "keys")), 1);
    json_decref(doc);
    char etag_a[40];
    snprintf(etag_a, sizeof etag_a, "%s", signing_keys_jwks_etag());
    CHECK_EQ_INT(strlen(etag_a), 34);

    /* rotated: B signs, both are published, current first */
    CHECK(signing_keys_load(fb, fa, err, sizeof err));
    CHECK(signing_keys_current() && strcmp(signing_keys_current()->kid, RFC8037_KID) != 0);
    doc = json_loads(signing_keys_jwks(&len), 0, NULL);
    json_t *keys = json_object_get(doc, "keys");
    CHECK_EQ_INT(json_array_size(keys), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(keys, 0), "kid")),
                 signing_keys_current()->kid);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(keys, 1), "kid")), RFC8037_KID);
    json_decref(doc);
    CHECK(strcmp(signing_keys_jwks_etag(), etag_a) != 0);

    /* every bad configuration names the variable and keeps nothing */
    CHECK(!signing_keys_load("/nonexistent/key.pem", NULL, err, sizeof err));
    CHECK(strstr(err, "PATROND_SIGNING_KEY_FILE: cannot read /nonexistent/key.pem") == err);
    CHECK(signing_keys_current() == NULL);
    CHECK(!signing_keys_load(junk, NULL, err, sizeof err));
    CHECK(strstr(err, "PATROND_SIGNING_KEY_FILE:") == err && strstr(err, "no unencrypted PEM"));
    CHECK(!signing_keys_load(fec, NULL, err, sizeof err));
    CHECK(strstr(err, "not an Ed25519 key") != NULL);
    CHECK(!signing_keys_load(fa, junk, err, sizeof err));
    CHECK(strstr(err, "PATROND_SIGNING_KEY_PREVIOUS_FILE:") == err);
    CHECK(signing_keys_current() == NULL);
    CHECK(!signing_keys_load(NULL, fa, err, sizeof err));
    CHECK(strstr(err, "PATROND_SIGNING_KEY_PREVIOUS_FILE:") == err);
    CHECK(!signing_keys_load(fa, fa, err, sizeof err));
    CHECK(strstr(err, "the same key") != NULL);
    signing_keys_free();

    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(ec);
    unlink(fa);
    unlink(fb);
    unlink(fec);
    unlink(junk);
    rmdir(dir);
}

static void test_return_to(void)
{
    const char *list = "https://news.example.org,http://127.0.0.1:5000";
    CHECK(origin_listed(list, "https://news.example.org/article/1?x=1"));
    CHECK(origin_listed(list, "https://NEWS.example.org:443/"));
    CHECK(origin_listed(list, "http://127.0.0.1:5000/page.html"));
    CHECK(!origin_listed(list, "http://127.0.0.1:5001/page.html"));
    CHECK(!origin_listed(list, "http://news.example.org/"));
    CHECK(!origin_listed(list, "https://news.example.org.evil.com/"));
    CHECK(!origin_listed(list, "https://news.example.org@evil.com/"));
    CHECK(!origin_listed(list, "https://evil.com\\@news.example.org/"));
    CHECK(!origin_listed(list, "javascript:alert(1)"));
    CHECK(!origin_listed(list, "//news.example.org/"));
    CHECK(!origin_listed(NULL, "https://news.example.org/"));
    /* the CORS wildcard hands tokens to no one */
    CHECK(!origin_listed("*", "https://news.example.org/"));
    CHECK(origin_listed("*,https://news.example.org", "https://news.example.org/"));
}

static void test_query_escape(void)
{
    char *e = query_escape("https://news.example.org/a b?x=1&y=ä#top");
    CHECK_EQ_STR(e, "https%3A%2F%2Fnews.example.org%2Fa%20b%3Fx%3D1%26y%3D%C3%A4%23top");
    free(e);
    e = query_escape("AZaz09-._~");
    CHECK_EQ_STR(e, "AZaz09-._~");
    free(e);
}

int main(void)
{
    test_base64url();
    test_rfc8037();
    test_jwt_shape();
    test_not_ed25519();
    test_key_files();
    test_return_to();
    test_query_escape();
    return CHECK_DONE();
}
