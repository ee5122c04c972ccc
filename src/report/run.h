/* run.h — report's loop (main.c parses the options, run.c does the rest).
 *
 * report_run reads the configuration, opens the inputs, the log, the state file and the
 * web server, then polls the inputs and a signalfd (SIGINT/SIGTERM) until the inputs end
 * or a signal arrives, logging and counting each record, saving the state at least every
 * second when it changed, and writes the last lines. Fatal errors exit with the codes of
 * report(1).
 */
#ifndef REPORT_RUN_H
#define REPORT_RUN_H

#include <stddef.h>

typedef struct {
    const char *config;  /* -c FILE, or NULL */
    int once;            /* --once: read the inputs to their end, print /json */
    int until_eof;       /* --until-eof */
    long progress_total; /* --progress N; -1 without */
    int have_now, have_tick;
    double now, tick;          /* --now TIME [--tick SECONDS] */
    const char *spool;         /* --spool DIR, or NULL: [Listen] Spool */
    const char *acks;          /* --acks FIFO (schedule's), or NULL */
    const char *log;           /* --log FILE, or NULL: [Sink] Logfile */
    const char *const *inputs; /* --input PATH... */
    size_t n_inputs;
} rp_options;

/* Returns the exit status (0). */
int report_run(const rp_options *o);

#endif
