/* report.h — what report does with each record: count it, log it, settle its file. */
#ifndef BS_REPORT_REPORT_H
#define BS_REPORT_REPORT_H

#include <jansson.h>

#include "acks.h"
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

typedef struct {
    rp_stats *stats;
    rp_log *log;
    rp_settle *settle; /* the claimed directory and Done_Msg_File_Dest */
    rp_clock clock;
    rp_acks *acks; /* action ids logged (issue 17) */
    unsigned long records;
} rp_report;

/* Counts, logs and settles one record (a settle path that settle_check refuses makes
 * the line an ERROR line with a `!Settle refused` item, counted settle_refused, and a
 * warning on stderr; nothing is touched). 0 ok; -1 the log file could not be written
 * (errno set): the caller stops. */
int report_record(rp_report *r, const json_t *rec);
/* A line that is not about a record (start, parameters of report itself). */
int report_note(rp_report *r, const char *level, const char *text);

#endif
