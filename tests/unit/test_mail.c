#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mail.h"

static char *format(const char *to, const char *subject, const char *body, const char **problem)
{
    struct mail m = {"news.example",
                     "0b6a4f7e-4c2e-4b8e-9a51-1f0d2c3b4a59",
                     to,
                     subject,
                     body,
                     1700000000,
                     NULL};
    size_t len = 0;
    char *text = mail_format(&m, &len, problem);
    if (text) CHECK_EQ_INT(len, strlen(text));
    return text;
}

static void test_headers_and_body(void)
{
    const char *problem;
    char *t = format("reader@example.org", "Your sign-in link", "Hello\nlink", &problem);
    CHECK(t != NULL);
    if (!t) return;
    CHECK_EQ_STR(t, "From: patrond <patrond@news.example>\n"
                    "To: reader@example.org\n"
                    "Subject: Your sign-in link\n"
                    "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
                    "Message-ID: <0b6a4f7e-4c2e-4b8e-9a51-1f0d2c3b4a59@news.example>\n"
                    "Auto-Submitted: auto-generated\n"
                    "MIME-Version: 1.0\n"
                    "Content-Type: text/plain; charset=utf-8\n"
                    "Content-Transfer-Encoding: 8bit\n"
                    "\n"
                    "Hello\nlink\n");
    free(t);
}

/* Non-ASCII subjects become RFC 2047 words of at most 75 characters, cut
 * between UTF-8 characters; a line break cannot start a new header. */
static void test_encoded_subject(void)
{
    const char *problem;
    char *t = format("a@b.example", "Дякуємо!", "x\n", &problem);
    CHECK(t && strstr(t, "Subject: =?UTF-8?B?0JTRj9C60YPRlNC80L4h?=\n"));
    free(t);

    char subject[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(subject, "ї");
    t = format("a@b.example", subject, "x", &problem);
    CHECK(t != NULL);
    if (t) {
        const char *s = strstr(t, "Subject: ");
        const char *end = strstr(s, "\nDate:");
        int words = 0;
        for (const char *w = s; w && w < end; w = strstr(w + 1, "=?UTF-8?B?")) {
            const char *close = strstr(w + 1, "?=");
            if (w != s) {
                words++;
                CHECK(close - w + 2 <= 75);
            }
        }
        CHECK_EQ_INT(words, 2); /* 80 bytes: 44 + 36 */
        CHECK(strstr(t, "?=\n =?UTF-8?B?") != NULL);
    }
    free(t);

    t = format("a@b.example", "Hi\r\nBcc: evil@example.org", "x", &problem);
    CHECK(t && !strstr(t, "\nBcc:"));
    free(t);
}

/* The newsroom's name is From's display name: bare when it is a phrase
 * of atoms, quoted when it holds specials, encoded when it is not ASCII;
 * a line break in it never starts a header. */
static void test_from_name(void)
{
    const struct {
        const char *name, *from;
    } cases[] = {
        {NULL, "From: patrond <patrond@news.example>\n"},
        {"Kyiv Independent", "From: Kyiv Independent <patrond@news.example>\n"},
        {"News, \"Daily\"", "From: \"News, \\\"Daily\\\"\" <patrond@news.example>\n"},
        {"Ґрати", "From: =?UTF-8?B?0pDRgNCw0YLQuA==?= <patrond@news.example>\n"},
        {"Evil\nBcc: x@example.org",
         "From: =?UTF-8?B?RXZpbCBCY2M6IHhAZXhhbXBsZS5vcmc=?= <patrond@news.example>\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mail m = {"news.example", "id-1",       "a@b.example", "s", "b",
                         1700000000,     cases[i].name};
        size_t len = 0;
        const char *problem;
        char *t = mail_format(&m, &len, &problem);
        CHECK(t && !strncmp(t, cases[i].from, strlen(cases[i].from)));
        CHECK(t && !strstr(t, "\nBcc:"));
        free(t);
    }
}

static void test_refuses_unsafe_addresses(void)
{
    const char *bad[] = {"a@b.example\nBcc: c@d.example",
                         "a b@c.example",
                         "<a@b.example>",
                         "no-at-sign",
                         "",
                         "a@b.example,c@d.example",
                         "ä@b.example",
                         NULL};
    for (const char **b = bad; *b; b++) {
        const char *problem = NULL;
        char *t = format(*b, "s", "x", &problem);
        CHECK(t == NULL);
        CHECK(problem != NULL);
        free(t);
    }
}

static const char *domain(const char *url)
{
    static char out[64];
    mail_domain(url, out, sizeof out);
    return out;
}

static void test_domain(void)
{
    CHECK_EQ_STR(domain("https://news.example"), "news.example");
    CHECK_EQ_STR(domain("https://news.example:8443/members/x"), "news.example");
    CHECK_EQ_STR(domain("http://user:pw@news.example/"), "news.example");
    CHECK_EQ_STR(domain("http://127.0.0.1:8080"), "[127.0.0.1]");
    CHECK_EQ_STR(domain("http://[::1]:8080"), "[::1]");
    CHECK_EQ_STR(domain("http://"), "localhost");
}

int main(void)
{
    test_headers_and_body();
    test_encoded_subject();
    test_from_name();
    test_refuses_unsafe_addresses();
    test_domain();
    return CHECK_DONE();
}
