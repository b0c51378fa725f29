/* Raw JSON value text (include/json_text.h). The input has already been
 * validated by jansson, but every index is still bounds-checked. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json_text.h"

static size_t skip_ws(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* s[*i] is the opening quote; *i ends past the closing one. */
static bool skip_string(const char *s, size_t *i, size_t n)
{
    for (size_t j = *i + 1; j < n; j++) {
        if (s[j] == '\\') {
            j++;
        } else if (s[j] == '"') {
            *i = j + 1;
            return true;
        }
    }
    return false;
}

static bool skip_container(const char *s, size_t *i, size_t n)
{
    int depth = 0;
    for (size_t j = *i; j < n;) {
        char c = s[j];
        if (c == '"') {
            if (!skip_string(s, &j, n)) return false;
            continue;
        }
        if (c == '{' || c == '[') depth++;
        if ((c == '}' || c == ']') && --depth == 0) {
            *i = j + 1;
            return true;
        }
        j++;
    }
    return false;
}

static bool skip_value(const char *s, size_t *i, size_t n)
{
    if (*i >= n) return false;
    if (s[*i] == '"') return skip_string(s, i, n);
    if (s[*i] == '{' || s[*i] == '[') return skip_container(s, i, n);
    size_t j = *i;
    while (j < n && !strchr(",}] \t\r\n", s[j]))
        j++;
    if (j == *i) return false;
    *i = j;
    return true;
}

bool json_member_text(const char *json, size_t len, const char *key, const char **start, size_t *n)
{
    size_t klen = strlen(key);
    size_t i = skip_ws(json, 0, len);
    if (i >= len || json[i] != '{') return false;
    for (i++;;) {
        i = skip_ws(json, i, len);
        if (i >= len || json[i] != '"') return false;
        size_t key_at = i + 1;
        if (!skip_string(json, &i, len)) return false;
        bool match = i - 1 - key_at == klen && !memcmp(json + key_at, key, klen);
        i = skip_ws(json, i, len);
        if (i >= len || json[i] != ':') return false;
        i = skip_ws(json, i + 1, len);
        size_t value_at = i;
        if (!skip_value(json, &i, len)) return false;
        if (match) {
            *start = json + value_at;
            *n = i - value_at;
            return true;
        }
        i = skip_ws(json, i, len);
        if (i >= len || json[i] != ',') return false;
        i++;
    }
}

/* Whether text (a NUL-terminated JSON number) denotes v's value. */
static bool same_number(const char *text, json_t *v)
{
    char *end;
    errno = 0;
    if (json_is_integer(v)) {
        long long x = strtoll(text, &end, 10);
        return !errno && !*end && x == json_integer_value(v);
    }
    double x = strtod(text, &end);
    return !errno && !*end && x == json_real_value(v);
}

bool json_decimal_text(json_t *root, const char *json, size_t len, const char *key, char *dst,
                       size_t dst_len)
{
    json_t *v = json_object_get(root, key);
    if (dst_len == 0) return false;
    dst[0] = '\0';
    if (!v || json_is_null(v)) return true;
    const char *text;
    size_t n;
    if (json_is_string(v)) {
        text = json_string_value(v);
        n = json_string_length(v);
        if (strlen(text) != n) return false;
    } else if (!json_is_number(v) || !json_member_text(json, len, key, &text, &n)) {
        return false;
    }
    if (n >= dst_len) return false;
    memcpy(dst, text, n);
    dst[n] = '\0';
    return json_is_string(v) || same_number(dst, v);
}
