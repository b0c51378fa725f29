/* Standard Webhooks signatures for the messages patrond sends. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_sign.h"

#define KEY_BYTES 32
#define KEY_MAX 64

bool webhook_secret_new(char out[WEBHOOK_SECRET_LEN + 1])
{
    unsigned char key[KEY_BYTES];
    if (RAND_bytes(key, sizeof key) != 1) return false;
    memcpy(out, "whsec_", 6);
    EVP_EncodeBlock((unsigned char *)out + 6, key, sizeof key);
    OPENSSL_cleanse(key, sizeof key);
    return true;
}

/* The key behind "whsec_<base64>"; false when it is not that. */
static bool secret_key(const char *secret, unsigned char key[KEY_MAX], size_t *len)
{
    if (strncmp(secret, "whsec_", 6)) return false;
    const char *b64 = secret + 6;
    size_t n = strlen(b64);
    if (!n || n % 4 || n / 4 * 3 > KEY_MAX) return false;
    int got = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)n);
    if (got < 0) return false;
    size_t pad = (b64[n - 1] == '=') + (n > 1 && b64[n - 2] == '=');
    *len = (size_t)got - pad;
    return *len > 0;
}

bool webhook_signature(const char *const *secrets, size_t n, const char *id, const char *timestamp,
                       const char *body, size_t body_len, char *out, size_t cap)
{
    size_t id_len = strlen(id), ts_len = strlen(timestamp);
    size_t msg_len = id_len + 1 + ts_len + 1 + body_len;
    unsigned char *msg = malloc(msg_len);
    if (!msg) return false;
    memcpy(msg, id, id_len);
    msg[id_len] = '.';
    memcpy(msg + id_len + 1, timestamp, ts_len);
    msg[id_len + 1 + ts_len] = '.';
    memcpy(msg + id_len + ts_len + 2, body, body_len);
    size_t used = 0;
    bool ok = n > 0;
    for (size_t i = 0; ok && i < n; i++) {
        unsigned char key[KEY_MAX], mac[EVP_MAX_MD_SIZE];
        unsigned mac_len = 0;
        size_t key_len = 0;
        ok = secret_key(secrets[i], key, &key_len) &&
             HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, mac, &mac_len) != NULL;
        OPENSSL_cleanse(key, sizeof key);
        /* "v1," + base64 of the MAC + a separating space or the NUL */
        size_t need = 3 + 4 * ((mac_len + 2) / 3) + 1;
        if (!ok || used + need > cap) {
            ok = false;
            break;
        }
        if (i) out[used++] = ' ';
        memcpy(out + used, "v1,", 3);
        used += 3;
        used += (size_t)EVP_EncodeBlock((unsigned char *)out + used, mac, (int)mac_len);
    }
    free(msg);
    if (ok) out[used] = '\0';
    return ok;
}
