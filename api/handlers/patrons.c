/* /v1/patrons: the people who support the newsroom (admin only). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "domain.h"
#include "handlers.h"
#include "store.h"

#define QUERY_MAX_CHARS 200
/* Rows per database round trip while building a CSV export: big enough to
 * keep round trips few, small enough to keep each result set modest. */
#define CSV_PAGE 500

/* Replies to a failed write. A duplicate e-mail is named as such, since
 * the client's fix (another address) differs from other conflicts, whose
 * detail the SQL function words itself. */
static void reply_write_failure(struct req *r, enum db_rc rc)
{
    if (rc == DB_CONFLICT && !strcmp(db_last_constraint(r->db), "patrons_email_key"))
        reply_problem(r, 409, "A patron with this e-mail address already exists.");
    else
        reply_db(r, rc);
}

static void reply_write(struct req *r, enum db_rc rc, unsigned status, json_t *body)
{
    if (rc == DB_OK) {
        reply_json(r, status, body);
        return;
    }
    json_decref(body); /* a statement may have succeeded before its commit failed */
    reply_write_failure(r, rc);
}

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
    enum db_rc rc = db_patron_create(r->db, r->caller.id, r->request_id, email, name, &patron);
    reply_write(r, rc, 201, patron);
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

/* Appends the page after `after` ("" for the first) and advances `after`
 * to its last id; *more says whether another page follows. */
static enum db_rc csv_page(struct req *r, struct csv *c, const char *q, const char *status,
                           char after[37], bool *more)
{
    json_t *rows = NULL;
    enum db_rc rc = db_patron_list(r->db, q, status, CSV_PAGE, after[0] ? after : NULL, &rows);
    if (rc != DB_OK) return rc;
    size_t n = json_array_size(rows);
    *more = n > CSV_PAGE;
    if (*more) n = CSV_PAGE;
    for (size_t i = 0; i < n; i++)
        csv_patron(c, json_array_get(rows, i));
    const char *last =
        n ? json_string_value(json_object_get(json_array_get(rows, n - 1), "id")) : "";
    /* Without a cursor the next page would repeat this one forever. */
    if (!last || strlen(last) != 36)
        rc = *more ? DB_ERROR : DB_OK;
    else
        snprintf(after, 37, "%s", last);
    json_decref(rows);
    return rc;
}

/* The whole filtered list, ignoring ?limit=: an export is meant to be
 * complete. Pages are read newest first by keyset, so patrons created
 * meanwhile cannot shift rows between pages. */
static void list_csv(struct req *r, const char *q, const char *status)
{
    struct csv c;
    csv_init(&c);
    for (const char *const *col = csv_columns; *col; col++)
        csv_cell(&c, *col);
    csv_end_row(&c);
    char after[37] = "";
    bool more = true;
    enum db_rc rc = DB_OK;
    while (rc == DB_OK && more)
        rc = csv_page(r, &c, q, status, after, &more);
    if (rc != DB_OK) {
        csv_free(&c);
        reply_db(r, rc);
        return;
    }
    size_t len;
    char *text = csv_take(&c, &len);
    if (!text) {
        reply_problem(r, 500, "Out of memory while building the export.");
        return;
    }
    reply_header(r, "Content-Disposition", "attachment; filename=\"patrons.csv\"");
    reply_raw(r, 200, "text/csv; charset=utf-8", text, len);
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
    enum db_rc rc = db_patron_list(r->db, q, status, limit, after, &rows);
    if (rc == DB_OK)
        reply_list(r, rows, limit);
    else
        reply_db(r, rc);
}

void patrons_get(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    json_t *patron = NULL;
    enum db_rc rc = db_patron_get(r->db, id, &patron);
    reply_result(r, rc, 200, patron);
}

void patrons_update(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    struct field fields[] = {
        {.name = "email", .type = FIELD_EMAIL},
        {.name = "name", .type = FIELD_STRING, .nullable = true, .max = 200},
        {0},
    };
    if (!req_validate(r, fields)) return;
    json_t *patron = NULL;
    enum db_rc rc = db_patron_update(r->db, r->caller.id, r->request_id, id, r->json, &patron);
    reply_write(r, rc, 200, patron);
}

/* GDPR erasure: idempotent, so a retried DELETE also answers 204. */
void patrons_erase(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    enum db_rc rc = db_patron_erase(r->db, r->caller.id, r->request_id, id);
    if (rc == DB_OK)
        reply_empty(r, 204);
    else
        reply_db(r, rc);
}

void patrons_export(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    json_t *doc = NULL;
    enum db_rc rc = db_patron_export(r->db, id, &doc);
    reply_result(r, rc, 200, doc);
}
