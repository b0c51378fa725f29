/* application/x-www-form-urlencoded parsing (include/form.h). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes n bytes of s into out (room for n + 1); false on a bad escape
 * or a NUL, which would silently cut the C string short. */
static bool decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (n - i < 3) return false;
            int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
            if (hi < 0 || lo < 0) return false;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0') return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

/* Decodes one "key=value" pair into malloc'd strings. */
static enum form_status pair(const char *p, size_t len, char **key, char **value)
{
    const char *eq = memchr(p, '=', len);
    size_t klen = eq ? (size_t)(eq - p) : len;
    size_t vlen = eq ? len - klen - 1 : 0;
    *key = malloc(klen + 1);
    *value = malloc(vlen + 1);
    enum form_status st = FORM_NOMEM;
    if (*key && *value)
        st = decode(p, klen, *key) && decode(p + len - vlen, vlen, *value) ? FORM_OK
                                                                           : FORM_MALFORMED;
    if (st == FORM_OK) return st;
    free(*key);
    free(*value);
    *key = *value = NULL;
    return st;
}

/* One non-empty pair: takes its value when it is the field sought. */
static enum form_status visit(const char *p, size_t len, const char *name, char **out)
{
    char *key, *value;
    enum form_status st = pair(p, len, &key, &value);
    if (st != FORM_OK) return st;
    if (!strcmp(key, name)) {
        if (*out) {
            st = FORM_DUPLICATE;
        } else {
            *out = value;
            value = NULL;
        }
    }
    free(key);
    free(value);
    return st;
}

/* Every pair is decoded, not only the one sought: a body that is not
 * well-formed throughout is refused as a whole. */
enum form_status form_field(const char *body, size_t len, const char *name, char **out)
{
    *out = NULL;
    enum form_status st = FORM_OK;
    for (size_t i = 0; i < len && st == FORM_OK;) {
        const char *amp = memchr(body + i, '&', len - i);
        size_t n = amp ? (size_t)(amp - (body + i)) : len - i;
        if (n) st = visit(body + i, n, name, out);
        i += n + 1;
    }
    if (st == FORM_OK && *out) return FORM_OK;
    free(*out);
    *out = NULL;
    return st == FORM_OK ? FORM_ABSENT : st;
}
