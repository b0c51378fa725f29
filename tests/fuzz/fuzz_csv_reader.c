/* libFuzzer target: the CSV reader. The input is read whole and again cut
 * at a point the input's first byte chooses, then byte by byte up to a
 * limit; every way must give the same records (an upload arrives in pieces
 * of any size), and no record may break its limits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"

/* The records as one string: line, error, fields with their lengths. */
static char *render(const uint8_t *data, size_t size, size_t piece, size_t *len)
{
    struct csv_reader *rd = csv_reader_new();
    if (!rd) abort();
    for (size_t off = 0; off < size; off += piece) {
        size_t n = size - off < piece ? size - off : piece;
        if (!csv_reader_feed(rd, (const char *)data + off, n)) abort();
    }
    if (!csv_reader_finish(rd)) abort();
    size_t cap = 256 + size * 64, used = 0;
    char *out = malloc(cap);
    if (!out) abort();
    used += (size_t)snprintf(out, cap, "%c", csv_reader_separator(rd));
    struct csv_record rec;
    size_t cursor = 0;
    unsigned long last = 0;
    while (csv_reader_next(rd, &cursor, &rec)) {
        if (rec.line <= last || rec.nfields > CSV_MAX_FIELDS) abort();
        last = rec.line;
        if (used + 160 > cap) abort();
        used += (size_t)snprintf(out + used, cap - used, "|%lu:%s:%zu", rec.line,
                                 rec.error ? rec.error : "", rec.nfields);
        for (size_t i = 0; i < rec.nfields; i++) {
            if (rec.fields[i][rec.lens[i]] != '\0' || used + rec.lens[i] + 32 > cap) abort();
            used += (size_t)snprintf(out + used, cap - used, ",%zu=", rec.lens[i]);
            memcpy(out + used, rec.fields[i], rec.lens[i]);
            used += rec.lens[i];
        }
    }
    csv_reader_free(rd);
    *len = used;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t whole_len, cut_len, bytes_len;
    char *whole = render(data, size, size ? size : 1, &whole_len);
    size_t piece = size ? 1 + data[0] % 64 : 1;
    char *cut = render(data, size, piece, &cut_len);
    if (cut_len != whole_len || memcmp(cut, whole, whole_len)) abort();
    if (size <= 4096) {
        char *bytes = render(data, size, 1, &bytes_len);
        if (bytes_len != whole_len || memcmp(bytes, whole, whole_len)) abort();
        free(bytes);
    }
    free(cut);
    free(whole);
    return 0;
}
