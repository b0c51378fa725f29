#include "check.h"
#include "etag.h"

#define TAG "\"0123abcd\""

int main(void)
{
    CHECK(etag_none_match(TAG, TAG));
    CHECK(etag_none_match("W/" TAG, TAG)); /* weak comparison */
    CHECK(etag_none_match("*", TAG));
    CHECK(etag_none_match("\"x\", " TAG, TAG));
    CHECK(etag_none_match("\"x\",W/" TAG " ,\"y\"", TAG));
    CHECK(etag_none_match(" \t" TAG, TAG));

    CHECK(!etag_none_match(NULL, TAG));
    CHECK(!etag_none_match("", TAG));
    CHECK(!etag_none_match("\"0123abc\"", TAG));   /* a prefix */
    CHECK(!etag_none_match("\"0123abcde\"", TAG)); /* longer */
    CHECK(!etag_none_match("0123abcd", TAG));      /* unquoted */
    CHECK(!etag_none_match("\"0123abcd", TAG));    /* unterminated */
    CHECK(!etag_none_match("\"x\" junk " TAG, TAG));
    CHECK(!etag_none_match("w/" TAG, TAG)); /* the weak prefix is case-sensitive */
    CHECK(!etag_none_match("\"x\", \"y\"", TAG));
    return CHECK_DONE();
}
