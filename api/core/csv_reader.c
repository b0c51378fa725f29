/* An incremental RFC 4180 reader (see csv_reader.h). Records are written
 * straight into one growing store, in the form they are read back:
 *   struct rec_head, then per field: uint32_t length, the bytes, a NUL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"

enum state {
    FIELD_START, /* nothing of the current field read yet */
    UNQUOTED,
    QUOTED,
    QUOTE_SEEN, /* a quote inside a quoted field: the end, or the first of "" */
};

enum rec_error {
    REC_OK,
    REC_AFTER_QUOTE,
    REC_UNCLOSED,
    REC_TOO_LONG,
    REC_TOO_MANY_FIELDS,
};

static const char *const rec_messages[] = {
    [REC_OK] = NULL,
    [REC_AFTER_QUOTE] = "has text after the closing quote of a quoted field",
    [REC_UNCLOSED] = "has a quoted field whose closing quote is missing",
    [REC_TOO_LONG] = "is too long (a record may hold at most 256 KiB)",
    [REC_TOO_MANY_FIELDS] = "has too many fields (at most 256)",
};

struct rec_head {
    unsigned long line;
    uint32_t nfields;
    uint32_t error;
};

struct buf {
    char *p;
    size_t len, cap;
};

struct csv_reader {
    bool failed;
    /* Until the header record has ended the separator is unknown: the raw
     * bytes wait in `head`, with the quote parity seen so far. */
    bool sep_known;
    char sep;
    struct buf head;
    bool head_in_quotes;

    enum state st;
    bool after_cr; /* an LF right after a CR ends nothing more */
    bool record_started;
    unsigned long line;  /* the number of the record being read */
    size_t record_start; /* its rec_head's offset in `store` */
    size_t field_start;  /* the current field's length slot's offset */
    uint32_t nfields;
    enum rec_error error;
    bool dropping; /* too long or too many fields: the rest is not kept */
    struct buf store;

    const char *it_fields[CSV_MAX_FIELDS];
    size_t it_lens[CSV_MAX_FIELDS];
};

static bool buf_reserve(struct buf *b, size_t more)
{
    if (b->len + more <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64 * 1024;
    while (cap < b->len + more)
        cap *= 2;
    char *grown = realloc(b->p, cap);
    if (!grown) return false;
    b->p = grown;
    b->cap = cap;
    return true;
}

static bool buf_append(struct buf *b, const void *data, size_t len)
{
    if (!buf_reserve(b, len)) return false;
    memcpy(b->p + b->len, data, len);
    b->len += len;
    return true;
}

struct csv_reader *csv_reader_new(void)
{
    struct csv_reader *rd = calloc(1, sizeof *rd);
    if (!rd) return NULL;
    rd->sep = ',';
    rd->line = 1;
    return rd;
}

void csv_reader_free(struct csv_reader *rd)
{
    if (!rd) return;
    free(rd->head.p);
    free(rd->store.p);
    free(rd);
}

void csv_reader_discard(struct csv_reader *rd)
{
    free(rd->head.p);
    free(rd->store.p);
    rd->head = rd->store = (struct buf){0};
    rd->record_started = false;
    rd->failed = true;
}

size_t csv_reader_memory(const struct csv_reader *rd)
{
    return rd->store.cap + rd->head.cap;
}

char csv_reader_separator(const struct csv_reader *rd)
{
    return rd->sep;
}

static void fail_record(struct csv_reader *rd, enum rec_error e)
{
    if (rd->error == REC_OK) rd->error = e;
}

/* The first byte of a record opens its rec_head and first field. */
static bool field_open(struct csv_reader *rd)
{
    rd->field_start = rd->store.len;
    uint32_t zero = 0;
    return rd->dropping || buf_append(&rd->store, &zero, sizeof zero);
}

static bool record_open(struct csv_reader *rd)
{
    rd->record_started = true;
    rd->record_start = rd->store.len;
    rd->nfields = 0;
    rd->error = REC_OK;
    rd->dropping = false;
    struct rec_head h = {0};
    return buf_append(&rd->store, &h, sizeof h) && field_open(rd);
}

/* Stops keeping a record that is over a limit; its head stays, with the
 * error and no fields. */
static void record_drop(struct csv_reader *rd, enum rec_error e)
{
    fail_record(rd, e);
    rd->dropping = true;
    rd->nfields = 0;
    rd->store.len = rd->record_start + sizeof(struct rec_head);
}

static bool put(struct csv_reader *rd, char c)
{
    if (!rd->record_started && !record_open(rd)) return false;
    if (rd->dropping) return true;
    if (rd->store.len - rd->record_start >= CSV_MAX_RECORD_BYTES) {
        record_drop(rd, REC_TOO_LONG);
        return true;
    }
    if (rd->store.len < rd->store.cap) {
        rd->store.p[rd->store.len++] = c;
        return true;
    }
    return buf_append(&rd->store, &c, 1);
}

static bool field_end(struct csv_reader *rd)
{
    if (!rd->record_started && !record_open(rd)) return false;
    if (rd->dropping) return true;
    if (rd->nfields == CSV_MAX_FIELDS) {
        record_drop(rd, REC_TOO_MANY_FIELDS);
        return true;
    }
    uint32_t len = (uint32_t)(rd->store.len - rd->field_start - sizeof len);
    memcpy(rd->store.p + rd->field_start, &len, sizeof len);
    rd->nfields++;
    return buf_append(&rd->store, "", 1);
}

/* Ends the record whose field just ended; an empty line keeps nothing. */
static void record_end(struct csv_reader *rd)
{
    unsigned long line = rd->line++;
    if (!rd->record_started) return;
    struct rec_head h = {line, rd->nfields, (uint32_t)rd->error};
    memcpy(rd->store.p + rd->record_start, &h, sizeof h);
    rd->record_started = false;
}

/* A line end outside quotes: the empty line's "field" is not one. */
static bool line_end(struct csv_reader *rd, char c)
{
    if (rd->record_started && !field_end(rd)) return false;
    record_end(rd);
    rd->after_cr = c == '\r';
    rd->st = FIELD_START;
    return true;
}

static bool step(struct csv_reader *rd, char c)
{
    if (rd->after_cr) {
        rd->after_cr = false;
        if (c == '\n') return true;
    }
    switch (rd->st) {
    case QUOTED:
        if (c == '"') {
            rd->st = QUOTE_SEEN;
            return true;
        }
        return put(rd, c);
    case QUOTE_SEEN:
        if (c == '"') {
            rd->st = QUOTED;
            return put(rd, c);
        }
        if (c != rd->sep && c != '\n' && c != '\r') {
            /* kept as text, as spreadsheets do, but reported */
            fail_record(rd, REC_AFTER_QUOTE);
            rd->st = UNQUOTED;
            return put(rd, c);
        }
        break;
    case FIELD_START:
        if (c == '"') {
            if (!rd->record_started && !record_open(rd)) return false;
            rd->st = QUOTED;
            return true;
        }
        break;
    case UNQUOTED:
        break;
    }
    if (c == rd->sep) {
        rd->st = FIELD_START;
        return field_end(rd) && field_open(rd);
    }
    if (c == '\n' || c == '\r') return line_end(rd, c);
    rd->st = UNQUOTED;
    return put(rd, c);
}

static bool steps(struct csv_reader *rd, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!step(rd, data[i])) return false;
    return true;
}

/* The separator, from the header's first `n` bytes; then everything that
 * waited is read. */
static bool head_decide(struct csv_reader *rd, size_t n)
{
    const char *p = rd->head.p;
    size_t len = rd->head.len;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
        p += 3;
        len -= 3;
        n = n >= 3 ? n - 3 : 0;
    }
    size_t commas = 0, semicolons = 0;
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') quoted = !quoted;
        if (quoted) continue;
        commas += p[i] == ',';
        semicolons += p[i] == ';';
    }
    rd->sep = semicolons > commas ? ';' : ',';
    rd->sep_known = true;
    bool ok = steps(rd, p, len);
    free(rd->head.p);
    rd->head = (struct buf){0};
    return ok;
}

/* Out of memory leaves the reader unusable: every later call fails. */
static bool failing(struct csv_reader *rd, bool ok)
{
    if (!ok) rd->failed = true;
    return ok;
}

bool csv_reader_feed(struct csv_reader *rd, const char *data, size_t len)
{
    if (rd->failed) return false;
    if (rd->sep_known) return failing(rd, steps(rd, data, len));
    size_t before = rd->head.len;
    if (!buf_append(&rd->head, data, len)) return failing(rd, false);
    for (size_t i = before; i < rd->head.len; i++) {
        char c = rd->head.p[i];
        if (c == '"') rd->head_in_quotes = !rd->head_in_quotes;
        if (!rd->head_in_quotes && (c == '\n' || c == '\r')) return failing(rd, head_decide(rd, i));
    }
    /* a header that never ends is read with what it has */
    if (rd->head.len > CSV_MAX_RECORD_BYTES) return failing(rd, head_decide(rd, rd->head.len));
    return true;
}

bool csv_reader_finish(struct csv_reader *rd)
{
    if (rd->failed) return false;
    if (!rd->sep_known && !head_decide(rd, rd->head.len)) return failing(rd, false);
    if (rd->st == QUOTED) fail_record(rd, REC_UNCLOSED);
    if (rd->record_started) {
        if (!field_end(rd)) return failing(rd, false);
        record_end(rd);
    }
    rd->st = FIELD_START;
    return true;
}

bool csv_reader_next(struct csv_reader *rd, size_t *cursor, struct csv_record *out)
{
    /* a record still being read is not handed out */
    size_t end = rd->record_started ? rd->record_start : rd->store.len;
    if (*cursor >= end) return false;
    const char *p = rd->store.p + *cursor;
    struct rec_head h;
    memcpy(&h, p, sizeof h);
    p += sizeof h;
    for (uint32_t i = 0; i < h.nfields; i++) {
        uint32_t len;
        memcpy(&len, p, sizeof len);
        rd->it_fields[i] = p + sizeof len;
        rd->it_lens[i] = len;
        p += sizeof len + len + 1;
    }
    *cursor = (size_t)(p - rd->store.p);
    out->line = h.line;
    out->error = rec_messages[h.error];
    out->nfields = h.nfields;
    out->fields = rd->it_fields;
    out->lens = rd->it_lens;
    return true;
}
