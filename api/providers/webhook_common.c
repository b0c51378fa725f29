/* Shared pieces of the providers' webhook verifiers and parsers
 * (include/provider_kit.h). */
#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "encode.h"
#include "json_text.h"
#include "money.h"
#include "provider_kit.h"

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
    if (!hmac_prefixed("SHA256", secret, strlen(secret), prefix, rq->body, rq->body_len, mac,
                       &mac_len))
        return false;
    hex_encode(mac, mac_len, hex);
    bool match = false;
    for (int i = 0; i < s->n; i++)
        match |= bytes_equal(hex, 2 * mac_len, s->sig[i], s->sig_len[i]);
    OPENSSL_cleanse(mac, sizeof mac);
    return match;
}

bool wh_ts_sigs_verify(const char *secrets, const char *prefix, const struct wh_ts_sigs *s,
                       const struct wh_request *rq)
{
    char buf[SECRET_LIST_MAX];
    const char *keys[2];
    int n = secret_list(secrets, buf, sizeof buf, keys);
    bool match = false;
    for (int i = 0; i < n && !match; i++)
        match = ts_sigs_signed_by(keys[i], prefix, s, rq);
    OPENSSL_cleanse(buf, sizeof buf);
    return match;
}

bool wh_ts_sigs_check(const struct wh_ts_scheme *scheme, const char *secrets,
                      const struct wh_request *rq, char *why, size_t why_len)
{
    const char *h = rq->header(rq->ctx, scheme->header);
    struct wh_ts_sigs s;
    if (!h || !*h) {
        snprintf(why, why_len, "missing %s header", scheme->header);
        return false;
    }
    if (!wh_ts_sigs_parse(h, scheme->sep, scheme->ts_key, scheme->sig_key, scheme->strict, &s)) {
        snprintf(why, why_len, "malformed %s", scheme->header);
        return false;
    }
    if (s.n == 0) {
        snprintf(why, why_len, "no %s signature", scheme->sig_key);
        return false;
    }
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%lld%c", s.ts, scheme->ts_end);
    if (!wh_ts_sigs_verify(secrets, prefix, &s, rq))
        return wh_fail(why, why_len, "signature mismatch");
    /* Symmetric: both providers sign every retry anew. */
    if (!wh_fresh(s.ts, rq->now)) return wh_fail(why, why_len, "timestamp out of tolerance");
    return true;
}

bool wh_decimal_amount(json_t *root, const char *json, size_t len, struct wh_event *ev, char *why,
                       size_t why_len)
{
    char text[48], code[8];
    if (!json_decimal_text(root, json, len, "amount", text, sizeof text))
        return wh_fail(why, why_len, "amount is not a plain decimal number");
    if (!wh_field(root, "currency", code, sizeof code, why, why_len)) return false;
    if (!*text) return true;
    if (!wh_currency(ev->currency, code))
        return wh_fail(why, why_len, "amount without a known currency");
    if (!money_parse_decimal(text, currency_exponent(ev->currency), &ev->amount_minor) ||
        ev->amount_minor < 0)
        return wh_fail(why, why_len, "amount is not an exact non-negative amount");
    ev->has_amount = true;
    return true;
}

bool wh_dispatch(json_t *root, const char *path, const struct wh_handler *table, size_t n,
                 struct wh_event *ev, char *why, size_t why_len)
{
    ev->kind = WH_IGNORED;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ev->type, table[i].type)) continue;
        if (table[i].path) path = table[i].path;
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

bool wh_time_field(json_t *o, const char *path, char *dst, size_t dst_len, char *why,
                   size_t why_len)
{
    char text[64];
    if (!wh_field(o, path, text, sizeof text, why, why_len)) return false;
    if (rfc3339_normalize(text, dst, dst_len)) return true;
    snprintf(why, why_len, "%s is not an RFC 3339 time", path);
    return false;
}

static bool envelope_event(json_t *root, const struct wh_envelope *e, struct wh_event *ev,
                           char *why, size_t why_len)
{
    if (!wh_field(root, e->id, ev->event_key, sizeof ev->event_key, why, why_len) ||
        !wh_field(root, e->type, ev->type, sizeof ev->type, why, why_len) ||
        !e->read_time(root, e->time, ev->occurred_at, sizeof ev->occurred_at, why, why_len))
        return false;
    if (!*ev->event_key || !*ev->type) {
        snprintf(why, why_len, "event has no %s or %s", e->id, e->type);
        return false;
    }
    return wh_dispatch(root, e->object, e->handlers, e->n, ev, why, why_len);
}

bool wh_parse_envelope(const struct wh_request *rq, const struct wh_envelope *e,
                       struct wh_event *ev, char *why, size_t why_len)
{
    memset(ev, 0, sizeof *ev);
    json_t *root = wh_json_load(rq, why, why_len);
    if (!root) return false;
    bool ok = envelope_event(root, e, ev, why, why_len);
    json_decref(root);
    return ok;
}
