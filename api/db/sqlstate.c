/* From a PostgreSQL error to the client's error: SQLSTATE → db_rc and
 * registry code, as a table. SQL raises domain errors with the custom
 * class PT (PT403, PT404, PT409, PT422) and words the message for the
 * client; a PT422 names the offending request field in its CONSTRAINT.
 * Nothing here reads the English message: it is only passed on as detail.
 * Pure (no connection), so the unit tests check the table directly. */
#include <stdio.h>
#include <string.h>

#include "db.h"

struct state_rule {
    const char *state; /* a whole SQLSTATE, or a two-character class */
    enum db_rc rc;
    enum err_code code;
};

/* First match wins, so exact states come before their class. */
static const struct state_rule rules[] = {
    {"PT403", DB_FORBIDDEN, ERR_not_a_member}, /* SQL refuses only non-members today */
    {"PT404", DB_NOT_FOUND, ERR_not_found},
    {"PT409", DB_CONFLICT, ERR_conflict},
    {"PT422", DB_INVALID, ERR_unprocessable}, /* validation_failed when it names a field */
    {"40001", DB_RETRY, ERR_database_unavailable},
    {"40P01", DB_RETRY, ERR_database_unavailable},
    {"23505", DB_CONFLICT, ERR_conflict},
    {"53300", DB_UNAVAILABLE, ERR_database_unavailable},
    {"23", DB_INVALID, ERR_unprocessable},
    {"22", DB_INVALID, ERR_unprocessable},
    {"08", DB_UNAVAILABLE, ERR_database_unavailable},
    {"57", DB_UNAVAILABLE, ERR_database_unavailable},
};

static bool state_matches(const char *rule, const char *state)
{
    size_t n = strlen(rule);
    return n == 2 ? !strncmp(rule, state, 2) : !strcmp(rule, state);
}

struct db_error db_error_classify(const char *state, const char *constraint, const char *message)
{
    struct db_error e = {DB_UNAVAILABLE, ERR_database_unavailable, "", ""};
    if (!state) return e; /* no answer: the server went away */
    e.rc = DB_ERROR;
    e.code = ERR_internal_error;
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
        if (!state_matches(rules[i].state, state)) continue;
        e.rc = rules[i].rc;
        e.code = rules[i].code;
        break;
    }
    /* Only PTnnn messages are written for the client; PostgreSQL's own
     * (constraint names, values) are not. */
    bool domain = !strncmp(state, "PT", 2) && message;
    if (domain) snprintf(e.detail, sizeof e.detail, "%s", message);
    if (domain && e.rc == DB_INVALID && constraint && *constraint) {
        snprintf(e.field, sizeof e.field, "%s", constraint);
        e.code = ERR_validation_failed;
    }
    return e;
}
