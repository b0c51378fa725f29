/* Per-thread PostgreSQL connections, prepared-statement cache, error
 * classification and the transaction runner. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "metrics.h"

#define STMT_SLOTS 512
#define TXN_MAX_ATTEMPTS 10

struct stmt_slot {
    const char *sql;
    unsigned long gen;
};

struct db {
    PGconn *pg;
    unsigned long gen; /* bumped on every (re)connect: prepared statements are per session */
    bool in_txn;
    struct stmt_slot stmts[STMT_SLOTS];
    const char *conninfo;
    struct db *next;
};

static char *conninfo, *read_conninfo;
static char session_options[224];
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db *registry;
static _Thread_local struct db *thread_db, *thread_read_db;
static atomic_int in_use;
static atomic_ulong errors;

/* What /metrics shows of the connections, handed to core's registry. */
static long long metric_in_use(void)
{
    return db_in_use();
}

static long long metric_errors(void)
{
    return (long long)db_error_count();
}

void db_global_init(const char *info, const char *read_info, unsigned grace_days,
                    const char *default_language)
{
    snprintf(session_options, sizeof session_options,
             "-c statement_timeout=15000 -c idle_in_transaction_session_timeout=30000 "
             "-c TimeZone=UTC -c patrond.grace_days=%u -c patrond.default_language=%s",
             grace_days, default_language);
    free(conninfo);
    free(read_conninfo);
    conninfo = strdup(info);
    read_conninfo = read_info && strcmp(read_info, info) ? strdup(read_info) : NULL;
    metrics_register("patrond_db_connections_in_use", "Database connections executing a statement.",
                     METRIC_GAUGE, metric_in_use);
    metrics_register("patrond_db_errors_total", "Database errors and lost connections.",
                     METRIC_COUNTER, metric_errors);
}

void db_global_shutdown(void)
{
    pthread_mutex_lock(&registry_lock);
    while (registry) {
        struct db *d = registry;
        registry = d->next;
        if (d->pg) PQfinish(d->pg);
        free(d);
    }
    pthread_mutex_unlock(&registry_lock);
    thread_db = thread_read_db = NULL;
    free(conninfo);
    free(read_conninfo);
    conninfo = read_conninfo = NULL;
}

static struct db *db_new(const char *info)
{
    struct db *d = calloc(1, sizeof *d);
    if (!d) abort(); /* out of memory at thread start: nothing sensible left to do */
    d->conninfo = info;
    pthread_mutex_lock(&registry_lock);
    d->next = registry;
    registry = d;
    pthread_mutex_unlock(&registry_lock);
    return d;
}

struct db *db_thread(void)
{
    if (!thread_db) thread_db = db_new(conninfo);
    return thread_db;
}

struct db *db_thread_read(void)
{
    if (!read_conninfo) return db_thread();
    if (!thread_read_db) thread_read_db = db_new(read_conninfo);
    return thread_read_db;
}

static void notice_ignore(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* A bounded connect: a dead server must cost a request milliseconds, not
 * a worker thread, and a runaway statement must not hold one forever. */
static bool db_connect(struct db *d)
{
    if (d->pg && PQstatus(d->pg) == CONNECTION_OK) return true;
    if (d->pg) PQfinish(d->pg);
    const char *keys[] = {"dbname", "connect_timeout", "application_name", "options", NULL};
    const char *vals[] = {d->conninfo ? d->conninfo : "", "3", "patrond", session_options, NULL};
    d->pg = PQconnectdbParams(keys, vals, 1);
    d->gen++;
    if (d->pg && PQstatus(d->pg) == CONNECTION_OK) {
        PQsetNoticeProcessor(d->pg, notice_ignore, NULL);
        return true;
    }
    if (d->pg) {
        log_warn("database connect failed: %s", PQerrorMessage(d->pg));
        PQfinish(d->pg);
        d->pg = NULL;
    } else {
        log_warn("database connect failed: out of memory");
    }
    return false;
}

static void db_drop(struct db *d)
{
    if (d->pg) PQfinish(d->pg);
    d->pg = NULL;
}

static struct stmt_slot *stmt_slot(struct db *d, const char *sql)
{
    uintptr_t h = ((uintptr_t)sql >> 3) * 2654435761u;
    for (unsigned i = 0; i < STMT_SLOTS; i++) {
        struct stmt_slot *s = &d->stmts[(h + i) % STMT_SLOTS];
        if (s->sql == sql || s->sql == NULL) return s;
    }
    return NULL;
}

static struct db_status classify(struct db *d, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    struct db_status st = db_error_classify(state, cons, primary);
    snprintf(st.err.message, sizeof st.err.message, "%s",
             res ? PQresultErrorMessage(res) : PQerrorMessage(d->pg));
    return st;
}

static PGresult *exec_once(struct db *d, const char *sql, const struct db_params *p,
                           int result_format)
{
    int n = p->n;
    struct stmt_slot *slot = stmt_slot(d, sql);
    if (!slot)
        return PQexecParams(d->pg, sql, n, NULL, p->values, p->lengths, p->formats, result_format);
    char name[32];
    snprintf(name, sizeof name, "s%lx", (unsigned long)(uintptr_t)sql);
    if (slot->sql != sql || slot->gen != d->gen) {
        PGresult *prep = PQprepare(d->pg, name, sql, n, NULL);
        bool ok = prep && PQresultStatus(prep) == PGRES_COMMAND_OK;
        if (!ok) return prep;
        PQclear(prep);
        slot->sql = sql;
        slot->gen = d->gen;
    }
    return PQexecPrepared(d->pg, name, n, p->values, p->lengths, p->formats, result_format);
}

static bool result_ok(const PGresult *res)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* A generic failure, with what the server (or libpq) said for the logs. */
static struct db_status failed(enum db_rc rc, const char *message)
{
    struct db_status st = db_fail(rc);
    snprintf(st.err.message, sizeof st.err.message, "%s", message);
    return st;
}

/* Outside a transaction a statement that met a dead connection is retried
 * once on a fresh one (the server restarted while we were idle). Inside
 * one, the whole transaction must be retried instead. */
static struct db_status exec_params(struct db *d, const char *sql, const struct db_params *p,
                                    int result_format, PGresult **out)
{
    *out = NULL;
    struct db_status st = db_fail(DB_UNAVAILABLE);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!d->pg && d->in_txn) return db_fail(DB_RETRY);
        if (!db_connect(d)) return failed(DB_UNAVAILABLE, "cannot connect to the database");
        atomic_fetch_add(&in_use, 1);
        PGresult *res = exec_once(d, sql, p, result_format);
        atomic_fetch_sub(&in_use, 1);
        if (result_ok(res)) {
            *out = res;
            return db_ok();
        }
        bool lost = PQstatus(d->pg) != CONNECTION_OK;
        st = classify(d, res);
        if (st.rc == DB_ERROR || (st.rc == DB_UNAVAILABLE && !lost)) {
            atomic_fetch_add(&errors, 1);
            log_error("database error: %s", res ? PQresultErrorMessage(res) : "no result");
        }
        PQclear(res);
        if (!lost) return st;
        atomic_fetch_add(&errors, 1);
        db_drop(d);
        if (d->in_txn) return failed(DB_RETRY, st.err.message);
    }
    return failed(DB_UNAVAILABLE, st.err.message);
}

struct db_status db_exec(struct db *d, const char *sql, int n, const char *const *params,
                         PGresult **out)
{
    return exec_params(d, sql, &(struct db_params){n, params, NULL, NULL}, 0, out);
}

struct db_status db_exec_binary(struct db *d, const char *sql, int n, const char *const *params,
                                PGresult **out)
{
    return exec_params(d, sql, &(struct db_params){n, params, NULL, NULL}, 1, out);
}

struct db_status db_command(struct db *d, const char *sql, int n, const char *const *params)
{
    PGresult *res;
    struct db_status st = db_exec(d, sql, n, params, &res);
    PQclear(res);
    return st;
}

struct db_status db_int(struct db *d, const char *sql, int n, const char *const *params, int *out)
{
    PGresult *res;
    *out = 0;
    struct db_status st = db_exec(d, sql, n, params, &res);
    if (st.rc != DB_OK) return st;
    if (PQntuples(res) == 1) *out = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return st;
}

static json_t *cell_json(const PGresult *res, int row)
{
    if (PQgetisnull(res, row, 0)) return json_null();
    return json_loads(PQgetvalue(res, row, 0), JSON_DECODE_ANY, NULL);
}

static struct db_status json_one(struct db *d, const char *sql, const struct db_params *p,
                                 json_t **out)
{
    PGresult *res;
    *out = NULL;
    struct db_status st = exec_params(d, sql, p, 0, &res);
    if (st.rc != DB_OK) return st;
    if (PQntuples(res) == 0)
        st = db_fail(DB_NOT_FOUND);
    else if (!(*out = cell_json(res, 0)))
        st = db_fail(DB_ERROR);
    PQclear(res);
    return st;
}

struct db_status db_json_one(struct db *d, const char *sql, int n, const char *const *params,
                             json_t **out)
{
    return json_one(d, sql, &(struct db_params){n, params, NULL, NULL}, out);
}

struct db_status db_json_by_id(struct db *d, const char *sql, const char *id, json_t **out)
{
    return json_one(d, sql, &(struct db_params){1, &id, NULL, NULL}, out);
}

struct db_status db_json_rows(struct db *d, const char *sql, int n, const char *const *params,
                              json_t **out)
{
    PGresult *res;
    *out = NULL;
    struct db_status st = db_exec(d, sql, n, params, &res);
    if (st.rc != DB_OK) return st;
    json_t *arr = json_array();
    for (int i = 0; arr && i < PQntuples(res); i++) {
        if (json_array_append_new(arr, cell_json(res, i)) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    PQclear(res);
    if (!arr) return db_fail(DB_ERROR);
    *out = arr;
    return st;
}

static void backoff(int attempt)
{
    struct timespec ts = {0, (long)(1 + rand() % 5) * 1000000L * (attempt + 1)};
    nanosleep(&ts, NULL);
}

static struct db_status txn_attempt(struct db *d, const char *actor, const char *request_id,
                                    db_txn_fn fn, void *arg)
{
    struct db_status st = db_command(d, "BEGIN", 0, NULL);
    if (st.rc != DB_OK) return st;
    d->in_txn = true;
    if (actor) {
        const char *p[] = {actor, request_id ? request_id : ""};
        st = db_command(d,
                        "SELECT set_config('patrond.actor', $1, true),"
                        " set_config('patrond.request_id', $2, true)",
                        2, p);
    }
    if (st.rc == DB_OK) st = fn(d, arg);
    if (st.rc == DB_OK) {
        st = db_command(d, "COMMIT", 0, NULL);
        /* A COMMIT whose answer was lost may have committed: never redo it. */
        if (st.rc == DB_RETRY && !d->pg) st = db_fail(DB_UNAVAILABLE);
    } else if (d->pg) {
        PQclear(PQexec(d->pg, "ROLLBACK"));
    }
    d->in_txn = false;
    return st;
}

struct db_status db_txn(struct db *d, const char *actor, const char *request_id, db_txn_fn fn,
                        void *arg)
{
    for (int attempt = 0; attempt < TXN_MAX_ATTEMPTS; attempt++) {
        struct db_status st = txn_attempt(d, actor, request_id, fn, arg);
        if (st.rc != DB_RETRY) return st;
        backoff(attempt);
    }
    return db_fail(DB_UNAVAILABLE);
}

struct db_status db_script(struct db *d, const char *sql)
{
    if (!db_connect(d)) return failed(DB_UNAVAILABLE, "cannot connect to the database");
    PGresult *res = PQexec(d->pg, sql);
    struct db_status st = result_ok(res) ? db_ok() : classify(d, res);
    PQclear(res);
    if (st.rc != DB_OK && PQstatus(d->pg) != CONNECTION_OK) db_drop(d);
    return st;
}

PGconn *db_pg(struct db *d, bool *fresh)
{
    unsigned long gen = d->gen;
    if (!db_connect(d)) return NULL;
    *fresh = d->gen != gen;
    return d->pg;
}

void db_disconnect(struct db *d)
{
    db_drop(d);
}

int db_in_use(void)
{
    return atomic_load(&in_use);
}

unsigned long db_error_count(void)
{
    return atomic_load(&errors);
}

struct single {
    const char *sql;
    int n;
    const char *const *params;
    json_t **out;
};

static struct db_status single_fn(struct db *d, void *arg)
{
    struct single *s = arg;
    json_decref(*s->out); /* from an attempt whose COMMIT must be retried */
    *s->out = NULL;
    return db_json_one(d, s->sql, s->n, s->params, s->out);
}

struct db_status db_call_json_params(struct db *d, const char *sql, const struct db_params *p,
                                     json_t **out)
{
    for (int attempt = 0; attempt < TXN_MAX_ATTEMPTS; attempt++) {
        struct db_status st = json_one(d, sql, p, out);
        if (st.rc != DB_RETRY) return st;
        backoff(attempt);
    }
    return db_fail(DB_UNAVAILABLE);
}

struct db_status db_call_json(struct db *d, const char *sql, int n, const char *const *params,
                              json_t **out)
{
    return db_call_json_params(d, sql, &(struct db_params){n, params, NULL, NULL}, out);
}

struct db_status db_write_json(struct db *d, const char *actor, const char *request_id,
                               const char *sql, int n, const char *const *params, json_t **out)
{
    struct single s = {sql, n, params, out};
    *out = NULL;
    struct db_status st = db_txn(d, actor, request_id, single_fn, &s);
    if (st.rc != DB_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return st;
}

struct db_status db_write(struct db *d, const char *actor, const char *request_id, const char *sql,
                          int n, const char *const *params)
{
    json_t *answer = NULL;
    struct db_status st = db_write_json(d, actor, request_id, sql, n, params, &answer);
    json_decref(answer);
    return st;
}

struct db_status db_write_patch(struct db *d, const char *actor, const char *request_id,
                                const char *sql, const char *id, json_t *patch, json_t **out)
{
    *out = NULL;
    char *doc = json_dumps(patch, JSON_COMPACT);
    if (!doc) return db_fail(DB_ERROR);
    const char *p[] = {id, doc};
    struct db_status st = db_write_json(d, actor, request_id, sql, 2, p, out);
    free(doc);
    return st;
}
