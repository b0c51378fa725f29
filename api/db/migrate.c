/* Forward-only schema migrations, recorded with a checksum so an edited
 * file is noticed instead of silently diverging. */
#include <stdlib.h>
#include <string.h>

#include "db/migrate.h"
#include "encode.h"

/* Any constant works; it only has to be the same in every instance. */
#define MIGRATE_LOCK "7265676174726f6e"

static void checksum(const char *sql, char hex[65])
{
    uint8_t d[32];
    if (!sha256(sql, strlen(sql), d)) memset(d, 0, sizeof d);
    hex_encode(d, sizeof d, hex);
}

static enum db_rc ensure_table(struct db *db)
{
    return db_script(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version integer PRIMARY KEY, name text NOT NULL,"
                         " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
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
    enum db_rc rc =
        db_exec(db,
                "SELECT version, name, checksum,"
                " to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                " FROM schema_migrations ORDER BY version",
                0, NULL, applied);
    if (rc == DB_OK) return true;
    if (out) fprintf(out, "migrate: cannot read schema_migrations: %s\n", db_last_error(db));
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

static bool apply_one(struct db *db, const struct migration *m, FILE *out)
{
    char hex[65], version[16];
    checksum(m->sql, hex);
    snprintf(version, sizeof version, "%d", m->version);
    const char *p[] = {version, m->name, hex};
    enum db_rc rc = db_script(db, "BEGIN");
    if (rc == DB_OK) rc = db_script(db, m->sql);
    if (rc == DB_OK)
        rc = db_command(
            db, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3,
            p);
    if (rc == DB_OK) rc = db_script(db, "COMMIT");
    if (rc != DB_OK) {
        fprintf(out, "migrate: %s failed: %s", m->name, db_last_error(db));
        db_script(db, "ROLLBACK");
        return false;
    }
    fprintf(out, "migrate: applied %s\n", m->name);
    return true;
}

bool migrate_apply(struct db *db, FILE *out)
{
    if (db_script(db, "SELECT pg_advisory_lock(x'" MIGRATE_LOCK "'::bigint)") != DB_OK) {
        fprintf(out, "migrate: cannot reach the database: %s\n", db_last_error(db));
        return false;
    }
    PGresult *applied = NULL;
    bool ok = ensure_table(db) == DB_OK && load_applied(db, &applied, out) && verify(applied, out);
    int done = 0;
    for (size_t i = 0; ok && i < migrations_count; i++) {
        if (applied_checksum(applied, migrations[i].version)) continue;
        ok = apply_one(db, &migrations[i], out);
        done += ok;
    }
    PQclear(applied);
    db_script(db, "SELECT pg_advisory_unlock(x'" MIGRATE_LOCK "'::bigint)");
    if (ok) fprintf(out, "migrate: %d applied, schema is current\n", done);
    return ok;
}

bool migrate_status(struct db *db, FILE *out)
{
    PGresult *applied = NULL;
    if (ensure_table(db) != DB_OK || !load_applied(db, &applied, out)) {
        PQclear(applied);
        return false;
    }
    bool ok = verify(applied, out);
    for (size_t i = 0; i < migrations_count; i++) {
        const char *when = NULL;
        for (int r = 0; r < PQntuples(applied); r++)
            if (atoi(PQgetvalue(applied, r, 0)) == migrations[i].version)
                when = PQgetvalue(applied, r, 3);
        fprintf(out, "%04d  %-40s  %s\n", migrations[i].version, migrations[i].name,
                when ? when : "pending");
    }
    PQclear(applied);
    return ok;
}

int migrate_pending(struct db *db)
{
    PGresult *applied = NULL;
    PGresult *table = NULL;
    if (db_exec(db, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, &table) !=
        DB_OK)
        return MIGRATE_UNREACHABLE;
    bool exists = !strcmp(PQgetvalue(table, 0, 0), "t");
    PQclear(table);
    if (!exists) return (int)migrations_count;
    if (!load_applied(db, &applied, NULL)) return MIGRATE_UNREACHABLE;
    int pending = verify(applied, NULL) ? 0 : MIGRATE_DIVERGED;
    for (size_t i = 0; pending >= 0 && i < migrations_count; i++)
        if (!applied_checksum(applied, migrations[i].version)) pending++;
    PQclear(applied);
    return pending;
}
