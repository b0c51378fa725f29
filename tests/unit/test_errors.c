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
    struct db_error e = db_error_classify(state, NULL, "Worded for the client.");
    CHECK(e.rc != DB_ERROR);
    CHECK_EQ_INT(err_info(e.code)->status, want);
    CHECK_EQ_STR(e.detail, "Worded for the client.");
    CHECK_EQ_STR(e.field, "");
    e = db_error_classify(state, "amount_minor", "must be positive");
    CHECK_EQ_INT(err_info(e.code)->status, want);
    if (want == 422) {
        CHECK_EQ_INT(e.code, ERR_validation_failed);
        CHECK_EQ_STR(e.field, "amount_minor");
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
    CHECK_EQ_INT(db_error_classify("PT403", NULL, "m").code, ERR_not_a_member);
    CHECK(scan_sql("migrations") + scan_sql("sql") > 0);

    /* PostgreSQL's own errors: mapped by state, their text never sent */
    struct db_error e = db_error_classify("23505", "patrons_email_key", "duplicate key value");
    CHECK_EQ_INT(e.rc, DB_CONFLICT);
    CHECK_EQ_INT(e.code, ERR_conflict);
    CHECK_EQ_STR(e.detail, "");
    CHECK_EQ_STR(e.field, "");
    e = db_error_classify("23503", "pledges_tier_id_fkey", "violates foreign key");
    CHECK_EQ_INT(e.rc, DB_INVALID);
    CHECK_EQ_INT(e.code, ERR_unprocessable);
    CHECK_EQ_INT(db_error_classify("40001", NULL, NULL).rc, DB_RETRY);
    CHECK_EQ_INT(db_error_classify("40P01", NULL, NULL).rc, DB_RETRY);
    CHECK_EQ_INT(db_error_classify("08006", NULL, NULL).rc, DB_UNAVAILABLE);
    CHECK_EQ_INT(db_error_classify("53300", NULL, NULL).code, ERR_database_unavailable);
    CHECK_EQ_INT(db_error_classify(NULL, NULL, NULL).rc, DB_UNAVAILABLE);
    e = db_error_classify("XX000", NULL, "internal detail");
    CHECK_EQ_INT(e.rc, DB_ERROR);
    CHECK_EQ_INT(e.code, ERR_internal_error);
    CHECK_EQ_STR(e.detail, "");
}

int main(void)
{
    registry_is_sound();
    sqlstates();
    return CHECK_DONE();
}
