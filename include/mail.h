#ifndef PATROND_MAIL_H
#define PATROND_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Outgoing e-mail (SPEC §3 Outbox): framing a message as RFC 5322 text
 * (api/core/mail.c) and handing it to PATROND_MAIL_COMMAND
 * (api/jobs/mail_pipe.c). */

struct mail {
    const char *domain;    /* ours: From is patrond@domain, Message-ID <id@domain> */
    const char *id;        /* unique per message */
    const char *to;        /* a bare address */
    const char *subject;   /* UTF-8 */
    const char *body;      /* UTF-8 plain text */
    int64_t date;          /* Unix time */
    const char *from_name; /* UTF-8 display name of From (PATROND_SITE_NAME); NULL: patrond */
};

/* The message as headers and body, LF line ends, for `sendmail -t`. NULL
 * with *problem set when a header value cannot be written safely (the
 * address holds a control character, space or non-ASCII byte) or memory
 * ran out. */
char *mail_format(const struct mail *m, size_t *len, const char **problem);

/* The host of a base URL ("https://news.example:8443/x" gives
 * "news.example"), an IPv4 host as an address literal ("[192.0.2.1]"),
 * for the domain of our From and Message-ID. */
void mail_domain(const char *base_url, char *out, size_t len);

#define MAIL_OUTPUT_MAX 301

/* Why a message was not handed over: `what` (fit for the log) and the
 * start of the mail program's stderr (which may quote the message, so it
 * goes to the outbox row only). */
struct mail_failure {
    char what[96];
    char output[MAIL_OUTPUT_MAX];
};

/* Runs `sh -c command` with the message on its standard input and waits
 * up to timeout_ms. True when it read the message and exited 0. */
bool mail_pipe(const char *command, const char *text, size_t len, int timeout_ms,
               struct mail_failure *f);

#endif
