#ifndef PATROND_DB_PATRONS_H
#define PATROND_DB_PATRONS_H

/* api/db/patrons.c: patrons, as admins manage them. */

#include <jansson.h>

#include "db.h"

struct db_status db_patron_create(struct db *db, const char *actor, const char *rid,
                                  const char *email, const char *name, json_t **out);
struct db_status db_patron_get(struct db *db, const char *id, json_t **out);
struct db_status db_patron_list(struct db *db, const char *q, const char *status, int limit,
                                const char *after, json_t **rows);
struct db_status db_patron_update(struct db *db, const char *actor, const char *rid, const char *id,
                                  json_t *patch, json_t **out);
struct db_status db_patron_erase(struct db *db, const char *actor, const char *rid, const char *id);
struct db_status db_patron_export(struct db *db, const char *id, json_t **out);

#endif
