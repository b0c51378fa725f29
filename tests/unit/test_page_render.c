/* Page templates filled per language (include/page_render.h), against the
 * catalogues compiled in from web/i18n/. */
#include <stdlib.h>

#include "check.h"
#include "i18n.h"
#include "page_render.h"

static char *render(const char *tmpl, const char *lang, const char *page)
{
    size_t len = 0;
    char *out = page_render(tmpl, strlen(tmpl), lang, page, &len);
    if (out) CHECK_EQ_INT(len, strlen(out));
    return out;
}

static void directives(void)
{
    char *s = render("<html lang=\"{{lang}}\" data-languages=\"{{languages}}\"><title>"
                     "{{pages.donate.title}}</title>",
                     "en", "donate");
    CHECK_EQ_STR(
        s, "<html lang=\"en\" data-languages=\"uk en\"><title>Support our journalism</title>");
    free(s);
    s = render("{{pages.donate.title}}", "uk", "donate");
    CHECK_EQ_STR(s, "Підтримайте нашу журналістику");
    free(s);
    /* a missing text shows its key, for the tests to find */
    s = render("<p>{{pages.donate.nope}}</p>", "en", "donate");
    CHECK_EQ_STR(s, "<p>pages.donate.nope</p>");
    free(s);
    /* text with no directive, a lone brace, an unclosed directive: as they are */
    s = render("a { b } {{ c", "en", NULL);
    CHECK_EQ_STR(s, "a { b } {{ c");
    free(s);
    s = render("", "en", NULL);
    CHECK_EQ_STR(s, "");
    free(s);
}

static void escaping(void)
{
    /* the catalogue's text is HTML-escaped: an apostrophe in Ukrainian */
    char *s = render("<label>{{pages.donate.name}}</label>", "uk", "donate");
    CHECK_EQ_STR(s, "<label>Ім&#39;я</label>");
    free(s);
}

static void language_switch(void)
{
    char *s = render("{{switch}}", "uk", NULL);
    CHECK(strstr(s, "<nav class=\"lang-switch\" aria-label=\"Мова\">") != NULL);
    CHECK(strstr(s,
                 "<a id=\"lang-uk\" href=\"?lang=uk\" hreflang=\"uk\" lang=\"uk\" data-lang=\"uk\" "
                 "aria-current=\"true\">Українська</a>") != NULL);
    CHECK(strstr(s, "<a id=\"lang-en\" href=\"?lang=en\" hreflang=\"en\" lang=\"en\" "
                    "data-lang=\"en\">English</a>") != NULL);
    free(s);
}

static void texts_block(void)
{
    char *s = render("{{texts}}", "en", "members");
    const char *open = "<script type=\"application/json\" id=\"patrond-texts\">";
    CHECK(!strncmp(s, open, strlen(open)));
    const char *json = s + strlen(open);
    /* no markup can end or change the block: < > & are JSON escapes */
    const char *end = strstr(json, "</script>");
    CHECK(end && !strcmp(end, "</script>"));
    CHECK(end && !memchr(json, '<', (size_t)(end - json)));
    CHECK(strstr(s, "\"lang\":\"en\"") != NULL);
    CHECK(strstr(s, "\"cancel\":\"Cancel my pledge\"") != NULL);
    CHECK(strstr(s, "\"not_found\":\"Nothing was found.\"") != NULL);
    /* only this page's texts and the shared ones */
    CHECK(strstr(s, "\"donate\":") == NULL && strstr(s, "\"common\":") != NULL);
    CHECK(strstr(s, "\"mail\"") == NULL);
    free(s);
}

int main(void)
{
    char err[256];
    if (!i18n_load("uk,en", err, sizeof err)) {
        printf("FAIL: %s\n", err);
        return 1;
    }
    directives();
    escaping();
    language_switch();
    texts_block();
    i18n_free();
    CHECK_DONE();
}
