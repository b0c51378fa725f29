/* application/x-www-form-urlencoded parsing (api/core/form.c). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "form.h"

static char *value;

/* form_field over a C string; the previous value is released. */
static enum form_status get(const char *body, const char *name)
{
    free(value);
    return form_field(body, strlen(body), name, &value);
}

/* A field found, and its value decoded. */
static void test_found(void)
{
    static const struct {
        const char *body, *name, *value;
    } cases[] = {
        {"data=abc&signature=xyz", "data", "abc"},
        {"data=abc&signature=xyz", "signature", "xyz"},
        {"a=1&data=&b=2", "data", ""},
        {"flag&data=x", "flag", ""},
        {"&&data=x&", "data", "x"},    /* empty pairs are skipped */
        {"data=YQ==", "data", "YQ=="}, /* only the first '=' separates */
        {"data=eyJ%2Bx%3D%3d&s=1", "data", "eyJ+x=="},
        {"data=a+b%20c", "data", "a b c"},
        {"d%61ta=v", "data", "v"},
        {"data=%C3%A9", "data", "\xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CHECK_EQ_INT(get(cases[i].body, cases[i].name), FORM_OK);
        CHECK_EQ_STR(value, cases[i].value);
    }
}

static void test_refused(void)
{
    CHECK_EQ_INT(get("data=abc", "signature"), FORM_ABSENT);
    CHECK(value == NULL);
    CHECK_EQ_INT(get("", "data"), FORM_ABSENT);
    CHECK_EQ_INT(get("data=a&data=b", "data"), FORM_DUPLICATE);
    CHECK(value == NULL);
    CHECK_EQ_INT(get("data=a&d%61ta=b", "data"), FORM_DUPLICATE);
    CHECK_EQ_INT(get("data=%zz", "data"), FORM_MALFORMED);
    CHECK_EQ_INT(get("data=%4", "data"), FORM_MALFORMED);
    CHECK_EQ_INT(get("data=abc%", "data"), FORM_MALFORMED);
    CHECK_EQ_INT(get("data=a%00b", "data"), FORM_MALFORMED);
    /* A bad pair elsewhere spoils the whole body, before or after. */
    CHECK_EQ_INT(get("data=ok&other=%G1", "data"), FORM_MALFORMED);
    CHECK(value == NULL);
    CHECK_EQ_INT(get("x%=1&data=ok", "data"), FORM_MALFORMED);

    /* A raw NUL byte inside the given length is refused too. */
    const char raw[] = "data=a\0b&s=1";
    free(value);
    CHECK_EQ_INT(form_field(raw, sizeof raw - 1, "data", &value), FORM_MALFORMED);
    /* The length bounds the body: nothing past it is read. */
    free(value);
    CHECK_EQ_INT(form_field("data=abc&x=%zz", 8, "data", &value), FORM_OK);
    CHECK_EQ_STR(value, "abc");
    free(value);
    CHECK_EQ_INT(form_field("data=ab%41", 9, "data", &value), FORM_MALFORMED);
}

int main(void)
{
    test_found();
    test_refused();
    free(value);
    return CHECK_DONE();
}
