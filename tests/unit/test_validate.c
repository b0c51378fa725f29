#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "money.h"
#include "validate.h"

static bool text_ok(const char *s, size_t len, size_t *chars)
{
    return valid_text(s, len, chars);
}

static void test_text(void)
{
    size_t n = 99;
    CHECK(text_ok("", 0, &n) && n == 0);
    CHECK(text_ok("hello", 5, &n) && n == 5);
    CHECK(text_ok("кава", 8, &n) && n == 4);
    CHECK(text_ok("a\tb\nc\r", 6, &n) && n == 6);
    CHECK(text_ok("\xf0\x9f\x98\x80", 4, &n) && n == 1); /* U+1F600 */
    CHECK(text_ok("\xf4\x8f\xbf\xbf", 4, &n) && n == 1); /* U+10FFFF */
    CHECK(text_ok("\xef\xbf\xbd", 3, NULL));
    CHECK(!text_ok("a\0b", 3, &n));
    CHECK(!text_ok("\x01", 1, &n));
    CHECK(!text_ok("\x1b[31m", 5, &n));
    CHECK(!text_ok("\x7f", 1, &n));
    CHECK(!text_ok("\xc2\x85", 2, &n));         /* NEL, a C1 control */
    CHECK(!text_ok("\xc0\xaf", 2, &n));         /* overlong '/' */
    CHECK(!text_ok("\xe0\x80\xaf", 3, &n));     /* overlong '/' */
    CHECK(!text_ok("\xf0\x80\x80\xaf", 4, &n)); /* overlong '/' */
    CHECK(!text_ok("\xed\xa0\x80", 3, &n));     /* surrogate U+D800 */
    CHECK(!text_ok("\xed\xbf\xbf", 3, &n));     /* surrogate U+DFFF */
    CHECK(!text_ok("\xf4\x90\x80\x80", 4, &n)); /* U+110000 */
    CHECK(!text_ok("\xf5\x80\x80\x80", 4, &n));
    CHECK(!text_ok("\xff", 1, &n));
    CHECK(!text_ok("\x80", 1, &n)); /* lone continuation byte */
    CHECK(!text_ok("\xd0", 1, &n)); /* truncated */
    CHECK(!text_ok("\xe2\x82", 2, &n));
    CHECK(!text_ok("\xe2\x82\xac", 2, &n)); /* cut by len */
    CHECK(!text_ok("\xe2(\xac", 3, &n));
}

static void test_email(void)
{
    CHECK(valid_email("reader@example.org"));
    CHECK(valid_email("first.last+tag@mail.example.co.uk"));
    CHECK(valid_email("o'brien@example.ie"));
    CHECK(valid_email("a@b.cd"));
    CHECK(valid_email("x@my-domain.com"));
    CHECK(valid_email("USER@EXAMPLE.COM"));
    CHECK(!valid_email(""));
    CHECK(!valid_email(NULL));
    CHECK(!valid_email("plainaddress"));
    CHECK(!valid_email("@example.org"));
    CHECK(!valid_email("user@"));
    CHECK(!valid_email("user@@example.org"));
    CHECK(!valid_email("a@b@example.org"));
    CHECK(!valid_email("user@localhost"));
    CHECK(!valid_email("user@example.c"));
    CHECK(!valid_email("user@example.c0m"));
    CHECK(!valid_email("user@10.0.0.1"));
    CHECK(!valid_email(".user@example.org"));
    CHECK(!valid_email("user.@example.org"));
    CHECK(!valid_email("us..er@example.org"));
    CHECK(!valid_email("user@.example.org"));
    CHECK(!valid_email("user@example.org."));
    CHECK(!valid_email("user@exa..mple.org"));
    CHECK(!valid_email("user@-example.org"));
    CHECK(!valid_email("user@example-.org"));
    CHECK(!valid_email("us er@example.org"));
    CHECK(!valid_email("user@exa mple.org"));
    CHECK(!valid_email("user@example.org\n"));
    CHECK(!valid_email("user\n@example.org"));
    CHECK(!valid_email("\"quoted\"@example.org"));
    CHECK(!valid_email("user@exam_ple.org"));
    CHECK(!valid_email("юзер@example.org"));

    char local[80], addr[400];
    memset(local, 'a', 64);
    local[64] = '\0';
    snprintf(addr, sizeof addr, "%s@example.org", local);
    CHECK(valid_email(addr));
    snprintf(addr, sizeof addr, "a%s@example.org", local);
    CHECK(!valid_email(addr)); /* local part of 65 */

    /* 254 bytes in all is the limit: "a@", three 63-byte labels, dots, a 60-byte TLD. */
    char label[64];
    memset(label, 'b', 63);
    label[63] = '\0';
    snprintf(addr, sizeof addr, "a@%s.%s.%s.%.*s", label, label, label, 60, label);
    CHECK_EQ_INT(strlen(addr), 254);
    CHECK(valid_email(addr));
    snprintf(addr, sizeof addr, "a@%s.%s.%s.%.*s", label, label, label, 61, label);
    CHECK(!valid_email(addr));
    snprintf(addr, sizeof addr, "a@%sb.org", label);
    CHECK(!valid_email(addr)); /* a 64-byte label */
}

static void test_uuid(void)
{
    CHECK(valid_uuid("123e4567-e89b-12d3-a456-426614174000"));
    CHECK(valid_uuid("123E4567-E89B-12D3-A456-426614174000"));
    CHECK(!valid_uuid("123e4567e89b12d3a456426614174000"));
    CHECK(!valid_uuid("123e4567-e89b-12d3-a456-42661417400"));
    CHECK(!valid_uuid("123e4567-e89b-12d3-a456-4266141740000"));
    CHECK(!valid_uuid("123e4567-e89b-12d3-a456_426614174000"));
    CHECK(!valid_uuid("g23e4567-e89b-12d3-a456-426614174000"));
    CHECK(!valid_uuid("{123e4567-e89b-12d3-a456-426614174000}"));
    CHECK(!valid_uuid(""));
    CHECK(!valid_uuid(NULL));
}

static void test_rfc3339(void)
{
    CHECK(valid_rfc3339("2024-05-01T12:30:00Z"));
    CHECK(valid_rfc3339("2024-05-01T12:30:00.123456Z"));
    CHECK(valid_rfc3339("2024-05-01T12:30:00+03:00"));
    CHECK(valid_rfc3339("2024-05-01T12:30:00-05:30"));
    CHECK(valid_rfc3339("2024-05-01t12:30:00z"));
    CHECK(valid_rfc3339("2024-02-29T00:00:00Z"));
    CHECK(valid_rfc3339("2000-02-29T00:00:00Z"));
    CHECK(valid_rfc3339("2016-12-31T23:59:60Z"));
    CHECK(valid_rfc3339("2024-12-31T23:59:59Z"));
    CHECK(!valid_rfc3339("2023-02-29T00:00:00Z"));
    CHECK(!valid_rfc3339("1900-02-29T00:00:00Z"));
    CHECK(!valid_rfc3339("2024-04-31T00:00:00Z"));
    CHECK(!valid_rfc3339("2024-13-01T00:00:00Z"));
    CHECK(!valid_rfc3339("2024-00-01T00:00:00Z"));
    CHECK(!valid_rfc3339("2024-01-00T00:00:00Z"));
    CHECK(!valid_rfc3339("2024-01-01T24:00:00Z"));
    CHECK(!valid_rfc3339("2024-01-01T23:60:00Z"));
    CHECK(!valid_rfc3339("2024-01-01T23:59:61Z"));
    CHECK(!valid_rfc3339("2024-01-01 12:00:00Z"));
    CHECK(!valid_rfc3339("2024-01-01T12:00Z"));
    CHECK(!valid_rfc3339("2024-01-01T12:00:00"));
    CHECK(!valid_rfc3339("2024-01-01T12:00:00.Z"));
    CHECK(!valid_rfc3339("2024-01-01T12:00:00+0300"));
    CHECK(!valid_rfc3339("2024-01-01T12:00:00+24:00"));
    CHECK(!valid_rfc3339("2024-01-01T12:00:00Z "));
    CHECK(!valid_rfc3339("2024-01-01"));
    CHECK(!valid_rfc3339("0000-01-01T00:00:00Z"));
    CHECK(!valid_rfc3339("24-01-01T00:00:00Z"));
    CHECK(!valid_rfc3339(""));
    CHECK(!valid_rfc3339(NULL));
}

static void test_url(void)
{
    CHECK(valid_http_url("https://example.org"));
    CHECK(valid_http_url("http://127.0.0.1:8080/members?x=1#top"));
    CHECK(valid_http_url("HTTPS://Example.org/"));
    CHECK(valid_http_url("https://user@example.org/"));
    CHECK(valid_http_url("https://example.org/статті"));
    CHECK(!valid_http_url("ftp://example.org"));
    CHECK(!valid_http_url("javascript:alert(1)"));
    CHECK(!valid_http_url("https://"));
    CHECK(!valid_http_url("https:///path"));
    CHECK(!valid_http_url("https://@/"));
    CHECK(!valid_http_url("https://:80/"));
    CHECK(!valid_http_url("//example.org"));
    CHECK(!valid_http_url("https://exa mple.org"));
    CHECK(!valid_http_url("https://example.org/\n"));
    CHECK(!valid_http_url("https://example.org/\x7f"));
    CHECK(!valid_http_url(""));
    CHECK(!valid_http_url(NULL));
    char url[2100] = "https://example.org/";
    size_t n = strlen(url);
    memset(url + n, 'a', 2048 - n);
    url[2048] = '\0';
    CHECK(valid_http_url(url));
    url[2048] = 'a';
    url[2049] = '\0';
    CHECK(!valid_http_url(url));
}

static void test_parse_int(void)
{
    int64_t v = 0;
    CHECK(parse_int_in("42", 0, 100, &v) && v == 42);
    CHECK(parse_int_in("-5", -10, 10, &v) && v == -5);
    CHECK(parse_int_in("007", 0, 10, &v) && v == 7);
    CHECK(parse_int_in("9223372036854775807", INT64_MIN, INT64_MAX, &v) && v == INT64_MAX);
    CHECK(parse_int_in("-9223372036854775808", INT64_MIN, INT64_MAX, &v) && v == INT64_MIN);
    CHECK(!parse_int_in("9223372036854775808", INT64_MIN, INT64_MAX, &v));
    CHECK(!parse_int_in("-9223372036854775809", INT64_MIN, INT64_MAX, &v));
    CHECK(!parse_int_in("101", 0, 100, &v));
    CHECK(!parse_int_in("-1", 0, 100, &v));
    CHECK(!parse_int_in("", 0, 100, &v));
    CHECK(!parse_int_in("-", 0, 100, &v));
    CHECK(!parse_int_in("+1", 0, 100, &v));
    CHECK(!parse_int_in(" 1", 0, 100, &v));
    CHECK(!parse_int_in("1 ", 0, 100, &v));
    CHECK(!parse_int_in("1.0", 0, 100, &v));
    CHECK(!parse_int_in("1e2", 0, 1000, &v));
    CHECK(!parse_int_in("0x10", 0, 100, &v));
    CHECK(!parse_int_in(NULL, 0, 100, &v));
}

/* ---- validate_object ---- */

static const char *const intervals[] = {"month", "year", "once", NULL};

struct form {
    const char *email, *name, *currency, *interval, *patron_id, *when, *url;
    int64_t amount;
    bool active, name_present, name_null;
};

static void form_fields(struct form *f, struct field *out)
{
    const struct field fields[] = {
        {.name = "email", .type = FIELD_EMAIL, .required = true, .out.str = &f->email},
        {.name = "name",
         .type = FIELD_STRING,
         .nullable = true,
         .max = 5,
         .out.str = &f->name,
         .present = &f->name_present,
         .is_null = &f->name_null},
        {.name = "amount_minor",
         .type = FIELD_INT,
         .required = true,
         .min = 1,
         .max = 100000000,
         .out.i64 = &f->amount},
        {.name = "currency", .type = FIELD_CURRENCY, .required = true, .out.str = &f->currency},
        {.name = "interval", .type = FIELD_ENUM, .choices = intervals, .out.str = &f->interval},
        {.name = "patron_id", .type = FIELD_UUID, .out.str = &f->patron_id},
        {.name = "when", .type = FIELD_TIMESTAMP, .out.str = &f->when},
        {.name = "url", .type = FIELD_URL, .out.str = &f->url},
        {.name = "active", .type = FIELD_BOOL, .out.b = &f->active},
        {0},
    };
    memcpy(out, fields, sizeof fields);
}

/* Validates json text; returns the errors array (or NULL when valid). */
static json_t *run(const char *text, bool strict, struct form *f)
{
    struct field fields[10];
    memset(f, 0, sizeof *f);
    form_fields(f, fields);
    json_t *obj = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    json_t *errors = NULL;
    bool ok = validate_object(obj, fields, strict, &errors);
    json_decref(obj);
    CHECK(ok == (errors == NULL));
    return errors;
}

/* The message for `field` in errors, or NULL. */
static const char *message_for(json_t *errors, const char *field)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        if (!strcmp(json_string_value(json_object_get(e, "field")), field))
            return json_string_value(json_object_get(e, "message"));
    }
    return NULL;
}

static void expect_valid(const char *text)
{
    struct form f;
    json_t *errors = run(text, true, &f);
    CHECK(errors == NULL);
    json_decref(errors);
}

/* Runs one case whose only error is on `field`, and checks its message. */
static void expect_error(const char *text, const char *field, const char *message)
{
    struct form f;
    json_t *errors = run(text, true, &f);
    CHECK_EQ_INT(json_array_size(errors), 1);
    CHECK_EQ_STR(message_for(errors, field), message);
    json_decref(errors);
}

#define BASE "\"email\":\"a@example.org\",\"amount_minor\":350,\"currency\":\"UAH\""

static void test_object_valid(void)
{
    struct form f;
    json_t *errors = run("{" BASE ",\"name\":\"Олена\",\"interval\":\"month\","
                         "\"patron_id\":\"123e4567-e89b-12d3-a456-426614174000\","
                         "\"when\":\"2024-02-29T10:00:00Z\",\"url\":\"https://x.org/\","
                         "\"active\":true}",
                         true, &f);
    CHECK(errors == NULL);
    CHECK(f.active && f.amount == 350);
    json_decref(errors);

    /* Values are borrowed from the object, so inspect them while it lives. */
    struct field fields[10];
    memset(&f, 0, sizeof f);
    form_fields(&f, fields);
    json_t *obj = json_loads("{" BASE ",\"name\":\"Олена\",\"active\":false}", 0, NULL);
    CHECK(validate_object(obj, fields, true, &errors));
    CHECK_EQ_STR(f.email, "a@example.org");
    CHECK_EQ_STR(f.name, "Олена");
    CHECK_EQ_STR(f.currency, "UAH");
    CHECK_EQ_INT(f.amount, 350);
    CHECK(f.name_present && !f.name_null);
    CHECK(!f.active);
    CHECK(f.interval == NULL && f.patron_id == NULL);
    json_decref(obj);
}

static void test_object_errors(void)
{
    expect_error("{" BASE ",\"name\":\"123456\"}", "name", "must be at most 5 characters");
    expect_error("{" BASE ",\"name\":7}", "name", "must be a string");
    expect_error("{" BASE ",\"name\":\"a\\u0000b\"}", "name", "contains invalid characters");
    expect_error("{" BASE ",\"name\":\"a\\u001bb\"}", "name", "contains invalid characters");
    expect_error("{" BASE ",\"interval\":\"week\"}", "interval",
                 "must be one of: month, year, once");
    expect_error("{" BASE ",\"interval\":\"month\\u0000x\"}", "interval",
                 "contains invalid characters");
    expect_error("{" BASE ",\"patron_id\":\"nope\"}", "patron_id", "must be a UUID");
    expect_error("{" BASE ",\"when\":\"2023-02-29T00:00:00Z\"}", "when",
                 "must be an RFC 3339 timestamp");
    expect_error("{" BASE ",\"url\":\"javascript:x\"}", "url", "must be an http(s) URL");
    expect_error("{" BASE ",\"active\":1}", "active", "must be true or false");
    expect_error("{" BASE ",\"extra\":1}", "extra", "unknown field");
    expect_valid("{" BASE ",\"name\":null}");
}

static void test_object_types(void)
{
    const char *tail = ",\"currency\":\"UAH\"}";
    char text[256];
    struct {
        const char *amount, *message;
    } cases[] = {
        {"0", "must be an integer between 1 and 100000000"},
        {"-5", "must be an integer between 1 and 100000000"},
        {"100000001", "must be an integer between 1 and 100000000"},
        {"1.0", "must be an integer"},
        {"3.5", "must be an integer"},
        {"\"350\"", "must be an integer"},
        {"true", "must be an integer"},
        {"null", "is required"},
        {"[1]", "must be an integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, "{\"email\":\"a@example.org\",\"amount_minor\":%s%s",
                 cases[i].amount, tail);
        expect_error(text, "amount_minor", cases[i].message);
    }
    expect_valid("{\"email\":\"a@example.org\",\"amount_minor\":100000000,\"currency\":\"UAH\"}");
    expect_error("{\"email\":\"a@example\",\"amount_minor\":1,\"currency\":\"UAH\"}", "email",
                 "is not a valid e-mail address");
    expect_error("{\"email\":\"a@b.org\",\"amount_minor\":1,\"currency\":\"XYZ\"}", "currency",
                 "unknown currency");
    expect_error("{\"email\":\"a@b.org\",\"amount_minor\":1,\"currency\":\"JPY\"}", "currency",
                 "currency not accepted here");
    expect_error("{\"email\":\"a@b.org\",\"amount_minor\":1,\"currency\":\"uah\"}", "currency",
                 "must be an upper-case ISO 4217 code");
}

static void test_object_gathers(void)
{
    struct form f;
    json_t *errors = run("{\"name\":null,\"x\":1,\"y\":2}", true, &f);
    CHECK_EQ_INT(json_array_size(errors), 5);
    CHECK_EQ_STR(message_for(errors, "email"), "is required");
    CHECK_EQ_STR(message_for(errors, "amount_minor"), "is required");
    CHECK_EQ_STR(message_for(errors, "currency"), "is required");
    CHECK_EQ_STR(message_for(errors, "x"), "unknown field");
    CHECK_EQ_STR(message_for(errors, "y"), "unknown field");
    CHECK(f.name_present && f.name_null);
    json_decref(errors);

    errors = run("{\"x\":1}", false, &f);
    CHECK_EQ_INT(json_array_size(errors), 3);
    CHECK_EQ_STR(message_for(errors, "x"), NULL);
    json_decref(errors);

    const char *not_objects[] = {"[]", "1", "\"s\"", "null"};
    for (size_t i = 0; i < 4; i++) {
        errors = run(not_objects[i], true, &f);
        CHECK_EQ_INT(json_array_size(errors), 1);
        CHECK_EQ_STR(message_for(errors, ""), "must be a JSON object");
        json_decref(errors);
    }
    errors = NULL;
    struct field none[] = {{0}};
    CHECK(!validate_object(NULL, none, true, &errors));
    CHECK_EQ_INT(json_array_size(errors), 1);
    json_decref(errors);
}

static void test_string_limits(void)
{
    const char *s = NULL;
    struct field fields[] = {
        {.name = "t", .type = FIELD_STRING, .min = 1, .max = 3, .out.str = &s},
        {.name = "u", .type = FIELD_STRING, .out.str = &s},
        {0},
    };
    struct {
        const char *text, *field, *message;
    } cases[] = {
        {"{\"t\":\"\"}", "t", "must not be empty"},
        {"{\"t\":\"ґґґ\"}", NULL, NULL}, /* 6 bytes, 3 characters */
        {"{\"t\":\"ґґґґ\"}", "t", "must be at most 3 characters"},
        {"{\"u\":\"\"}", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *obj = json_loads(cases[i].text, 0, NULL), *errors = NULL;
        bool ok = validate_object(obj, fields, true, &errors);
        CHECK(ok == (cases[i].field == NULL));
        if (!ok) CHECK_EQ_STR(message_for(errors, cases[i].field), cases[i].message);
        json_decref(errors);
        json_decref(obj);
    }
    /* Without limits a string may have up to 10000 characters. */
    char *big = malloc(10001 + 16);
    for (int len = 10000; len <= 10001; len++) {
        memcpy(big, "{\"u\":\"", 6);
        memset(big + 6, 'x', (size_t)len);
        memcpy(big + 6 + len, "\"}", 3);
        json_t *obj = json_loads(big, 0, NULL), *errors = NULL;
        CHECK(validate_object(obj, fields, true, &errors) == (len == 10000));
        if (errors) CHECK_EQ_STR(message_for(errors, "u"), "must be at most 10000 characters");
        json_decref(errors);
        json_decref(obj);
    }
    free(big);
}

static void test_int_bounds(void)
{
    int64_t a = 0, b = 0, c = 0;
    struct field fields[] = {
        {.name = "positive", .type = FIELD_INT, .min = 1, .out.i64 = &a},
        {.name = "any", .type = FIELD_INT, .out.i64 = &b},
        {.name = "neg", .type = FIELD_INT, .min = -10, .max = 0, .out.i64 = &c},
        {0},
    };
    json_t *obj = json_loads("{\"positive\":9223372036854775807,\"any\":-9223372036854775808,"
                             "\"neg\":-10}",
                             0, NULL),
           *errors = NULL;
    CHECK(validate_object(obj, fields, true, &errors));
    CHECK(a == INT64_MAX && b == INT64_MIN && c == -10);
    json_decref(obj);

    obj = json_loads("{\"positive\":0,\"any\":0,\"neg\":1}", 0, NULL);
    CHECK(!validate_object(obj, fields, true, &errors));
    CHECK_EQ_INT(json_array_size(errors), 2);
    CHECK_EQ_STR(message_for(errors, "positive"), "must be a positive integer");
    CHECK_EQ_STR(message_for(errors, "neg"), "must be an integer between -10 and 0");
    json_decref(errors);
    json_decref(obj);

    /* A string with only a minimum keeps the default ceiling. */
    const char *s = NULL;
    struct field text[] = {{.name = "t", .type = FIELD_STRING, .min = 1, .out.str = &s}, {0}};
    obj = json_loads("{\"t\":\"abc\"}", 0, NULL);
    CHECK(validate_object(obj, text, true, &errors));
    CHECK_EQ_STR(s, "abc");
    json_decref(obj);
}

int main(void)
{
    char *bad = NULL;
    if (!currency_allowlist_set("UAH,USD,EUR", &bad)) return 1;
    test_text();
    test_email();
    test_uuid();
    test_rfc3339();
    test_url();
    test_parse_int();
    test_object_valid();
    test_object_errors();
    test_object_types();
    test_object_gathers();
    test_string_limits();
    test_int_bounds();
    currency_allowlist_free();
    return CHECK_DONE();
}
