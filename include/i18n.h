#ifndef PATROND_I18N_H
#define PATROND_I18N_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The languages patrond speaks (SPEC §4c): one catalogue per language,
 * web/i18n/<code>.json, compiled into the binary and served to the pages
 * as /assets/i18n/<code>.json. PATROND_LANGUAGES picks which of them are
 * offered; the first is the default. Every text is looked up by a dotted
 * key ("mail.receipt.subject", "pages.donate.title", "errors.not_found").
 *
 * Loaded once before any thread starts (config_load), read-only after:
 * the lookups take no lock and every returned string lives until
 * i18n_free(). */

/* Loads the catalogues of a comma-separated list of language codes.
 * Returns false with a message in err (naming PATROND_LANGUAGES) when the
 * list is empty, a code repeats, has no catalogue, or a catalogue is not
 * valid (not JSON, no "language" object, an unknown plural rule). A
 * successful call replaces what an earlier one loaded. */
bool i18n_load(const char *languages, char *err, size_t err_len);
void i18n_free(void);

/* The offered languages in PATROND_LANGUAGES' order; index 0 is the
 * default. */
size_t i18n_count(void);
const char *i18n_code(size_t index);
const char *i18n_default(void);
/* The offered code equal to `code` (ASCII case ignored), or NULL: the
 * check for a patron's `locale`, and a pointer that outlives the input. */
const char *i18n_offered(const char *code);
/* The language's own name ("Українська"), from its catalogue. */
const char *i18n_name(const char *lang);

/* The language for a request: `query_lang` (?lang=) when offered, else
 * the best offered match of `accept_language` (q-values honoured, "uk-UA"
 * matching "uk", "*" the default), else the default. Either may be NULL.
 * Never NULL. */
const char *i18n_negotiate(const char *query_lang, const char *accept_language);

/* The text at `key` in `lang`'s catalogue, else in the default
 * language's, else the key itself: never NULL, so a missing text shows as
 * its key and tests can find it. A plural text (an object keyed by CLDR
 * category) yields its "other" form here; use i18n_text_n. */
const char *i18n_text(const char *lang, const char *key);
/* The form of a plural text for the number n (i18n_plural), with the
 * same fallbacks; a plain string is returned as it is. */
const char *i18n_text_n(const char *lang, const char *key, long long n);
/* true when `key` names a string or a plural object in `lang` itself
 * (no fallback): for tests that every catalogue is complete. */
bool i18n_has(const char *lang, const char *key);

/* The catalogue's node at `key` in `lang` itself (a string, a plural
 * object or a group of texts), borrowed, or NULL: for handing a group of
 * texts to the pages' scripts. */
json_t *i18n_json(const char *lang, const char *key);

/* The CLDR plural category of the integer n in `lang`: "one", "few",
 * "many" or "other". */
const char *i18n_plural(const char *lang, long long n);
/* The same by rule name ("east_slavic", "one_other"); NULL for a rule
 * patrond does not know. */
const char *i18n_plural_by_rule(const char *rule, long long n);

/* `tmpl` with each {name} replaced by its value: `vars` is name, value,
 * name, value, ..., NULL. A placeholder with no value is kept as it is, so
 * a forgotten variable shows. Returns a malloc'd string, NULL when out of
 * memory. */
char *i18n_fill(const char *tmpl, const char *const *vars);

#endif
