/* patrond: serve | migrate [--status] | key create|list|revoke */
#include <curl/curl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "i18n.h"
#include "money.h"

static const char *env(const char *name)
{
    return getenv(name);
}

static int usage(void)
{
    fprintf(stderr, "usage: patrond serve [--migrate]\n"
                    "       patrond migrate [--status]\n"
                    "       patrond key create --scope admin|read --name NAME\n"
                    "       patrond key list\n"
                    "       patrond key revoke ID\n"
                    "configuration comes from the environment; see README.md\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage();
    int (*cmd)(struct db *, int, char **) = NULL;
    if (!strcmp(argv[1], "serve"))
        cmd = cli_serve;
    else if (!strcmp(argv[1], "migrate"))
        cmd = cli_migrate;
    else if (!strcmp(argv[1], "key"))
        cmd = cli_key;
    else
        return usage();

    char cwd[PATH_MAX], err[512];
    if (!getcwd(cwd, sizeof cwd)) snprintf(cwd, sizeof cwd, ".");
    if (!config_load(&cfg, env, cwd, err, sizeof err)) {
        fprintf(stderr, "patrond: %s\n", err);
        return 1;
    }
    /* Once, before any thread: libcurl's set-up is not thread-safe. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "patrond: cannot initialise libcurl\n");
        config_free(&cfg);
        return 1;
    }
    db_global_init(cfg.database_url, cfg.database_read_url, cfg.grace_days, i18n_default());
    int status = cmd(db_thread(), argc - 2, argv + 2);
    db_global_shutdown();
    curl_global_cleanup();
    config_free(&cfg);
    currency_allowlist_free();
    i18n_free();
    return status;
}
