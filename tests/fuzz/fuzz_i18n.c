/* libFuzzer target: the language of a request from ?lang= and
 * Accept-Language, and {name} filling of a template, both of which read
 * what a client or a catalogue translator wrote. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int loaded;
    if (!loaded) {
        char err[256];
        if (!i18n_load("uk,en", err, sizeof err)) abort();
        loaded = 1;
    }
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    /* the answer is always an offered language */
    const char *lang = i18n_negotiate(s, s);
    if (!i18n_offered(lang) || !i18n_offered(i18n_negotiate(NULL, s))) abort();
    if (!i18n_text(lang, s) || !i18n_text_n(lang, s, (long long)size)) abort();
    const char *vars[] = {"name", "x", "count", "21", NULL};
    char *filled = i18n_fill(s, vars);
    /* filling only replaces whole {name}s, so text without braces stays */
    if (filled && !strchr(s, '{') && strcmp(filled, s)) abort();
    free(filled);
    free(s);
    return 0;
}
