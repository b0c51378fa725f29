/* Freed memory goes back to the system. glibc keeps what threads free
 * inside their arenas and returns only the top of each heap, so a server
 * whose sixteen database threads each meet a busy moment keeps every
 * arena at its high-water mark, and that mark creeps up over months
 * without any leak. malloc_trim(0) also hands back the free pages inside
 * the heaps, so resident memory follows what is in use; it holds each
 * arena's lock for the walk, well under a millisecond with heaps this
 * small. */
#include <malloc.h>

#include "jobs_list.h"

void job_trim_heap(struct db *db)
{
    (void)db;
    malloc_trim(0);
}
