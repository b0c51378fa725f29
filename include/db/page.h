#ifndef PATROND_DB_PAGE_H
#define PATROND_DB_PAGE_H

/* Keyset pagination for the db list functions (SPEC §2: ?limit= and
 * ?after=): rows newest first by their table's `seq`, starting after the
 * row whose id is the cursor. No offset, so a page costs the same however
 * deep it is and rows added meanwhile do not shift it. */

#include <stddef.h>
#include <stdio.h>

/* The tail of a list's WHERE clause: the cursor condition, the order and
 * the limit. `alias` and `table` are bare identifiers pasted into the SQL
 * at compile time, never text from a request, and the statement stays one
 * string literal (db_exec's statement cache is keyed by its address);
 * `after` and `limit` are the numbers of the cursor's and the limit's
 * parameters. DB_PAGE(r, rounds, 2, 3) reads
 * " AND ($2::uuid IS NULL OR r.seq < (SELECT seq FROM rounds WHERE id = $2))
 *   ORDER BY r.seq DESC LIMIT $3". */
#define DB_PAGE(alias, table, after, limit)                                                        \
    "   AND ($" #after "::uuid IS NULL OR " #alias ".seq < (SELECT seq FROM " #table               \
    " WHERE id = $" #after "))"                                                                    \
    " ORDER BY " #alias ".seq DESC LIMIT $" #limit

/* The limit parameter's text: one row more than the page holds, which
 * tells reply_list whether another page follows. Returns buf. */
#define DB_PAGE_LIMIT_LEN 16
static inline const char *db_page_limit(char buf[DB_PAGE_LIMIT_LEN], int limit)
{
    snprintf(buf, DB_PAGE_LIMIT_LEN, "%d", limit + 1);
    return buf;
}

#endif
