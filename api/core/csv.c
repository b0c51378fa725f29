/* CSV for spreadsheet exports (RFC 4180, plus formula-injection defence). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

void csv_init(struct csv *c)
{
    memset(c, 0, sizeof *c);
}

/* Room for n more bytes and a terminating NUL. */
static bool reserve(struct csv *c, size_t n)
{
    if (c->failed) return false;
    if (n < c->cap - c->len) return true;
    size_t cap = c->cap ? c->cap : 4096;
    while (cap - c->len <= n) {
        if (cap > SIZE_MAX / 2) {
            c->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *grown = realloc(c->buf, cap);
    if (!grown) {
        c->failed = true;
        return false;
    }
    c->buf = grown;
    c->cap = cap;
    return true;
}

static void put(struct csv *c, const char *s, size_t n)
{
    if (!reserve(c, n)) return;
    memcpy(c->buf + c->len, s, n);
    c->len += n;
    c->buf[c->len] = '\0';
}

/* Spreadsheets evaluate these leads as formulas (tab and CR too, as some
 * strip them before looking). */
static bool is_formula_lead(char ch)
{
    return ch && strchr("=+-@\t\r", ch) != NULL;
}

static void put_quoted(struct csv *c, const char *s, bool guard)
{
    put(c, "\"", 1);
    if (guard) put(c, "'", 1);
    for (const char *q; (q = strchr(s, '"')); s = q + 1) {
        put(c, s, (size_t)(q - s) + 1);
        put(c, "\"", 1);
    }
    put(c, s, strlen(s));
    put(c, "\"", 1);
}

void csv_cell(struct csv *c, const char *s)
{
    if (c->row_open) put(c, ",", 1);
    c->row_open = true;
    if (!s) return;
    bool guard = is_formula_lead(s[0]);
    if (strpbrk(s, "\",\r\n")) {
        put_quoted(c, s, guard);
        return;
    }
    if (guard) put(c, "'", 1);
    put(c, s, strlen(s));
}

void csv_end_row(struct csv *c)
{
    put(c, "\r\n", 2);
    c->row_open = false;
}

char *csv_take(struct csv *c, size_t *len)
{
    /* An empty document is still a document, not a failure. */
    if (!c->failed && !c->buf) reserve(c, 0);
    char *out = c->failed ? NULL : c->buf;
    *len = out ? c->len : 0;
    if (out)
        out[c->len] = '\0';
    else
        free(c->buf);
    csv_init(c);
    return out;
}

void csv_free(struct csv *c)
{
    free(c->buf);
    csv_init(c);
}
