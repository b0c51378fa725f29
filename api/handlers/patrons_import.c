/* POST /v1/patrons/import: supporters from a CSV file (SPEC §4b Import).
 * The file arrived already split into records (BODY_CSV, csv_reader.h);
 * here the header names the columns, every row is checked (all of its
 * problems reported, by line and column), the valid rows are handed to the
 * one database call as JSON batches, built one at a time as it asks for
 * them, and the reply counts what they did. */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "csv_reader.h"
#include "db/patrons_import.h"
#include "domain.h"
#include "handlers.h"
#include "money.h"
#include "tally_notify.h"

/* Rows per database round trip. */
#define IMPORT_BATCH_ROWS 1000
/* Errors listed in the reply; a file of garbage must not make it huge. */
#define IMPORT_ERRORS_MAX 1000
/* A longer cell cannot be valid in any column that is read. */
#define CELL_MAX 1024
#define NAME_MAX_CHARS 200

enum column {
    COL_EMAIL,
    COL_NAME,
    COL_CREATED_AT,
    COL_AMOUNT_MINOR,
    COL_AMOUNT,
    COL_CURRENCY,
    COL_INTERVAL,
    COL_PERIOD_END,
    COL_COUNT,
};

/* Ghost's members export (id, email, name, note, subscribed_to_emails,
 * complimentary_plan, stripe_customer_id, created_at, deleted_at, labels,
 * tiers) shares email, name and created_at with these; its other columns,
 * like any column not named here, are not imported. */
static const char *const column_names[COL_COUNT] = {
    [COL_EMAIL] = "email",           [COL_NAME] = "name",
    [COL_CREATED_AT] = "created_at", [COL_AMOUNT_MINOR] = "amount_minor",
    [COL_AMOUNT] = "amount",         [COL_CURRENCY] = "currency",
    [COL_INTERVAL] = "interval",     [COL_PERIOD_END] = "current_period_end",
};

/* E-mail addresses seen so far (lower-cased) and their lines, to refuse a
 * second row for one patron: an open-addressing hash set. */
struct seen {
    char **keys;
    unsigned long *lines;
    size_t cap, n;
};

struct import {
    long col[COL_COUNT]; /* field index of each column, -1 when absent */
    size_t header_fields;
    json_t *errors;
    size_t invalid; /* rows with at least one error */
    bool oom;
    struct seen seen;
    /* The valid rows: where each record starts in the reader, and its
     * amount (which may have come from `amount`), so that a batch's JSON
     * is made only when it is sent. */
    struct valid_row {
        size_t cursor;
        int64_t amount_minor;
    } * valid;
    size_t nvalid, valid_cap;
    struct csv_reader *rd;
};

static void add_error(struct import *im, unsigned long line, const char *field, const char *msg)
{
    if (json_array_size(im->errors) >= IMPORT_ERRORS_MAX) return;
    json_t *e = json_pack("{sIssss}", "line", (json_int_t)line, "field", field, "message", msg);
    if (!e || json_array_append_new(im->errors, e) != 0) im->oom = true;
}

static uint64_t hash_text(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool seen_grow(struct seen *s)
{
    size_t cap = s->cap ? s->cap * 2 : 1024;
    char **keys = calloc(cap, sizeof *keys);
    unsigned long *lines = calloc(cap, sizeof *lines);
    if (!keys || !lines) {
        free(keys);
        free(lines);
        return false;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->keys[i]) continue;
        size_t j = hash_text(s->keys[i]) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = s->keys[i];
        lines[j] = s->lines[i];
    }
    free(s->keys);
    free(s->lines);
    s->keys = keys;
    s->lines = lines;
    s->cap = cap;
    return true;
}

/* The line that already had `key`, or 0 after adding it; false on OOM. */
static bool seen_add(struct seen *s, const char *key, unsigned long line, unsigned long *earlier)
{
    *earlier = 0;
    if ((s->n + 1) * 2 > s->cap && !seen_grow(s)) return false;
    size_t j = hash_text(key) & (s->cap - 1);
    for (; s->keys[j]; j = (j + 1) & (s->cap - 1)) {
        if (!strcmp(s->keys[j], key)) {
            *earlier = s->lines[j];
            return true;
        }
    }
    if (!(s->keys[j] = strdup(key))) return false;
    s->lines[j] = line;
    s->n++;
    return true;
}

static void seen_free(struct seen *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->keys[i]);
    free(s->keys);
    free(s->lines);
}

static void import_free(struct import *im)
{
    json_decref(im->errors);
    seen_free(&im->seen);
    free(im->valid);
}

/* A cell without the spaces around it, NUL-terminated in out (CELL_MAX):
 * "" when the row has no such column or field. False when it is too long
 * or not UTF-8 text. */
static bool cell(const struct csv_record *rec, long idx, char *out, bool *bad_text)
{
    out[0] = '\0';
    *bad_text = false;
    if (idx < 0 || (size_t)idx >= rec->nfields) return true;
    const char *s = rec->fields[idx];
    size_t len = rec->lens[idx];
    if (!valid_text(s, len, NULL)) {
        *bad_text = true;
        return false;
    }
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len >= CELL_MAX) return false;
    memcpy(out, s, len);
    out[len] = '\0';
    return true;
}

/* ---- the header ---- */

static bool read_header(struct import *im, const struct csv_record *rec)
{
    for (int c = 0; c < COL_COUNT; c++)
        im->col[c] = -1;
    im->header_fields = rec->nfields;
    if (rec->error) {
        char msg[160];
        snprintf(msg, sizeof msg, "the header row %s", rec->error);
        add_error(im, rec->line, "", msg);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < rec->nfields; i++) {
        char name[CELL_MAX];
        bool bad_text;
        if (!cell(rec, (long)i, name, &bad_text)) continue; /* no column of ours */
        for (int c = 0; c < COL_COUNT; c++) {
            if (strcasecmp(name, column_names[c])) continue;
            if (im->col[c] >= 0) {
                add_error(im, rec->line, column_names[c], "appears twice in the header row");
                ok = false;
            }
            im->col[c] = (long)i;
        }
    }
    if (im->col[COL_EMAIL] < 0) {
        add_error(im, rec->line, "email", "is a required column; the header row has none");
        ok = false;
    }
    if (im->col[COL_AMOUNT] >= 0 && im->col[COL_AMOUNT_MINOR] >= 0) {
        add_error(im, rec->line, "amount", "give either amount or amount_minor, not both");
        ok = false;
    }
    return ok;
}

/* ---- one row ---- */

struct row {
    char v[COL_COUNT][CELL_MAX];
    bool failed[COL_COUNT]; /* the cell was unreadable (and reported): not checked further */
    int64_t amount_minor;
    bool bad;
};

static void row_error(struct import *im, struct row *w, unsigned long line, enum column c,
                      const char *msg)
{
    add_error(im, line, column_names[c], msg);
    w->bad = true;
}

/* Something is in the cell, readable or not. */
static bool given(const struct row *w, enum column c)
{
    return w->v[c][0] != '\0' || w->failed[c];
}

static void check_email(struct import *im, struct row *w, unsigned long line)
{
    const char *email = w->v[COL_EMAIL];
    if (w->failed[COL_EMAIL]) return;
    if (!given(w, COL_EMAIL)) {
        row_error(im, w, line, COL_EMAIL, "is required");
        return;
    }
    if (!valid_email(email)) {
        row_error(im, w, line, COL_EMAIL, "is not a valid e-mail address");
        return;
    }
    char lower[CELL_MAX];
    size_t n = strlen(email);
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)email[i]);
    unsigned long earlier;
    if (!seen_add(&im->seen, lower, line, &earlier)) {
        im->oom = true;
        return;
    }
    if (earlier) {
        char msg[96];
        snprintf(msg, sizeof msg, "appears more than once in the file (first on line %lu)",
                 earlier);
        row_error(im, w, line, COL_EMAIL, msg);
    }
}

static void check_timestamp(struct import *im, struct row *w, unsigned long line, enum column c)
{
    if (given(w, c) && !w->failed[c] && !valid_rfc3339(w->v[c]))
        row_error(im, w, line, c, "must be an RFC 3339 timestamp, like 2024-01-31T09:00:00Z");
}

static void amount_range_message(int exponent, char *msg, size_t len)
{
    char lo[32], hi[32];
    money_format_decimal(1, exponent, lo, sizeof lo);
    money_format_decimal(cfg.max_amount_minor, exponent, hi, sizeof hi);
    snprintf(msg, len, "must be between %s and %s", lo, hi);
}

/* `amount` in the currency's units with a dot, or `amount_minor`. */
static void check_amount(struct import *im, struct row *w, unsigned long line, int exponent)
{
    char msg[128];
    if (w->failed[COL_AMOUNT_MINOR] || w->failed[COL_AMOUNT]) return;
    if (given(w, COL_AMOUNT_MINOR)) {
        if (!parse_int_in(w->v[COL_AMOUNT_MINOR], 1, cfg.max_amount_minor, &w->amount_minor)) {
            snprintf(msg, sizeof msg, "must be an integer between 1 and %" PRId64,
                     cfg.max_amount_minor);
            row_error(im, w, line, COL_AMOUNT_MINOR, msg);
        }
        return;
    }
    if (!given(w, COL_AMOUNT)) {
        enum column c = im->col[COL_AMOUNT_MINOR] >= 0 ? COL_AMOUNT_MINOR : COL_AMOUNT;
        row_error(im, w, line, c, "is required for a pledge");
        return;
    }
    const char *a = w->v[COL_AMOUNT];
    if (strchr(a, ',')) {
        row_error(im, w, line, COL_AMOUNT,
                  "must use a dot as the decimal separator, like 5.00 (not 5,00)");
        return;
    }
    if (exponent < 0) return; /* the currency's own error says enough */
    if (!money_parse_decimal(a, exponent, &w->amount_minor)) {
        /* a currency without a problem is an ISO 4217 code: three letters */
        snprintf(msg, sizeof msg, "must be a number like 5.00, with at most %d decimals in %.3s",
                 exponent, w->v[COL_CURRENCY]);
        row_error(im, w, line, COL_AMOUNT, msg);
    } else if (w->amount_minor < 1 || w->amount_minor > cfg.max_amount_minor) {
        amount_range_message(exponent, msg, sizeof msg);
        row_error(im, w, line, COL_AMOUNT, msg);
    }
}

static bool is_interval(const char *s)
{
    for (const char *const *i = pledge_intervals; *i; i++)
        if (!strcmp(*i, s)) return true;
    return false;
}

/* A row with any pledge column filled in describes a manual pledge. */
static void check_pledge(struct import *im, struct row *w, unsigned long line)
{
    if (!given(w, COL_AMOUNT) && !given(w, COL_AMOUNT_MINOR) && !given(w, COL_CURRENCY) &&
        !given(w, COL_INTERVAL) && !given(w, COL_PERIOD_END))
        return;
    int exponent = -1;
    if (!given(w, COL_CURRENCY)) {
        row_error(im, w, line, COL_CURRENCY, "is required for a pledge");
    } else if (!w->failed[COL_CURRENCY]) {
        const char *problem = currency_problem(w->v[COL_CURRENCY]);
        if (problem)
            row_error(im, w, line, COL_CURRENCY, problem);
        else
            exponent = currency_exponent(w->v[COL_CURRENCY]);
    }
    check_amount(im, w, line, exponent);
    if (!given(w, COL_INTERVAL))
        row_error(im, w, line, COL_INTERVAL, "is required for a pledge");
    else if (!w->failed[COL_INTERVAL] && !is_interval(w->v[COL_INTERVAL]))
        row_error(im, w, line, COL_INTERVAL, "must be one of: month, year, once");
    check_timestamp(im, w, line, COL_PERIOD_END);
}

static json_t *row_json(const struct row *w, unsigned long line)
{
    json_t *o = json_pack("{sIss}", "line", (json_int_t)line, "email", w->v[COL_EMAIL]);
    if (!o) return NULL;
    int failed = 0;
    if (given(w, COL_NAME)) failed |= json_object_set_new(o, "name", json_string(w->v[COL_NAME]));
    if (given(w, COL_CREATED_AT))
        failed |= json_object_set_new(o, "created_at", json_string(w->v[COL_CREATED_AT]));
    if (given(w, COL_CURRENCY)) {
        failed |= json_object_set_new(o, "amount_minor", json_integer(w->amount_minor));
        failed |= json_object_set_new(o, "currency", json_string(w->v[COL_CURRENCY]));
        failed |= json_object_set_new(o, "interval", json_string(w->v[COL_INTERVAL]));
    }
    if (given(w, COL_PERIOD_END))
        failed |= json_object_set_new(o, "current_period_end", json_string(w->v[COL_PERIOD_END]));
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static void valid_add(struct import *im, size_t cursor, int64_t amount_minor)
{
    if (im->nvalid == im->valid_cap) {
        size_t cap = im->valid_cap ? im->valid_cap * 2 : 1024;
        struct valid_row *grown = realloc(im->valid, cap * sizeof *grown);
        if (!grown) {
            im->oom = true;
            return;
        }
        im->valid = grown;
        im->valid_cap = cap;
    }
    im->valid[im->nvalid++] = (struct valid_row){cursor, amount_minor};
}

/* The cells of a record already found valid. */
static void row_cells(const struct import *im, const struct csv_record *rec, struct row *w)
{
    for (int c = 0; c < COL_COUNT; c++) {
        bool bad_text;
        w->failed[c] = false;
        cell(rec, im->col[c], w->v[c], &bad_text);
    }
}

/* Batch i as a JSON array (malloc'd), or NULL when out of memory: the
 * db_patrons_import producer. */
static char *batch_json(void *cls, size_t i)
{
    struct import *im = cls;
    json_t *batch = json_array();
    size_t end =
        (i + 1) * IMPORT_BATCH_ROWS < im->nvalid ? (i + 1) * IMPORT_BATCH_ROWS : im->nvalid;
    for (size_t k = i * IMPORT_BATCH_ROWS; batch && k < end; k++) {
        size_t cursor = im->valid[k].cursor;
        struct csv_record rec;
        struct row w;
        if (!csv_reader_next(im->rd, &cursor, &rec)) { /* read before, so never */
            json_decref(batch);
            return NULL;
        }
        row_cells(im, &rec, &w);
        w.amount_minor = im->valid[k].amount_minor;
        json_t *o = row_json(&w, rec.line);
        if (!o || json_array_append_new(batch, o) != 0) {
            json_decref(batch);
            batch = NULL;
        }
    }
    char *text = batch ? json_dumps(batch, JSON_COMPACT) : NULL;
    json_decref(batch);
    return text;
}

static void read_row(struct import *im, const struct csv_record *rec, size_t at)
{
    if (rec->error) {
        char msg[160];
        snprintf(msg, sizeof msg, "the row %s", rec->error);
        add_error(im, rec->line, "", msg);
        im->invalid++;
        return;
    }
    if (rec->nfields > im->header_fields) {
        char msg[192];
        /* most often a decimal comma in a comma-separated file */
        snprintf(msg, sizeof msg,
                 "the row has %zu fields; the header row has %zu (a value holding the separator, "
                 "like 5,00, must be quoted; amounts take a dot: 5.00)",
                 rec->nfields, im->header_fields);
        add_error(im, rec->line, "", msg);
        im->invalid++;
        return;
    }
    struct row w;
    w.bad = false;
    w.amount_minor = 0;
    for (int c = 0; c < COL_COUNT; c++) {
        bool bad_text;
        w.failed[c] = !cell(rec, im->col[c], w.v[c], &bad_text);
        if (!w.failed[c]) continue;
        row_error(im, &w, rec->line, (enum column)c,
                  bad_text ? "must be UTF-8 text without control characters" : "is too long");
        w.v[c][0] = '\0';
    }
    check_email(im, &w, rec->line);
    if (given(&w, COL_NAME) && !w.failed[COL_NAME]) {
        size_t chars;
        valid_text(w.v[COL_NAME], strlen(w.v[COL_NAME]), &chars);
        if (chars > NAME_MAX_CHARS)
            row_error(im, &w, rec->line, COL_NAME, "must be at most 200 characters");
    }
    check_timestamp(im, &w, rec->line, COL_CREATED_AT);
    check_pledge(im, &w, rec->line);
    if (w.bad) {
        im->invalid++;
        return;
    }
    valid_add(im, at, w.amount_minor);
}

/* False when the header makes the file unreadable (its errors recorded). */
static bool read_file(struct import *im, struct csv_reader *rd)
{
    struct csv_record rec;
    size_t cursor = 0;
    if (!csv_reader_next(rd, &cursor, &rec)) {
        add_error(im, 1, "", "the file is empty; a header row naming the columns is expected");
        return false;
    }
    if (!read_header(im, &rec)) return false;
    for (size_t at = cursor; !im->oom && csv_reader_next(rd, &cursor, &rec); at = cursor)
        read_row(im, &rec, at);
    return true;
}

/* ?name=true|false, false when absent; false after a 422. */
static bool query_flag(struct req *r, const char *name, bool *out)
{
    const char *v = req_query(r, name);
    *out = v && !strcmp(v, "true");
    if (!v || !strcmp(v, "true") || !strcmp(v, "false")) return true;
    reply_invalid_field(r, name, "must be true or false");
    return false;
}

static void reply_counts(struct req *r, const struct import_counts *n, json_t *errors, bool applied)
{
    json_t *body = json_pack("{sIsIsIsOsb}", "created", (json_int_t)n->created, "updated",
                             (json_int_t)n->updated, "unchanged", (json_int_t)n->unchanged,
                             "errors", errors, "applied", applied);
    if (!body) {
        reply_error(r, ERR_internal_error, "Out of memory.");
        return;
    }
    reply_json(r, 200, body);
}

void patrons_import(struct req *r)
{
    bool dry_run, skip_invalid;
    if (!query_flag(r, "dry_run", &dry_run) || !query_flag(r, "skip_invalid", &skip_invalid))
        return;
    struct import im = {.errors = json_array(), .rd = r->csv};
    struct import_counts counts = {0};
    if (!im.errors) im.oom = true;
    bool readable = !im.oom && read_file(&im, r->csv);
    if (im.oom) {
        import_free(&im);
        reply_error(r, ERR_internal_error, "Out of memory while reading the file.");
        return;
    }
    /* A file with errors changes nothing unless told to skip them, but is
     * still counted, as a dry run would be. */
    bool apply = readable && !dry_run && (im.invalid == 0 || skip_invalid);
    struct db_status st = db_ok();
    size_t nbatches = (im.nvalid + IMPORT_BATCH_ROWS - 1) / IMPORT_BATCH_ROWS;
    if (readable && nbatches)
        st = db_patrons_import(r->db, r->caller.id, r->request_id, nbatches, batch_json, &im, apply,
                               im.invalid, &counts);
    if (st.rc != DB_OK) {
        import_free(&im);
        reply_db(r, &st);
        return;
    }
    if (apply && counts.ballots_changed) tally_changed();
    reply_counts(r, &counts, im.errors, apply);
    import_free(&im);
}
