#ifndef TEST_LIQPAY_SIGN_H
#define TEST_LIQPAY_SIGN_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <string.h>

#include "encode.h"

/* LiqPay's signature of a `data` field as its documentation writes it,
 * base64(sha1(key + data + key)), with OpenSSL's one-shot digest rather
 * than the module's streaming one. */
static inline bool liqpay_signature(const char *key, const char *data, char out[29])
{
    size_t klen = strlen(key), dlen = strlen(data);
    unsigned char *text = malloc(2 * klen + dlen), md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!text) return false;
    memcpy(text, key, klen);
    memcpy(text + klen, data, dlen);
    memcpy(text + klen + dlen, key, klen);
    bool ok = EVP_Digest(text, 2 * klen + dlen, md, &n, EVP_sha1(), NULL) == 1 && n == 20;
    free(text);
    if (ok) base64_encode(md, n, out);
    return ok;
}

#endif
