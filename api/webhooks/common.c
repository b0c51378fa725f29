/* Shared pieces of the provider verifiers and parsers (include/wh_common.h). */
#include <ctype.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "encode.h"
#include "money.h"
#include "wh_common.h"

bool wh_hmac_prefixed(const char *digest, const void *key, size_t key_len, const char *prefix,
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

bool wh_hmac(const char *digest, const void *key, size_t key_len, const void *data, size_t data_len,
             uint8_t *out, size_t *out_len)
{
    return wh_hmac_prefixed(digest, key, key_len, "", data, data_len, out, out_len);
}

bool wh_equal(const void *a, size_t a_len, const void *b, size_t b_len)
{
    /* Lengths are public (they follow from the digest); only contents are secret. */
    return a_len == b_len && CRYPTO_memcmp(a, b, a_len) == 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool wh_hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *out_len)
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

static int b64_value(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

bool wh_base64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len)
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

void wh_base64_encode(const uint8_t *in, size_t len, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len) v |= in[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
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

int wh_secrets(const char *csv, char *buf, size_t buf_len, const char *out[2])
{
    if (!csv || !wh_copy(buf, buf_len, csv)) return 0;
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok && n < 2; tok = strtok_r(NULL, ",", &save)) {
        tok = trim(tok);
        if (*tok) out[n++] = tok;
    }
    return n;
}

bool wh_copy(char *dst, size_t dst_len, const char *src)
{
    size_t n = strlen(src);
    if (n >= dst_len) return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* Index of an all-digit path segment, or -1. */
static long segment_index(const char *p, size_t len)
{
    if (len == 0 || len > 6) return -1;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

json_t *wh_json_at(json_t *root, const char *path)
{
    json_t *cur = root;
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        long index = segment_index(p, len);
        if (json_is_object(cur))
            cur = json_object_getn(cur, p, len);
        else if (json_is_array(cur) && index >= 0)
            cur = json_array_get(cur, (size_t)index);
        else
            return NULL;
        p += len + (dot ? 1 : 0);
    }
    return cur;
}

bool wh_json_str(json_t *root, const char *path, char *dst, size_t dst_len)
{
    json_t *v = wh_json_at(root, path);
    if (dst_len) dst[0] = '\0';
    if (!v || json_is_null(v)) return true;
    if (!json_is_string(v)) return false;
    /* An embedded NUL would silently shorten the value. */
    if (strlen(json_string_value(v)) != json_string_length(v)) return false;
    return wh_copy(dst, dst_len, json_string_value(v));
}

bool wh_field(json_t *root, const char *path, char *dst, size_t dst_len, char *why, size_t why_len)
{
    if (wh_json_str(root, path, dst, dst_len)) return true;
    snprintf(why, why_len, "%s is not a string or too long", path);
    return false;
}

bool wh_unix_to_rfc3339(long long t, bool millis, char *dst, size_t dst_len)
{
    if (millis) t /= 1000;
    /* Year 0001..9999 keeps the fixed-width form. */
    if (t < -62135596800LL || t > 253402300799LL) return false;
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) return false;
    int n = snprintf(dst, dst_len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return n > 0 && (size_t)n < dst_len;
}

bool wh_parse_unix(const char *s, long long *out)
{
    long long v = 0;
    size_t i = 0;
    /* 12 digits reach year 33658: enough, and far from overflow. */
    for (; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 12) return false;
        v = v * 10 + (s[i] - '0');
    }
    if (i == 0) return false;
    *out = v;
    return true;
}

bool wh_fresh(long long ts, long long now)
{
    return ts >= now - WH_TOLERANCE_SECONDS && ts <= now + WH_TOLERANCE_SECONDS;
}

/* Reads exactly n digits at *p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

static bool parse_offset(const char **p, int *offset)
{
    char c = **p;
    if (c == 'Z' || c == 'z') {
        (*p)++;
        *offset = 0;
        return true;
    }
    if (c != '+' && c != '-') return false;
    (*p)++;
    int oh, om;
    if (!digits(p, 2, &oh) || *(*p)++ != ':' || !digits(p, 2, &om) || oh > 23 || om > 59)
        return false;
    *offset = (c == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    return true;
}

bool wh_rfc3339_to_unix(const char *s, long long *out)
{
    const char *p = s;
    int y, mo, d, h, mi, sec, offset;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return false;
    if (*p != 'T' && *p != 't') return false;
    p++;
    if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p++ != ':' ||
        !digits(&p, 2, &sec))
        return false;
    if (*p == '.') {
        /* Sub-second precision is dropped: the ledger keeps whole seconds. */
        p++;
        if (*p < '0' || *p > '9') return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (!parse_offset(&p, &offset) || *p) return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 60)
        return false;
    /* A leap second is folded into the one before it. */
    if (sec == 60) sec = 59;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return true;
}

bool wh_rfc3339_normalize(const char *in, char *dst, size_t dst_len)
{
    long long t;
    if (!*in) return wh_copy(dst, dst_len, "");
    return wh_rfc3339_to_unix(in, &t) && wh_unix_to_rfc3339(t, false, dst, dst_len);
}

bool wh_currency(char dst[4], const char *code)
{
    char up[4];
    if (strlen(code) != 3) return false;
    for (int i = 0; i < 3; i++) {
        if (!isalpha((unsigned char)code[i])) return false;
        up[i] = (char)toupper((unsigned char)code[i]);
    }
    up[3] = '\0';
    if (currency_exponent(up) < 0) return false;
    memcpy(dst, up, 4);
    return true;
}

bool wh_uuid(char dst[37], const char *s)
{
    dst[0] = '\0';
    if (strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i])) return false;
    }
    memcpy(dst, s, 37);
    return true;
}

bool wh_json_int(json_t *root, const char *path, int64_t *out, bool *present)
{
    json_t *v = wh_json_at(root, path);
    *present = false;
    if (!v || json_is_null(v)) return true;
    if (!json_is_integer(v)) return false;
    *out = (int64_t)json_integer_value(v);
    *present = true;
    return true;
}

json_t *wh_json_load(const struct wh_request *rq, char *why, size_t why_len)
{
    json_error_t err;
    json_t *root = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        snprintf(why, why_len, "body is not valid JSON");
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(why, why_len, "body is not a JSON object");
        return NULL;
    }
    return root;
}

bool wh_has_secret(const char *csv)
{
    char buf[WH_SECRET_LIST_MAX];
    const char *keys[2];
    bool ok = wh_secrets(csv, buf, sizeof buf, keys) > 0;
    OPENSSL_cleanse(buf, sizeof buf);
    return ok;
}

bool wh_fail(char *why, size_t why_len, const char *msg)
{
    snprintf(why, why_len, "%s", msg);
    return false;
}

static bool ts_sigs_item(const char *p, size_t len, const char *ts_key, const char *sig_key,
                         bool strict, struct wh_ts_sigs *s)
{
    const char *eq = memchr(p, '=', len);
    if (!eq) return !strict;
    size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
    if (klen == strlen(ts_key) && !memcmp(p, ts_key, klen)) {
        char num[16];
        if (s->has_ts || vlen >= sizeof num) return false;
        memcpy(num, eq + 1, vlen);
        num[vlen] = '\0';
        s->has_ts = wh_parse_unix(num, &s->ts);
        return s->has_ts;
    }
    if (klen == strlen(sig_key) && !memcmp(p, sig_key, klen)) {
        if (s->n == WH_TS_SIGS_MAX) return false;
        s->sig[s->n] = eq + 1;
        s->sig_len[s->n++] = vlen;
    }
    return true;
}

bool wh_ts_sigs_parse(const char *h, char sep, const char *ts_key, const char *sig_key, bool strict,
                      struct wh_ts_sigs *s)
{
    memset(s, 0, sizeof *s);
    for (const char *p = h;;) {
        const char *end = strchr(p, sep);
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!ts_sigs_item(p, len, ts_key, sig_key, strict, s)) return false;
        if (!end) break;
        p = end + 1;
    }
    return s->has_ts;
}

static bool ts_sigs_signed_by(const char *secret, const char *prefix, const struct wh_ts_sigs *s,
                              const struct wh_request *rq)
{
    uint8_t mac[64];
    size_t mac_len;
    char hex[129];
    if (!wh_hmac_prefixed("SHA256", secret, strlen(secret), prefix, rq->body, rq->body_len, mac,
                          &mac_len))
        return false;
    hex_encode(mac, mac_len, hex);
    bool match = false;
    for (int i = 0; i < s->n; i++)
        match |= wh_equal(hex, 2 * mac_len, s->sig[i], s->sig_len[i]);
    OPENSSL_cleanse(mac, sizeof mac);
    return match;
}

bool wh_ts_sigs_verify(const char *secret_list, const char *prefix, const struct wh_ts_sigs *s,
                       const struct wh_request *rq)
{
    char buf[WH_SECRET_LIST_MAX];
    const char *keys[2];
    int n = wh_secrets(secret_list, buf, sizeof buf, keys);
    bool match = false;
    for (int i = 0; i < n && !match; i++)
        match = ts_sigs_signed_by(keys[i], prefix, s, rq);
    OPENSSL_cleanse(buf, sizeof buf);
    return match;
}

bool wh_dispatch(json_t *root, const char *path, const struct wh_handler *table, size_t n,
                 struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_IGNORED;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ev->type, table[i].type)) continue;
        json_t *obj = wh_json_at(root, path);
        if (!json_is_object(obj)) {
            snprintf(why, why_len, "%s is missing", path);
            return false;
        }
        return table[i].apply(obj, ev, why, why_len);
    }
    return true;
}

bool wh_parse_json(const struct wh_request *rq, struct wh_event *ev, wh_json_fn fn, char *why,
                   size_t why_len)
{
    json_t *root = wh_json_load(rq, why, why_len);
    if (!root) return false;
    bool ok = fn(root, ev, why, why_len);
    json_decref(root);
    return ok;
}
