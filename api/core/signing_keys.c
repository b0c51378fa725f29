/* The member-token keys of this process (include/signing_keys.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "encode.h"
#include "signing_keys.h"

#define CURRENT_VAR "PATROND_SIGNING_KEY_FILE"
#define PREVIOUS_VAR "PATROND_SIGNING_KEY_PREVIOUS_FILE"

static struct {
    struct signing_key current, previous;
    bool has_current, has_previous;
    char *jwks;
    size_t jwks_len;
    char etag[36];
} keys;

static bool fail(char *err, size_t err_len, const char *fmt, const char *var, const char *path,
                 const char *why)
{
    if (err && err_len) snprintf(err, err_len, fmt, var, path, why);
    ERR_clear_error();
    return false;
}

/* An encrypted key would make OpenSSL prompt on the terminal; a service
 * has no one to answer, so it is refused instead. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

static bool load_one(const char *var, const char *path, struct signing_key *k, char *err,
                     size_t err_len)
{
    BIO *bio = BIO_new_file(path, "r");
    if (!bio) return fail(err, err_len, "%s: cannot read %s: %s", var, path, strerror(errno));
    EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    if (!pkey)
        return fail(err, err_len, "%s: %s holds no unencrypted PEM private key (%s)", var, path,
                    "create one with `openssl genpkey -algorithm ed25519`");
    if (!signing_key_init(k, pkey)) {
        signing_key_free(k);
        return fail(err, err_len, "%s: %s is not an Ed25519 key (%s)", var, path,
                    "create one with `openssl genpkey -algorithm ed25519`");
    }
    /* One signature now: it proves the key signs, and OpenSSL fills its
     * per-key provider cache here rather than first under the handler
     * threads, which share the key read-only. */
    char *probe = jws_sign_ed25519(k->pkey, "{}", "", 0);
    if (!probe) {
        signing_key_free(k);
        return fail(err, err_len, "%s: %s: %s", var, path, "the key cannot sign");
    }
    free(probe);
    return true;
}

/* Built once: the document never changes while the process runs. */
static bool build_jwks(void)
{
    json_t *list = json_array();
    json_t *doc = json_pack("{s:o}", "keys", list);
    if (!doc) return false;
    if (keys.has_current && json_array_append_new(list, signing_key_jwk(&keys.current)) != 0) {
        json_decref(doc);
        return false;
    }
    if (keys.has_previous && json_array_append_new(list, signing_key_jwk(&keys.previous)) != 0) {
        json_decref(doc);
        return false;
    }
    keys.jwks = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!keys.jwks) return false;
    keys.jwks_len = strlen(keys.jwks);
    uint8_t digest[32];
    if (!sha256(keys.jwks, keys.jwks_len, digest)) return false;
    keys.etag[0] = '"';
    hex_encode(digest, 16, keys.etag + 1);
    strcpy(keys.etag + 33, "\"");
    return true;
}

bool signing_keys_load(const char *current_file, const char *previous_file, char *err,
                       size_t err_len)
{
    signing_keys_free();
    if (previous_file && !current_file)
        return fail(err, err_len, "%s: %s is set but %s is not; the previous key only verifies",
                    PREVIOUS_VAR, previous_file, CURRENT_VAR);
    if (current_file) {
        if (!load_one(CURRENT_VAR, current_file, &keys.current, err, err_len)) return false;
        keys.has_current = true;
    }
    if (previous_file) {
        if (!load_one(PREVIOUS_VAR, previous_file, &keys.previous, err, err_len)) {
            signing_keys_free();
            return false;
        }
        keys.has_previous = true;
        if (!strcmp(keys.current.kid, keys.previous.kid)) {
            signing_keys_free();
            return fail(err, err_len, "%s: %s holds the same key as %s", PREVIOUS_VAR,
                        previous_file, CURRENT_VAR);
        }
    }
    if (!build_jwks()) {
        signing_keys_free();
        if (err && err_len) snprintf(err, err_len, "out of memory building the JWK Set");
        return false;
    }
    return true;
}

void signing_keys_free(void)
{
    if (keys.has_current) signing_key_free(&keys.current);
    if (keys.has_previous) signing_key_free(&keys.previous);
    free(keys.jwks);
    memset(&keys, 0, sizeof keys);
}

const struct signing_key *signing_keys_current(void)
{
    return keys.has_current ? &keys.current : NULL;
}

const char *signing_keys_jwks(size_t *len)
{
    *len = keys.jwks_len;
    return keys.jwks;
}

const char *signing_keys_jwks_etag(void)
{
    return keys.etag;
}
