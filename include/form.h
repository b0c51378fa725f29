#ifndef PATROND_FORM_H
#define PATROND_FORM_H

#include <stddef.h>

/* application/x-www-form-urlencoded bodies (a provider's callback), which
 * arrive from anyone: every byte is checked, nothing is trusted. */

enum form_status {
    FORM_OK,        /* *out holds the decoded value */
    FORM_ABSENT,    /* no such field */
    FORM_MALFORMED, /* a bad %-escape or a NUL anywhere in the body */
    FORM_DUPLICATE, /* the field appears more than once: ambiguous */
    FORM_NOMEM,
};

/* The value of field `name` in body (len bytes, not necessarily
 * NUL-terminated), percent-decoded with '+' as a space, malloc'd into
 * *out (NULL unless FORM_OK). Field names are compared after decoding. */
enum form_status form_field(const char *body, size_t len, const char *name, char **out);

#endif
