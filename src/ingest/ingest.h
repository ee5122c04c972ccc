/* ingest.h — the ingest run: inputs (files, directories, stdin, the spool) to message
 * records, through the ordered worker pool (pool.h). main.c only parses options.
 */
#ifndef BS_INGEST_INGEST_H
#define BS_INGEST_INGEST_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "mimescan.h"

typedef struct {
    bs_config *cfg;
    size_t max_size;       /* [Ingest] Max_Message_Size */
    msg_limits limits;     /* [Ingest] Max_Header_Size, Max_MIME_Parts, ... */
    long max_time;         /* [Ingest] Max_Message_Time: seconds to read one message (0: none) */
    long quarantine_after; /* [Ingest] Quarantine_After */
    const char *quarantine_dir; /* [Ingest] Quarantine_Dir (NULL: SPOOL/quarantine) */
    int workers;                /* -j */
    int auth;                   /* run DKIM/SPF (off only in tests of the reader) */
    FILE *out;
} ingest_opts;

typedef struct ingest_run ingest_run;

/* Reads the [Ingest] settings into o; -1 with cfg_error() on a bad value. */
int ingest_read_config(bs_config *cfg, ingest_opts *o);

/* Starts the workers (one DKIM/SPF context each). NULL with *err (caller frees) on a
 * configuration error. */
ingest_run *ingest_start(const ingest_opts *o, char **err);

/* A file, a directory (its *.msg files) or "-" (stdin). Returns 0, EX_NOINPUT when the
 * path cannot be opened, EX_IOERR on a read error, or -1 when the output failed. */
int ingest_path(ingest_run *r, const char *path);

/* The live spool: leftovers in DIR/claimed/ first, then every DIR/ *.msg, claimed by
 * renaming it into DIR/claimed/. With follow, keeps watching DIR (inotify) until SIGINT
 * or SIGTERM, which the caller must have blocked before ingest_start (and DIR is created
 * when missing). Same returns as ingest_path.
 *
 * Poison messages: while a worker reads a claimed file, DIR/.ingest/busy-<worker> names
 * it. A leftover named there was being read when ingest died (a crash, or the
 * Max_Message_Time watchdog): its count in DIR/.ingest/<name>.crashes goes up. A
 * leftover with a count is read alone (nothing else in flight, so a crash is its own);
 * one whose count reached Quarantine_After is moved to the quarantine directory
 * instead, and a "quarantine" record says so. */
int ingest_spool(ingest_run *r, const char *dir, int follow);

/* Waits for every record to be written and frees the run. 0, or EX_IOERR after an
 * output error (reported). */
int ingest_finish(ingest_run *r);

#endif
