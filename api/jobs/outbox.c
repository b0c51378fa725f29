/* Outbox delivery (SPEC §3): due messages go to PATROND_MAIL_COMMAND one by
 * one. Each is claimed in its own short transaction (a 5-minute lease in
 * PostgreSQL, so instances never send one twice), sent with no transaction
 * open, then marked sent or rescheduled with back-off. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "db/outbox.h"
#include "jobs_list.h"
#include "log.h"
#include "mail.h"
#include "mail_text.h"

/* Well inside the 5-minute lease, so a slow send is never sent twice. */
#define MAIL_TIMEOUT_MS 30000
/* Per run, so a backlog cannot hold the job thread (and shutdown) long. */
#define BATCH_MAX 50
#define BATCH_BUDGET_MS 5000

/* A patron's mail is rendered now, in their language (include/mail_text.h);
 * other messages are the text SQL wrote. */
static bool compose(const struct outbox_msg *m, char **subject, char **body, const char **problem)
{
    *subject = *body = NULL;
    if (!m->params) return true;
    struct mail_site site = {cfg.site_name, cfg.public_url};
    return mail_text_render(m->kind, m->locale, m->params, &site, subject, body, problem);
}

/* Bodies and addresses never reach the log; the message id and how the
 * mail program failed do. Its stderr goes to the row's last_error. */
static void deliver(struct db *db, const struct outbox_msg *m, const char *domain)
{
    struct mail_failure f = {"", ""};
    const char *problem = NULL;
    char *subject, *body, *text = NULL;
    size_t len = 0;
    bool sent = false;
    if (compose(m, &subject, &body, &problem)) {
        struct mail mail = {.domain = domain,
                            .id = m->id,
                            .to = m->to,
                            .subject = subject ? subject : m->subject,
                            .body = body ? body : m->body,
                            .date = m->created_at,
                            .from_name = cfg.site_name};
        text = mail_format(&mail, &len, &problem);
    }
    if (text)
        sent = mail_pipe(cfg.mail_command, text, len, MAIL_TIMEOUT_MS, &f);
    else
        snprintf(f.what, sizeof f.what, "cannot compose it: %s", problem);
    free(text);
    struct db_status st;
    if (sent) {
        st = db_outbox_sent(db, m->id, subject, body);
    } else {
        char error[sizeof f.what + sizeof f.output + 16];
        snprintf(error, sizeof error, "%s%s%s", f.what, f.output[0] ? ": " : "", f.output);
        st = db_outbox_failed(db, m->id, error);
        log_warn("outbox: message %s not delivered: %s", m->id, f.what);
    }
    if (subject) OPENSSL_cleanse(subject, strlen(subject));
    if (body) OPENSSL_cleanse(body, strlen(body)); /* a sign-in link's token */
    free(subject);
    free(body);
    if (st.rc != DB_OK)
        log_warn("outbox: cannot record the outcome for message %s: %s", m->id, st.err.message);
}

void job_deliver_outbox(struct db *db)
{
    if (!cfg.mail_command) return;
    struct db_status st = db_outbox_abandon_expired(db);
    if (st.rc != DB_OK) {
        log_warn("outbox: cannot give up expired sign-in links: %s", st.err.message);
        return;
    }
    char domain[256];
    mail_domain(cfg.public_url, domain, sizeof domain);
    long long until = clock_ms() + BATCH_BUDGET_MS;
    for (int i = 0; i < BATCH_MAX && clock_ms() < until; i++) {
        struct outbox_msg m;
        st = db_outbox_claim(db, &m);
        if (st.rc == DB_NOT_FOUND) return;
        if (st.rc != DB_OK) {
            log_warn("outbox: cannot claim a message: %s", st.err.message);
            return;
        }
        deliver(db, &m, domain);
        db_outbox_msg_free(&m);
    }
}
