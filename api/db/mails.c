/* The mails the clock sends (sql/36_mails.sql, mail_ends_soon). */
#include "db/mails.h"

struct db_status db_mails_ends_soon(struct db *db, int *queued)
{
    return db_int(db, "SELECT mail_ends_soon()", 0, NULL, queued);
}
