/* Idempotency-Key (SPEC §2): a POST retried with the same key and body
 * gets the first response again instead of a second effect. The key is
 * claimed before the handler runs so concurrent retries cannot both act. */
#include <microhttpd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db/idempotency.h"
#include "encode.h"
#include "http.h"
#include "request.h"

struct hashing {
    struct sha256_stream *s;
    bool ok;
};

static void hash_text(struct hashing *h, const char *text, size_t len)
{
    h->ok = h->ok && sha256_update(h->s, text, len);
}

/* Every query argument, as sent (an import's dry_run is another request). */
static enum MHD_Result hash_argument(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct hashing *h = cls;
    hash_text(h, key, strlen(key));
    if (value) {
        hash_text(h, "=", 1);
        hash_text(h, value, strlen(value));
    }
    hash_text(h, "&", 1);
    return MHD_YES;
}

/* What makes two requests the same: the path, the query and the body; a
 * CSV upload, which is not kept, by the digest taken as it arrived. */
static bool request_hash(struct req *r, char hex[65])
{
    struct hashing h = {sha256_begin(), true};
    if (!h.s) return false;
    hash_text(&h, r->path, strlen(r->path));
    hash_text(&h, "\n", 1);
    if (MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, hash_argument, &h) < 0)
        h.ok = false;
    hash_text(&h, "\n", 1);
    if (r->csv)
        hash_text(&h, r->csv_digest, strlen(r->csv_digest));
    else if (r->body_len)
        hash_text(&h, r->body, r->body_len);
    uint8_t digest[32];
    bool ok = sha256_end(h.s, digest) && h.ok;
    if (ok) hex_encode(digest, sizeof digest, hex);
    return ok;
}

/* A replayed creation names its resource as the first answer did. */
static void replay_location(struct req *r, const struct idem_record *rec, size_t len)
{
    if (rec->status != 201 || !rec->body) return;
    json_t *body = json_loadb(rec->body, len, 0, NULL);
    reply_location(r, json_string_value(json_object_get(body, "id")));
    json_decref(body);
}

static void replay(struct req *r, struct idem_record *rec)
{
    reply_header(r, "Idempotent-Replayed", "true");
    size_t len = rec->body ? strlen(rec->body) : 0;
    replay_location(r, rec, len);
    /* the record's type string is owned by the reply as a static choice */
    const char *type = NULL;
    if (rec->content_type && !strcmp(rec->content_type, "application/json"))
        type = "application/json";
    else if (rec->content_type && !strcmp(rec->content_type, "application/problem+json"))
        type = "application/problem+json";
    reply_raw(r, (unsigned)rec->status, type, rec->body, len);
    rec->body = NULL;
}

/* The key is stored as text and compared byte for byte, so it is kept to
 * printable ASCII (as the header's draft, a structured-field string, has it). */
static bool valid_key(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > 255) return false;
    for (const unsigned char *c = (const unsigned char *)key; *c; c++)
        if (*c < 0x20 || *c > 0x7e) return false;
    return true;
}

bool idempotency_begin(struct req *r)
{
    const char *key = req_header(r, "Idempotency-Key");
    if (!key) return true;
    if (!valid_key(key)) {
        reply_invalid_field(r, "Idempotency-Key", "must be 1 to 255 printable ASCII characters");
        return false;
    }
    char hex[65];
    if (!request_hash(r, hex)) {
        reply_error(r, ERR_internal_error, "Could not hash the request.");
        return false;
    }
    snprintf(r->idem_scope, sizeof r->idem_scope, "%s",
             r->caller.kind == CALLER_ANONYMOUS ? "public" : r->caller.id);
    enum idem_state state;
    struct idem_record rec = {0};
    struct db_status st = db_idem_claim(r->db, r->idem_scope, key, hex, &state, &rec);
    if (st.rc != DB_OK) {
        reply_db(r, &st);
        return false;
    }
    switch (state) {
    case IDEM_NEW:
        r->idem_key = strdup(key);
        if (!r->idem_key) {
            db_idem_release(r->db, r->idem_scope, key);
            reply_error(r, ERR_internal_error, "Out of memory.");
            return false;
        }
        return true;
    case IDEM_REPLAY:
        replay(r, &rec);
        break;
    case IDEM_MISMATCH:
        reply_error_fields(r, ERR_idempotency_key_reused,
                           json_pack("[{s:s, s:s}]", "field", "Idempotency-Key", "message",
                                     "was already used with a different request body"));
        break;
    case IDEM_IN_FLIGHT:
        reply_header(r, "Retry-After", "1");
        reply_error(r, ERR_idempotency_key_in_progress,
                    "A request with this Idempotency-Key is still in progress.");
        break;
    }
    free(rec.body);
    free(rec.content_type);
    return false;
}

/* Server errors are not remembered: the client's retry should run again.
 * Nor are replies holding a secret, which must not sit in a table. */
void idempotency_finish(struct req *r)
{
    if (r->status >= 500 || r->status == 429 || r->reply_secret) {
        db_idem_release(r->db, r->idem_scope, r->idem_key);
        return;
    }
    db_idem_store(r->db, r->idem_scope, r->idem_key, (int)r->status, r->resp_type, r->resp);
}
