#ifndef PATROND_MAIL_TEXT_H
#define PATROND_MAIL_TEXT_H

#include <stdbool.h>

/* A patron's mail in their language (SPEC §4c): SQL queues its kind and
 * parameters (sql/36_mails.sql), and the delivery job renders subject and
 * body from the catalogue's "mail" object when it sends. */

struct mail_site {
    const char *name;       /* PATROND_SITE_NAME */
    const char *public_url; /* PATROND_PUBLIC_URL, the base of every link */
};

/* Renders mail `kind` ("mail.<kind>.subject" and ".body", the signature
 * "mail.signature" appended) in `lang` (NULL, a language not offered, or
 * one whose catalogue lacks this mail: all of it in the default language),
 * any other missing text falling back to the default language's.
 * `params` is the JSON object SQL queued: amount_minor and currency become
 * {amount} (formatted for the language), paid_at and until become {date}
 * and {until}, count picks the plural form of "mail.<kind>.days" as
 * {days}; link, reason and payment_id are used as they are; {site},
 * {members_url}, {donate_url} and {pay_again_url} are built here. Sets
 * *subject and *body (malloc'd, the caller frees) and returns true; else
 * false with *problem saying why (an unknown kind, params not an object,
 * out of memory). */
bool mail_text_render(const char *kind, const char *lang, const char *params,
                      const struct mail_site *site, char **subject, char **body,
                      const char **problem);

#endif
