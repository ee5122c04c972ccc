/* records.h — the bounded queue of inband/blackhole records and its writer thread.
 *
 * Event loops only append (rq_push never blocks on I/O); one thread writes to the
 * output with non-blocking writes and poll. A FIFO whose reader went away is reopened
 * when a new reader comes (records wait in the queue meanwhile, and rq_full() turns on
 * back-pressure); on a plain file or stdout a write error drops the records, counted
 * and warned about.
 */
#ifndef LISTEN_RECORDS_H
#define LISTEN_RECORDS_H

#include <stddef.h>

typedef struct rqueue rqueue;

/* path NULL: stdout. soft_max: records queued before rq_full() is true. */
rqueue *rq_start(const char *path, size_t soft_max);
/* Takes ownership of line (malloc'd, no newline). Never blocks on I/O. */
void rq_push(rqueue *q, char *line, size_t len);
int rq_full(rqueue *q);
/* Writes what is queued (waiting up to deadline_s seconds for a reader) and stops. */
void rq_stop(rqueue *q, double deadline_s);
unsigned long rq_dropped(const rqueue *q);

#endif
