#ifndef PATROND_DB_H
#define PATROND_DB_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "errors.h"

/* Outcomes of database calls, mapped to HTTP by reply_db(). */
enum db_rc {
    DB_OK = 0,
    DB_NOT_FOUND,   /* 404 */
    DB_CONFLICT,    /* unique violation or a state conflict: 409 */
    DB_INVALID,     /* a check or foreign-key violation: 422 */
    DB_FORBIDDEN,   /* a domain rule refuses this caller (PT403): 403 */
    DB_RETRY,       /* serialization failure / deadlock: retried by db_txn */
    DB_UNAVAILABLE, /* the database cannot be reached: 503 */
    DB_ERROR,       /* anything else: 500 (logged) */
};

struct db;

/* The calling thread's connection, connected lazily and re-connected after
 * the server went away. Never NULL. */
struct db *db_thread(void);
/* The same for read-only work that may lag a little (tally, reports): a
 * connection to PATROND_DATABASE_READ_URL when that names another server. */
struct db *db_thread_read(void);
/* grace_days: PATROND_GRACE_DAYS, which the membership rules in SQL read
 * from every session as the setting patrond.grace_days; default_language:
 * the first of PATROND_LANGUAGES (a code of letters and hyphens), the
 * patrons' locale until they choose one, as patrond.default_language. */
void db_global_init(const char *conninfo, const char *read_conninfo, unsigned grace_days,
                    const char *default_language);
void db_global_shutdown(void);

/* What a call came to: its outcome, and when that is not DB_OK, its error.
 * Every db function returns one, so the error travels with the call that
 * failed; nothing about it stays behind on the connection. */
struct db_error {
    enum err_code code; /* the registry code the client gets */
    char field[64];     /* the request field a PT422 names (its CONSTRAINT), or "" */
    char detail[256];   /* SQL's own words for a PTnnn error, or "" */
    /* what PostgreSQL said: for a db function's rule table and for logs */
    char sqlstate[6];
    char constraint[64];
    char message[512];
};
struct db_status {
    enum db_rc rc;
    struct db_error err; /* meaningful when rc is not DB_OK */
};
/* DB_OK. */
struct db_status db_ok(void);
/* A failure that PostgreSQL did not word (no row, out of memory, retries
 * used up): rc with its generic registry code. */
struct db_status db_fail(enum db_rc rc);

/* Runs a parameterised statement (prepared once per connection and
 * re-prepared after a reconnect; `sql` must be a string literal, as its
 * address is the cache key). On DB_OK *res holds the result, to PQclear. */
struct db_status db_exec(struct db *db, const char *sql, int n, const char *const *params,
                         PGresult **res);
/* db_exec with the result in binary format: a bytea column's value is its
 * bytes (PQgetlength of them), a text column's its UTF-8 text. */
struct db_status db_exec_binary(struct db *db, const char *sql, int n, const char *const *params,
                                PGresult **res);
/* A statement returning one text/json column in one row: parsed into *out.
 * No row is DB_NOT_FOUND; a NULL value yields JSON null. */
struct db_status db_json_one(struct db *db, const char *sql, int n, const char *const *params,
                             json_t **out);
/* db_json_one of a statement whose one parameter ($1) is an id. */
struct db_status db_json_by_id(struct db *db, const char *sql, const char *id, json_t **out);
/* A statement returning one json column per row: a JSON array in *out. */
struct db_status db_json_rows(struct db *db, const char *sql, int n, const char *const *params,
                              json_t **out);
/* A statement whose result is not needed. */
struct db_status db_command(struct db *db, const char *sql, int n, const char *const *params);
/* A statement answering one integer (a job's count); *out is 0 when it
 * answers no row. */
struct db_status db_int(struct db *db, const char *sql, int n, const char *const *params, int *out);

/* Runs fn inside BEGIN ... COMMIT, retrying the whole transaction on
 * serialization failures and deadlocks. `actor` (an api key id, or NULL)
 * and `request_id` are visible to the audit trigger. fn's status other
 * than DB_OK rolls back and is returned. */
typedef struct db_status (*db_txn_fn)(struct db *db, void *arg);
struct db_status db_txn(struct db *db, const char *actor, const char *request_id, db_txn_fn fn,
                        void *arg);

/* Runs trusted multi-statement SQL (embedded migrations only) with the
 * simple-query protocol. */
struct db_status db_script(struct db *db, const char *sql);

/* One statement returning one JSON value, run as an audited transaction
 * (db_txn with a single db_json_one). */
struct db_status db_write_json(struct db *db, const char *actor, const char *request_id,
                               const char *sql, int n, const char *const *params, json_t **out);

/* db_write_json for a statement whose answer is not needed (a delete):
 * no row is still DB_NOT_FOUND. */
struct db_status db_write(struct db *db, const char *actor, const char *request_id, const char *sql,
                          int n, const char *const *params);
/* db_write_json of an update by patch: `sql` takes $1 the id and $2 the
 * patch (a JSON object, sent as its text). */
struct db_status db_write_patch(struct db *db, const char *actor, const char *request_id,
                                const char *sql, const char *id, json_t *patch, json_t **out);

/* One statement that is a transaction by itself (autocommit), which saves
 * the BEGIN and COMMIT round trips of db_write_json on hot paths. Only for
 * statements that are safe to run twice: one whose connection died is
 * sent again, and it may have committed the first time. Retried on
 * serialization failures and deadlocks. Nothing is audited. */
struct db_status db_call_json(struct db *db, const char *sql, int n, const char *const *params,
                              json_t **out);
/* Statement parameters some of which are raw bytes (a bytea sent as is,
 * not as hex text): where formats[i] is 1, values[i] holds lengths[i]
 * bytes. lengths and formats may be NULL when every parameter is text. */
struct db_params {
    int n;
    const char *const *values;
    const int *lengths;
    const int *formats;
};
/* db_call_json with such parameters. */
struct db_status db_call_json_params(struct db *db, const char *sql, const struct db_params *p,
                                     json_t **out);

/* The status for a failed statement from its SQLSTATE (NULL: no answer
 * from the server), CONSTRAINT and primary message: a table lookup, see
 * api/db/sqlstate.c. */
struct db_status db_error_classify(const char *sqlstate, const char *constraint,
                                   const char *message);

/* A db function that knows what its statement's errors mean names them:
 * the first entry whose sqlstate and constraint (each NULL = any) match
 * st's error replaces its code, and its field and detail when given. The
 * list ends with an entry whose code is ERR_COUNT. */
struct db_error_rule {
    const char *sqlstate;
    const char *constraint;
    enum err_code code;
    const char *field;
    const char *detail;
};
void db_error_refine(struct db_status *st, const struct db_error_rule *rules);

/* The connection itself, connected if need be (NULL when the database
 * cannot be reached), for the one job that waits on its socket (LISTEN).
 * *fresh tells whether it was (re)connected by this call. */
PGconn *db_pg(struct db *db, bool *fresh);
/* Closes the connection after the caller found it broken. */
void db_disconnect(struct db *db);

/* Connections currently checked out (executing), for /metrics. */
int db_in_use(void);
/* Errors since start, for /metrics. */
unsigned long db_error_count(void);

#endif
