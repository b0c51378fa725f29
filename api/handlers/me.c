/* /v1/me: a signed-in patron's own data (SPEC §3): read, export, erase,
 * and the language of their mails (SPEC §4c). */
#include "db/members.h"
#include "handlers.h"
#include "locale_field.h"
#include "tally_notify.h"

void me_get(struct req *r)
{
    json_t *me = NULL;
    struct db_status st = db_member_get(r->db, r->caller.id, &me);
    reply_result(r, &st, 200, me);
}

/* PATCH /v1/me {"locale"}: answers the /v1/me body. */
void me_update(struct req *r)
{
    const char *offered[LOCALE_CHOICES_MAX + 1], *locale = NULL;
    locale_choices(offered);
    struct field fields[] = {
        {.name = "locale",
         .type = FIELD_ENUM,
         .required = true,
         .choices = offered,
         .out.str = &locale},
        {0},
    };
    if (!req_validate(r, fields)) return;
    json_t *me = NULL;
    struct db_status st = db_member_set_locale(r->db, r->caller.id, locale, &me);
    reply_result(r, &st, 200, me);
}

/* Everything held about the patron (GDPR art. 15/20). */
void me_export(struct req *r)
{
    json_t *doc = NULL;
    struct db_status st = db_member_export(r->db, r->caller.id, &doc);
    reply_result(r, &st, 200, doc);
}

/* GDPR erasure by the patron, which also ends this very session. */
void me_erase(struct req *r)
{
    struct db_status st = db_member_erase(r->db, r->caller.id);
    if (st.rc == DB_OK) tally_changed(); /* erasure withdraws open ballots */
    if (st.rc == DB_OK)
        reply_empty(r, 204);
    else
        reply_db(r, &st);
}
