#ifndef PATROND_DB_API_KEYS_H
#define PATROND_DB_API_KEYS_H

/* api/db/api_keys.c: API keys, stored as the SHA-256 of the key. */

#include <jansson.h>

#include "db.h"

struct db_status db_api_key_lookup(struct db *db, const char *key_hash_hex, char id[37],
                                   char scope[8]);
struct db_status db_api_key_create(struct db *db, const char *name, const char *scope,
                                   const char *key_hash_hex, char id[37]);
struct db_status db_api_key_list(struct db *db, json_t **rows);
struct db_status db_api_key_revoke(struct db *db, const char *id);

#endif
