#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "csv.h"

/* One row of the given cells, as text; the caller frees it. */
static char *row(const char *const *cells, int n)
{
    struct csv c;
    csv_init(&c);
    for (int i = 0; i < n; i++)
        csv_cell(&c, cells[i]);
    csv_end_row(&c);
    size_t len;
    char *out = csv_take(&c, &len);
    if (out && strlen(out) != len) {
        free(out);
        return NULL;
    }
    return out;
}

static void check_row(const char *const *cells, int n, const char *want, int line)
{
    char *got = row(cells, n);
    int ok = got && !strcmp(got, want);
    check_record(ok, __FILE__, line, want);
    if (!ok) printf("    got \"%s\"\n", got ? got : "(null)");
    free(got);
}

#define ROW(want, ...)                                                                             \
    do {                                                                                           \
        const char *cells_[] = {__VA_ARGS__};                                                      \
        check_row(cells_, (int)(sizeof cells_ / sizeof cells_[0]), want, __LINE__);                \
    } while (0)

static void test_plain(void)
{
    ROW("a,b,c\r\n", "a", "b", "c");
    ROW("x\r\n", "x");
    ROW(",,\r\n", NULL, "", NULL);
    ROW("Jürgen,ok\r\n", "Jürgen", "ok");
}

static void test_quoting(void)
{
    ROW("\"a,b\"\r\n", "a,b");
    ROW("\"say \"\"hi\"\"\"\r\n", "say \"hi\"");
    ROW("\"\"\"\"\r\n", "\"");
    ROW("\"line\nbreak\",\"cr\rhere\"\r\n", "line\nbreak", "cr\rhere");
    ROW("a'b\r\n", "a'b");
}

static void test_formula_guard(void)
{
    ROW("'=1+1\r\n", "=1+1");
    ROW("'+1,'-1,'@SUM(A1)\r\n", "+1", "-1", "@SUM(A1)");
    ROW("'\tx\r\n", "\tx");
    ROW("\"'\rx\"\r\n", "\rx");
    ROW("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\r\n", "=HYPERLINK(\"http://x\",\"y\")");
    ROW("a=1,b-2\r\n", "a=1", "b-2");
}

static void test_rows_and_growth(void)
{
    struct csv c;
    csv_init(&c);
    size_t len;
    char *empty = csv_take(&c, &len);
    CHECK(empty != NULL);
    CHECK_EQ_INT(len, 0);
    free(empty);

    for (int i = 0; i < 10000; i++) {
        csv_cell(&c, "id");
        csv_cell(&c, "a,b");
        csv_end_row(&c);
    }
    char *text = csv_take(&c, &len);
    CHECK(text != NULL);
    CHECK_EQ_INT(len, 10000 * strlen("id,\"a,b\"\r\n"));
    CHECK(text && !strncmp(text, "id,\"a,b\"\r\nid,", 13));
    free(text);
    CHECK(c.buf == NULL && c.len == 0);

    csv_cell(&c, "left over");
    csv_free(&c);
    CHECK(c.buf == NULL);
}

int main(void)
{
    test_plain();
    test_quoting();
    test_formula_guard();
    test_rows_and_growth();
    return CHECK_DONE();
}
