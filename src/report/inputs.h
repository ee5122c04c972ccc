/* inputs.h — report's record sources: stdin and every --input, read without blocking.
 *
 * A FIFO is opened O_NONBLOCK (a writer need not exist yet) and read only when poll()
 * says so; in live mode its end of file (the writer went away) closes and reopens it, so
 * a restarted writer reconnects. Regular files are read once to their end.
 */
#ifndef BS_REPORT_INPUTS_H
#define BS_REPORT_INPUTS_H

#include <jansson.h>
#include <poll.h>
#include <stddef.h>

#include "record.h"

typedef enum { INPUT_STDIN, INPUT_FIFO, INPUT_FILE } input_type;

typedef struct {
    char *path;
    input_type type;
    int fd; /* -1 when finished */
    rec_in *in;
    int saved_flags; /* stdin's file status flags, restored at exit */
} rp_input;

typedef struct {
    rp_input *v;
    size_t n;
    int reopen; /* live mode: reopen FIFOs at end of file */
} rp_inputs;

void inputs_init(rp_inputs *ins, int reopen);
/* stdin: skipped when it is closed. */
void inputs_add_stdin(rp_inputs *ins);
/* 0 ok, -1 with *err (caller frees) when the path cannot be opened. */
int inputs_add(rp_inputs *ins, const char *path, char **err);
void inputs_free(rp_inputs *ins);
/* True while some input can still bring records. */
int inputs_open(const rp_inputs *ins);
/* Fills pfd (room for ins->n) and idx (input index of each entry); returns the count. */
size_t inputs_pollfds(const rp_inputs *ins, struct pollfd *pfd, size_t *idx);

/* True when input i already holds a whole line in its buffer (poll would not say so). */
int inputs_buffered(const rp_inputs *ins, size_t i);

/* Reads up to max records from input i, calling fn for each (fn does not keep rec).
 * Returns the number of records, or -1 when fn returned -1 (stop). */
typedef int (*input_fn)(void *ctx, const json_t *rec);
long inputs_read(rp_inputs *ins, size_t i, long max, input_fn fn, void *ctx);

#endif
