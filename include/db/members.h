#ifndef PATROND_DB_MEMBERS_H
#define PATROND_DB_MEMBERS_H

/* api/db/members.c: a patron's own data (GET/DELETE /v1/me and its
 * export). */

#include <jansson.h>

#include "db.h"

struct db_status db_member_get(struct db *db, const char *patron_id, json_t **out);
/* PATCH /v1/me: the language of the patron's mails; *out is the /v1/me
 * body. */
struct db_status db_member_set_locale(struct db *db, const char *patron_id, const char *locale,
                                      json_t **out);
struct db_status db_member_export(struct db *db, const char *patron_id, json_t **out);
/* GDPR erasure by the patron: also ends sessions, links and their mail. */
struct db_status db_member_erase(struct db *db, const char *patron_id);

#endif
