#ifndef PATROND_PAGE_RENDER_H
#define PATROND_PAGE_RENDER_H

#include <stddef.h>

/* A page template (web/<page>.html) in one language (SPEC §4c). The template's
 * directives:
 *   {{lang}}        the language code, for <html lang> and internal links
 *   {{languages}}   the offered codes, space-separated
 *   {{switch}}      the language switch: a <nav> of ?lang= links
 *   {{texts}}       the texts the page's script needs (pages.common,
 *                   pages.<texts_page>, errors) as a non-executable
 *                   <script type="application/json" id="patrond-texts">
 *   {{a.dotted.key}} the catalogue's text, HTML-escaped
 * A key with no text shows as the key itself (include/i18n.h), so a test
 * can find it. Returns the page (malloc'd, its length in *len), or NULL
 * when out of memory. */
char *page_render(const char *tmpl, size_t tmpl_len, const char *lang, const char *texts_page,
                  size_t *len);

#endif
