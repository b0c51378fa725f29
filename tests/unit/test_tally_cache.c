#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tally_cache.h"

static struct tally_copy copy_of(const char *etag, const char *body)
{
    struct tally_copy c = {.frozen = false, .body = (char *)body, .len = strlen(body)};
    snprintf(c.etag, sizeof c.etag, "%s", etag);
    return c;
}

static bool get_body(const char *key, long long now, char *out, size_t len)
{
    struct tally_copy c;
    if (!tally_cache_get(key, now, NULL, &c)) return false;
    snprintf(out, len, "%s", c.body);
    free(c.body);
    return true;
}

int main(void)
{
    char body[64];
    struct tally_copy one = copy_of("\"a\"", "{\"n\":1}");

    /* a hit until the deadline, not at it */
    unsigned long gen = tally_cache_generation();
    CHECK(!get_body("r1", 0, body, sizeof body));
    CHECK(tally_cache_put("r1", gen, 1000, &one));
    CHECK(get_body("r1", 999, body, sizeof body) && !strcmp(body, "{\"n\":1}"));
    CHECK(!get_body("r1", 1000, body, sizeof body));
    CHECK(!get_body("r2", 0, body, sizeof body));

    /* past the deadline one reader refreshes while the others keep the
     * old copy for a while */
    CHECK(tally_cache_put("r1", tally_cache_generation(), 1000, &one));
    CHECK(!get_body("r1", 1000, body, sizeof body)); /* the refresher */
    struct tally_copy stale;
    CHECK(!tally_cache_get_fresh("r1", 1000, NULL, &stale)); /* which then fetches */
    CHECK(get_body("r1", 1001, body, sizeof body));          /* the others */
    CHECK(get_body("r1", 2999, body, sizeof body));
    CHECK(!get_body("r1", 3000, body, sizeof body)); /* grace over */
    CHECK(!get_body("r1", 3001, body, sizeof body) && !get_body("r1", 5000, body, sizeof body));
    CHECK(tally_cache_put("r1", tally_cache_generation(), 6000, &one));
    CHECK(get_body("r1", 5999, body, sizeof body));
    CHECK(!get_body("r1", 6000, body, sizeof body)); /* a new refresher for the new copy */
    tally_cache_invalidate();
    CHECK(!get_body("r1", 6001, body, sizeof body)); /* never stale across a change */

    /* any committed change drops every copy */
    CHECK(tally_cache_put("r1", tally_cache_generation(), 1000, &one));
    tally_cache_invalidate();
    CHECK(!get_body("r1", 0, body, sizeof body));

    /* a result computed before a change is never stored after it */
    gen = tally_cache_generation();
    tally_cache_invalidate();
    CHECK(tally_cache_put("r1", gen, 1000, &one));
    CHECK(!get_body("r1", 0, body, sizeof body));

    /* a newer copy replaces the older one under the same key */
    struct tally_copy two = copy_of("\"b\"", "{\"n\":2}");
    two.frozen = true;
    CHECK(tally_cache_put("r1", tally_cache_generation(), 1000, &one));
    CHECK(tally_cache_put("r1", tally_cache_generation(), 1000, &two));
    struct tally_copy got;
    CHECK(tally_cache_get("r1", 0, NULL, &got));
    CHECK(!strcmp(got.etag, "\"b\"") && got.frozen && got.len == 7 && !strcmp(got.body, two.body));
    free(got.body);

    /* a client holding the current copy gets the validators only */
    CHECK(tally_cache_get("r1", 0, "W/\"b\"", &got));
    CHECK(!got.body && !strcmp(got.etag, "\"b\""));
    CHECK(tally_cache_get("r1", 0, "\"a\"", &got));
    CHECK(got.body && !strcmp(got.body, two.body));
    free(got.body);

    /* more keys than slots: the newest stay, memory stays bounded */
    char key[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%d", i);
        CHECK(tally_cache_put(key, tally_cache_generation(), 2000 + i, &one));
    }
    CHECK(get_body("k99", 0, body, sizeof body));

    /* keys longer than a round id are not kept */
    CHECK(tally_cache_put("0123456789012345678901234567890123456789x", tally_cache_generation(),
                          1000, &one));
    CHECK(!get_body("0123456789012345678901234567890123456789x", 0, body, sizeof body));

    unsigned long hits, misses;
    tally_cache_counts(&hits, &misses);
    CHECK(hits == 8 && misses >= 5);
    tally_cache_clear();
    CHECK(!get_body("k99", 0, body, sizeof body));
    return CHECK_DONE();
}
