#include <stdbool.h>

#include "check.h"
#include "provider.h"
#include "validate.h"

struct origin_case {
    const char *url, *base;
    bool same;
};

static void test_same_origin(void)
{
    static const struct origin_case cases[] = {
        {"https://news.example.org/thanks", "https://news.example.org", true},
        {"https://news.example.org", "https://news.example.org", true},
        {"https://news.example.org?x=1#top", "https://news.example.org", true},
        {"HTTPS://News.Example.ORG/a", "https://news.example.org", true},
        {"https://news.example.org:443/a", "https://news.example.org", true},
        {"https://news.example.org/a", "https://news.example.org:443", true},
        {"http://news.example.org:80/a", "http://news.example.org", true},
        {"https://news.example.org:/a", "https://news.example.org", true},
        {"https://members.example.org/donate/thanks", "https://members.example.org/support", true},
        {"http://127.0.0.1:8080/donate/thanks", "http://127.0.0.1:8080", true},
        {"http://[::1]:8080/x", "http://[::1]:8080", true},
        /* lookalike hosts */
        {"https://news.example.org.evil.com/", "https://news.example.org", false},
        {"https://evil-news.example.org/", "https://news.example.org", false},
        {"https://example.org/", "https://news.example.org", false},
        {"https://news.example.org./", "https://news.example.org", false},
        /* userinfo and other authority tricks */
        {"https://news.example.org@evil.com/", "https://news.example.org", false},
        {"https://user:pw@news.example.org/", "https://news.example.org", false},
        {"https://evil.com\\@news.example.org/", "https://news.example.org", false},
        {"https://news.example.org\\evil.com", "https://news.example.org", false},
        {"https://news%2eexample.org/", "https://news.example.org", false},
        {"https://news.example.org%40evil.com/", "https://news.example.org", false},
        /* other schemes, ports and relative forms */
        {"http://news.example.org/", "https://news.example.org", false},
        {"https://news.example.org:8443/", "https://news.example.org", false},
        {"https://news.example.org:80/", "https://news.example.org", false},
        {"https://news.example.org:0/", "https://news.example.org", false},
        {"https://news.example.org:65536/", "https://news.example.org", false},
        {"https://news.example.org:44a/", "https://news.example.org", false},
        {"//evil.com/", "https://news.example.org", false},
        {"//news.example.org/", "https://news.example.org", false},
        {"/thanks", "https://news.example.org", false},
        {"javascript:alert(1)", "https://news.example.org", false},
        {"javascript://news.example.org/%0aalert(1)", "https://news.example.org", false},
        {"data:text/html,hi", "https://news.example.org", false},
        {"https:///evil.com", "https://news.example.org", false},
        {"http://[::1/", "http://[::1]", false},
        {"", "https://news.example.org", false},
        {NULL, "https://news.example.org", false},
        {"https://news.example.org/", NULL, false},
        {"https://news.example.org/", "*", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool got = same_origin(cases[i].url, cases[i].base);
        CHECK_EQ_INT(got, cases[i].same);
        if (got != cases[i].same)
            printf("    same_origin(\"%s\", \"%s\")\n", cases[i].url ? cases[i].url : "(null)",
                   cases[i].base ? cases[i].base : "(null)");
    }
}

struct return_case {
    const char *url;
    bool allowed;
};

static void check_return_urls(const struct config *c, const struct return_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool got = checkout_return_url_allowed(c, cases[i].url);
        CHECK_EQ_INT(got, cases[i].allowed);
        if (got != cases[i].allowed) printf("    return_url \"%s\"\n", cases[i].url);
    }
}

static void test_return_url_allowed(void)
{
    static char public_url[] = "https://members.example.org/support";
    static char origins[] = "https://news.example.org,http://localhost:3000,*";
    struct config c = {.public_url = public_url, .cors_origins = origins};
    static const struct return_case cases[] = {
        {"https://members.example.org/donate/thanks", true},
        {"https://news.example.org/thanks?x=1", true},
        {"http://localhost:3000/", true},
        {"https://shop.example.org/", false},
        {"http://localhost:3001/", false},
        {"https://localhost:3000/", false},
        {"https://news.example.org.evil.com/", false},
        {"https://news.example.org@evil.com/", false},
        {"https://members.example.org:8443/", false},
        {"https://evil.example/", false},
    };
    check_return_urls(&c, cases, sizeof cases / sizeof cases[0]);

    /* Without a CORS list only the public URL's origin is allowed. */
    c.cors_origins = NULL;
    static const struct return_case alone[] = {
        {"https://members.example.org/", true},
        {"https://news.example.org/thanks", false},
    };
    check_return_urls(&c, alone, sizeof alone / sizeof alone[0]);
}

int main(void)
{
    test_same_origin();
    test_return_url_allowed();
    return CHECK_DONE();
}
