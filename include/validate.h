#ifndef PATROND_VALIDATE_H
#define PATROND_VALIDATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* Declarative validation of a JSON request object. Each field names its
 * key, its type and limits, and where the value goes. Errors are gathered
 * (not stopped at the first) as RFC 9457 `errors` entries
 * {"field", "message"} so a client can fix everything at once. */

enum field_type {
    FIELD_STRING,    /* out.str; min/max are lengths in characters */
    FIELD_EMAIL,     /* out.str; syntax-checked, at most 254 bytes */
    FIELD_UUID,      /* out.str */
    FIELD_INT,       /* out.i64; min/max bounds */
    FIELD_CURRENCY,  /* out.str; known ISO 4217 and in the allowlist */
    FIELD_ENUM,      /* out.str; one of `choices` (NULL-terminated) */
    FIELD_TIMESTAMP, /* out.str; RFC 3339 */
    FIELD_URL,       /* out.str; absolute http(s) URL */
    FIELD_BOOL,      /* out.b */
};

struct field {
    const char *name;
    enum field_type type;
    bool required;
    bool nullable; /* JSON null accepted; *is_null set */
    int64_t min, max;
    const char *const *choices;
    union {
        const char **str;
        int64_t *i64;
        bool *b;
    } out;
    bool *present; /* optional: set when the key was in the object */
    bool *is_null; /* optional: set when the value was null */
};

/* Validates `obj` against `fields` (terminated by an entry with name
 * NULL). With `strict`, keys not in `fields` are errors. Returns true when
 * valid; otherwise *errors is a new JSON array the caller owns. A
 * non-object `obj` is reported as one error on field "". */
bool validate_object(json_t *obj, const struct field *fields, bool strict, json_t **errors);

/* Single-value checks, shared with query-string parsing. */
bool valid_email(const char *s);
bool valid_uuid(const char *s);
bool valid_rfc3339(const char *s);
bool valid_http_url(const char *s);
/* What is wrong with a currency code ("unknown currency", not in
 * PATROND_CURRENCIES, …), or NULL when it is accepted. */
const char *currency_problem(const char *s);
/* Whether the absolute http(s) URL `url` is on the origin of `base` (any
 * http(s) URL; only its scheme, host and port count): the same scheme,
 * host (case-insensitively) and port, an absent port being the scheme's
 * default. A URL with userinfo, a backslash or a percent-escape in its
 * authority is on no origin. */
bool same_origin(const char *url, const char *base);
/* Whether `url` is on one of the origins of `list` (comma-joined, as
 * api/config.c stores PATROND_CORS_ORIGINS) by same_origin(). The
 * wildcard names no origin: it lets any page call the API, not receive
 * what is meant for a listed site. */
bool origin_listed(const char *list, const char *url);
/* Well-formed UTF-8 with no control characters other than \t \n \r, and
 * no NUL; returns the character count in *chars. */
bool valid_text(const char *s, size_t len, size_t *chars);
/* Parses a whole decimal integer string in [min, max]. */
bool parse_int_in(const char *s, int64_t min, int64_t max, int64_t *out);

#endif
