/* Encodings, hashing and randomness for tokens, keys and ids (SPEC §3). */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"

/* Base64 of len bytes with the given alphabet, padded with '=' or not. */
static void encode64(const uint8_t *in, size_t len, char *out, const char *alphabet, bool pad)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len) v |= in[i + 2];
        size_t chars = len - i >= 3 ? 4 : len - i + 1;
        for (size_t k = 0; k < 4; k++)
            if (k < chars)
                out[o++] = alphabet[(v >> (18 - 6 * k)) & 63];
            else if (pad)
                out[o++] = '=';
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

void base64url_encode(const uint8_t *in, size_t len, char *out)
{
    encode64(in, len, out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
             false);
}

void base64_encode(const uint8_t *in, size_t len, char *out)
{
    encode64(in, len, out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
             true);
}

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

bool base64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t pad = 0;
    while (pad < 2 && in_len > pad && in[in_len - 1 - pad] == '=')
        pad++;
    /* Padding, when present, must complete the last quantum exactly. */
    if (pad && in_len % 4) return false;
    size_t n = in_len - pad;
    if (n % 4 == 1) return false;
    size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
    if (need > cap) return false;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64_value(in[i]);
        if (v < 0) return false;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out_len = o;
    return true;
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

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t len = strlen(hex);
    if (len % 2 || len / 2 > cap) return false;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *out_len = len / 2;
    return true;
}

bool sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) == 1 && n == 32;
}

struct sha256_stream *sha256_begin(void)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return (struct sha256_stream *)ctx;
}

bool sha256_update(struct sha256_stream *s, const void *data, size_t len)
{
    return EVP_DigestUpdate((EVP_MD_CTX *)s, data, len) == 1;
}

bool sha256_end(struct sha256_stream *s, uint8_t out[32])
{
    unsigned int n = 0;
    bool ok = EVP_DigestFinal_ex((EVP_MD_CTX *)s, out, &n) == 1 && n == 32;
    EVP_MD_CTX_free((EVP_MD_CTX *)s);
    return ok;
}

void sha256_abort(struct sha256_stream *s)
{
    EVP_MD_CTX_free((EVP_MD_CTX *)s);
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
