/* `patrond migrate [--status]` */
#include <string.h>

#include "cli.h"
#include "db/migrate.h"

int cli_migrate(struct db *db, int argc, char **argv)
{
    if (argc > 0 && !strcmp(argv[0], "--status")) return migrate_status(db, stdout) ? 0 : 1;
    if (argc > 0) {
        fprintf(stderr, "usage: patrond migrate [--status]\n");
        return 2;
    }
    return migrate_apply(db, stdout) ? 0 : 1;
}
