#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "cidr.h"

static void test_parse(void)
{
    struct cidr c;
    static const struct {
        const char *text;
        int family, prefix;
    } good[] = {
        {"192.0.2.1", AF_INET, 32},
        {"10.0.0.0/8", AF_INET, 8},
        {"0.0.0.0/0", AF_INET, 0},
        {"2001:db8::/32", AF_INET6, 32},
        {"::1", AF_INET6, 128},
        {"::ffff:10.1.0.0/112", AF_INET, 16}, /* a mapped block is the IPv4 block it maps */
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        CHECK(cidr_parse(good[i].text, &c));
        CHECK_EQ_INT(c.family, good[i].family);
        CHECK_EQ_INT(c.prefix, good[i].prefix);
    }

    const char *bad[] = {"",
                         "/8",
                         "10.0.0.0/",
                         "10.0.0.0/33",
                         "10.0.0.0/-0",
                         "10.0.0.0/+8",
                         "10.0.0.0/8/8",
                         "10.0.0",
                         "256.0.0.1",
                         "2001:db8::/129",
                         "fe80::1%eth0",
                         "::ffff:10.0.0.0/95",
                         "example.org",
                         " 10.0.0.1",
                         "10.0.0.1:80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cidr_parse(bad[i], &c)) printf("    accepted \"%s\"\n", bad[i]);
        CHECK(!cidr_parse(bad[i], &c));
    }
}

static void test_list(void)
{
    struct cidr_list l;
    char bad[64];
    CHECK(cidr_list_parse(NULL, &l, bad, sizeof bad));
    CHECK_EQ_INT(l.n, 0);
    CHECK(cidr_list_parse("  ", &l, bad, sizeof bad));
    CHECK_EQ_INT(l.n, 0);
    CHECK(!cidr_list_contains(&l, "127.0.0.1"));

    CHECK(cidr_list_parse(" 127.0.0.1 ,10.0.0.0/8,\t2001:db8:1::/48", &l, bad, sizeof bad));
    CHECK_EQ_INT(l.n, 3);
    CHECK(cidr_list_contains(&l, "127.0.0.1"));
    CHECK(!cidr_list_contains(&l, "127.0.0.2"));
    CHECK(cidr_list_contains(&l, "10.255.0.1"));
    CHECK(!cidr_list_contains(&l, "11.0.0.1"));
    CHECK(cidr_list_contains(&l, "::ffff:10.9.9.9"));
    CHECK(cidr_list_contains(&l, "2001:db8:1:ffff::5"));
    CHECK(!cidr_list_contains(&l, "2001:db8:2::5"));
    CHECK(!cidr_list_contains(&l, "::1"));
    CHECK(!cidr_list_contains(&l, "garbage"));
    cidr_list_free(&l);
    CHECK_EQ_INT(l.n, 0);

    /* prefixes that do not end on a byte boundary */
    CHECK(cidr_list_parse("192.168.0.0/20", &l, bad, sizeof bad));
    CHECK(cidr_list_contains(&l, "192.168.15.255"));
    CHECK(!cidr_list_contains(&l, "192.168.16.0"));
    cidr_list_free(&l);

    CHECK(!cidr_list_parse("10.0.0.0/8, nope ,::1", &l, bad, sizeof bad));
    CHECK_EQ_STR(bad, "nope");
    CHECK_EQ_INT(l.n, 0);
    /* empty entries are no entries */
    CHECK(cidr_list_parse(",10.0.0.1,, ,10.0.0.2,", &l, bad, sizeof bad));
    CHECK_EQ_INT(l.n, 2);
    CHECK(cidr_list_contains(&l, "10.0.0.2"));
    cidr_list_free(&l);
    CHECK(!cidr_list_parse("10.0.0.1,10.0.0.300", &l, bad, sizeof bad));
    CHECK_EQ_STR(bad, "10.0.0.300");
}

static const char *client(const struct cidr_list *l, const char *peer, const char *xff)
{
    static char out[64];
    if (!cidr_client_addr(l, peer, xff, out, sizeof out)) return NULL;
    return out;
}

static void test_client_addr(void)
{
    struct cidr_list none, proxies;
    char bad[64];
    CHECK(cidr_list_parse("", &none, bad, sizeof bad));
    CHECK(cidr_list_parse("127.0.0.1,10.0.0.0/8,::1", &proxies, bad, sizeof bad));

    /* no trusted proxies: the header is never believed */
    CHECK_EQ_STR(client(&none, "127.0.0.1", "203.0.113.7"), "127.0.0.1");
    /* a peer that is not a trusted proxy: its header is its own invention */
    CHECK_EQ_STR(client(&proxies, "198.51.100.1", "203.0.113.7"), "198.51.100.1");
    /* one proxy */
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", "203.0.113.7"), "203.0.113.7");
    CHECK_EQ_STR(client(&proxies, "::ffff:127.0.0.1", " 203.0.113.7 "), "203.0.113.7");
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", NULL), "127.0.0.1");
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", ""), "127.0.0.1");
    /* what the client put in front of the proxies' entries is ignored */
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", "1.1.1.1, 2.2.2.2, 203.0.113.7"), "203.0.113.7");
    /* a chain of proxies: the right-most address that is none of them */
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", "1.1.1.1, 203.0.113.7, 10.0.0.5"), "203.0.113.7");
    CHECK_EQ_STR(client(&proxies, "::1", "2001:db8::9,10.1.2.3"), "2001:db8::9");
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", "::ffff:203.0.113.7"), "203.0.113.7");
    /* garbage: the walk stops at it, the nearest trusted hop answers */
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", "unknown"), "127.0.0.1");
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", "203.0.113.7, junk, 10.0.0.5"), "10.0.0.5");
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", "203.0.113.7:4711"), "127.0.0.1");
    /* garbage left of the client's address does not matter */
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", "<script>, 203.0.113.7"), "203.0.113.7");
    /* empty entries are skipped */
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", "203.0.113.7,, ,"), "203.0.113.7");
    /* all hops trusted: the left-most of them */
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", "10.0.0.9, 10.0.0.5"), "10.0.0.9");
    /* a very long entry is garbage, not an overflow */
    char longv[300];
    memset(longv, '1', sizeof longv - 1);
    longv[sizeof longv - 1] = '\0';
    CHECK_EQ_STR(client(&proxies, "127.0.0.1", longv), "127.0.0.1");
    /* the peer must be an address */
    CHECK(client(&proxies, "nope", "203.0.113.7") == NULL);
    char small[4];
    CHECK(!cidr_client_addr(&proxies, "127.0.0.1", "203.0.113.7", small, sizeof small));

    cidr_list_free(&none);
    cidr_list_free(&proxies);
}

static void test_ipv4_text(void)
{
    const uint8_t cases[][4] = {
        {0, 0, 0, 0}, {255, 255, 255, 255}, {10, 0, 100, 5}, {1, 20, 199, 9}};
    const char *want[] = {"0.0.0.0", "255.255.255.255", "10.0.100.5", "1.20.199.9"};
    char out[16];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(cidr_ipv4_text(cases[i], out, sizeof out));
        CHECK_EQ_STR(out, want[i]);
    }
    char small[15]; /* one short of "255.255.255.255" */
    CHECK(!cidr_ipv4_text(cases[1], small, sizeof small));
    CHECK_EQ_STR(small, "255.255.255.25");
    CHECK(!cidr_ipv4_text(cases[0], out, 0));
}

int main(void)
{
    test_parse();
    test_ipv4_text();
    test_list();
    test_client_addr();
    return CHECK_DONE();
}
