/* record.h — newline-delimited JSON records exchanged between the stages.
 *
 * Every record is one JSON object on one line with at least
 *   "v": 1            schema version (readers reject any other),
 *   "kind": "..."     message | params | inband | blackhole | invalid | ...,
 *   "id": "..."       stable message id, carried unchanged through every stage,
 *   "ts": "..."       ISO-8601 UTC time the record was first made.
 * Unknown fields are ignored and passed on; a stage passes on unchanged every record
 * kind it does not handle. The full format is in man/bouncy-sink-records.5.
 *
 * Reading: a line that is not a valid record is reported on stderr as
 *   prog: error: malformed record (NAME:LINE): why
 * and turned into a record of kind "invalid" that flows on to `report`, so that nothing
 * is silently dropped.
 *
 * Writing: output is flushed before the reader blocks for more input (the s6 rule), so
 * a record never waits in a buffer while its producer sleeps.
 */
#ifndef BS_RECORD_H
#define BS_RECORD_H

#include <jansson.h>
#include <stdio.h>

#include "jcanon.h"

#define REC_VERSION 1
#define REC_MAX_LINE ((size_t)64 << 20)

typedef struct rec_in rec_in;

/* name is used in diagnostics ("stdin", a FIFO path). The fd is not closed by free. */
rec_in *rec_in_new(int fd, const char *name);
void rec_in_free(rec_in *in);
/* Flush `out` whenever the reader is about to wait for input. */
void rec_in_flush_before_wait(rec_in *in, FILE *out);

/* Called when the reader has no whole line and is about to read(2): return 1 to read
 * (which may block), 0 to look at the buffer again and call the hook again (e.g. after a
 * poll time-out, having done periodic work). Set after rec_in_flush_before_wait's flush. */
void rec_in_wait_hook(rec_in *in, int (*wait)(void *arg), void *arg);
/* Start with a buffer of size bytes (default 64 KiB; it grows up to REC_MAX_LINE). */
void rec_in_buffer_size(rec_in *in, size_t size);

/* The line reader under rec_in_next, for a stage that handles the raw line itself
 * (decide splices its plan into the bytes). Rules: CR before LF (and at the end of a last
 * line without LF) stripped, blank lines skipped, a line over REC_MAX_LINE discarded.
 * 1: *line, *len is the next line (without LF), valid until the next call;
 * REC_LINE_TOO_LONG: a line was discarded, *why says so (static storage) and
 *    rec_in_skipped_line its number; 0, -1, 2 as rec_in_next. */
#define REC_LINE_TOO_LONG 3
int rec_in_next_line(rec_in *in, const char **line, size_t *len, const char **why);
unsigned long rec_in_skipped_line(const rec_in *in);

/* 1: *out is a record (caller json_decref's it); 0: end of input;
 * -1: read error (diagnostic printed, errno set);
 * 2: would block (only when the fd is O_NONBLOCK). */
int rec_in_next(rec_in *in, json_t **out);
/* Pass-through reading (src/lib/jcanon.h): as rec_in_next, except that a line that is a
 * canonical record (exactly what rec_write would print for it) comes back as *line, *len
 * (valid until the next call) with *out NULL and the wanted members' raw values in want[];
 * any other line is parsed into *out as rec_in_next does (with its diagnostic). */
int rec_in_next_pass(rec_in *in, json_t **out, const char **line, size_t *len, jc_want *want,
                     size_t nwant);
/* As rec_in_next, except that from a canonical line the top-level members named in skip[]
 * (at most JC_MAX_WANT) are left out before the parse: a reader that never looks at them
 * (report: header_block) does not pay for them. Other lines are parsed whole. */
int rec_in_next_without(rec_in *in, json_t **out, const char *const *skip, size_t nskip);
/* Writes LINE (a canonical record) and its newline. 0 ok, -1 error (errno set). */
int rec_write_line(FILE *out, const char *line, size_t len);
/* Writes the canonical record LINE (LEN bytes up to its closing brace, excluded), which has
 * no member KEY, with "KEY":V added as its last member, and a newline: byte for byte what
 * rec_write prints for the record with KEY set last, without parsing or dumping the rest.
 * SCRATCH is a buffer the caller keeps across calls. 0 ok, -1 error (errno set; EILSEQ: V
 * holds a string that is not UTF-8, which jansson would not print either). */
int rec_write_spliced(FILE *out, const char *line, size_t len, const char *key, const json_t *v,
                      bs_buf *scratch);
/* rec_write_spliced in two steps, for a writer that makes V's canonical text itself:
 * rec_splice_begin puts ,"KEY": in SCRATCH (-1 when KEY is not UTF-8); the caller appends
 * the value's text; rec_splice_end closes the record and writes LINE and SCRATCH
 * (0 ok, -1 error, errno set). */
int rec_splice_begin(bs_buf *scratch, const char *key);
int rec_splice_end(FILE *out, const char *line, size_t len, bs_buf *scratch);
unsigned long rec_in_lineno(const rec_in *in);
int rec_in_fd(const rec_in *in);
/* True when a whole line is already buffered (next call will not read). */
int rec_in_has_line(const rec_in *in);

/* Parses one line (without its newline) into a record; on failure returns an "invalid"
 * record and, when why is not NULL, the reason (static storage). Never returns NULL. */
json_t *rec_parse_line(const char *line, size_t len, const char *name, unsigned long lineno,
                       const char **why);

/* A new record {"v":1,"kind":kind,"id":id,"ts":now}. */
json_t *rec_new(const char *kind, const char *id);
const char *rec_kind(const json_t *rec);
const char *rec_id(const json_t *rec);

/* Writes the record as one line. 0 ok, -1 error (errno set). */
int rec_write(FILE *out, const json_t *rec);
/* Checks and closes an output stream at exit; on error prints why and exits 74. */
void rec_close_output(FILE *out, const char *name);

/* Byte strings: stored as a JSON string when valid UTF-8 without NUL, else base64 under
 * key "<key>_b64". rec_get_bytes returns a NUL-terminated copy (caller frees) or NULL. */
void rec_set_bytes(json_t *obj, const char *key, const char *p, size_t n);
char *rec_get_bytes(const json_t *obj, const char *key, size_t *n);

/* String at a dotted path ("envelope.mail_from"); NULL when absent or not a string. */
const char *rec_str(const json_t *obj, const char *path);
/* Value at a dotted path, borrowed; NULL when absent. */
json_t *rec_get(const json_t *obj, const char *path);
/* Object at key, created when absent (borrowed reference). */
json_t *rec_obj(json_t *obj, const char *key);

/* Process set-up for a pipeline stage: program name, SIGPIPE ignored (EPIPE becomes a
 * write error reported and turned into exit 74); closed descriptors 0-2 are held so that
 * no socket or file takes their place (using them still fails). */
void bs_stage_init(const char *argv0);

#endif
