#ifndef PATROND_CLI_H
#define PATROND_CLI_H

#include "db.h"

/* Subcommands of the patrond binary; each returns the exit status. */
int cli_key(struct db *db, int argc, char **argv);
int cli_migrate(struct db *db, int argc, char **argv);
int cli_serve(struct db *db, int argc, char **argv);

#endif
