#ifndef PATROND_CONFIG_H
#define PATROND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cidr.h"

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
    /* member tokens (SPEC §4b): PEM files of the keys, and the `aud` claim
     * (default: public_url) */
    char *signing_key_file;
    char *signing_key_previous_file;
    char *token_audience;

    char *stripe_webhook_secret;
    char *stripe_payment_link;
    char *patreon_webhook_secret;
    char *patreon_campaign_url;
    char *patreon_currency;
    char *paypal_webhook_id;
    char *paypal_cert_file;
    char *liqpay_public_key;
    char *liqpay_private_key;
    char *monobank_pubkey;
    char *wayforpay_merchant;
    char *wayforpay_secret;
    char *paddle_webhook_secret;
    char *standard_webhook_secret;
};

/* The process-wide configuration, valid after config_load(). */
extern struct config cfg;

/* Reads the environment through `getenv_fn` (getenv in production, a table
 * in tests). On a bad value returns false with a message naming the
 * variable in err. `cwd` resolves the embedded database default. */
typedef const char *(*getenv_fn)(const char *name);
bool config_load(struct config *c, getenv_fn env, const char *cwd, char *err, size_t err_len);
void config_free(struct config *c);

#endif
