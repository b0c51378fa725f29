/* Input validation (SPEC §6): every string a client sends is checked here
 * before it reaches a handler or the database. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "money.h"
#include "rfc3339.h"
#include "validate.h"

/* FIELD_STRING without a max (max 0) still gets a ceiling. */
#define DEFAULT_MAX_CHARS 10000
#define EMAIL_MAX 254
#define URL_MAX 2048

/* ---- text ---- */

/* Length of the UTF-8 sequence led by b, or 0 if b cannot lead one. */
static int utf8_length(uint8_t b)
{
    if (b < 0x80) return 1;
    if (b >= 0xc2 && b <= 0xdf) return 2;
    if (b >= 0xe0 && b <= 0xef) return 3;
    if (b >= 0xf0 && b <= 0xf4) return 4;
    return 0;
}

/* Decodes one well-formed code point at s (n bytes left), or returns 0. */
static int utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
    int len = utf8_length(s[0]);
    if (len == 0 || (size_t)len > n) return 0;
    uint32_t v = len == 1 ? s[0] : s[0] & (0x7f >> len);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    static const uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min_for_len[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

static bool is_control(uint32_t cp)
{
    if (cp == '\t' || cp == '\n' || cp == '\r') return false;
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

bool valid_text(const char *s, size_t len, size_t *chars)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t count = 0;
    for (size_t i = 0; i < len; count++) {
        uint32_t cp;
        int n = utf8_decode(p + i, len - i, &cp);
        if (n == 0 || is_control(cp)) return false;
        i += (size_t)n;
    }
    if (chars) *chars = count;
    return true;
}

/* ---- e-mail, UUID, timestamps, URLs, integers ---- */

static bool is_atext(char c)
{
    return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

/* Dot-separated runs of allowed characters: no empty run. */
static bool valid_dotted(const char *s, size_t len, bool (*allowed)(char))
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.') return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (s[i + 1] == '.') return false;
        } else if (!allowed(s[i])) {
            return false;
        }
    }
    return true;
}

static bool is_ldh(char c)
{
    return isalnum((unsigned char)c) || c == '-';
}

static bool valid_label(const char *s, size_t len)
{
    return len >= 1 && len <= 63 && s[0] != '-' && s[len - 1] != '-';
}

static bool valid_domain(const char *d, size_t len)
{
    if (!valid_dotted(d, len, is_ldh)) return false;
    const char *end = d + len, *label = d, *dot;
    while ((dot = memchr(label, '.', (size_t)(end - label)))) {
        if (!valid_label(label, (size_t)(dot - label))) return false;
        label = dot + 1;
    }
    if (label == d || !valid_label(label, (size_t)(end - label))) return false;
    /* The TLD: letters only, so "user@10.0.0.1" is not mistaken for a domain. */
    if (end - label < 2) return false;
    for (const char *p = label; p < end; p++)
        if (!isalpha((unsigned char)*p)) return false;
    return true;
}

bool valid_email(const char *s)
{
    if (!s) return false;
    size_t len = strlen(s);
    const char *at = strchr(s, '@');
    if (len > EMAIL_MAX || !at || strchr(at + 1, '@')) return false;
    size_t local = (size_t)(at - s);
    return local >= 1 && local <= 64 && valid_dotted(s, local, is_atext) &&
           valid_domain(at + 1, len - local - 1);
}

bool valid_uuid(const char *s)
{
    if (!s || strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i])) return false;
    }
    return true;
}

bool valid_rfc3339(const char *s)
{
    long long t;
    return s && rfc3339_parse(s, true, &t);
}

bool valid_http_url(const char *s)
{
    if (!s) return false;
    size_t len = strlen(s), skip;
    if (!strncasecmp(s, "http://", 7))
        skip = 7;
    else if (!strncasecmp(s, "https://", 8))
        skip = 8;
    else
        return false;
    if (len > URL_MAX || !valid_text(s, len, NULL) || strpbrk(s, " \t\r\n")) return false;
    const char *auth = s + skip;
    size_t auth_len = strcspn(auth, "/?#");
    const char *host = auth;
    for (const char *p = auth; p < auth + auth_len; p++)
        if (*p == '@') host = p + 1;
    return host < auth + auth_len && *host != ':';
}

/* ---- origins ---- */

struct origin {
    bool https;
    const char *host;
    size_t host_len;
    long port;
};

static bool is_host_char(char c, bool bracketed)
{
    if (bracketed) return isxdigit((unsigned char)c) || c == ':' || c == '.';
    return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

/* ":port" or nothing; an empty or absent port is the scheme's default. */
static bool parse_port(const char *s, size_t len, bool https, long *port)
{
    *port = https ? 443 : 80;
    if (len == 0) return true;
    if (s[0] != ':' || len > 6) return false;
    if (len == 1) return true;
    long v = 0;
    for (size_t i = 1; i < len; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    *port = v;
    return v >= 1 && v <= 65535;
}

/* The authority may hold nothing but a host and a port. Userinfo
 * ("trusted@evil"), percent-escapes and backslashes (a browser reads
 * "https://evil\@trusted" as host evil) make it no origin at all, so a
 * text that merely looks like an allowed host never matches one. */
static bool url_origin(const char *url, struct origin *o)
{
    if (!valid_http_url(url)) return false;
    o->https = !strncasecmp(url, "https://", 8);
    const char *auth = url + (o->https ? 8 : 7);
    size_t auth_len = strcspn(auth, "/?#\\");
    if (auth[auth_len] == '\\') return false;
    bool bracketed = auth[0] == '[';
    const char *host = auth + bracketed;
    size_t host_len = 0;
    while (host_len < auth_len - bracketed && is_host_char(host[host_len], bracketed))
        host_len++;
    if (host_len == 0 || (bracketed && host[host_len] != ']')) return false;
    size_t taken = bracketed + host_len + bracketed;
    o->host = host;
    o->host_len = host_len;
    return parse_port(auth + taken, auth_len - taken, o->https, &o->port);
}

bool same_origin(const char *url, const char *base)
{
    struct origin a, b;
    return url && base && url_origin(url, &a) && url_origin(base, &b) && a.https == b.https &&
           a.port == b.port && a.host_len == b.host_len && !strncasecmp(a.host, b.host, a.host_len);
}

bool origin_listed(const char *list, const char *url)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        char origin[512];
        if (n < sizeof origin) {
            memcpy(origin, p, n);
            origin[n] = '\0';
            if (same_origin(url, origin)) return true;
        }
        p += n + (p[n] == ',');
    }
    return false;
}

bool parse_int_in(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s) return false;
    bool neg = *s == '-';
    const char *p = neg ? s + 1 : s;
    if (!*p) return false;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, acc = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        unsigned d = (unsigned)(*p - '0');
        if (acc > (limit - d) / 10) return false;
        acc = acc * 10 + d;
    }
    int64_t v = neg && acc ? -(int64_t)(acc - 1) - 1 : (int64_t)acc;
    if (v < min || v > max) return false;
    *out = v;
    return true;
}

/* ---- objects ---- */

struct errors {
    json_t *list; /* NULL when out of memory: the count still decides */
    size_t count;
};

static void add_error(struct errors *e, const char *field, const char *message)
{
    e->count++;
    json_t *item = json_pack("{s:s, s:s}", "field", field, "message", message);
    if (!item || !e->list || json_array_append_new(e->list, item) != 0) {
        json_decref(e->list);
        e->list = NULL;
    }
}

static const char *length_problem(const struct field *f, size_t chars, char *msg, size_t len)
{
    int64_t min = f->min, max = f->max > 0 ? f->max : DEFAULT_MAX_CHARS;
    if ((int64_t)chars < min) {
        if (min == 1) return "must not be empty";
        snprintf(msg, len, "must be at least %" PRId64 " characters", min);
    } else if ((int64_t)chars > max) {
        snprintf(msg, len, "must be at most %" PRId64 " characters", max);
    } else {
        return NULL;
    }
    return msg;
}

const char *currency_problem(const char *s)
{
    if (currency_exponent(s) >= 0) return currency_allowed(s) ? NULL : "currency not accepted here";
    char upper[4] = {0};
    for (size_t i = 0; i < 3 && s[i]; i++)
        upper[i] = (char)toupper((unsigned char)s[i]);
    bool case_only = strlen(s) == 3 && currency_exponent(upper) >= 0;
    return case_only ? "must be an upper-case ISO 4217 code" : "unknown currency";
}

static const char *enum_problem(const struct field *f, const char *s, char *msg, size_t len)
{
    size_t used = (size_t)snprintf(msg, len, "must be one of: ");
    for (const char *const *c = f->choices; c && *c; c++) {
        if (!strcmp(*c, s)) return NULL;
        int n = snprintf(msg + used, len - used, "%s%s", c == f->choices ? "" : ", ", *c);
        if (n < 0 || (size_t)n >= len - used) break;
        used += (size_t)n;
    }
    return msg;
}

/* What is wrong with a well-formed string value, or NULL. */
static const char *string_problem(const struct field *f, const char *s, size_t chars, char *msg,
                                  size_t len)
{
    switch (f->type) {
    case FIELD_STRING:
        return length_problem(f, chars, msg, len);
    case FIELD_EMAIL:
        return valid_email(s) ? NULL : "is not a valid e-mail address";
    case FIELD_UUID:
        return valid_uuid(s) ? NULL : "must be a UUID";
    case FIELD_TIMESTAMP:
        return valid_rfc3339(s) ? NULL : "must be an RFC 3339 timestamp";
    case FIELD_URL:
        return valid_http_url(s) ? NULL : "must be an http(s) URL";
    case FIELD_CURRENCY:
        return currency_problem(s);
    case FIELD_ENUM:
        return enum_problem(f, s, msg, len);
    case FIELD_INT:
    case FIELD_BOOL:
        break;
    }
    return NULL;
}

static void check_string(struct errors *e, const struct field *f, const json_t *v)
{
    if (!json_is_string(v)) {
        add_error(e, f->name, "must be a string");
        return;
    }
    const char *s = json_string_value(v);
    size_t chars;
    /* Also catches an escaped NUL, which would cut the C string short. */
    if (!valid_text(s, json_string_length(v), &chars)) {
        add_error(e, f->name, "contains invalid characters");
        return;
    }
    char buf[256];
    const char *problem = string_problem(f, s, chars, buf, sizeof buf);
    if (problem)
        add_error(e, f->name, problem);
    else if (f->out.str)
        *f->out.str = s;
}

/* An unset (zero) max means no upper bound; all-zero limits mean none. */
static int64_t int_max(const struct field *f)
{
    return f->max == 0 && f->min >= 0 ? INT64_MAX : f->max;
}

static void int_range_message(const struct field *f, char *msg, size_t len)
{
    int64_t max = int_max(f);
    if (max == INT64_MAX && f->min == 1)
        snprintf(msg, len, "must be a positive integer");
    else if (max == INT64_MAX)
        snprintf(msg, len, "must be at least %" PRId64, f->min);
    else
        snprintf(msg, len, "must be an integer between %" PRId64 " and %" PRId64, f->min, max);
}

static void check_int(struct errors *e, const struct field *f, const json_t *v)
{
    if (!json_is_integer(v)) {
        add_error(e, f->name, "must be an integer");
        return;
    }
    json_int_t i = json_integer_value(v);
    bool unbounded = f->min == 0 && f->max == 0;
    if (!unbounded && (i < f->min || i > int_max(f))) {
        char msg[96];
        int_range_message(f, msg, sizeof msg);
        add_error(e, f->name, msg);
        return;
    }
    if (f->out.i64) *f->out.i64 = i;
}

static void check_value(struct errors *e, const struct field *f, const json_t *v)
{
    switch (f->type) {
    case FIELD_INT:
        check_int(e, f, v);
        return;
    case FIELD_BOOL:
        if (!json_is_boolean(v))
            add_error(e, f->name, "must be true or false");
        else if (f->out.b)
            *f->out.b = json_is_true(v);
        return;
    default:
        check_string(e, f, v);
        return;
    }
}

/* Outputs keep the caller's defaults when a key is absent or null. */
static void check_field(struct errors *e, const struct field *f, json_t *obj)
{
    json_t *v = json_object_get(obj, f->name);
    if (f->present) *f->present = v != NULL;
    if (f->is_null) *f->is_null = json_is_null(v);
    if (!v) {
        if (f->required) add_error(e, f->name, "is required");
    } else if (json_is_null(v)) {
        if (!f->nullable) add_error(e, f->name, f->required ? "is required" : "must not be null");
    } else {
        check_value(e, f, v);
    }
}

static bool is_known_field(const struct field *fields, const char *key)
{
    for (const struct field *f = fields; f->name; f++)
        if (!strcmp(f->name, key)) return true;
    return false;
}

bool validate_object(json_t *obj, const struct field *fields, bool strict, json_t **errors)
{
    struct errors e = {json_array(), 0};
    if (!json_is_object(obj)) {
        add_error(&e, "", "must be a JSON object");
    } else {
        for (const struct field *f = fields; f->name; f++)
            check_field(&e, f, obj);
        const char *key;
        json_t *value;
        if (strict) {
            json_object_foreach(obj, key, value)
            {
                if (!is_known_field(fields, key)) add_error(&e, key, "unknown field");
            }
        }
    }
    if (e.count == 0) {
        json_decref(e.list);
        return true;
    }
    /* Out of memory leaves *errors NULL; the request is invalid all the same. */
    *errors = e.list;
    return false;
}
