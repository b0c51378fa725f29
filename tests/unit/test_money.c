#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "money.h"

/* Parses text with exponent; returns the result or a sentinel on failure. */
#define PARSE_FAILED INT64_C(-999999999999)

static int64_t parse(const char *text, int exponent)
{
    int64_t v;
    return money_parse_decimal(text, exponent, &v) ? v : PARSE_FAILED;
}

static const char *fmt(int64_t minor, int exponent)
{
    static char buf[32];
    money_format_decimal(minor, exponent, buf, sizeof buf);
    return buf;
}

static void test_table(void)
{
    CHECK_EQ_INT(currency_exponent("UAH"), 2);
    CHECK_EQ_INT(currency_exponent("USD"), 2);
    CHECK_EQ_INT(currency_exponent("EUR"), 2);
    CHECK_EQ_INT(currency_exponent("JPY"), 0);
    CHECK_EQ_INT(currency_exponent("KRW"), 0);
    CHECK_EQ_INT(currency_exponent("ISK"), 0);
    CHECK_EQ_INT(currency_exponent("CLP"), 0);
    CHECK_EQ_INT(currency_exponent("VND"), 0);
    CHECK_EQ_INT(currency_exponent("BHD"), 3);
    CHECK_EQ_INT(currency_exponent("KWD"), 3);
    CHECK_EQ_INT(currency_exponent("HUF"), 2);
    CHECK_EQ_INT(currency_exponent("usd"), -1);
    CHECK_EQ_INT(currency_exponent("XXX"), -1);
    CHECK_EQ_INT(currency_exponent(""), -1);
    CHECK_EQ_INT(currency_exponent("USDX"), -1);
    CHECK_EQ_INT(currency_exponent(NULL), -1);
    CHECK_EQ_STR(currency_from_numeric(980), "UAH");
    CHECK_EQ_STR(currency_from_numeric(840), "USD");
    CHECK_EQ_STR(currency_from_numeric(978), "EUR");
    CHECK_EQ_STR(currency_from_numeric(826), "GBP");
    CHECK_EQ_STR(currency_from_numeric(985), "PLN");
    CHECK_EQ_STR(currency_from_numeric(392), "JPY");
    CHECK_EQ_STR(currency_from_numeric(48), "BHD");
    CHECK_EQ_STR(currency_from_numeric(348), "HUF");
    CHECK_EQ_STR(currency_from_numeric(0), NULL);
    CHECK_EQ_STR(currency_from_numeric(999), NULL);
}

static void check_bad(const char *csv, const char *want_bad)
{
    char *bad = NULL;
    CHECK(!currency_allowlist_set(csv, &bad));
    CHECK_EQ_STR(bad, want_bad);
    free(bad);
}

static void test_allowlist(void)
{
    char *bad = NULL;
    CHECK(currency_allowlist_set(" UAH , USD,EUR\t,GBP,PLN,USD", &bad));
    CHECK(bad == NULL);
    CHECK(currency_allowed("UAH"));
    CHECK(currency_allowed("PLN"));
    CHECK(!currency_allowed("JPY"));
    CHECK(!currency_allowed("uah"));
    CHECK(!currency_allowed(NULL));
    check_bad("UAH,usd", "usd");
    check_bad("UAH,XYZ", "XYZ");
    check_bad("", "");
    check_bad("UAH,,USD", "");
    check_bad("UAH,", "");
    check_bad(NULL, "");
    /* A rejected list leaves the previous one in force. */
    CHECK(currency_allowed("UAH"));
    CHECK(currency_allowlist_set("JPY", &bad));
    CHECK(currency_allowed("JPY"));
    CHECK(!currency_allowed("UAH"));
    currency_allowlist_free();
    CHECK(!currency_allowed("JPY"));
}

static void test_parse(void)
{
    CHECK_EQ_INT(parse("3.5", 2), 350);
    CHECK_EQ_INT(parse("100", 2), 10000);
    CHECK_EQ_INT(parse("100.00", 2), 10000);
    CHECK_EQ_INT(parse("0.01", 2), 1);
    CHECK_EQ_INT(parse("-0.01", 2), -1);
    CHECK_EQ_INT(parse("-12.30", 2), -1230);
    CHECK_EQ_INT(parse("007.50", 2), 750);
    CHECK_EQ_INT(parse("3.500", 2), 350);
    CHECK_EQ_INT(parse("0", 2), 0);
    CHECK_EQ_INT(parse("-0", 2), 0);
    CHECK_EQ_INT(parse("100", 0), 100);
    CHECK_EQ_INT(parse("100.0", 0), 100);
    CHECK_EQ_INT(parse("1.234", 3), 1234);
    CHECK_EQ_INT(parse("1.5", 3), 1500);
    CHECK_EQ_INT(parse("0.005", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("100.5", 0), PARSE_FAILED);
    CHECK_EQ_INT(parse("1.2345", 3), PARSE_FAILED);
    CHECK_EQ_INT(parse("", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("-", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse(".", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("1.", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse(".5", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("-.5", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("1e3", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("1E3", 0), PARSE_FAILED);
    CHECK_EQ_INT(parse(" 1", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("1 ", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("1,5", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("+1", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("--1", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("NaN", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("inf", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("0x10", 0), PARSE_FAILED);
    CHECK_EQ_INT(parse("1.2.3", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("1", -1), PARSE_FAILED);
    CHECK_EQ_INT(parse(NULL, 2), PARSE_FAILED);
}

static void test_parse_limits(void)
{
    CHECK_EQ_INT(parse("9223372036854775807", 0), INT64_MAX);
    CHECK_EQ_INT(parse("-9223372036854775808", 0), INT64_MIN);
    CHECK_EQ_INT(parse("9223372036854775808", 0), PARSE_FAILED);
    CHECK_EQ_INT(parse("-9223372036854775809", 0), PARSE_FAILED);
    CHECK_EQ_INT(parse("92233720368547758.07", 2), INT64_MAX);
    CHECK_EQ_INT(parse("92233720368547758.08", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("-92233720368547758.08", 2), INT64_MIN);
    /* Overflow may come from the implied trailing zeros alone. */
    CHECK_EQ_INT(parse("92233720368547758", 2), 9223372036854775800);
    CHECK_EQ_INT(parse("92233720368547759", 2), PARSE_FAILED);
    CHECK_EQ_INT(parse("99999999999999999999999", 0), PARSE_FAILED);
    CHECK_EQ_INT(parse("000000000000000000000000001", 0), 1);
}

static void test_format(void)
{
    CHECK_EQ_STR(fmt(350, 2), "3.50");
    CHECK_EQ_STR(fmt(5, 2), "0.05");
    CHECK_EQ_STR(fmt(0, 2), "0.00");
    CHECK_EQ_STR(fmt(-1, 2), "-0.01");
    CHECK_EQ_STR(fmt(-1230, 2), "-12.30");
    CHECK_EQ_STR(fmt(100, 0), "100");
    CHECK_EQ_STR(fmt(0, 0), "0");
    CHECK_EQ_STR(fmt(1234, 3), "1.234");
    CHECK_EQ_STR(fmt(INT64_MAX, 2), "92233720368547758.07");
    CHECK_EQ_STR(fmt(INT64_MIN, 0), "-9223372036854775808");
    char small[4];
    money_format_decimal(12345, 2, small, sizeof small);
    CHECK_EQ_STR(small, "123");
    /* Formatting and parsing are inverses. */
    int64_t v;
    CHECK(money_parse_decimal(fmt(-987654321, 3), 3, &v) && v == -987654321);
}

int main(void)
{
    test_table();
    test_allowlist();
    test_parse();
    test_parse_limits();
    test_format();
    return CHECK_DONE();
}
