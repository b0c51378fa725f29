/* A minimal unit-test harness: each CHECK counts a pass or prints the
 * failing expression, and CHECK_DONE() reports and sets the exit status. */
#ifndef PATROND_CHECK_H
#define PATROND_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

static void check_record(int ok, const char *file, int line, const char *expr)
{
    if (ok) {
        check_passed++;
        return;
    }
    check_failed++;
    printf("FAIL %s:%d: %s\n", file, line, expr);
}

#define CHECK(cond) check_record((cond) ? 1 : 0, __FILE__, __LINE__, #cond)

#define CHECK_EQ_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *check_a_ = (a), *check_b_ = (b);                                               \
        int check_ok_ = check_a_ && check_b_ ? !strcmp(check_a_, check_b_) : check_a_ == check_b_; \
        check_record(check_ok_, __FILE__, __LINE__, #a " == " #b);                                 \
        if (!check_ok_)                                                                            \
            printf("    got \"%s\", want \"%s\"\n", check_a_ ? check_a_ : "(null)",                \
                   check_b_ ? check_b_ : "(null)");                                                \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        check_record(check_a_ == check_b_, __FILE__, __LINE__, #a " == " #b);                      \
        if (check_a_ != check_b_) printf("    got %lld, want %lld\n", check_a_, check_b_);         \
    } while (0)

/* The test's name is its file name without directory or extension. */
static int check_done(const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    int len = (int)strcspn(base, ".");
    printf("%.*s: %d passed, %d failed\n", len, base, check_passed, check_failed);
    return check_failed > 0;
}

#define CHECK_DONE() check_done(__FILE__)

#endif
