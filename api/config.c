/* SPEC §7: configuration from the environment. Every problem is reported
 * with the variable's name so an operator can fix it without reading code. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/crypto.h>

#include "config.h"
#include "i18n.h"
#include "money.h"
#include "provider.h"
#include "validate.h"

struct config cfg;

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define DEFAULT_PUBLIC_URL "http://127.0.0.1:8080"
#define DEFAULT_CURRENCIES "UAH,USD,EUR,GBP,PLN"
#define DEFAULT_MAX_AMOUNT 100000000
#define MAX_SAFE_INTEGER 9007199254740991 /* the largest integer JSON clients keep exactly */
#define DEFAULT_BODY_LIMIT 1048576
#define DEFAULT_IMPORT_MAX_BYTES (64 * 1024 * 1024)
/* Checkouts per client address and minute: a family behind one address
 * donates in a few; a script creating pledges in bulk is stopped. */
#define DEFAULT_CHECKOUT_RATE_LIMIT 20
#define DEFAULT_GRACE_DAYS 7
#define DEFAULT_LANGUAGES "uk,en"
#define DEFAULT_CONNECTION_TIMEOUT 30
#define DEFAULT_SITE_NAME "patrond"
#define SITE_NAME_MAX_CHARS 100
#define MAX_THREADS 256
#define DEFAULT_DB_THREADS 16
#define SECRET_FILE_MAX (1024 * 1024)

/* State shared by the steps of one config_load call. */
struct loader {
    struct config *c;
    getenv_fn env;
    char *err;
    size_t err_len;
};

static bool fail(struct loader *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (l->err && l->err_len) vsnprintf(l->err, l->err_len, fmt, ap);
    va_end(ap);
    return false;
}

/* Empty counts as unset, so `X= cmd` can clear a variable. */
static const char *env_value(struct loader *l, const char *name)
{
    const char *v = l->env(name);
    return v && *v ? v : NULL;
}

/* A value quoted for an error message: cut short and with control
 * characters replaced, so a hostile value cannot forge log lines. */
static const char *quoted(const char *value, char *buf, size_t len)
{
    size_t i = 0;
    for (; value[i] && i + 4 < len; i++) {
        unsigned char ch = (unsigned char)value[i];
        buf[i] = ch < 0x20 || ch == 0x7f || ch == '"' ? '?' : (char)ch;
    }
    if (value[i]) memcpy(buf + i - 3, "...", 3);
    buf[i] = '\0';
    return buf;
}

static bool bad_value(struct loader *l, const char *name, const char *what, const char *value)
{
    char q[80];
    return fail(l, "%s: %s (got \"%s\")", name, what, quoted(value, q, sizeof q));
}

static bool set_string(struct loader *l, char **dst, const char *value)
{
    if (!value) return true;
    *dst = strdup(value);
    return *dst ? true : fail(l, "out of memory");
}

static bool load_plain(struct loader *l, const char *name, char **dst)
{
    return set_string(l, dst, env_value(l, name));
}

static void strip_trailing_space(char *s)
{
    size_t n = strlen(s);
    while (n && strchr(" \t\r\n", s[n - 1]))
        s[--n] = '\0';
}

static const char *read_problem(FILE *f, char *buf, size_t *n)
{
    if (!buf) return "out of memory";
    *n = fread(buf, 1, SECRET_FILE_MAX + 1, f);
    if (ferror(f)) return strerror(errno);
    if (*n > SECRET_FILE_MAX) return "file is larger than 1 MiB";
    if (memchr(buf, '\0', *n)) return "file contains a NUL byte";
    buf[*n] = '\0';
    strip_trailing_space(buf);
    return *buf ? NULL : "file is empty";
}

/* Reads a secret from `path` into *dst; errors name the _FILE variable. */
static bool read_secret_file(struct loader *l, const char *file_var, const char *path, char **dst)
{
    FILE *f = fopen(path, "rb");
    if (!f) return fail(l, "%s: cannot read %s: %s", file_var, path, strerror(errno));
    char *buf = malloc(SECRET_FILE_MAX + 1);
    size_t n = 0;
    const char *problem = read_problem(f, buf, &n);
    if (fclose(f) != 0 && !problem) problem = strerror(errno);
    if (!problem && !(*dst = strdup(buf))) problem = "out of memory";
    if (buf) OPENSSL_cleanse(buf, n);
    free(buf);
    return problem ? fail(l, "%s: cannot read %s: %s", file_var, path, problem) : true;
}

/* A secret comes from X or from the file named by X_FILE, never both. */
static bool load_secret(struct loader *l, const char *name, char **dst)
{
    char file_var[128];
    snprintf(file_var, sizeof file_var, "%s_FILE", name);
    const char *value = env_value(l, name), *path = env_value(l, file_var);
    if (value && path) return fail(l, "%s and %s are both set; use only one", name, file_var);
    if (path) return read_secret_file(l, file_var, path, dst);
    return set_string(l, dst, value);
}

static bool load_int(struct loader *l, const char *name, int64_t min, int64_t max, int64_t def,
                     int64_t *out)
{
    const char *v = env_value(l, name);
    if (!v) {
        *out = def;
        return true;
    }
    if (parse_int_in(v, min, max, out)) return true;
    char what[96];
    snprintf(what, sizeof what, "must be an integer between %lld and %lld", (long long)min,
             (long long)max);
    return bad_value(l, name, what, v);
}

/* Quotes a value for libpq's conninfo syntax when it needs quoting. */
static char *conninfo_value(const char *v)
{
    size_t n = strlen(v);
    char *out = malloc(2 * n + 3);
    if (!out) return NULL;
    if (n && !strpbrk(v, " \t\r\n'\\")) return memcpy(out, v, n + 1);
    size_t o = 0;
    out[o++] = '\'';
    for (const char *p = v; *p; p++) {
        if (*p == '\'' || *p == '\\') out[o++] = '\\';
        out[o++] = *p;
    }
    out[o++] = '\'';
    out[o] = '\0';
    return out;
}

static bool embedded_database_url(struct loader *l, const char *cwd, char **dst)
{
    char here[4096];
    if (!cwd && !(cwd = getcwd(here, sizeof here)))
        return fail(l, "DATABASE_URL: unset, and the working directory is unknown: %s",
                    strerror(errno));
    char socket_dir[4096 + 16];
    if ((size_t)snprintf(socket_dir, sizeof socket_dir, "%s/var/pg/run", cwd) >= sizeof socket_dir)
        return fail(l, "DATABASE_URL: unset, and the working directory path is too long");
    char *host = conninfo_value(socket_dir);
    if (!host) return fail(l, "out of memory");
    size_t len = strlen(host) + 64;
    *dst = malloc(len);
    if (*dst) snprintf(*dst, len, "host=%s user=patrond dbname=patrond", host);
    free(host);
    return *dst ? true : fail(l, "out of memory");
}

static bool load_database(struct loader *l, const char *cwd)
{
    struct config *c = l->c;
    if (!load_secret(l, "DATABASE_URL", &c->database_url)) return false;
    if (!c->database_url && !embedded_database_url(l, cwd, &c->database_url)) return false;
    if (!load_secret(l, "PATROND_DATABASE_READ_URL", &c->database_read_url)) return false;
    return c->database_read_url || set_string(l, &c->database_read_url, c->database_url);
}

static bool valid_ipv4(const char *s)
{
    struct in_addr a;
    return inet_pton(AF_INET, s, &a) == 1;
}

static bool valid_ipv6(const char *s)
{
    struct in6_addr a;
    return inet_pton(AF_INET6, s, &a) == 1;
}

/* "host:port" or "[ipv6]:port"; host is copied into *host. */
static bool split_listen(const char *v, char **host, unsigned *port)
{
    const char *colon = strrchr(v, ':');
    if (!colon) return false;
    int64_t p;
    if (!parse_int_in(colon + 1, 1, 65535, &p)) return false;
    bool bracketed = v[0] == '[' && colon > v + 1 && colon[-1] == ']';
    const char *start = bracketed ? v + 1 : v;
    size_t len = (size_t)(colon - start) - (bracketed ? 1 : 0);
    char *h = strndup(start, len);
    if (!h) return false;
    bool ok = bracketed ? valid_ipv6(h) : !strcmp(h, "localhost") || valid_ipv4(h);
    if (!ok) {
        free(h);
        return false;
    }
    *host = h;
    *port = (unsigned)p;
    return true;
}

static bool load_listen(struct loader *l)
{
    const char *v = env_value(l, "PATROND_LISTEN");
    if (!v) v = DEFAULT_LISTEN;
    if (split_listen(v, &l->c->listen_host, &l->c->listen_port)) return true;
    return bad_value(l, "PATROND_LISTEN",
                     "must be host:port with an IPv4 address, localhost or [IPv6 address], and "
                     "a port between 1 and 65535",
                     v);
}

static bool load_threads(struct loader *l)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t def = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : cpus, n;
    if (!load_int(l, "PATROND_THREADS", 1, MAX_THREADS, def, &n)) return false;
    l->c->threads = (unsigned)n;
    /* PostgreSQL's group commit needs several transactions in flight per
     * instance, whatever the number of cores. */
    if (!load_int(l, "PATROND_DB_THREADS", 1, MAX_THREADS, DEFAULT_DB_THREADS, &n)) return false;
    l->c->db_threads = (unsigned)n;
    return true;
}

/* An http(s) URL; query and fragment are refused because patrond appends
 * its own paths and query strings to it. */
static bool load_url(struct loader *l, const char *name, const char *def, bool base, char **dst)
{
    const char *v = env_value(l, name);
    if (!v) v = def;
    if (!v) return true;
    if (!valid_http_url(v)) return bad_value(l, name, "must be an http:// or https:// URL", v);
    if (base && strpbrk(v, "?#"))
        return bad_value(l, name, "must not have a query string or fragment", v);
    if (!set_string(l, dst, v)) return false;
    if (base) {
        size_t n = strlen(*dst);
        while (n && (*dst)[n - 1] == '/')
            (*dst)[--n] = '\0';
    }
    return true;
}

/* Origins are compared with the Origin header byte for byte, so each entry
 * must look like one: scheme://host[:port], nothing after. */
static bool valid_origin(const char *s, size_t len)
{
    char buf[512];
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (!strcmp(buf, "*")) return true;
    const char *host = strstr(buf, "://");
    return valid_http_url(buf) && host && !strpbrk(host + 3, "/?#@");
}

static bool load_cors(struct loader *l)
{
    const char *v = env_value(l, "PATROND_CORS_ORIGINS");
    if (!v) return true;
    char *out = malloc(strlen(v) + 1);
    if (!out) return fail(l, "out of memory");
    size_t o = 0;
    /* Stored trimmed and comma-joined, so the CORS check can split on ','. */
    for (const char *p = v;; p++) {
        size_t len = strcspn(p, ",");
        const char *s = p, *e = p + len;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (!valid_origin(s, (size_t)(e - s))) {
            free(out);
            return bad_value(l, "PATROND_CORS_ORIGINS",
                             "must be a comma-separated list of origins like https://example.org",
                             v);
        }
        o += (size_t)snprintf(out + o, strlen(v) + 1 - o, "%s%.*s", o ? "," : "", (int)(e - s), s);
        p += len;
        if (!*p) break;
    }
    l->c->cors_origins = out;
    return true;
}

static bool load_currencies(struct loader *l)
{
    const char *v = env_value(l, "PATROND_CURRENCIES");
    if (!v) v = DEFAULT_CURRENCIES;
    char *bad = NULL;
    if (!currency_allowlist_set(v, &bad)) {
        if (!bad) return fail(l, "out of memory");
        char q[80];
        fail(l,
             "PATROND_CURRENCIES: \"%s\" is not an upper-case ISO 4217 currency code (got \"%s\")",
             quoted(bad, q, sizeof q), v);
        free(bad);
        return false;
    }
    return set_string(l, &l->c->currencies, v);
}

/* SPEC §4c: the offered languages, each with a catalogue compiled in;
 * loaded here so that a language with no catalogue stops the start. */
static bool load_languages(struct loader *l)
{
    const char *v = env_value(l, "PATROND_LANGUAGES");
    if (!v) v = DEFAULT_LANGUAGES;
    return i18n_load(v, l->err, l->err_len) && set_string(l, &l->c->languages, v);
}

static bool load_limits(struct loader *l)
{
    int64_t body, import, checkout, timeout, grace;
    if (!load_int(l, "PATROND_MAX_AMOUNT_MINOR", 1, MAX_SAFE_INTEGER, DEFAULT_MAX_AMOUNT,
                  &l->c->max_amount_minor) ||
        !load_int(l, "PATROND_BODY_LIMIT", 1024, 64 * 1024 * 1024, DEFAULT_BODY_LIMIT, &body) ||
        !load_int(l, "PATROND_IMPORT_MAX_BYTES", 1024, 1024 * 1024 * 1024, DEFAULT_IMPORT_MAX_BYTES,
                  &import) ||
        !load_int(l, "PATROND_CHECKOUT_RATE_LIMIT", 0, 1000000, DEFAULT_CHECKOUT_RATE_LIMIT,
                  &checkout) ||
        !load_int(l, "PATROND_CONNECTION_TIMEOUT", 1, 3600, DEFAULT_CONNECTION_TIMEOUT, &timeout) ||
        !load_int(l, "PATROND_GRACE_DAYS", 0, 365, DEFAULT_GRACE_DAYS, &grace))
        return false;
    l->c->body_limit = (size_t)body;
    l->c->import_max_bytes = (size_t)import;
    l->c->checkout_rate_limit = (unsigned)checkout;
    l->c->connection_timeout = (unsigned)timeout;
    l->c->grace_days = (unsigned)grace;
    return true;
}

static bool load_trusted_proxies(struct loader *l)
{
    const char *v = env_value(l, "PATROND_TRUSTED_PROXIES");
    char bad[80];
    if (cidr_list_parse(v, &l->c->trusted_proxies, bad, sizeof bad)) return true;
    if (!bad[0]) return fail(l, "out of memory");
    char q[80];
    return fail(l,
                "PATROND_TRUSTED_PROXIES: \"%s\" is not an IPv4 or IPv6 address or CIDR block "
                "(a comma-separated list like 127.0.0.1,10.0.0.0/8,::1)",
                quoted(bad, q, sizeof q));
}

static bool load_setting(struct loader *l, const struct setting *st, char **dst)
{
    switch (st->kind) {
    case SETTING_SECRET:
        return load_secret(l, st->env, dst);
    case SETTING_PLAIN:
        return load_plain(l, st->env, dst);
    case SETTING_URL:
        return load_url(l, st->env, st->def, false, dst);
    case SETTING_BASE_URL:
        return load_url(l, st->env, st->def, true, dst);
    case SETTING_CURRENCY: {
        const char *v = env_value(l, st->env);
        if (!v) v = st->def;
        if (v && currency_exponent(v) < 0)
            return bad_value(l, st->env, "must be an ISO 4217 currency code", v);
        return set_string(l, dst, v);
    }
    }
    return fail(l, "%s: unknown kind of setting", st->env);
}

static bool load_providers(struct loader *l)
{
    for (size_t p = 0; p < PROVIDERS_COUNT; p++) {
        const struct setting *st = provider_table[p]->settings;
        for (size_t i = 0; st && st[i].env; i++)
            if (!load_setting(l, &st[i], &l->c->provider_settings[p][i])) return false;
    }
    return true;
}

char **config_slot(struct config *c, const char *env)
{
    for (size_t p = 0; p < PROVIDERS_COUNT; p++) {
        const struct setting *st = provider_table[p]->settings;
        for (size_t i = 0; st && st[i].env; i++)
            if (!strcmp(st[i].env, env)) return &c->provider_settings[p][i];
    }
    return NULL;
}

/* SPEC §4b: the operators' address and the outbound webhooks' targets. */
static bool load_outbound(struct loader *l)
{
    const char *email = env_value(l, "PATROND_ADMIN_EMAIL");
    if (email && !valid_email(email))
        return bad_value(l, "PATROND_ADMIN_EMAIL", "must be an e-mail address", email);
    int64_t allow;
    if (!load_int(l, "PATROND_WEBHOOK_ALLOW_PRIVATE", 0, 1, 0, &allow)) return false;
    l->c->webhook_allow_private = allow == 1;
    return set_string(l, &l->c->admin_email, email);
}

/* The newsroom's name, in mails (From, subject, signature) and pages:
 * text of at most 100 characters, no control characters (it goes into a
 * header). */
static bool load_site_name(struct loader *l)
{
    const char *v = env_value(l, "PATROND_SITE_NAME");
    if (!v) v = DEFAULT_SITE_NAME;
    size_t chars = 0;
    if (!valid_text(v, strlen(v), &chars) || strpbrk(v, "\t\r\n") || chars < 1 ||
        chars > SITE_NAME_MAX_CHARS)
        return bad_value(l, "PATROND_SITE_NAME", "must be 1 to 100 characters of text on one line",
                         v);
    return set_string(l, &l->c->site_name, v);
}

/* The audience is compared byte for byte by the verifying library, so
 * it is kept as given; only what no JWT library could match is refused. */
static bool load_member_tokens(struct loader *l)
{
    struct config *c = l->c;
    const char *aud = env_value(l, "PATROND_TOKEN_AUDIENCE");
    if (aud && (strlen(aud) > 512 || !valid_text(aud, strlen(aud), NULL) || strpbrk(aud, "\t\r\n")))
        return bad_value(l, "PATROND_TOKEN_AUDIENCE", "must be one line of at most 512 bytes", aud);
    return load_plain(l, "PATROND_SIGNING_KEY_FILE", &c->signing_key_file) &&
           load_plain(l, "PATROND_SIGNING_KEY_PREVIOUS_FILE", &c->signing_key_previous_file) &&
           set_string(l, &c->token_audience, aud ? aud : c->public_url);
}

static const char *process_env(const char *name)
{
    return getenv(name);
}

bool config_load(struct config *c, getenv_fn env, const char *cwd, char *err, size_t err_len)
{
    struct loader l = {c, env ? env : process_env, err, err_len};
    memset(c, 0, sizeof *c);
    if (err && err_len) err[0] = '\0';
    bool ok = load_database(&l, cwd) && load_listen(&l) && load_threads(&l) &&
              load_url(&l, "PATROND_PUBLIC_URL", DEFAULT_PUBLIC_URL, true, &c->public_url) &&
              load_cors(&l) && load_plain(&l, "PATROND_MAIL_COMMAND", &c->mail_command) &&
              load_currencies(&l) && load_languages(&l) && load_limits(&l) &&
              load_trusted_proxies(&l) && load_providers(&l) && load_outbound(&l) &&
              load_member_tokens(&l) && load_site_name(&l);
    if (!ok) config_free(c);
    return ok;
}

static void free_secret(char **s)
{
    if (*s) OPENSSL_cleanse(*s, strlen(*s));
    free(*s);
    *s = NULL;
}

void config_free(struct config *c)
{
    free_secret(&c->database_url);
    free_secret(&c->database_read_url);
    for (size_t p = 0; p < PROVIDERS_COUNT; p++) {
        const struct setting *st = provider_table[p]->settings;
        for (size_t i = 0; st && st[i].env; i++)
            if (st[i].kind == SETTING_SECRET)
                free_secret(&c->provider_settings[p][i]);
            else
                free(c->provider_settings[p][i]);
    }
    char *plain[] = {c->listen_host, c->public_url,  c->cors_origins, c->mail_command,
                     c->currencies,  c->admin_email, c->languages,    c->site_name};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        free(plain[i]);
    free(c->signing_key_file);
    free(c->signing_key_previous_file);
    free(c->token_audience);
    cidr_list_free(&c->trusted_proxies);
    memset(c, 0, sizeof *c);
}
