/* The mails the clock sends (sql/36_mails.sql, mail_ends_soon). */
#include "db/mails.h"

enum db_rc db_mails_ends_soon(struct db *db, int *queued)
{
    return db_int(db, "SELECT mail_ends_soon()", 0, NULL, queued);
}
