/* libFuzzer target: the NDJSON record reader (rec_parse_line, the line splitter and its raw-line
 * half). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Whole-buffer parse, as a stage does for one line. */
    json_t *rec = rec_parse_line((const char *)data, size, "fuzz", 1, NULL);
    if (!rec || !rec_kind(rec) || !rec_id(rec))
        abort(); /* must always return a record with kind and id */
    size_t n;
    free(rec_get_bytes(rec, "text", &n));
    free(rec_get_bytes(rec, "header_block", &n));
    (void)rec_str(rec, "envelope.rcpt");
    json_decref(rec);

    /* The streaming reader over a pipe-like fd: split into lines, never lose one. */
    int fds[2];
    if (pipe(fds) < 0)
        return 0;
    if (size > 60000)
        size = 60000; /* stay under the pipe buffer */
    if (write(fds[1], data, size) != (ssize_t)size) {
        close(fds[0]);
        close(fds[1]);
        return 0;
    }
    close(fds[1]);
    rec_in *in = rec_in_new(fds[0], "fuzz");
    json_t *r;
    while (rec_in_next(in, &r) == 1)
        json_decref(r);
    rec_in_free(in);
    close(fds[0]);

    /* The raw line reader (decide's): a line is never empty and never holds LF. */
    if (pipe(fds) < 0)
        return 0;
    if (write(fds[1], data, size) != (ssize_t)size) {
        close(fds[0]);
        close(fds[1]);
        return 0;
    }
    close(fds[1]);
    in = rec_in_new(fds[0], "fuzz");
    const char *line, *why;
    size_t len;
    int got;
    while ((got = rec_in_next_line(in, &line, &len, &why)) == 1 || got == REC_LINE_TOO_LONG)
        if (got == 1 && (len == 0 || memchr(line, '\n', len)))
            abort();
    rec_in_free(in);
    close(fds[0]);
    return 0;
}
