#ifndef PATROND_DB_MAILS_H
#define PATROND_DB_MAILS_H

/* api/db/mails.c: the mails the clock sends (SQL in sql/36_mails.sql). */

#include "db.h"

/* Queues "your membership ends on …" for every patron whose lapse is at
 * most three days away and who has not been told about this lapse yet;
 * *queued receives how many. */
struct db_status db_mails_ends_soon(struct db *db, int *queued);

#endif
