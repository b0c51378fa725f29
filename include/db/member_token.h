#ifndef PATROND_DB_MEMBER_TOKEN_H
#define PATROND_DB_MEMBER_TOKEN_H

/* api/db/member_token.c: what a member token says about a patron. */

#include <jansson.h>

#include "db.h"

/* {"sub", "member", "member_until", "tier", "vote_weight"} of a patron
 * who is not erased (DB_NOT_FOUND otherwise), by the membership rules of
 * sql/20_membership.sql, all from one snapshot. */
struct db_status db_member_token_claims(struct db *db, const char *patron_id, json_t **out);

#endif
