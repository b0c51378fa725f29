#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "csv_reader.h"

/* The records read from `in` (len bytes) fed in pieces of `piece` bytes,
 * rendered as "line:field|field" lines, "line!error" for a malformed one
 * (then its fields), and "sep=X" first. Caller frees. */
static char *read_all(const char *in, size_t len, size_t piece)
{
    struct csv_reader *rd = csv_reader_new();
    if (!rd) return NULL;
    for (size_t off = 0; off < len; off += piece) {
        size_t n = len - off < piece ? len - off : piece;
        if (!csv_reader_feed(rd, in + off, n)) {
            csv_reader_free(rd);
            return NULL;
        }
    }
    if (!csv_reader_finish(rd)) {
        csv_reader_free(rd);
        return NULL;
    }
    size_t cap = 4096 + len * 4, used = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    used += (size_t)snprintf(out, cap, "sep=%c\n", csv_reader_separator(rd));
    struct csv_record rec;
    size_t cursor = 0;
    while (csv_reader_next(rd, &cursor, &rec)) {
        used += (size_t)snprintf(out + used, cap - used, "%lu%s%s:", rec.line, rec.error ? "!" : "",
                                 rec.error ? rec.error : "");
        for (size_t i = 0; i < rec.nfields; i++) {
            if (i) out[used++] = '|';
            memcpy(out + used, rec.fields[i], rec.lens[i]);
            used += rec.lens[i];
            CHECK(rec.fields[i][rec.lens[i]] == '\0');
        }
        out[used++] = '\n';
        out[used] = '\0';
    }
    csv_reader_free(rd);
    return out;
}

/* Every way of cutting the input into pieces reads the same. */
static void check_read(const char *in, size_t len, const char *want, int line)
{
    static const size_t pieces[] = {1, 2, 3, 5, 7, 64, 1 << 20};
    for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++) {
        char *got = read_all(in, len, pieces[i]);
        int ok = got && !strcmp(got, want);
        check_record(ok, __FILE__, line, want);
        if (!ok) {
            printf("    piece %zu, got:\n%s\n", pieces[i], got ? got : "(null)");
            free(got);
            return;
        }
        free(got);
    }
}

#define READ(in, want) check_read(in, sizeof(in) - 1, want, __LINE__)

static void test_plain(void)
{
    READ("email,name\r\na@example.org,Ann\r\nb@example.org,Bo\r\n",
         "sep=,\n1:email|name\n2:a@example.org|Ann\n3:b@example.org|Bo\n");
    /* LF only, no final line end, empty fields */
    READ("a,b,c\n1,,3\n,,", "sep=,\n1:a|b|c\n2:1||3\n3:||\n");
    /* a lone CR ends a line too */
    READ("a\rb\r", "sep=,\n1:a\n2:b\n");
    READ("", "sep=,\n");
    READ("\r\n", "sep=,\n");
}

static void test_quoting(void)
{
    READ("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n", "sep=,\n1:a|b\n2:x, y|say \"hi\"\n");
    /* line breaks inside quotes stay, and the record keeps one number */
    READ("note,email\n\"one\r\ntwo\nthree\",a@example.org\nz,b@example.org\n",
         "sep=,\n1:note|email\n2:one\r\ntwo\nthree|a@example.org\n3:z|b@example.org\n");
    READ("a\n\"\"\n", "sep=,\n1:a\n2:\n");
    /* a quote inside an unquoted field is text, as spreadsheets read it */
    READ("a\n5\" disk\n", "sep=,\n1:a\n2:5\" disk\n");
    READ("a,b\n\"x\"y,z\n",
         "sep=,\n1:a|b\n2!has text after the closing quote of a quoted field:xy|z\n");
    READ("a,b\n\"open,z\nmore\n",
         "sep=,\n1:a|b\n2!has a quoted field whose closing quote is missing:open,z\nmore\n\n");
}

static void test_separator_and_bom(void)
{
    READ("\xEF\xBB\xBF"
         "email;amount\r\na@example.org;5,00\r\n",
         "sep=;\n1:email|amount\n2:a@example.org|5,00\n");
    /* separators inside quoted header names do not count */
    READ("\"a,b,c\";d;e\n1;2;3\n", "sep=;\n1:a,b,c|d|e\n2:1|2|3\n");
    READ("a;b,c\n1;2,3\n", "sep=,\n1:a;b|c\n2:1;2|3\n");
    /* a BOM anywhere else is text */
    READ("a\n\xEF\xBB\xBF"
         "x\n",
         "sep=,\n1:a\n2:\xEF\xBB\xBF"
         "x\n");
}

static void test_empty_lines_count(void)
{
    READ("a\n\n1\n\r\n2\n", "sep=,\n1:a\n3:1\n5:2\n");
}

static void test_limits(void)
{
    size_t n = CSV_MAX_RECORD_BYTES + 10;
    char *big = malloc(n + 16);
    CHECK(big != NULL);
    if (!big) return;
    memcpy(big, "a\n", 2);
    memset(big + 2, 'x', n);
    memcpy(big + 2 + n, "\nb\n", 4);
    char *got = read_all(big, strlen(big), 4096);
    CHECK_EQ_STR(got, "sep=,\n1:a\n2!is too long (a record may hold at most 256 KiB):\n3:b\n");
    free(got);
    free(big);

    char many[CSV_MAX_FIELDS * 2 + 16] = "a\n";
    size_t used = 2;
    for (int i = 0; i <= CSV_MAX_FIELDS; i++)
        many[used++] = ',';
    memcpy(many + used, "\nb\n", 4);
    got = read_all(many, strlen(many), 7);
    CHECK_EQ_STR(got, "sep=,\n1:a\n2!has too many fields (at most 256):\n3:b\n");
    free(got);
}

/* A NUL is a byte like any other; the caller's UTF-8 check refuses it. */
static void test_nul(void)
{
    static const char in[] = "a\nx\0y\n";
    char *got = read_all(in, sizeof in - 1, 1);
    CHECK(got && !memcmp(got, "sep=,\n1:a\n2:x\0y\n", 16));
    free(got);
}

/* What the reader holds is known, and can be let go of early. */
static void test_discard(void)
{
    struct csv_reader *rd = csv_reader_new();
    CHECK(rd != NULL);
    if (!rd) return;
    CHECK_EQ_INT(csv_reader_memory(rd), 0);
    CHECK(csv_reader_feed(rd, "a,b\n1,2\n", 8));
    CHECK(csv_reader_memory(rd) >= 8);
    csv_reader_discard(rd);
    CHECK_EQ_INT(csv_reader_memory(rd), 0);
    CHECK(!csv_reader_feed(rd, "3,4\n", 4));
    CHECK(!csv_reader_finish(rd));
    size_t cursor = 0;
    struct csv_record rec;
    CHECK(!csv_reader_next(rd, &cursor, &rec));
    csv_reader_free(rd);
}

int main(void)
{
    test_plain();
    test_quoting();
    test_separator_and_bom();
    test_empty_lines_count();
    test_limits();
    test_nul();
    test_discard();
    return CHECK_DONE();
}
