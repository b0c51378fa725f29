/* From a PostgreSQL error to the client's error: SQLSTATE → db_rc and
 * registry code, as a table; and the statuses a db function builds itself. SQL raises domain errors
 * with the custom class PT (PT403, PT404, PT409, PT422) and words the message for the client; a
 * PT422 names the offending request field in its CONSTRAINT. Nothing here reads the English
 * message: it is only passed on as detail. Pure (no connection), so the unit tests check the table
 * directly. */
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

/* The generic error for each outcome, for a call that PostgreSQL did not
 * answer with an error of its own (no row, out of memory). */
static const enum err_code generic[] = {
    [DB_OK] = ERR_internal_error,
    [DB_NOT_FOUND] = ERR_not_found,
    [DB_CONFLICT] = ERR_conflict,
    [DB_INVALID] = ERR_unprocessable,
    [DB_FORBIDDEN] = ERR_forbidden,
    [DB_RETRY] = ERR_database_unavailable,
    [DB_UNAVAILABLE] = ERR_database_unavailable,
    [DB_ERROR] = ERR_internal_error,
};

struct db_status db_ok(void)
{
    return (struct db_status){.rc = DB_OK, .err.code = ERR_internal_error};
}

struct db_status db_fail(enum db_rc rc)
{
    if ((unsigned)rc >= sizeof generic / sizeof *generic) rc = DB_ERROR;
    return (struct db_status){.rc = rc, .err.code = generic[rc]};
}

struct db_status db_error_classify(const char *state, const char *constraint, const char *message)
{
    struct db_status st = db_fail(DB_UNAVAILABLE);
    if (!state) return st; /* no answer: the server went away */
    snprintf(st.err.sqlstate, sizeof st.err.sqlstate, "%s", state);
    snprintf(st.err.constraint, sizeof st.err.constraint, "%s", constraint ? constraint : "");
    st.rc = DB_ERROR;
    st.err.code = ERR_internal_error;
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
        if (!state_matches(rules[i].state, state)) continue;
        st.rc = rules[i].rc;
        st.err.code = rules[i].code;
        break;
    }
    /* Only PTnnn messages are written for the client; PostgreSQL's own
     * (constraint names, values) are not. */
    bool domain = !strncmp(state, "PT", 2) && message;
    if (domain) snprintf(st.err.detail, sizeof st.err.detail, "%s", message);
    if (domain && st.rc == DB_INVALID && constraint && *constraint) {
        snprintf(st.err.field, sizeof st.err.field, "%s", constraint);
        st.err.code = ERR_validation_failed;
    }
    return st;
}

void db_error_refine(struct db_status *st, const struct db_error_rule *rules)
{
    if (st->rc == DB_OK) return;
    for (const struct db_error_rule *r = rules; r->code != ERR_COUNT; r++) {
        if (r->sqlstate && strcmp(r->sqlstate, st->err.sqlstate)) continue;
        if (r->constraint && strcmp(r->constraint, st->err.constraint)) continue;
        st->err.code = r->code;
        if (r->field) snprintf(st->err.field, sizeof st->err.field, "%s", r->field);
        if (r->detail) snprintf(st->err.detail, sizeof st->err.detail, "%s", r->detail);
        return;
    }
}
