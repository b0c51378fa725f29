#ifndef PATROND_DB_MEMBERS_H
#define PATROND_DB_MEMBERS_H

/* api/db/members.c: a patron's own data (GET/DELETE /v1/me and its
 * export). */

#include <jansson.h>

#include "db.h"

enum db_rc db_member_get(struct db *db, const char *patron_id, json_t **out);
/* PATCH /v1/me: the language of the patron's mails; *out is the /v1/me
 * body. */
enum db_rc db_member_set_locale(struct db *db, const char *patron_id, const char *locale,
                                json_t **out);
enum db_rc db_member_export(struct db *db, const char *patron_id, json_t **out);
/* GDPR erasure by the patron: also ends sessions, links and their mail. */
enum db_rc db_member_erase(struct db *db, const char *patron_id);

#endif
