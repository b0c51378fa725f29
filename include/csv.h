#ifndef PATROND_CSV_H
#define PATROND_CSV_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 4180 CSV built in memory, for exports opened in spreadsheets. Cells
 * are quoted when they hold `"`, `,`, CR or LF, and a cell a spreadsheet
 * would run as a formula (leading `=`, `+`, `-`, `@`, tab or CR) gets a
 * leading `'` so client-controlled text stays text. Rows end in CRLF.
 *
 * Appending never fails visibly: running out of memory marks the buffer
 * failed, and csv_take() then reports it once at the end. */
struct csv {
    char *buf;
    size_t len, cap;
    bool row_open; /* a cell was written since the last row end */
    bool failed;
};

void csv_init(struct csv *c);
/* Appends one cell to the current row; NULL is an empty cell. */
void csv_cell(struct csv *c, const char *s);
/* Ends the current row. */
void csv_end_row(struct csv *c);
/* Hands over the malloc'd text (*len bytes, NUL-terminated), or returns
 * NULL after an allocation failure. The csv is empty afterwards. */
char *csv_take(struct csv *c, size_t *len);
void csv_free(struct csv *c);

#endif
