#include <string.h>

#include <stdbool.h>

#include "check.h"
#include "encode.h"

static void test_sha256(void)
{
    uint8_t d[32];
    char hex[65];
    CHECK(sha256("abc", 3, d));
    hex_encode(d, sizeof d, hex);
    CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256("", 0, d));
    hex_encode(d, sizeof d, hex);
    CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* in pieces, as an upload arrives: the same digest */
    struct sha256_stream *s = sha256_begin();
    CHECK(s != NULL);
    CHECK(sha256_update(s, "a", 1) && sha256_update(s, "", 0) && sha256_update(s, "bc", 2));
    CHECK(sha256_end(s, d));
    hex_encode(d, sizeof d, hex);
    CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sha256_abort(sha256_begin()); /* dropped without a digest: nothing leaks */
}

static void test_hex(void)
{
    const uint8_t b[] = {0x00, 0x0f, 0xa5, 0xff};
    char out[9];
    hex_encode(b, sizeof b, out);
    CHECK_EQ_STR(out, "000fa5ff");
    hex_encode(b, 0, out);
    CHECK_EQ_STR(out, "");
}

static const char *b64(const char *s)
{
    static char out[64];
    base64url_encode((const uint8_t *)s, strlen(s), out);
    return out;
}

static void test_base64url(void)
{
    /* RFC 4648 §10 vectors, without padding. */
    CHECK_EQ_STR(b64(""), "");
    CHECK_EQ_STR(b64("f"), "Zg");
    CHECK_EQ_STR(b64("fo"), "Zm8");
    CHECK_EQ_STR(b64("foo"), "Zm9v");
    CHECK_EQ_STR(b64("foob"), "Zm9vYg");
    CHECK_EQ_STR(b64("fooba"), "Zm9vYmE");
    CHECK_EQ_STR(b64("foobar"), "Zm9vYmFy");
    /* The url-safe alphabet: 0xfb 0xff -> "-_8" rather than "+/8". */
    const uint8_t b[] = {0xfb, 0xff};
    char out[8];
    base64url_encode(b, sizeof b, out);
    CHECK_EQ_STR(out, "-_8");
}

static bool token_charset_ok(const char *t)
{
    for (; *t; t++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *t))
            return false;
    return true;
}

static void test_random(void)
{
    char a[44], b[44];
    CHECK(random_token(a));
    CHECK(random_token(b));
    CHECK_EQ_INT(strlen(a), 43);
    CHECK(token_charset_ok(a));
    CHECK(strcmp(a, b) != 0);
    char u[37];
    CHECK(random_uuid(u));
    CHECK_EQ_INT(strlen(u), 36);
    CHECK(u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-');
    CHECK(u[14] == '4');
    CHECK(strchr("89ab", u[19]) != NULL);
}

static void test_label(void)
{
    char u[37], v[37];
    CHECK(label_uuid(u));
    CHECK(label_uuid(v));
    CHECK_EQ_INT(strlen(u), 36);
    CHECK(u[8] == '-' && u[13] == '-' && u[18] == '-' && u[23] == '-');
    CHECK(u[14] == '4' && strchr("89ab", u[19]) != NULL);
    CHECK(strcmp(u, v) != 0);
    /* no repeats over many draws */
    static char seen[2000][37];
    bool repeated = false;
    for (int i = 0; i < 2000; i++) {
        label_uuid(seen[i]);
        for (int j = 0; j < i && !repeated; j++)
            repeated = !strcmp(seen[i], seen[j]);
    }
    CHECK(!repeated);
}

static void test_text_copy(void)
{
    char out[4];
    CHECK(text_copy(out, sizeof out, "abc"));
    CHECK_EQ_STR(out, "abc");
    CHECK(!text_copy(out, sizeof out, "abcd"));
    CHECK_EQ_STR(out, "abc");
    CHECK(text_copy(out, sizeof out, ""));
    CHECK_EQ_STR(out, "");
    CHECK(!text_copy(out, 0, "a"));
}

int main(void)
{
    test_text_copy();
    test_sha256();
    test_hex();
    test_base64url();
    test_random();
    test_label();
    return CHECK_DONE();
}
