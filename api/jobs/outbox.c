/* Outbox delivery (SPEC §3): due messages go to PATROND_MAIL_COMMAND one by
 * one. Each is claimed in its own short transaction (a 5-minute lease in
 * PostgreSQL, so instances never send one twice), sent with no transaction
 * open, then marked sent or rescheduled with back-off. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "db/outbox.h"
#include "jobs_list.h"
#include "log.h"
#include "mail.h"

/* Well inside the 5-minute lease, so a slow send is never sent twice. */
#define MAIL_TIMEOUT_MS 30000
/* Per run, so a backlog cannot hold the job thread (and shutdown) long. */
#define BATCH_MAX 50
#define BATCH_BUDGET_MS 5000

/* Bodies and addresses never reach the log; the message id and how the
 * mail program failed do. Its stderr goes to the row's last_error. */
static void deliver(struct db *db, const struct outbox_msg *m, const char *domain)
{
    struct mail mail = {domain, m->id, m->to, m->subject, m->body, m->created_at};
    struct mail_failure f = {"", ""};
    const char *problem = NULL;
    size_t len = 0;
    char *text = mail_format(&mail, &len, &problem);
    bool sent = false;
    if (text)
        sent = mail_pipe(cfg.mail_command, text, len, MAIL_TIMEOUT_MS, &f);
    else
        snprintf(f.what, sizeof f.what, "cannot frame it: %s", problem);
    free(text);
    struct db_status st;
    if (sent) {
        st = db_outbox_sent(db, m->id);
    } else {
        char error[sizeof f.what + sizeof f.output + 16];
        snprintf(error, sizeof error, "%s%s%s", f.what, f.output[0] ? ": " : "", f.output);
        st = db_outbox_failed(db, m->id, error);
        log_warn("outbox: message %s not delivered: %s", m->id, f.what);
    }
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
