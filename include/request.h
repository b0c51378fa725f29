#ifndef PATROND_REQUEST_H
#define PATROND_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

/* Server-internal parts of the request lifecycle (api/http/request.c). */

/* At most this much of a body that will not be used (it is over the
 * limit, or the answer is already decided) is read and dropped, so that
 * the client, still sending, can read the answer; past it the connection
 * is closed. */
#define REQ_BODY_DRAIN_MAX (16u * 1024 * 1024)

/* Appends upload bytes; past `limit` the rest is counted as too large and
 * dropped (a reply cannot be queued mid-upload). False on out-of-memory,
 * or when an oversized body goes on past REQ_BODY_DRAIN_MAX. */
bool req_body_append(struct req *r, const char *data, size_t len, size_t limit);
/* Drops upload bytes; false once more than REQ_BODY_DRAIN_MAX were dropped. */
bool req_body_drop(struct req *r, size_t len);
void req_free(struct req *r);

/* The steps of a request that run before its handler (in api/http/). Each
 * returns false after queuing the reply that ends the request. */
bool authenticate(struct req *r);
bool parse_json_body(struct req *r);
/* BODY_CSV (api/http/body.c). csv_body_begin runs on the request's head:
 * false after queuing a 401 (no token at all) or 429. A body that is not
 * text/csv gets no reader: it is dropped as it arrives, and
 * csv_body_typed answers 415 once the caller is known to be allowed (a
 * read key is told 403 first). csv_body_append reads upload bytes as they
 * arrive, up to cfg.import_max_bytes (past it, like req_body_append);
 * csv_body_end completes the last record. Both are false on
 * out-of-memory. The reader is freed with the request. */
bool csv_body_begin(struct req *r);
bool csv_body_typed(struct req *r);
bool csv_body_append(struct req *r, const char *data, size_t len);
bool csv_body_end(struct req *r);
void csv_body_free(struct req *r);
/* Idempotency-Key handling around the handler (api/http/idempotency.c). */
bool idempotency_begin(struct req *r);
void idempotency_finish(struct req *r);

#endif
