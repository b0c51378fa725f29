/* /v1/patrons: the people who support the newsroom (admin only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "db/patrons.h"
#include "domain.h"
#include "handlers.h"
#include "locale_field.h"

#define QUERY_MAX_CHARS 200
/* Rows per database round trip while building a CSV export: big enough to
 * keep round trips few, small enough to keep each result set modest. */
#define CSV_PAGE 500

void patrons_create(struct req *r)
{
    const char *email = NULL, *name = NULL;
    struct field fields[] = {
        {.name = "email", .type = FIELD_EMAIL, .required = true, .out.str = &email},
        {.name = "name", .type = FIELD_STRING, .nullable = true, .max = 200, .out.str = &name},
        {0},
    };
    if (!req_validate(r, fields)) return;
    json_t *patron = NULL;
    struct db_status st =
        db_patron_create(r->db, r->caller.id, r->request_id, email, name, &patron);
    reply_result(r, &st, 201, patron);
}

static bool is_one_of(const char *s, const char *const *choices)
{
    for (; *choices; choices++)
        if (!strcmp(s, *choices)) return true;
    return false;
}

/* ?q= and ?status=, shared by the JSON and CSV lists. An empty q matches
 * everything, so it is no filter at all. */
static bool list_filters(struct req *r, const char **q, const char **status)
{
    *q = req_query(r, "q");
    *status = req_query(r, "status");
    size_t chars = 0;
    if (*q && !valid_text(*q, strlen(*q), &chars)) {
        reply_invalid_field(r, "q", "contains invalid characters");
        return false;
    }
    if (chars > QUERY_MAX_CHARS) {
        reply_invalid_field(r, "q", "must be at most 200 characters");
        return false;
    }
    if (*q && !**q) *q = NULL;
    if (*status && !is_one_of(*status, patron_statuses)) {
        reply_invalid_field(r, "status", "must be one of: member, lapsed, none");
        return false;
    }
    return true;
}

static bool contains_nocase(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (; *haystack; haystack++)
        if (!strncasecmp(haystack, needle, n)) return true;
    return false;
}

static bool wants_csv(struct req *r)
{
    const char *accept = req_header(r, "Accept");
    return accept && contains_nocase(accept, "text/csv");
}

static const char *const csv_columns[] = {"id", "email", "name", "status", "created_at", NULL};

static void csv_patron(struct csv *c, json_t *patron)
{
    for (const char *const *col = csv_columns; *col; col++)
        csv_cell(c, json_string_value(json_object_get(patron, *col)));
    csv_end_row(c);
}

/* The state of one streamed export: the filters (copied, since the
 * request's query strings are not ours to keep), the keyset cursor, and
 * the current page rendered as CSV waiting to be read out. No database
 * connection is kept: the first page is read on the handler's thread, the
 * others on the HTTP thread draining the body, each with its own. */
struct csv_export {
    char *q, *status;
    char after[37];
    bool header_done, last_page;
    struct csv page;
    char *text;
    size_t len, sent;
};

static void csv_export_free(void *cls)
{
    struct csv_export *x = cls;
    free(x->q);
    free(x->status);
    csv_free(&x->page);
    free(x->text);
    free(x);
}

/* Renders the next page after `after` (the header row first) and moves
 * the cursor to the page's last id. */
static bool csv_next_page(struct csv_export *x)
{
    if (!x->header_done) {
        for (const char *const *col = csv_columns; *col; col++)
            csv_cell(&x->page, *col);
        csv_end_row(&x->page);
        x->header_done = true;
    }
    json_t *rows = NULL;
    if (db_patron_list(db_thread(), x->q, x->status, CSV_PAGE, x->after[0] ? x->after : NULL, &rows)
            .rc != DB_OK)
        return false;
    size_t n = json_array_size(rows);
    x->last_page = n <= CSV_PAGE;
    if (!x->last_page) n = CSV_PAGE;
    for (size_t i = 0; i < n; i++)
        csv_patron(&x->page, json_array_get(rows, i));
    const char *last =
        n ? json_string_value(json_object_get(json_array_get(rows, n - 1), "id")) : NULL;
    bool ok = x->last_page || (last && strlen(last) == 36);
    if (ok && last) snprintf(x->after, sizeof x->after, "%s", last);
    json_decref(rows);
    free(x->text);
    x->text = csv_take(&x->page, &x->len);
    x->sent = 0;
    return ok && x->text;
}

/* Pages are read newest first by keyset as the client drains the body, so
 * memory stays one page however many patrons there are, and patrons
 * created meanwhile cannot shift rows between pages. */
static long csv_export_read(void *cls, char *buf, size_t max)
{
    struct csv_export *x = cls;
    while (x->sent == x->len) {
        if (x->text && x->last_page) return 0;
        if (!csv_next_page(x)) return -1;
    }
    size_t n = x->len - x->sent < max ? x->len - x->sent : max;
    memcpy(buf, x->text + x->sent, n);
    x->sent += n;
    return (long)n;
}

/* The whole filtered list, ignoring ?limit=: an export is meant to be
 * complete. The first page is read before replying, so a database outage
 * is still a proper 503 rather than a truncated download. */
static void list_csv(struct req *r, const char *q, const char *status)
{
    struct csv_export *x = calloc(1, sizeof *x);
    if (!x) {
        reply_error(r, ERR_internal_error, "Out of memory starting the export.");
        return;
    }
    csv_init(&x->page);
    x->q = q ? strdup(q) : NULL;
    x->status = status ? strdup(status) : NULL;
    if ((q && !x->q) || (status && !x->status) || !csv_next_page(x)) {
        csv_export_free(x);
        struct db_status st = db_fail(DB_UNAVAILABLE);
        reply_db(r, &st);
        return;
    }
    reply_header(r, "Content-Disposition", "attachment; filename=\"patrons.csv\"");
    reply_stream(r, 200, "text/csv; charset=utf-8", csv_export_read, x, csv_export_free);
}

void patrons_list(struct req *r)
{
    const char *q, *status;
    if (!list_filters(r, &q, &status)) return;
    if (wants_csv(r)) {
        list_csv(r, q, status);
        return;
    }
    int limit;
    const char *after;
    if (!req_list_params(r, &limit, &after)) return;
    json_t *rows = NULL;
    struct db_status st = db_patron_list(r->db, q, status, limit, after, &rows);
    reply_list_result(r, &st, rows, limit);
}

void patrons_get(struct req *r)
{
    handle_get(r, db_patron_get);
}

void patrons_update(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    const char *offered[LOCALE_CHOICES_MAX + 1];
    locale_choices(offered);
    struct field fields[] = {
        {.name = "email", .type = FIELD_EMAIL},
        {.name = "name", .type = FIELD_STRING, .nullable = true, .max = 200},
        {.name = "locale", .type = FIELD_ENUM, .choices = offered},
        {0},
    };
    if (!req_validate(r, fields)) return;
    handle_patch(r, id, db_patron_update, false);
}

/* GDPR erasure: idempotent, so a retried DELETE also answers 204. */
void patrons_erase(struct req *r)
{
    handle_delete(r, db_patron_erase, true); /* erasure withdraws open ballots */
}

void patrons_export(struct req *r)
{
    handle_get(r, db_patron_export);
}
