#ifndef PATROND_ASSETS_H
#define PATROND_ASSETS_H

#include <stddef.h>

/* The files served as they are (web/ and api/openapi.yaml), compiled into
 * the binary by tools/embed_files.c. */
struct asset {
    const char *path; /* the URL path that serves it */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
    const char *etag; /* quoted strong tag of the bytes */
};
extern const struct asset assets[];
extern const size_t assets_count;

#endif
