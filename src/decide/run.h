/* run.h — decide's loop: standard input to standard output, the model in force, reloads.
 *
 * decide_run reads records with lib's line reader (record.h rec_in_next_line: the raw
 * line, so that a message is passed on with its plan spliced in, see scan.h), hands each
 * line to the decider, flushes before it waits for input (the s6 rule) and, with a
 * configuration file, wakes up once a second to reload it when it changed (or on SIGHUP).
 */
#ifndef DECIDE_RUN_H
#define DECIDE_RUN_H

#include <stdint.h>

typedef struct {
    const char *config; /* -c FILE, or NULL: the defaults */
    int have_seed;      /* --seed N */
    uint64_t seed;
    int have_now; /* --now TIME: the clock stands still at `now` */
    double now;
} decide_options;

/* Runs until the end of standard input; returns the exit status (0). Exits 78 on a bad
 * configuration at start, 74 on a read or write error, 71 when poll fails. */
int decide_run(const decide_options *o);

#endif
