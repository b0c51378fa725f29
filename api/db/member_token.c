/* What a member token says about a patron (sql/82_member_tokens.sql). */
#include "db/member_token.h"

struct db_status db_member_token_claims(struct db *db, const char *patron_id, json_t **out)
{
    const char *p[] = {patron_id};
    return db_json_one(db,
                       "SELECT member_token_claims(p.id) FROM patrons p"
                       " WHERE p.id = $1 AND p.erased_at IS NULL",
                       1, p, out);
}
