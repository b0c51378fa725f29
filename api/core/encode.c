/* Encodings, hashing and randomness for tokens, keys and ids (SPEC §3). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"

void base64url_encode(const uint8_t *in, size_t len, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len) v |= in[i + 2];
        size_t chars = len - i >= 3 ? 4 : len - i + 1;
        for (size_t k = 0; k < chars; k++)
            out[o++] = alphabet[(v >> (18 - 6 * k)) & 63];
    }
    out[o] = '\0';
}

char *query_escape(const char *s)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t len = strlen(s);
    char *out = malloc(3 * len + 1), *o = out;
    if (!out) return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = digits[*p >> 4];
            *o++ = digits[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

void hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

bool sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

bool random_token(char out[44])
{
    uint8_t bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) return false;
    base64url_encode(bytes, sizeof bytes, out);
    /* The bytes are the secret itself; leave no copy on the stack. */
    OPENSSL_cleanse(bytes, sizeof bytes);
    return true;
}

static void uuid_text(uint8_t b[16], char out[37])
{
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    /* 8-4-4-4-12 hex digits; the byte groups are 4, 2, 2, 2 and 6 long */
    static const int group_end[] = {4, 6, 8, 10, 16};
    char *at = out;
    for (int g = 0, i = 0; g < 5; g++) {
        if (g) *at++ = '-';
        hex_encode(b + i, (size_t)(group_end[g] - i), at);
        at += 2 * (group_end[g] - i);
        i = group_end[g];
    }
    *at = '\0';
}

bool random_uuid(char out[37])
{
    uint8_t b[16];
    if (RAND_bytes(b, sizeof b) != 1) return false;
    uuid_text(b, out);
    return true;
}

/* xoshiro128** (Blackman and Vigna), one state per thread. */
static uint32_t rotl(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

bool label_uuid(char out[37])
{
    static _Thread_local uint32_t s[4];
    static _Thread_local bool seeded;
    if (!seeded) {
        if (RAND_bytes((unsigned char *)s, sizeof s) != 1) return false;
        s[0] |= 1; /* the all-zero state is the one it cannot leave */
        seeded = true;
    }
    uint8_t b[16];
    for (int i = 0; i < 4; i++) {
        uint32_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 11);
        memcpy(b + 4 * i, &r, 4);
    }
    uuid_text(b, out);
    return true;
}

bool text_copy(char *dst, size_t cap, const char *src)
{
    if (cap == 0) return false;
    size_t n = strnlen(src, cap);
    bool fits = n < cap;
    if (!fits) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return fits;
}
