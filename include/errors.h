#ifndef PATROND_ERRORS_H
#define PATROND_ERRORS_H

#include <stddef.h>

/* The error registry (include/errors.def): one enumerator per problem. */
enum err_code {
#define ERR(name, status, type, title) ERR_##name,
#include "errors.def"
#undef ERR
    ERR_COUNT
};

struct err_info {
    const char *name; /* the problem's "code" */
    unsigned status;
    const char *type;
    const char *title;
};

/* The registry entry for `code`; an out-of-range code yields internal_error,
 * so a reply is always well formed. */
const struct err_info *err_info(enum err_code code);

#endif
