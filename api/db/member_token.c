/* What a member token says about a patron (sql/82_member_tokens.sql). */
#include "db/member_token.h"

struct db_status db_member_token_claims(struct db *db, const char *patron_id, json_t **out)
{
    return db_json_by_id(db,
                         "SELECT member_token_claims(p.id) FROM patrons p"
                         " WHERE p.id = $1 AND p.erased_at IS NULL",
                         patron_id, out);
}
