/* report.h — what report does with each record: count it, log it, settle its file. */
#ifndef BS_REPORT_REPORT_H
#define BS_REPORT_REPORT_H

#include <jansson.h>

#include "acks.h"
#include "history.h"
#include "logfile.h"
#include "settle.h"
#include "stats.h"

/* The clock: real time (optionally shifted by --now, see bs_time_set_override), or, in
 * the test mode of --tick, a frozen clock that advances by `tick` seconds per record. */
typedef struct {
    int frozen;
    double now;  /* frozen time */
    double tick; /* added after each record when frozen */
} rp_clock;
double rp_clock_now(const rp_clock *c);
void rp_clock_record(rp_clock *c);

/* A record's line and settle, held until its history row is committed. */
typedef struct {
    double now;
    const char *level; /* static */
    char *line;
    int no_line;       /* counted, no line (fmt_result.no_line) */
    char *ack_id;      /* an action's id, acknowledged once the line is written */
    char *settle_name; /* the spool file to settle, or NULL */
    int keep;
} rp_pending;

typedef struct {
    rp_stats *stats;
    rp_log *log;
    rp_settle *settle;   /* the claimed directory and Done_Msg_File_Dest */
    rp_history *history; /* NULL: no history ([Report] History = none, or --once) */
    rp_clock clock;
    rp_acks *acks; /* action ids logged (issue 17) */
    unsigned long records;
    rp_pending *pending; /* with a history: the batch being filled */
    size_t n_pending, cap_pending;
    double pending_since;   /* monotonic time of the batch's first record */
    rp_pending *committing; /* the batch the history writer commits */
    size_t n_committing, cap_committing;
} rp_report;

/* Counts, logs and settles one record (a settle path that settle_check refuses makes
 * the line an ERROR line with a `!Settle refused` item, counted settle_refused, and a
 * warning on stderr; nothing is touched). Without a history the line is written (into
 * the log's buffer, which goes out in one write at report_flush_async or report_flush, or
 * at once before an acknowledgement or a settle) and the file settled at once; with one, the
 * record's row joins the open transaction and its line and settle wait for report_flush. 0 ok; -1
 * the log file could not be written (errno set): the caller stops. */
int report_record(rp_report *r, const json_t *rec);
/* The settle order with a history: commit the batch's rows, then write the batch's lines
 * (one write), then settle its files. A kill before the commit loses the batch's rows and
 * lines together (the files stay in the spool); after it, every line written has its row.
 * A batch is handed to the writer once it is RP_BATCH_DELAY old or holds RP_BATCH_MAX
 * records (one transaction for many records: at a few thousand records a second each
 * commit costs more than its rows), or when report_flush forces it.
 * report_flush_async writes the lines of the batch committed before (waiting for its
 * commit) and hands the filled batch to the writer when it is due, so that the record
 * loop goes on while it is committed; report_flush hands it over in any case and writes
 * its lines too. 0 ok; -1 the log file could not be written (errno set). */
#define RP_BATCH_DELAY 0.010
#define RP_BATCH_MAX 1000
int report_flush_async(rp_report *r);
/* Seconds until the batch being filled is due (0: now), or -1 when there is none. */
double report_due(const rp_report *r);
int report_flush(rp_report *r);
/* Frees the batch held (after report_flush, nothing). */
void report_free_pending(rp_report *r);
/* A line that is not about a record (start, parameters of report itself). */
int report_note(rp_report *r, const char *level, const char *text);

#endif
