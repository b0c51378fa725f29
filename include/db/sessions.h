#ifndef PATROND_DB_SESSIONS_H
#define PATROND_DB_SESSIONS_H

/* api/db/sessions.c: patron sessions as the HTTP layer checks them. */

#include "db.h"

/* The patron id of a live (unexpired, unrevoked) session with this token
 * hash. */
struct db_status db_session_lookup(struct db *db, const char *token_hash_hex, char patron_id[37]);

#endif
