/* RFC 5322 framing of outbox messages. */
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail.h"

/* Input bytes per RFC 2047 encoded-word: 45 bytes make 60 base64
 * characters, which with "=?UTF-8?B?" and "?=" stay within 75. */
#define WORD_BYTES 45

struct buf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static bool is_plain_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) return false;
    return true;
}

/* Our own text as RFC 2047 encoded-words split between UTF-8 characters,
 * one per folded line. Control characters (a line break would start a new
 * header) become spaces. Base64 words may stand in a phrase too (the From
 * display name). */
static void put_encoded(struct buf *b, const char *value)
{
    size_t n = strlen(value);
    for (size_t i = 0; i < n;) {
        size_t take = n - i < WORD_BYTES ? n - i : WORD_BYTES;
        while (i + take < n && take > 1 && ((unsigned char)value[i + take] & 0xc0) == 0x80)
            take--;
        unsigned char chunk[WORD_BYTES];
        for (size_t k = 0; k < take; k++) {
            unsigned char c = (unsigned char)value[i + k];
            chunk[k] = c < 0x20 || c == 0x7f ? ' ' : c;
        }
        char encoded[4 * WORD_BYTES / 3 + 4];
        EVP_EncodeBlock((unsigned char *)encoded, chunk, (int)take);
        puts_(b, i ? "\n =?UTF-8?B?" : "=?UTF-8?B?");
        puts_(b, encoded);
        puts_(b, "?=");
        i += take;
    }
}

/* A header value from our own text: printable ASCII as is, anything else
 * encoded. */
static void put_text_header(struct buf *b, const char *name, const char *value)
{
    puts_(b, name);
    puts_(b, ": ");
    if (is_plain_ascii(value))
        puts_(b, value);
    else
        put_encoded(b, value);
    puts_(b, "\n");
}

/* RFC 5322 atext and the spaces between atoms: a phrase that needs no
 * quotes. */
static bool is_phrase(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr(" !#$%&'*+-/=?^_`{|}~", *s)) return false;
    return true;
}

/* From: the newsroom's name as display name: as it is when it is a
 * phrase of atoms, a quoted string when it is other printable ASCII
 * (quotes and backslashes escaped), else encoded-words. */
static void put_from(struct buf *b, const char *name, const char *domain)
{
    puts_(b, "From: ");
    if (!name || !*name) name = "patrond";
    if (is_phrase(name)) {
        puts_(b, name);
    } else if (is_plain_ascii(name)) {
        puts_(b, "\"");
        for (const char *c = name; *c; c++) {
            if (*c == '"' || *c == '\\') puts_(b, "\\");
            put(b, c, 1);
        }
        puts_(b, "\"");
    } else {
        put_encoded(b, name);
    }
    puts_(b, " <patrond@");
    puts_(b, domain);
    puts_(b, ">\n");
}

/* RFC 5322 date-time, spelled out so no locale can change it. */
static void put_date(struct buf *b, int64_t when)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)when;
    struct tm tm;
    char line[64];
    if (!gmtime_r(&t, &tm)) {
        t = 0;
        gmtime_r(&t, &tm);
    }
    snprintf(line, sizeof line, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\n", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    puts_(b, line);
}

/* A header value we cannot encode must not be written at all: a space or
 * line break in it could add recipients or headers. */
static bool is_token(const char *s, const char *forbidden)
{
    if (!*s) return false;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f || strchr(forbidden, *s))
            return false;
    return true;
}

char *mail_format(const struct mail *m, size_t *len, const char **problem)
{
    *problem = NULL;
    if (!is_token(m->to, "<>\",;") || !strchr(m->to, '@')) {
        *problem = "the recipient address cannot be used in a header";
        return NULL;
    }
    if (!is_token(m->domain, "<>\",;@") || !is_token(m->id, "<>\",;@")) {
        *problem = "the sender domain or message id cannot be used in a header";
        return NULL;
    }
    struct buf b = {0};
    put_from(&b, m->from_name, m->domain);
    puts_(&b, "To: ");
    puts_(&b, m->to);
    puts_(&b, "\n");
    put_text_header(&b, "Subject", m->subject);
    put_date(&b, m->date);
    puts_(&b, "Message-ID: <");
    puts_(&b, m->id);
    puts_(&b, "@");
    puts_(&b, m->domain);
    /* RFC 3834: no vacation replies or other automatic answers to us */
    puts_(&b, ">\nAuto-Submitted: auto-generated\n"
              "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
              "Content-Transfer-Encoding: 8bit\n\n");
    puts_(&b, m->body);
    size_t blen = strlen(m->body);
    if (!blen || m->body[blen - 1] != '\n') puts_(&b, "\n");
    if (b.failed) {
        free(b.p);
        *problem = "out of memory";
        return NULL;
    }
    *len = b.len;
    return b.p;
}

static bool is_ipv4(const char *s, size_t n)
{
    if (!n) return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]) && s[i] != '.') return false;
    return true;
}

void mail_domain(const char *base_url, char *out, size_t len)
{
    const char *host = strstr(base_url, "://");
    host = host ? host + 3 : base_url;
    size_t n = strcspn(host, "/?#");
    const char *at = memchr(host, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    if (host[0] == '[') {
        const char *close = memchr(host, ']', n);
        n = close ? (size_t)(close - host) + 1 : n;
    } else {
        const char *colon = memchr(host, ':', n);
        if (colon) n = (size_t)(colon - host);
    }
    if (n == 0)
        snprintf(out, len, "localhost");
    else if (is_ipv4(host, n))
        snprintf(out, len, "[%.*s]", (int)n, host);
    else
        snprintf(out, len, "%.*s", (int)n, host);
}
