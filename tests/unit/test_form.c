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

static void test_found(void)
{
    CHECK_EQ_INT(get("data=abc&signature=xyz", "data"), FORM_OK);
    CHECK_EQ_STR(value, "abc");
    CHECK_EQ_INT(get("data=abc&signature=xyz", "signature"), FORM_OK);
    CHECK_EQ_STR(value, "xyz");
    CHECK_EQ_INT(get("a=1&data=&b=2", "data"), FORM_OK);
    CHECK_EQ_STR(value, "");
    CHECK_EQ_INT(get("flag&data=x", "flag"), FORM_OK);
    CHECK_EQ_STR(value, "");
    /* Empty pairs are skipped. */
    CHECK_EQ_INT(get("&&data=x&", "data"), FORM_OK);
    CHECK_EQ_STR(value, "x");
    /* Only the first '=' separates; later ones belong to the value. */
    CHECK_EQ_INT(get("data=YQ==", "data"), FORM_OK);
    CHECK_EQ_STR(value, "YQ==");
}

static void test_decoding(void)
{
    CHECK_EQ_INT(get("data=eyJ%2Bx%3D%3d&s=1", "data"), FORM_OK);
    CHECK_EQ_STR(value, "eyJ+x==");
    CHECK_EQ_INT(get("data=a+b%20c", "data"), FORM_OK);
    CHECK_EQ_STR(value, "a b c");
    CHECK_EQ_INT(get("d%61ta=v", "data"), FORM_OK);
    CHECK_EQ_STR(value, "v");
    CHECK_EQ_INT(get("data=%C3%A9", "data"), FORM_OK);
    CHECK_EQ_STR(value, "\xc3\xa9");
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
    test_decoding();
    test_refused();
    free(value);
    return CHECK_DONE();
}
