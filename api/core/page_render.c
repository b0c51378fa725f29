/* Fills a page template from the catalogues (include/page_render.h); run
 * once per page and language at start, so a request only picks a copy. */
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "page_render.h"

#define KEY_MAX 128

struct buf {
    char *data;
    size_t len, cap;
    bool failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->failed) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_escaped(struct buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            puts_(b, "&amp;");
            break;
        case '<':
            puts_(b, "&lt;");
            break;
        case '>':
            puts_(b, "&gt;");
            break;
        case '"':
            puts_(b, "&quot;");
            break;
        case '\'':
            puts_(b, "&#39;");
            break;
        default:
            put(b, s, 1);
        }
    }
}

static void put_switch(struct buf *b, const char *lang)
{
    puts_(b, "<nav class=\"lang-switch\" aria-label=\"");
    put_escaped(b, i18n_text(lang, "pages.common.language_switch"));
    puts_(b, "\"><ul>");
    for (size_t i = 0; i < i18n_count(); i++) {
        const char *code = i18n_code(i);
        puts_(b, "<li><a id=\"lang-");
        puts_(b, code);
        puts_(b, "\" href=\"?lang=");
        puts_(b, code);
        puts_(b, "\" hreflang=\"");
        puts_(b, code);
        puts_(b, "\" lang=\"");
        puts_(b, code);
        puts_(b, "\" data-lang=\"");
        puts_(b, code);
        puts_(b, strcmp(code, lang) ? "\">" : "\" aria-current=\"true\">");
        put_escaped(b, i18n_name(code));
        puts_(b, "</a></li>");
    }
    puts_(b, "</ul></nav>");
}

/* JSON inside <script> ends at the first "</script", and "<!--" changes
 * how the rest is read: every '<', '>' and '&' is written as a JSON
 * escape, which the parser reads back as the same character. */
static void put_json_for_html(struct buf *b, const char *json)
{
    for (; *json; json++) {
        if (*json == '<')
            puts_(b, "\\u003c");
        else if (*json == '>')
            puts_(b, "\\u003e");
        else if (*json == '&')
            puts_(b, "\\u0026");
        else
            put(b, json, 1);
    }
}

/* The page's texts in the default language, overlaid with the page's
 * language: a text missing from one catalogue still shows. */
static json_t *texts_of(const char *lang, const char *page)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "pages.%s", page ? page : "");
    const char *parts[][2] = {{"common", "pages.common"}, {page, key}, {"errors", "errors"}};
    json_t *pages = json_object(), *out = json_pack("{s:s, s:o}", "lang", lang, "pages", pages);
    if (!out) return NULL;
    for (size_t i = 0; i < 3; i++) {
        if (!parts[i][0]) continue;
        json_t *merged = json_object();
        const char *langs[] = {i18n_default(), lang};
        for (size_t l = 0; merged && l < 2; l++) {
            json_t *node = i18n_json(langs[l], parts[i][1]);
            if (json_is_object(node) && json_object_update(merged, node) != 0) {
                json_decref(merged);
                merged = NULL;
            }
        }
        json_t *parent = i == 2 ? out : pages;
        if (!merged || json_object_set_new(parent, parts[i][0], merged) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

static void put_texts(struct buf *b, const char *lang, const char *page)
{
    json_t *texts = texts_of(lang, page);
    char *json = texts ? json_dumps(texts, JSON_COMPACT) : NULL;
    json_decref(texts);
    if (!json) {
        b->failed = true;
        return;
    }
    puts_(b, "<script type=\"application/json\" id=\"patrond-texts\">");
    put_json_for_html(b, json);
    puts_(b, "</script>");
    free(json);
}

static void directive(struct buf *b, const char *name, size_t n, const char *lang, const char *page)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%.*s", (int)(n < KEY_MAX ? n : KEY_MAX - 1), name);
    if (!strcmp(key, "lang")) {
        puts_(b, lang);
    } else if (!strcmp(key, "languages")) {
        for (size_t i = 0; i < i18n_count(); i++) {
            if (i) puts_(b, " ");
            puts_(b, i18n_code(i));
        }
    } else if (!strcmp(key, "switch")) {
        put_switch(b, lang);
    } else if (!strcmp(key, "texts")) {
        put_texts(b, lang, page);
    } else {
        put_escaped(b, i18n_text(lang, key));
    }
}

char *page_render(const char *tmpl, size_t tmpl_len, const char *lang, const char *texts_page,
                  size_t *len)
{
    struct buf b = {0};
    const char *p = tmpl, *end = tmpl + tmpl_len;
    while (p < end) {
        const char *open = NULL;
        for (const char *q = p; q + 1 < end; q++)
            if (q[0] == '{' && q[1] == '{') {
                open = q;
                break;
            }
        const char *close = NULL;
        for (const char *q = open ? open + 2 : end; q + 1 < end; q++)
            if (q[0] == '}' && q[1] == '}') {
                close = q;
                break;
            }
        if (!open || !close) {
            put(&b, p, (size_t)(end - p));
            break;
        }
        put(&b, p, (size_t)(open - p));
        directive(&b, open + 2, (size_t)(close - open - 2), lang, texts_page);
        p = close + 2;
    }
    if (!b.data && !b.failed) put(&b, "", 0);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    *len = b.len;
    return b.data;
}
