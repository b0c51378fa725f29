#ifndef PATROND_ETAG_H
#define PATROND_ETAG_H

#include <stdbool.h>

/* Whether an If-None-Match header value (RFC 9110 §13.1.2: "*" or a
 * comma-separated list of entity tags, weak or strong) matches `etag`, a
 * quoted strong tag such as "\"abc\"". The comparison is the weak one the
 * RFC prescribes for If-None-Match; a malformed list matches nothing, so
 * the client simply gets the full response. */
bool etag_none_match(const char *header, const char *etag);

#endif
