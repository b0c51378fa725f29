/* The error registry (include/errors.def) and the SQLSTATE table
 * (api/db/sqlstate.c): codes are unique, statuses are errors, and every
 * PTnnn the SQL raises maps to a code answering status nnn. */
#include <dirent.h>
#include <stdlib.h>

#include "check.h"
#include "db.h"
#include "errors.h"

static void registry_is_sound(void)
{
    for (int i = 0; i < ERR_COUNT; i++) {
        const struct err_info *e = err_info((enum err_code)i);
        CHECK(e->name && *e->name);
        CHECK(e->status >= 400 && e->status <= 599);
        CHECK(e->type && *e->type);
        CHECK(e->title && *e->title);
        /* a name is a stable identifier: lower case, digits, underscores */
        CHECK(strspn(e->name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(e->name));
        for (int j = 0; j < i; j++)
            CHECK(strcmp(e->name, err_info((enum err_code)j)->name) != 0);
    }
    CHECK_EQ_STR(err_info(ERR_not_found)->name, "not_found");
    CHECK_EQ_INT(err_info(ERR_not_found)->status, 404);
    CHECK_EQ_STR(err_info(ERR_COUNT)->name, "internal_error"); /* out of range */
}

/* A PTnnn state answers status nnn, with or without a field. */
static void pt_maps(const char *state)
{
    unsigned want = (unsigned)atoi(state + 2);
    struct db_status st = db_error_classify(state, NULL, "Worded for the client.");
    CHECK(st.rc != DB_ERROR);
    CHECK_EQ_INT(err_info(st.err.code)->status, want);
    CHECK_EQ_STR(st.err.detail, "Worded for the client.");
    CHECK_EQ_STR(st.err.field, "");
    st = db_error_classify(state, "amount_minor", "must be positive");
    CHECK_EQ_INT(err_info(st.err.code)->status, want);
    if (want == 422) {
        CHECK_EQ_INT(st.err.code, ERR_validation_failed);
        CHECK_EQ_STR(st.err.field, "amount_minor");
    }
}

/* Every ERRCODE = 'PTnnn' in the SQL (migrations/ and sql/, whichever
 * exist): a new PT state without a table entry fails here. */
static int scan_sql(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int seen = 0;
    struct dirent *ent;
    while ((ent = readdir(d))) {
        size_t n = strlen(ent->d_name);
        if (n < 5 || strcmp(ent->d_name + n - 4, ".sql")) continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        char line[1024];
        while (fgets(line, sizeof line, f)) {
            for (char *p = strstr(line, "ERRCODE = 'PT"); p; p = strstr(p + 1, "ERRCODE = 'PT")) {
                char state[6];
                snprintf(state, sizeof state, "%.5s", p + 11);
                pt_maps(state);
                seen++;
            }
        }
        fclose(f);
    }
    closedir(d);
    return seen;
}

static void sqlstates(void)
{
    pt_maps("PT403");
    pt_maps("PT404");
    pt_maps("PT409");
    pt_maps("PT422");
    CHECK_EQ_INT(db_error_classify("PT403", NULL, "m").err.code, ERR_not_a_member);
    CHECK(scan_sql("migrations") + scan_sql("sql") > 0);

    /* PostgreSQL's own errors: mapped by state, their text never sent */
    struct db_status st = db_error_classify("23505", "patrons_email_key", "duplicate key value");
    CHECK_EQ_INT(st.rc, DB_CONFLICT);
    CHECK_EQ_INT(st.err.code, ERR_conflict);
    CHECK_EQ_STR(st.err.detail, "");
    CHECK_EQ_STR(st.err.field, "");
    CHECK_EQ_STR(st.err.sqlstate, "23505");
    CHECK_EQ_STR(st.err.constraint, "patrons_email_key");
    st = db_error_classify("23503", "pledges_tier_id_fkey", "violates foreign key");
    CHECK_EQ_INT(st.rc, DB_INVALID);
    CHECK_EQ_INT(st.err.code, ERR_unprocessable);
    CHECK_EQ_INT(db_error_classify("40001", NULL, NULL).rc, DB_RETRY);
    CHECK_EQ_INT(db_error_classify("40P01", NULL, NULL).rc, DB_RETRY);
    CHECK_EQ_INT(db_error_classify("08006", NULL, NULL).rc, DB_UNAVAILABLE);
    CHECK_EQ_INT(db_error_classify("53300", NULL, NULL).err.code, ERR_database_unavailable);
    CHECK_EQ_INT(db_error_classify(NULL, NULL, NULL).rc, DB_UNAVAILABLE);
    st = db_error_classify("XX000", NULL, "internal detail");
    CHECK_EQ_INT(st.rc, DB_ERROR);
    CHECK_EQ_INT(st.err.code, ERR_internal_error);
    CHECK_EQ_STR(st.err.detail, "");
}

/* A failure PostgreSQL did not word gets its outcome's generic code. */
static void generic_statuses(void)
{
    CHECK_EQ_INT(db_ok().rc, DB_OK);
    CHECK_EQ_INT(db_fail(DB_NOT_FOUND).rc, DB_NOT_FOUND);
    CHECK_EQ_INT(db_fail(DB_NOT_FOUND).err.code, ERR_not_found);
    CHECK_EQ_INT(db_fail(DB_CONFLICT).err.code, ERR_conflict);
    CHECK_EQ_INT(db_fail(DB_FORBIDDEN).err.code, ERR_forbidden);
    CHECK_EQ_INT(db_fail(DB_RETRY).err.code, ERR_database_unavailable);
    CHECK_EQ_INT(db_fail(DB_UNAVAILABLE).err.code, ERR_database_unavailable);
    CHECK_EQ_INT(db_fail(DB_ERROR).err.code, ERR_internal_error);
    CHECK_EQ_INT(db_fail((enum db_rc)99).rc, DB_ERROR); /* out of range */
    CHECK_EQ_STR(db_fail(DB_INVALID).err.detail, "");
    CHECK_EQ_STR(db_fail(DB_INVALID).err.field, "");
}

/* A db function's rule table names its statement's errors, on the status
 * it is given and on nothing else: two failures never share an error. */
static void refine(void)
{
    static const struct db_error_rule rules[] = {
        {"23503", "pledges_tier_id_fkey", ERR_validation_failed, "tier_id", "no such tier"},
        {"23505", NULL, ERR_duplicate_provider_ref, NULL, "Taken."},
        {"PT409", NULL, ERR_invalid_transition, NULL, NULL},
        {.code = ERR_COUNT},
    };
    struct db_status fk = db_error_classify("23503", "pledges_tier_id_fkey", "violates");
    struct db_status other = db_error_classify("23503", "pledges_patron_id_fkey", "violates");
    db_error_refine(&fk, rules);
    db_error_refine(&other, rules);
    CHECK_EQ_INT(fk.err.code, ERR_validation_failed);
    CHECK_EQ_STR(fk.err.field, "tier_id");
    CHECK_EQ_STR(fk.err.detail, "no such tier");
    CHECK_EQ_INT(other.rc, DB_INVALID); /* no rule for its constraint: as classified */
    CHECK_EQ_INT(other.err.code, ERR_unprocessable);
    CHECK_EQ_STR(other.err.field, "");

    struct db_status dup = db_error_classify("23505", "pledges_provider_ref_key", "dup");
    db_error_refine(&dup, rules);
    CHECK_EQ_INT(dup.err.code, ERR_duplicate_provider_ref);
    CHECK_EQ_STR(dup.err.detail, "Taken.");

    /* a rule without a detail keeps SQL's own words */
    struct db_status moved = db_error_classify("PT409", NULL, "Cannot go from canceled to active.");
    db_error_refine(&moved, rules);
    CHECK_EQ_INT(moved.err.code, ERR_invalid_transition);
    CHECK_EQ_STR(moved.err.detail, "Cannot go from canceled to active.");

    /* success and a failure without a state are left alone */
    struct db_status ok = db_ok();
    db_error_refine(&ok, rules);
    CHECK_EQ_INT(ok.rc, DB_OK);
    struct db_status none = db_fail(DB_NOT_FOUND);
    db_error_refine(&none, rules);
    CHECK_EQ_INT(none.err.code, ERR_not_found);
}

int main(void)
{
    registry_is_sound();
    sqlstates();
    generic_statuses();
    refine();
    return CHECK_DONE();
}
