/* Conditional GET (include/etag.h). */
#include <string.h>

#include "etag.h"

static const char *skip_list_space(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
    return p;
}

bool etag_none_match(const char *header, const char *etag)
{
    if (!header || !etag) return false;
    size_t want = strlen(etag);
    for (const char *p = skip_list_space(header); *p; p = skip_list_space(p)) {
        if (*p == '*') return true;
        if (!strncmp(p, "W/", 2)) p += 2;
        if (*p != '"') return false;
        const char *end = strchr(p + 1, '"');
        if (!end) return false;
        size_t len = (size_t)(end - p) + 1;
        if (len == want && !memcmp(p, etag, len)) return true;
        p = end + 1;
    }
    return false;
}
