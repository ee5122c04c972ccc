/* acks.h — every scheduled action logged once, and schedule told so (issue 17).
 *
 * report remembers the ids of the last ACKS_REMEMBER actions it logged (read back from the
 * end of its log file, and of the file rotated before it, at start, so a report killed between its
 * line and its acknowledgement does not log the action again when schedule emits it again), skips
 * an action it already logged, and writes the id of every action it logged or skipped, one a line,
 * to schedule's acks FIFO. The FIFO is opened read-write and non-blocking: report never waits for
 * schedule; an id that does not fit is dropped, and schedule emits the action again after
 * Claim_Timeout (report then skips and acknowledges it).
 */
#ifndef BS_REPORT_ACKS_H
#define BS_REPORT_ACKS_H

#include <stddef.h>

#define ACKS_REMEMBER 262144             /* ids remembered (more than schedule's Max_Claimed) */
#define ACKS_LOG_TAIL ((size_t)64 << 20) /* bytes of the log read back at start */

typedef struct rp_acks rp_acks;

/* fifo: schedule's acks FIFO, or NULL (remember and skip, acknowledge nothing). NULL with
 * *err (caller frees) when the FIFO cannot be opened. */
rp_acks *acks_new(const char *fifo, char **err);
void acks_free(rp_acks *a);
/* Reads the action ids of the last ACKS_LOG_TAIL bytes of a log file, counting the end of
 * its newest rotated file (`<logfile>.YYYY-MM-DD`) before it, so that a restart just after
 * midnight knows the actions logged just before it; returns how many. */
size_t acks_read_log(rp_acks *a, const char *logfile);
int acks_seen(const rp_acks *a, const char *aid);
void acks_remember(rp_acks *a, const char *aid);
/* Writes `aid\n` to the FIFO (no-op without one); counts what did not fit. */
void acks_send(rp_acks *a, const char *aid);
unsigned long acks_dropped(const rp_acks *a);

/* The action id named on a log line (its first item `Action NAME ID ...`), copied to
 * out; 0 when the line has none. */
int acks_id_of_line(const char *line, size_t len, char *out, size_t outlen);

#endif
