/* The language catalogues (include/i18n.h): JSON documents compiled into
 * the binary as assets, parsed once at start and only read afterwards. */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "assets.h"
#include "i18n.h"

#define LANGUAGES_MAX 16
#define CODE_MAX 16

struct language {
    char code[CODE_MAX];
    const char *rule; /* a name plural_rule() knows */
    json_t *catalogue;
};

static struct language languages[LANGUAGES_MAX];
static size_t languages_count;

static bool fail(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && err_len) vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
    return false;
}

/* A language tag as BCP 47 spells the ones worth offering: a primary
 * subtag of 2-3 letters and optional alphanumeric subtags ("uk",
 * "pt-BR"); anything else cannot be a file name or a URL part. */
static bool valid_code(const char *s, size_t len)
{
    if (len < 2 || len >= CODE_MAX) return false;
    size_t i = 0;
    while (i < len && islower((unsigned char)s[i]))
        i++;
    if (i < 2 || i > 3) return false;
    while (i < len) {
        if (s[i++] != '-') return false;
        size_t start = i;
        while (i < len && isalnum((unsigned char)s[i]))
            i++;
        if (i - start < 2 || i - start > 8) return false;
    }
    return true;
}

static const struct asset *catalogue_asset(const char *code)
{
    char path[CODE_MAX + sizeof "/assets/i18n/.json"];
    snprintf(path, sizeof path, "/assets/i18n/%s.json", code);
    for (size_t i = 0; i < assets_count; i++)
        if (!strcmp(assets[i].path, path)) return &assets[i];
    return NULL;
}

const char *i18n_plural_by_rule(const char *rule, long long n)
{
    if (!rule) return NULL;
    unsigned long long a = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    if (!strcmp(rule, "one_other")) return a == 1 ? "one" : "other";
    if (!strcmp(rule, "east_slavic")) {
        unsigned long long d = a % 10, h = a % 100;
        if (d == 1 && h != 11) return "one";
        if (d >= 2 && d <= 4 && (h < 12 || h > 14)) return "few";
        return "many";
    }
    return NULL;
}

static bool load_one(struct language *l, const char *code, size_t len, char *err, size_t err_len)
{
    memcpy(l->code, code, len);
    l->code[len] = '\0';
    const struct asset *a = catalogue_asset(l->code);
    if (!a)
        return fail(err, err_len, "PATROND_LANGUAGES: no catalogue for \"%s\" (web/i18n/%s.json)",
                    l->code, l->code);
    json_error_t jerr;
    l->catalogue = json_loadb((const char *)a->data, a->len, JSON_REJECT_DUPLICATES, &jerr);
    if (!l->catalogue)
        return fail(err, err_len, "PATROND_LANGUAGES: the catalogue of \"%s\" is not valid JSON",
                    l->code);
    const char *rule = json_string_value(
        json_object_get(json_object_get(l->catalogue, "language"), "plural_rule"));
    /* the rule's name as a static string, not the catalogue's copy */
    static const char *const rules[] = {"east_slavic", "one_other"};
    l->rule = NULL;
    for (size_t i = 0; rule && i < sizeof rules / sizeof rules[0]; i++)
        if (!strcmp(rule, rules[i])) l->rule = rules[i];
    if (!l->rule)
        return fail(
            err, err_len,
            "PATROND_LANGUAGES: the catalogue of \"%s\" names no known language.plural_rule "
            "(east_slavic, one_other)",
            l->code);
    return true;
}

void i18n_free(void)
{
    for (size_t i = 0; i < languages_count; i++)
        json_decref(languages[i].catalogue);
    memset(languages, 0, sizeof languages);
    languages_count = 0;
}

bool i18n_load(const char *list, char *err, size_t err_len)
{
    i18n_free();
    const char *p = list ? list : "";
    bool ok = true;
    while (ok) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, ", ");
        const char *after = p + len;
        while (*after == ' ')
            after++;
        if (len == 0 && !*after && languages_count == 0) break;
        char code[CODE_MAX];
        snprintf(code, sizeof code, "%.*s", (int)(len < CODE_MAX ? len : CODE_MAX - 1), p);
        if (!valid_code(p, len)) {
            ok = fail(err, err_len,
                      "PATROND_LANGUAGES: \"%s\" is not a lower-case language code like uk or en",
                      code);
        } else if (i18n_offered(code)) {
            ok = fail(err, err_len, "PATROND_LANGUAGES: \"%s\" is listed twice", code);
        } else if (languages_count == LANGUAGES_MAX) {
            ok = fail(err, err_len, "PATROND_LANGUAGES: more than %d languages", LANGUAGES_MAX);
        } else {
            ok = load_one(&languages[languages_count], p, len, err, err_len);
            languages_count++; /* counted even when it failed, so i18n_free frees it */
        }
        if (*after != ',') {
            if (ok && *after)
                ok = fail(err, err_len,
                          "PATROND_LANGUAGES: a comma-separated list, "
                          "like uk,en (got \"%s\")",
                          list);
            break;
        }
        p = after + 1;
    }
    if (ok && languages_count == 0) ok = fail(err, err_len, "PATROND_LANGUAGES: names no language");
    if (!ok) i18n_free();
    return ok;
}

size_t i18n_count(void)
{
    return languages_count;
}

const char *i18n_code(size_t index)
{
    return index < languages_count ? languages[index].code : NULL;
}

const char *i18n_default(void)
{
    return languages_count ? languages[0].code : "en";
}

static const struct language *find_n(const char *code, size_t len)
{
    for (size_t i = 0; code && i < languages_count; i++)
        if (strlen(languages[i].code) == len && !strncasecmp(languages[i].code, code, len))
            return &languages[i];
    return NULL;
}

static const struct language *find(const char *code)
{
    return code ? find_n(code, strlen(code)) : NULL;
}

const char *i18n_offered(const char *code)
{
    const struct language *l = find(code);
    return l ? l->code : NULL;
}

const char *i18n_name(const char *lang)
{
    return i18n_text(lang, "language.name");
}

/* The offered language a tag asks for: the tag itself, else its primary
 * subtag ("uk-UA" -> "uk"), else an offered tag with the same primary
 * subtag ("pt-PT" -> "pt-BR"). */
static const struct language *match_tag(const char *tag, size_t len)
{
    const struct language *l = find_n(tag, len);
    if (l) return l;
    size_t primary = 0;
    while (primary < len && tag[primary] != '-' && tag[primary] != '_')
        primary++;
    if ((l = find_n(tag, primary))) return l;
    for (size_t i = 0; i < languages_count; i++) {
        size_t own = strcspn(languages[i].code, "-");
        if (own == primary && !strncasecmp(languages[i].code, tag, primary)) return &languages[i];
    }
    return NULL;
}

/* RFC 9110 §12.4.2: "q=" then 0, 0.ddd, 1 or 1.000; -1 for anything else. */
static int parse_q(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len < 3 || (s[0] != 'q' && s[0] != 'Q') || s[1] != '=') return -1;
    s += 2, len -= 2;
    if (s[0] != '0' && s[0] != '1') return -1;
    int q = (s[0] - '0') * 1000;
    if (len == 1) return q;
    if (s[1] != '.' || len > 5) return -1;
    int scale = 100;
    for (size_t i = 2; i < len; i++, scale /= 10) {
        if (!isdigit((unsigned char)s[i])) return -1;
        q += (s[i] - '0') * scale;
    }
    return q > 1000 ? -1 : q;
}

static const struct language *from_accept_language(const char *header)
{
    const struct language *best = NULL;
    int best_q = 0;
    for (const char *p = header; p && *p;) {
        size_t len = strcspn(p, ",");
        const char *semi = memchr(p, ';', len);
        const char *tag = p;
        size_t tag_len = semi ? (size_t)(semi - p) : len;
        while (tag_len && (*tag == ' ' || *tag == '\t'))
            tag++, tag_len--;
        while (tag_len && (tag[tag_len - 1] == ' ' || tag[tag_len - 1] == '\t'))
            tag_len--;
        int q = semi ? parse_q(semi + 1, len - (size_t)(semi + 1 - p)) : 1000;
        const struct language *l = NULL;
        if (tag_len == 1 && *tag == '*')
            l = languages_count ? &languages[0] : NULL;
        else if (tag_len)
            l = match_tag(tag, tag_len);
        /* earlier entries win ties: the reader listed them first */
        if (l && q > best_q) {
            best = l;
            best_q = q;
        }
        p += len;
        if (*p == ',') p++;
    }
    return best;
}

const char *i18n_negotiate(const char *query_lang, const char *accept_language)
{
    const struct language *l = NULL;
    if (query_lang && *query_lang) l = match_tag(query_lang, strlen(query_lang));
    if (!l) l = from_accept_language(accept_language);
    return l ? l->code : i18n_default();
}

static json_t *lookup(const struct language *l, const char *key)
{
    if (!l || !key) return NULL;
    json_t *node = l->catalogue;
    for (const char *p = key; node;) {
        size_t len = strcspn(p, ".");
        node = json_object_getn(node, p, len);
        if (!p[len]) break;
        p += len + 1;
    }
    return node;
}

/* A plural text: an object whose members are CLDR categories only. */
static bool is_plural(json_t *node)
{
    static const char *const categories[] = {"zero", "one", "two", "few", "many", "other"};
    const char *k;
    json_t *v;
    if (!json_is_object(node) || !json_object_get(node, "other")) return false;
    json_object_foreach(node, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof categories / sizeof categories[0]; i++)
            known = known || !strcmp(k, categories[i]);
        if (!known || !json_is_string(v)) return false;
    }
    return true;
}

static const char *form_of(json_t *node, const char *category)
{
    if (json_is_string(node)) return json_string_value(node);
    if (!is_plural(node)) return NULL;
    const char *s = category ? json_string_value(json_object_get(node, category)) : NULL;
    return s ? s : json_string_value(json_object_get(node, "other"));
}

static const char *text_for(const char *lang, const char *key, bool counted, long long n)
{
    const struct language *tried[] = {find(lang), languages_count ? &languages[0] : NULL};
    for (size_t i = 0; i < 2; i++) {
        const struct language *l = tried[i];
        const char *s =
            form_of(lookup(l, key), counted && l ? i18n_plural_by_rule(l->rule, n) : NULL);
        if (s) return s;
    }
    return key ? key : "";
}

const char *i18n_text(const char *lang, const char *key)
{
    return text_for(lang, key, false, 0);
}

const char *i18n_text_n(const char *lang, const char *key, long long n)
{
    return text_for(lang, key, true, n);
}

bool i18n_has(const char *lang, const char *key)
{
    json_t *node = lookup(find(lang), key);
    return json_is_string(node) || is_plural(node);
}

json_t *i18n_json(const char *lang, const char *key)
{
    return lookup(find(lang), key);
}

const char *i18n_plural(const char *lang, long long n)
{
    const struct language *l = find(lang);
    if (!l && languages_count) l = &languages[0];
    return l ? i18n_plural_by_rule(l->rule, n) : i18n_plural_by_rule("one_other", n);
}

static const char *var_value(const char *const *vars, const char *name, size_t len)
{
    for (size_t i = 0; vars && vars[i] && vars[i + 1]; i += 2)
        if (strlen(vars[i]) == len && !memcmp(vars[i], name, len)) return vars[i + 1];
    return NULL;
}

char *i18n_fill(const char *tmpl, const char *const *vars)
{
    if (!tmpl) tmpl = "";
    /* two passes: measure, then write */
    char *out = NULL;
    for (int pass = 0; pass < 2; pass++) {
        size_t n = 0;
        for (const char *p = tmpl; *p;) {
            const char *close = *p == '{' ? strchr(p + 1, '}') : NULL;
            size_t name_len = close ? (size_t)(close - p - 1) : 0;
            const char *v = close && name_len && !memchr(p + 1, '{', name_len)
                                ? var_value(vars, p + 1, name_len)
                                : NULL;
            const char *piece = v ? v : p;
            size_t piece_len = v ? strlen(v) : 1;
            if (out) memcpy(out + n, piece, piece_len);
            n += piece_len;
            p += v ? name_len + 2 : 1;
        }
        if (pass == 0) {
            out = malloc(n + 1);
            if (!out) return NULL;
        } else {
            out[n] = '\0';
        }
    }
    return out;
}
