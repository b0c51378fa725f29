/* Forward-only schema migrations, recorded with a checksum so an edited
 * file is noticed instead of silently diverging, and the SQL code.
 *
 * Tables, indexes and data changes live in migrations/NNNN_*.sql: each is
 * applied once and never edited afterwards. Functions, trigger functions,
 * triggers and views live once each in sql/NN_area.sql: the whole set is
 * run again (CREATE OR REPLACE) whenever it changes or a migration is
 * applied, and its checksum is recorded in schema_code. CREATE OR REPLACE
 * cannot change a function's arguments or result type, nor remove one:
 * such a change needs a migration that DROPs the old function first (the
 * code then creates the new one in the same transaction). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db/migrate.h"
#include "encode.h"

/* Any constant works; it only has to be the same in every instance. */
#define MIGRATE_LOCK "7265676174726f6e"

/* When a row was applied, as RFC 3339 UTC; written out here, as the sql/
 * functions (rfc3339()) may not exist yet. */
#define APPLIED_AT " to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static void checksum(const char *sql, char hex[65])
{
    uint8_t d[32];
    if (!sha256(sql, strlen(sql), d)) memset(d, 0, sizeof d);
    hex_encode(d, sizeof d, hex);
}

/* The checksum of the whole SQL code: every file's name and text. */
static char code_hex[65];
static void code_checksum_once(void)
{
    size_t len = 0;
    for (size_t i = 0; i < sql_code_count; i++)
        len += strlen(sql_code[i].name) + strlen(sql_code[i].sql) + 2;
    char *all = malloc(len + 1), *p = all;
    if (!all) abort();
    for (size_t i = 0; i < sql_code_count; i++) {
        size_t n = strlen(sql_code[i].name) + 1;
        memcpy(p, sql_code[i].name, n);
        p += n;
        n = strlen(sql_code[i].sql) + 1;
        memcpy(p, sql_code[i].sql, n);
        p += n;
    }
    uint8_t d[32];
    if (!sha256(all, len, d)) memset(d, 0, sizeof d);
    hex_encode(d, sizeof d, code_hex);
    free(all);
}

static const char *code_checksum(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, code_checksum_once);
    return code_hex;
}

static struct db_status ensure_table(struct db *db)
{
    return db_script(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version integer PRIMARY KEY, name text NOT NULL,"
                         " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());"
                         "CREATE TABLE IF NOT EXISTS schema_code ("
                         " id boolean PRIMARY KEY DEFAULT true CHECK (id),"
                         " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
}

/* The applied SQL code: its checksum and time into `hex` and `when` (empty
 * when never applied). */
static struct db_status load_code(struct db *db, char hex[65], char when[32])
{
    PGresult *res = NULL;
    hex[0] = when[0] = '\0';
    struct db_status st =
        db_exec(db, "SELECT checksum," APPLIED_AT " FROM schema_code", 0, NULL, &res);
    if (st.rc != DB_OK) return st;
    if (PQntuples(res) > 0) {
        snprintf(hex, 65, "%s", PQgetvalue(res, 0, 0));
        snprintf(when, 32, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return st;
}

/* Runs every sql/ file and records the set's checksum, inside the caller's
 * transaction. */
static bool apply_code(struct db *db, FILE *out)
{
    for (size_t i = 0; i < sql_code_count; i++) {
        struct db_status st = db_script(db, sql_code[i].sql);
        if (st.rc != DB_OK) {
            fprintf(out, "migrate: %s failed: %s", sql_code[i].name, st.err.message);
            return false;
        }
    }
    const char *p[] = {code_checksum()};
    struct db_status st =
        db_command(db,
                   "INSERT INTO schema_code (id, checksum) VALUES (true, $1)"
                   " ON CONFLICT (id) DO UPDATE SET checksum = $1, applied_at = now()",
                   1, p);
    if (st.rc != DB_OK) {
        fprintf(out, "migrate: recording the SQL code failed: %s", st.err.message);
        return false;
    }
    return true;
}

/* The applied checksum of `version`, or NULL when not applied. */
static const char *applied_checksum(PGresult *applied, int version)
{
    for (int i = 0; i < PQntuples(applied); i++)
        if (atoi(PQgetvalue(applied, i, 0)) == version) return PQgetvalue(applied, i, 2);
    return NULL;
}

static bool load_applied(struct db *db, PGresult **applied, FILE *out)
{
    struct db_status st = db_exec(
        db, "SELECT version, name, checksum," APPLIED_AT " FROM schema_migrations ORDER BY version",
        0, NULL, applied);
    if (st.rc == DB_OK) return true;
    if (out) fprintf(out, "migrate: cannot read schema_migrations: %s\n", st.err.message);
    return false;
}

/* Every applied migration must still be the file we ship, and the
 * database must not be newer than this binary. */
static bool verify(PGresult *applied, FILE *out)
{
    bool ok = true;
    for (int i = 0; i < PQntuples(applied); i++) {
        int v = atoi(PQgetvalue(applied, i, 0));
        const struct migration *m = NULL;
        for (size_t j = 0; j < migrations_count; j++)
            if (migrations[j].version == v) m = &migrations[j];
        char hex[65];
        if (m) checksum(m->sql, hex);
        if (!m) {
            if (out) fprintf(out, "migrate: database has migration %d unknown to this binary\n", v);
            ok = false;
        } else if (strcmp(hex, PQgetvalue(applied, i, 2)) != 0) {
            if (out) fprintf(out, "migrate: %s was changed after it was applied\n", m->name);
            ok = false;
        }
    }
    return ok;
}

/* One migration in one transaction; with `code`, the SQL code runs in
 * the same transaction after it. */
static bool apply_one(struct db *db, const struct migration *m, bool code, FILE *out)
{
    char hex[65], version[16];
    checksum(m->sql, hex);
    snprintf(version, sizeof version, "%d", m->version);
    const char *p[] = {version, m->name, hex};
    struct db_status st = db_script(db, "BEGIN");
    if (st.rc == DB_OK) st = db_script(db, m->sql);
    if (st.rc == DB_OK)
        st = db_command(
            db, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3,
            p);
    if (st.rc != DB_OK) {
        fprintf(out, "migrate: %s failed: %s", m->name, st.err.message);
        db_script(db, "ROLLBACK");
        return false;
    }
    if (code && !apply_code(db, out)) {
        fprintf(out, "migrate: %s rolled back with the SQL code\n", m->name);
        db_script(db, "ROLLBACK");
        return false;
    }
    st = db_script(db, "COMMIT");
    if (st.rc != DB_OK) {
        fprintf(out, "migrate: %s failed: %s", m->name, st.err.message);
        db_script(db, "ROLLBACK");
        return false;
    }
    fprintf(out, "migrate: applied %s\n", m->name);
    if (code) fprintf(out, "migrate: applied the SQL code (%zu files)\n", sql_code_count);
    return true;
}

/* The SQL code alone, in its own transaction. */
static bool apply_code_alone(struct db *db, FILE *out)
{
    struct db_status st = db_script(db, "BEGIN");
    bool ok = st.rc == DB_OK && apply_code(db, out);
    if (ok) st = db_script(db, "COMMIT");
    if (ok && st.rc == DB_OK) {
        fprintf(out, "migrate: applied the SQL code (%zu files)\n", sql_code_count);
        return true;
    }
    if (ok) fprintf(out, "migrate: the SQL code failed: %s", st.err.message);
    db_script(db, "ROLLBACK");
    return false;
}

bool migrate_apply(struct db *db, FILE *out)
{
    struct db_status st = db_script(db, "SELECT pg_advisory_lock(x'" MIGRATE_LOCK "'::bigint)");
    if (st.rc != DB_OK) {
        fprintf(out, "migrate: cannot reach the database: %s\n", st.err.message);
        return false;
    }
    PGresult *applied = NULL;
    bool ok =
        ensure_table(db).rc == DB_OK && load_applied(db, &applied, out) && verify(applied, out);
    size_t last = migrations_count; /* the last pending migration */
    for (size_t i = 0; ok && i < migrations_count; i++)
        if (!applied_checksum(applied, migrations[i].version)) last = i;
    int done = 0;
    for (size_t i = 0; ok && last < migrations_count && i <= last; i++) {
        if (applied_checksum(applied, migrations[i].version)) continue;
        ok = apply_one(db, &migrations[i], i == last, out);
        done += ok;
    }
    PQclear(applied);
    char hex[65], when[32];
    if (ok && last == migrations_count) {
        st = load_code(db, hex, when);
        ok = st.rc == DB_OK;
        if (!ok) fprintf(out, "migrate: cannot read schema_code: %s", st.err.message);
        if (ok && strcmp(hex, code_checksum()) != 0) ok = apply_code_alone(db, out);
    }
    db_script(db, "SELECT pg_advisory_unlock(x'" MIGRATE_LOCK "'::bigint)");
    if (ok) fprintf(out, "migrate: %d applied, schema is current\n", done);
    return ok;
}

bool migrate_status(struct db *db, FILE *out)
{
    PGresult *applied = NULL;
    char hex[65], when[32];
    if (ensure_table(db).rc != DB_OK || !load_applied(db, &applied, out)) {
        PQclear(applied);
        return false;
    }
    struct db_status st = load_code(db, hex, when);
    if (st.rc != DB_OK) {
        fprintf(out, "migrate: cannot read schema_code: %s", st.err.message);
        PQclear(applied);
        return false;
    }
    bool ok = verify(applied, out);
    for (size_t i = 0; i < migrations_count; i++) {
        const char *at = NULL;
        for (int r = 0; r < PQntuples(applied); r++)
            if (atoi(PQgetvalue(applied, r, 0)) == migrations[i].version)
                at = PQgetvalue(applied, r, 3);
        fprintf(out, "%04d  %-40s  %s\n", migrations[i].version, migrations[i].name,
                at ? at : "pending");
    }
    char files[48];
    snprintf(files, sizeof files, "sql/ (%zu files, %.12s)", sql_code_count, code_checksum());
    if (!hex[0])
        fprintf(out, "code  %-40s  pending\n", files);
    else if (strcmp(hex, code_checksum()) != 0)
        fprintf(out, "code  %-40s  changed since %s, pending\n", files, when);
    else
        fprintf(out, "code  %-40s  %s\n", files, when);
    PQclear(applied);
    return ok;
}

int migrate_pending(struct db *db)
{
    PGresult *applied = NULL;
    PGresult *table = NULL;
    struct db_status st = db_exec(db,
                                  "SELECT to_regclass('schema_migrations') IS NOT NULL,"
                                  " to_regclass('schema_code') IS NOT NULL",
                                  0, NULL, &table);
    if (st.rc != DB_OK) return MIGRATE_UNREACHABLE;
    bool exists = !strcmp(PQgetvalue(table, 0, 0), "t");
    bool code_exists = !strcmp(PQgetvalue(table, 0, 1), "t");
    PQclear(table);
    if (!exists) return (int)migrations_count + 1;
    char hex[65] = "", when[32];
    if (code_exists && load_code(db, hex, when).rc != DB_OK) return MIGRATE_UNREACHABLE;
    if (!load_applied(db, &applied, NULL)) return MIGRATE_UNREACHABLE;
    int pending = verify(applied, NULL) ? 0 : MIGRATE_DIVERGED;
    for (size_t i = 0; pending >= 0 && i < migrations_count; i++)
        if (!applied_checksum(applied, migrations[i].version)) pending++;
    if (pending >= 0 && strcmp(hex, code_checksum()) != 0) pending++;
    PQclear(applied);
    return pending;
}
