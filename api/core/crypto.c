/* Keyed hashes and secret lists (include/crypto.h). */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

#include "crypto.h"

bool hmac_prefixed(const char *digest, const void *key, size_t key_len, const char *prefix,
                   const void *data, size_t data_len, uint8_t *out, size_t *out_len)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac) return false;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    bool ok = false;
    if (ctx) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
            OSSL_PARAM_construct_end(),
        };
        /* An empty key or body is legal HMAC, but OpenSSL wants non-NULL pointers. */
        static const uint8_t nothing[1];
        size_t n = 0;
        ok = EVP_MAC_init(ctx, key_len ? key : nothing, key_len, params) == 1 &&
             EVP_MAC_update(ctx, (const uint8_t *)prefix, strlen(prefix)) == 1 &&
             EVP_MAC_update(ctx, data_len ? data : nothing, data_len) == 1 &&
             EVP_MAC_final(ctx, out, &n, 64) == 1;
        if (ok) *out_len = n;
        EVP_MAC_CTX_free(ctx);
    }
    EVP_MAC_free(mac);
    return ok;
}

bool hmac(const char *digest, const void *key, size_t key_len, const void *data, size_t data_len,
          uint8_t *out, size_t *out_len)
{
    return hmac_prefixed(digest, key, key_len, "", data, data_len, out, out_len);
}

bool bytes_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
    /* Lengths are public (they follow from the digest); only contents are secret. */
    return a_len == b_len && CRYPTO_memcmp(a, b, a_len) == 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

int secret_list(const char *csv, char *buf, size_t buf_len, const char *out[2])
{
    if (!csv || strlen(csv) >= buf_len) return 0;
    memcpy(buf, csv, strlen(csv) + 1);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok && n < 2; tok = strtok_r(NULL, ",", &save)) {
        tok = trim(tok);
        if (*tok) out[n++] = tok;
    }
    return n;
}

bool secret_list_any(const char *csv)
{
    char buf[SECRET_LIST_MAX];
    const char *keys[2];
    bool ok = secret_list(csv, buf, sizeof buf, keys) > 0;
    OPENSSL_cleanse(buf, sizeof buf);
    return ok;
}
