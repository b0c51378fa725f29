/* libFuzzer target: the CSV writer. Input: cells separated by 0x1f, rows by
 * 0x1e. Checks that the output parses back (RFC 4180) to the same cells,
 * except that a formula-looking cell comes back prefixed with ', and that no
 * cell starts with = + - @ (or tab/CR) unescaped. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "fuzz_input.h"

static bool formula(const char *s)
{
    return *s == '=' || *s == '+' || *s == '-' || *s == '@' || *s == '\t' || *s == '\r';
}

/* Parses one cell at *p; returns a malloc'd cell, NULL at a malformed one. */
static char *cell_back(const char **p, const char *end)
{
    const char *s = *p;
    char *out = malloc((size_t)(end - s) + 1);
    size_t n = 0;
    if (!out) abort();
    if (s < end && *s == '"') {
        s++;
        for (;;) {
            if (s >= end) {
                free(out);
                return NULL;
            }
            if (*s == '"') {
                if (s + 1 < end && s[1] == '"') {
                    out[n++] = '"';
                    s += 2;
                    continue;
                }
                s++;
                break;
            }
            out[n++] = *s++;
        }
    } else {
        while (s < end && *s != ',' && *s != '\r' && *s != '\n') {
            if (*s == '"') {
                free(out);
                return NULL;
            }
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
    *p = s;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = fuzz_cstr(data, size);
    if (!in) return 0;
    if (strlen(in) != size) { /* cells are C strings */
        free(in);
        return 0;
    }
    struct csv c;
    csv_init(&c);
    char *s = in;
    for (;;) {
        size_t k = strcspn(s, "\x1e\x1f");
        char sep = s[k];
        s[k] = '\0';
        csv_cell(&c, s);
        if (sep == '\x1e') csv_end_row(&c);
        if (!sep) break;
        s += k + 1;
    }
    csv_end_row(&c);
    size_t len;
    char *out = csv_take(&c, &len);
    csv_free(&c);
    if (!out) abort();

    /* read it back, comparing each cell with the input */
    memcpy(in, data, size);
    in[size] = '\0';
    const char *p = out, *end = out + len, *want = in;
    for (;;) {
        size_t k = strcspn(want, "\x1e\x1f");
        char sep = want[k];
        char *got = cell_back(&p, end);
        if (!got) abort();
        if (formula(got)) abort();
        const char *cmp = got;
        if (formula(want) && got[0] == '\'') cmp = got + 1;
        if (strlen(cmp) != k || memcmp(cmp, want, k)) abort();
        free(got);
        if (sep == '\x1f') {
            if (p >= end || *p != ',') abort();
            p++;
        } else {
            if (p + 1 < end && p[0] == '\r' && p[1] == '\n')
                p += 2;
            else if (p < end && *p == '\n')
                p++;
            else
                abort();
        }
        if (!sep) break;
        want += k + 1;
    }
    if (p != end) abort();
    free(out);
    free(in);
    return 0;
}
