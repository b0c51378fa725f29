#ifndef PATROND_CONFIG_H
#define PATROND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"
#include "provider_id.h"

/* How config_load reads one of a provider's variables (each provider's
 * module lists its own). Every secret may instead be given as X_FILE. */
enum setting_kind {
    SETTING_SECRET,   /* cleansed from memory when freed */
    SETTING_PLAIN,    /* a file name or other plain text */
    SETTING_URL,      /* an http(s) URL */
    SETTING_BASE_URL, /* an http(s) URL that paths are appended to (no trailing '/') */
    SETTING_CURRENCY, /* an ISO 4217 code */
};
struct setting {
    const char *env; /* SPEC §7 name */
    enum setting_kind kind;
    const char *def; /* default when unset, or NULL */
};

/* SPEC §7: everything patrond reads from its environment. */
struct config {
    char *database_url;
    char *database_read_url;
    char *listen_host;
    unsigned listen_port;
    unsigned threads;    /* HTTP threads (libmicrohttpd's pool) */
    unsigned db_threads; /* handler threads that use the database */
    char *public_url;
    char *cors_origins;
    char *mail_command;
    char *currencies;
    char *languages; /* PATROND_LANGUAGES as given; include/i18n.h holds the catalogues */
    int64_t max_amount_minor;
    size_t body_limit;
    size_t import_max_bytes;      /* the CSV body of POST /v1/patrons/import */
    unsigned checkout_rate_limit; /* per client address and minute; 0: no limit */
    /* seconds a connection may sit idle (or dribble a request) before it is closed */
    unsigned connection_timeout;
    /* days a recurring pledge stays a membership after its paid period */
    unsigned grace_days;
    /* peers whose X-Forwarded-For names the client (empty: none) */
    struct cidr_list trusted_proxies;
    /* where operational mails go (a disabled webhook endpoint); NULL: nowhere */
    char *admin_email;
    /* outbound webhooks may go to http and to loopback/private addresses */
    bool webhook_allow_private;
    /* member tokens (SPEC §4b): PEM files of the keys, and the `aud` claim
     * (default: public_url) */
    char *signing_key_file;
    char *signing_key_previous_file;
    char *token_audience;
    /* the newsroom's name in mails (PATROND_SITE_NAME, default patrond) */
    char *site_name;

    /* the payment providers' variables: [provider_id][setting index], in
     * the order of each provider's `settings` (include/provider.h) */
    char *provider_settings[PROVIDERS_COUNT][PROVIDER_SETTINGS_MAX];
};

/* The process-wide configuration, valid after config_load(). */
extern struct config cfg;

/* Reads the environment through `getenv_fn` (getenv in production, a table
 * in tests). On a bad value returns false with a message naming the
 * variable in err. `cwd` resolves the embedded database default. */
typedef const char *(*getenv_fn)(const char *name);
bool config_load(struct config *c, getenv_fn env, const char *cwd, char *err, size_t err_len);
void config_free(struct config *c);
/* A provider variable's slot by its name, or NULL when no provider reads
 * it: for tests and for messages that name the variable. */
char **config_slot(struct config *c, const char *env);

#endif
