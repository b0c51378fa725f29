#ifndef PATROND_CSV_READER_H
#define PATROND_CSV_READER_H

#include <stdbool.h>
#include <stddef.h>

/* RFC 4180 CSV read incrementally, as an upload arrives: bytes go in in
 * pieces of any size, complete records are kept (compactly, never the raw
 * text) and read back in order once the input has ended.
 *
 * Read as spreadsheets write it: fields quoted or not, `""` inside quotes,
 * CRLF, LF or CR line ends, line breaks inside quotes; a UTF-8 byte order
 * mark at the start is dropped; the separator is `;` or `,`, whichever the
 * header record (the first) holds more of outside quotes (`,` on a tie).
 * Bytes are not interpreted otherwise: whether fields are UTF-8 is the
 * caller's check. A record that cannot be read as written (text after a
 * closing quote, a quote never closed, too long, too many fields) is kept
 * with an error saying why. Empty lines are skipped but counted. */

/* Limits on one record, so a malformed file cannot make one unbounded. */
#define CSV_MAX_FIELDS 256
#define CSV_MAX_RECORD_BYTES (256u * 1024)

struct csv_reader;

struct csv_record {
    unsigned long line; /* the record's number: the header is 1, an empty line counts */
    const char *error;  /* why the record is malformed, or NULL */
    size_t nfields;     /* 0 for a malformed record that was too long to keep */
    /* NUL-terminated copies; a field may itself hold a NUL, hence lens */
    const char *const *fields;
    const size_t *lens;
};

/* NULL when out of memory. */
struct csv_reader *csv_reader_new(void);
void csv_reader_free(struct csv_reader *rd);
/* The next bytes of the input. False when out of memory (the reader is
 * then unusable). */
bool csv_reader_feed(struct csv_reader *rd, const char *data, size_t len);
/* The input has ended; the last record is completed. False when out of
 * memory. */
bool csv_reader_finish(struct csv_reader *rd);
/* The bytes the reader holds (its records, and the header while it waits). */
size_t csv_reader_memory(const struct csv_reader *rd);
/* Lets go of everything read; the reader then takes no more input. */
void csv_reader_discard(struct csv_reader *rd);
/* The separator chosen from the header (',' until it was seen). */
char csv_reader_separator(const struct csv_reader *rd);
/* The records in order: *cursor starts at 0; false after the last one.
 * *out points into the reader and is valid until the next call. */
bool csv_reader_next(struct csv_reader *rd, size_t *cursor, struct csv_record *out);

#endif
