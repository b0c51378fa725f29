/* Outbound webhooks' pure parts: Standard Webhooks signatures (expected
 * values computed by the official `standardwebhooks` npm library) and the
 * rules for where deliveries may go. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "check.h"
#include "outbound_target.h"
#include "webhook_sign.h"

static void test_signature(void)
{
    const char *body = "{\"type\":\"topic.proposed\"}";
    const char *one[] = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    char out[WEBHOOK_SIGNATURE_MAX];
    CHECK(webhook_signature(one, 1, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body,
                            strlen(body), out, sizeof out));
    CHECK_EQ_STR(out, "v1,zAQPJZyvoaUaGMQFJjSsqVI9DgfBVelviAcJjljmp5w=");
    const char *two[] = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                         "whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="};
    CHECK(webhook_signature(two, 2, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", body,
                            strlen(body), out, sizeof out));
    CHECK_EQ_STR(out, "v1,zAQPJZyvoaUaGMQFJjSsqVI9DgfBVelviAcJjljmp5w= "
                      "v1,zDza1VVLZsjVShxP/6wUI1QJmxcNl1tBKuSslfXZOn8=");
    char small[20];
    CHECK(!webhook_signature(one, 1, "m", "1", body, strlen(body), small, sizeof small));
    const char *bad[] = {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    CHECK(!webhook_signature(bad, 1, "m", "1", body, strlen(body), out, sizeof out));
    const char *none[] = {"whsec_"};
    CHECK(!webhook_signature(none, 1, "m", "1", body, strlen(body), out, sizeof out));

    char s1[WEBHOOK_SECRET_LEN + 1], s2[WEBHOOK_SECRET_LEN + 1];
    CHECK(webhook_secret_new(s1) && webhook_secret_new(s2));
    CHECK_EQ_INT(strlen(s1), WEBHOOK_SECRET_LEN);
    CHECK(!strncmp(s1, "whsec_", 6) && s1[WEBHOOK_SECRET_LEN - 1] == '=');
    CHECK(strcmp(s1, s2) != 0);
    const char *fresh[] = {s1};
    CHECK(webhook_signature(fresh, 1, "m", "1", "{}", 2, out, sizeof out));
}

static int public_addr(const char *text)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1)
        ss.ss_family = AF_INET;
    else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1)
        ss.ss_family = AF_INET6;
    else
        return -1;
    return outbound_addr_public((struct sockaddr *)&ss);
}

static void test_addresses(void)
{
    const char *refused[] = {
        "127.0.0.1",       "127.255.0.9",     "10.1.2.3",      "172.16.0.1",  "172.31.255.255",
        "192.168.0.1",     "169.254.169.254", "0.0.0.0",       "100.64.0.1",  "224.0.0.1",
        "255.255.255.255", "192.0.2.7",       "198.18.0.1",    "::1",         "::",
        "fe80::1",         "fd00::5",         "fc00::1",       "ff02::1",     "::ffff:127.0.0.1",
        "::ffff:10.0.0.1", "64:ff9b::a00:1",  "2002:7f00:1::", "2001:db8::1", "2001::1",
        "::127.0.0.1"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        int got = public_addr(refused[i]);
        CHECK(got == 0);
        if (got != 0) printf("    %s counted as public\n", refused[i]);
    }
    const char *allowed[] = {"93.184.216.34",    "8.8.8.8",          "172.32.0.1",
                             "100.128.0.1",      "2606:4700::1111",  "::ffff:93.184.216.34",
                             "64:ff9b::808:808", "2002:5db8:d822::1"};
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++) {
        int got = public_addr(allowed[i]);
        CHECK(got == 1);
        if (got != 1) printf("    %s counted as private\n", allowed[i]);
    }
}

static void test_urls(void)
{
    CHECK(outbound_url_problem("https://hooks.example.org/patrond", false) == NULL);
    CHECK(outbound_url_problem("https://93.184.216.34:8443/x?y=1", false) == NULL);
    const char *refused[] = {"http://hooks.example.org/x",
                             "ftp://example.org/",
                             "https://127.0.0.1/x",
                             "https://[::1]/x",
                             "https://localhost/x",
                             "https://LOCALHOST./x",
                             "https://a.localhost/x",
                             "https://10.0.0.1/x",
                             "https://[fe80::1%25eth0]/x",
                             "https://u:p@example.org/x",
                             "https://exa mple.org/",
                             "not a url",
                             "/relative",
                             "https://"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        const char *why = outbound_url_problem(refused[i], false);
        CHECK(why != NULL);
        if (!why) printf("    %s accepted\n", refused[i]);
    }
    CHECK(outbound_url_problem("http://127.0.0.1:9000/x", true) == NULL);
    CHECK(outbound_url_problem("https://localhost/x", true) == NULL);
    CHECK(outbound_url_problem("ftp://127.0.0.1/x", true) != NULL);
}

int main(void)
{
    test_signature();
    test_addresses();
    test_urls();
    return CHECK_DONE();
}
