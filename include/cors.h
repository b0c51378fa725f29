#ifndef PATROND_CORS_H
#define PATROND_CORS_H

#include <stdbool.h>

#include "http.h"

/* CORS for the endpoints a browser page calls directly (the donation form,
 * tiers, sign-in, the member pages, topics and rounds), for the origins
 * in PATROND_CORS_ORIGINS. Bearer tokens travel in Authorization, never
 * in cookies, so credentials mode is not needed. */

/* Answers an OPTIONS request for a path that exists: 204 with Allow, plus
 * the preflight headers when the path is a browser endpoint and the
 * Origin is allowlisted. False (nothing queued) for any other request. */
bool cors_preflight(struct req *r);

/* Adds Access-Control-Allow-Origin (and Vary: Origin) to the reply of a
 * browser endpoint when the Origin is allowlisted. Called once per reply,
 * just before it is sent. */
void cors_decorate(struct req *r);

/* Pure parts, exposed for tests. */
bool cors_origin_allowed(const char *allowlist, const char *origin);
bool cors_browser_path(const char *path);

#endif
