#include <stdio.h>
#include <string.h>

#include "check.h"
#include "rate_limit.h"

#define SLOTS 64

static struct rate_entry table[SLOTS];

static bool hit(const char *bucket, const char *key, int64_t now_ms, unsigned *retry)
{
    return rate_check(table, SLOTS, bucket, key, 10, 60, now_ms, retry);
}

static void reset(void)
{
    memset(table, 0, sizeof table);
}

static void test_limit_then_refill(void)
{
    reset();
    unsigned retry = 99;
    for (int i = 0; i < 10; i++)
        CHECK(hit("b", "1.2.3.4", 1000, &retry));
    CHECK_EQ_INT(retry, 0);
    CHECK(!hit("b", "1.2.3.4", 1000, &retry));
    /* 10 per minute refill one every 6 s */
    CHECK_EQ_INT(retry, 6);
    CHECK(!hit("b", "1.2.3.4", 4500, &retry));
    CHECK_EQ_INT(retry, 3);
    CHECK(hit("b", "1.2.3.4", 7000, &retry));
    CHECK(!hit("b", "1.2.3.4", 7000, &retry));
    /* a full window later the whole bucket is back, not more */
    int allowed = 0;
    for (int i = 0; i < 20; i++)
        allowed += hit("b", "1.2.3.4", 1000000, &retry);
    CHECK_EQ_INT(allowed, 10);
}

static void test_keys_and_buckets_are_separate(void)
{
    reset();
    unsigned retry;
    for (int i = 0; i < 10; i++)
        CHECK(hit("b", "1.2.3.4", 0, &retry));
    CHECK(!hit("b", "1.2.3.4", 0, &retry));
    CHECK(hit("b", "1.2.3.5", 0, &retry));
    CHECK(hit("other", "1.2.3.4", 0, &retry));
}

static void test_clock_going_back_refills_nothing(void)
{
    reset();
    unsigned retry;
    for (int i = 0; i < 10; i++)
        CHECK(hit("b", "k", 50000, &retry));
    CHECK(!hit("b", "k", 10000, &retry));
    CHECK(retry >= 1);
}

/* More keys than slots: the table stays bounded, new keys always find a
 * slot, and a key still in use keeps its state while idle ones are reused. */
static void test_bounded_table(void)
{
    reset();
    unsigned retry;
    for (int i = 0; i < 10; i++)
        CHECK(hit("b", "busy", 0, &retry));
    char key[32];
    int denied = 0;
    for (int i = 1; i <= 10 * SLOTS; i++) {
        snprintf(key, sizeof key, "10.0.%d.%d", i / 256, i % 256);
        denied += !hit("b", key, 2 * i, &retry);
        hit("b", "busy", 2 * i + 1, &retry);
    }
    CHECK_EQ_INT(denied, 0);
    CHECK(!hit("b", "busy", 20 * SLOTS + 2, &retry));
    int used = 0;
    for (int i = 0; i < SLOTS; i++)
        used += table[i].bucket != NULL;
    CHECK_EQ_INT(used, SLOTS);
}

static void test_degenerate_limits_allow(void)
{
    reset();
    unsigned retry = 5;
    CHECK(rate_check(table, SLOTS, "b", "k", 0, 60, 0, &retry));
    CHECK(rate_check(table, SLOTS, "b", "k", 10, 0, 0, &retry));
    CHECK(rate_check(table, 0, "b", "k", 10, 60, 0, &retry));
    CHECK_EQ_INT(retry, 0);
}

static void test_one_slot_table(void)
{
    struct rate_entry one[1] = {{0}};
    unsigned retry;
    CHECK(rate_check(one, 1, "b", "a", 1, 60, 0, &retry));
    CHECK(!rate_check(one, 1, "b", "a", 1, 60, 0, &retry));
    CHECK(rate_check(one, 1, "b", "z", 1, 60, 0, &retry));
}

static void test_long_keys_are_cut_consistently(void)
{
    reset();
    char k[100];
    memset(k, 'x', sizeof k - 1);
    k[sizeof k - 1] = '\0';
    unsigned retry;
    CHECK(rate_check(table, SLOTS, "b", k, 1, 60, 0, &retry));
    CHECK(!rate_check(table, SLOTS, "b", k, 1, 60, 0, &retry));
}

static const char *ipkey(const char *ip)
{
    static char out[RATE_KEY_MAX];
    return rate_ip_key(ip, out, sizeof out) ? out : NULL;
}

static void test_ip_key(void)
{
    CHECK_EQ_STR(ipkey("192.0.2.7"), "192.0.2.7");
    CHECK_EQ_STR(ipkey("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    CHECK_EQ_STR(ipkey("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64");
    CHECK_EQ_STR(ipkey("::1"), "::/64");
    CHECK(ipkey("not an address") == NULL);
    CHECK(ipkey("") == NULL);
    char tiny[4];
    CHECK(!rate_ip_key("2001:db8::1", tiny, sizeof tiny));
}

int main(void)
{
    test_limit_then_refill();
    test_keys_and_buckets_are_separate();
    test_clock_going_back_refills_nothing();
    test_bounded_table();
    test_degenerate_limits_allow();
    test_one_slot_table();
    test_long_keys_are_cut_consistently();
    test_ip_key();
    return CHECK_DONE();
}
