/* A patron's mail rendered from the catalogue (include/mail_text.h): the
 * texts are the catalogue's "mail" object, the numbers, money and dates
 * are formatted with what that object says about the language
 * ("mail.format"). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "i18n.h"
#include "mail_text.h"
#include "money.h"

#define KEY_MAX 96
#define VARS_MAX 32

/* The strings a render allocates, freed together at the end. */
struct render {
    const char *lang;
    const char *kind;
    json_t *params;
    const char *vars[VARS_MAX + 1];
    size_t nvars;
    char *owned[VARS_MAX];
    size_t nowned;
    bool failed;
};

static const char *text(const struct render *r, const char *fmt, const char *part)
{
    char key[KEY_MAX];
    snprintf(key, sizeof key, fmt, part);
    return i18n_text(r->lang, key);
}

static void set_var(struct render *r, const char *name, const char *value)
{
    if (r->nvars + 2 > VARS_MAX) {
        r->failed = true;
        return;
    }
    r->vars[r->nvars++] = name;
    r->vars[r->nvars++] = value ? value : "";
    r->vars[r->nvars] = NULL;
}

/* A value the render made; NULL (out of memory) fails the render. */
static void set_owned(struct render *r, const char *name, char *value)
{
    if (!value || r->nowned == VARS_MAX) {
        free(value);
        r->failed = true;
        return;
    }
    r->owned[r->nowned++] = value;
    set_var(r, name, value);
}

static const char *param_str(const struct render *r, const char *name)
{
    return json_string_value(json_object_get(r->params, name));
}

/* `tmpl` filled with name, value pairs: the caller's, then nothing. */
static char *fill2(const char *tmpl, const char *name, const char *value, const char *name2,
                   const char *value2)
{
    const char *vars[] = {name, value, name2, value2, NULL};
    return i18n_fill(tmpl, vars);
}

/* Digits grouped by thousands and the decimal separator of the language:
 * "1234.50" → "1 234,50". */
static char *group_digits(const char *plain, const char *group, const char *decimal)
{
    const char *dot = strchr(plain, '.');
    size_t whole = dot ? (size_t)(dot - plain) : strlen(plain);
    size_t sign = plain[0] == '-';
    size_t len = strlen(plain) + (whole / 3 + 1) * strlen(group) + strlen(decimal) + 1;
    char *out = malloc(len);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < whole; i++) {
        if (i > sign && (whole - i) % 3 == 0) o += (size_t)snprintf(out + o, len - o, "%s", group);
        out[o++] = plain[i];
    }
    out[o] = '\0';
    if (dot) snprintf(out + o, len - o, "%s%s", decimal, dot + 1);
    return out;
}

/* {amount}: the minor units in the currency's exponent, formatted as the
 * language writes money ("mail.format.money": {amount} and {currency},
 * the currency's local name where the language has one). */
static void set_amount(struct render *r)
{
    json_t *minor = json_object_get(r->params, "amount_minor");
    const char *currency = param_str(r, "currency");
    int exponent = currency ? currency_exponent(currency) : -1;
    if (!json_is_integer(minor) || exponent < 0) {
        set_var(r, "amount", "");
        return;
    }
    char plain[32];
    money_format_decimal((int64_t)json_integer_value(minor), exponent, plain, sizeof plain);
    char *digits = group_digits(plain, text(r, "mail.format.%s", "group"),
                                text(r, "mail.format.%s", "decimal"));
    char key[KEY_MAX];
    snprintf(key, sizeof key, "mail.format.currency_%s", currency);
    const char *name = i18n_has(r->lang, key) ? i18n_text(r->lang, key) : currency;
    char *amount =
        digits ? fill2(text(r, "mail.format.%s", "money"), "amount", digits, "currency", name)
               : NULL;
    free(digits);
    set_owned(r, "amount", amount);
}

/* A date of an RFC 3339 parameter (UTC), as the language writes one
 * ("mail.format.date" with {day}, {month} — "mail.format.month_N" — and
 * {year}). */
static void set_date(struct render *r, const char *var, const char *param)
{
    const char *when = param_str(r, param);
    int y, m, d;
    if (!when || sscanf(when, "%4d-%2d-%2d", &y, &m, &d) != 3 || m < 1 || m > 12) {
        set_var(r, var, "");
        return;
    }
    char day[8], year[8], month_key[KEY_MAX];
    snprintf(day, sizeof day, "%d", d);
    snprintf(year, sizeof year, "%d", y);
    snprintf(month_key, sizeof month_key, "mail.format.month_%d", m);
    const char *vars[] = {"day", day, "month", i18n_text(r->lang, month_key), "year", year, NULL};
    set_owned(r, var, i18n_fill(text(r, "mail.format.%s", "date"), vars));
}

/* {count} and, in the plural form it calls for, {days}. */
static void set_count(struct render *r)
{
    json_t *count = json_object_get(r->params, "count");
    if (!json_is_integer(count)) return;
    long long n = (long long)json_integer_value(count);
    char digits[24], key[KEY_MAX];
    snprintf(digits, sizeof digits, "%lld", n);
    snprintf(key, sizeof key, "mail.%s.days", r->kind);
    set_owned(r, "count", strdup(digits));
    set_owned(r, "days", fill2(i18n_text_n(r->lang, key, n), "count", digits, NULL, NULL));
}

/* <public URL><path>?<query>&lang=<lang>, every value escaped. */
static char *page_url(const struct render *r, const struct mail_site *site, const char *path,
                      const char *const *query)
{
    size_t cap = strlen(site->public_url) + strlen(path) + 64;
    char *url = malloc(cap);
    if (!url) return NULL;
    size_t len = (size_t)snprintf(url, cap, "%s%s?", site->public_url, path);
    const char *lang[] = {"lang", r->lang, NULL};
    for (int part = 0; part < 2; part++)
        for (const char *const *q = part ? lang : query; q && *q; q += 2) {
            char *value = query_escape(q[1] ? q[1] : "");
            size_t need = len + strlen(*q) + (value ? strlen(value) : 0) + 3;
            char *grown = need > cap ? realloc(url, cap = need * 2) : url;
            if (!value || !grown) {
                free(value);
                free(grown ? grown : url);
                return NULL;
            }
            url = grown;
            len += (size_t)snprintf(url + len, cap - len, "%s%s=%s", url[len - 1] == '?' ? "" : "&",
                                    *q, value);
            free(value);
        }
    return url;
}

/* The failed payment's link to pay again: a fresh checkout for the same
 * pledge, the donation form filled in from the query. */
static void set_pay_again(struct render *r, const struct mail_site *site)
{
    json_t *minor = json_object_get(r->params, "amount_minor");
    if (!json_is_integer(minor)) return;
    char amount[24];
    snprintf(amount, sizeof amount, "%lld", (long long)json_integer_value(minor));
    const char *query[] = {"amount_minor",
                           amount,
                           "currency",
                           param_str(r, "currency"),
                           "interval",
                           param_str(r, "interval"),
                           "provider",
                           param_str(r, "provider"),
                           NULL};
    set_owned(r, "pay_again_url", page_url(r, site, "/donate", query));
}

static void set_vars(struct render *r, const struct mail_site *site)
{
    set_var(r, "site", site->name);
    set_owned(r, "members_url", page_url(r, site, "/members", NULL));
    set_owned(r, "donate_url", page_url(r, site, "/donate", NULL));
    set_var(r, "link", param_str(r, "link"));
    set_var(r, "payment_id", param_str(r, "payment_id"));
    const char *reason = param_str(r, "reason");
    set_var(r, "reason", reason && *reason ? reason : text(r, "mail.%s.no_reason", r->kind));
    set_amount(r);
    set_date(r, "date", "paid_at");
    set_date(r, "until", "until");
    set_count(r);
    set_pay_again(r, site);
}

static void render_free(struct render *r)
{
    for (size_t i = 0; i < r->nowned; i++)
        free(r->owned[i]);
    json_decref(r->params);
}

/* The body, its last line ended, then the signature. */
static char *signed_body(const struct render *r, const char *body)
{
    char *signature = i18n_fill(i18n_text(r->lang, "mail.signature"), r->vars);
    if (!signature) return NULL;
    size_t n = strlen(body);
    const char *sep = n && body[n - 1] == '\n' ? "\n" : "\n\n";
    size_t len = n + strlen(sep) + strlen(signature) + 2;
    char *out = malloc(len);
    if (out) snprintf(out, len, "%s%s%s\n", body, sep, signature);
    free(signature);
    return out;
}

bool mail_text_render(const char *kind, const char *lang, const char *params,
                      const struct mail_site *site, char **subject, char **body,
                      const char **problem)
{
    *subject = *body = NULL;
    char key[KEY_MAX];
    int n = snprintf(key, sizeof key, "mail.%s.subject", kind);
    if (n < 0 || (size_t)n >= sizeof key || !i18n_has(i18n_default(), key)) {
        *problem = "the catalogue has no mail of this kind";
        return false;
    }
    struct render r = {.lang = lang ? i18n_offered(lang) : NULL, .kind = kind};
    /* A language whose catalogue lacks this mail gets all of it, dates and
     * links too, in the default language rather than a mixture. */
    if (!r.lang || !i18n_has(r.lang, key)) r.lang = i18n_default();
    r.params = json_loads(params ? params : "{}", 0, NULL);
    if (!json_is_object(r.params)) {
        json_decref(r.params);
        *problem = "its parameters are not a JSON object";
        return false;
    }
    set_vars(&r, site);
    char *text_body = NULL;
    if (!r.failed) {
        *subject = i18n_fill(i18n_text(r.lang, key), r.vars);
        snprintf(key, sizeof key, "mail.%s.body", kind);
        text_body = i18n_fill(i18n_text(r.lang, key), r.vars);
        *body = text_body ? signed_body(&r, text_body) : NULL;
    }
    free(text_body);
    render_free(&r);
    if (*subject && *body) return true;
    free(*subject);
    free(*body);
    *subject = *body = NULL;
    *problem = "out of memory";
    return false;
}
