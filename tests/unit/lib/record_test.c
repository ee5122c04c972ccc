/* Unit tests for src/lib/record.c: reading, malformed lines, bytes, writing. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "tap.h"
#include "util.h"

static int pipe_with(const char *text, size_t n)
{
    int fds[2];
    if (pipe(fds) < 0)
        abort();
    if (write(fds[1], text, n) != (ssize_t)n)
        abort();
    close(fds[1]);
    return fds[0];
}

int main(void)
{
    bs_set_progname("record_test");
    const char input[] = "{\"v\":1,\"kind\":\"message\",\"id\":\"a1\",\"x\":[1,2]}\n"
                         "\n"
                         "not json\n"
                         "{\"v\":2,\"kind\":\"message\",\"id\":\"a2\"}\n"
                         "{\"v\":1,\"kind\":\"message\"}\n"
                         "[1]\n"
                         "{\"v\":1,\"kind\":\"params\",\"id\":\"p\"}";
    int fd = pipe_with(input, sizeof input - 1);
    rec_in *in = rec_in_new(fd, "stdin");
    json_t *r;
    ok(rec_in_next(in, &r) == 1 && strcmp(rec_id(r), "a1") == 0, "first record read");
    json_decref(r);
    ok(rec_in_next(in, &r) == 1 && strcmp(rec_kind(r), "invalid") == 0 &&
           strstr(rec_str(r, "error"), "stdin:3: not JSON"),
       "bad JSON becomes an invalid record naming stdin:3 (blank line skipped)");
    is_str(rec_str(r, "text"), "not json", "invalid record keeps the text");
    json_decref(r);
    ok(rec_in_next(in, &r) == 1 && strstr(rec_str(r, "error"), "unsupported schema version 2"),
       "unknown version rejected");
    json_decref(r);
    ok(rec_in_next(in, &r) == 1 && strstr(rec_str(r, "error"), "missing \"id\""),
       "missing id rejected");
    json_decref(r);
    ok(rec_in_next(in, &r) == 1 && strstr(rec_str(r, "error"), "not a JSON object"),
       "array rejected");
    json_decref(r);
    ok(rec_in_next(in, &r) == 1 && strcmp(rec_kind(r), "params") == 0,
       "last line without newline read");
    json_decref(r);
    ok(rec_in_next(in, &r) == 0, "end of input");
    is_int(rec_in_lineno(in), 7, "line count");
    rec_in_free(in);
    close(fd);

    json_t *m = rec_new("message", "0123456789abcdef");
    rec_set_bytes(m, "plain", "Subject: hi\r\n", 13);
    rec_set_bytes(m, "binary", "a\xff\x00z", 4);
    ok(json_is_string(json_object_get(m, "plain")), "UTF-8 bytes stored as a string");
    ok(json_is_string(json_object_get(m, "binary_b64")), "other bytes stored as base64");
    size_t n;
    char *b = rec_get_bytes(m, "binary", &n);
    ok(b && n == 4 && memcmp(b, "a\xff\x00z", 4) == 0, "base64 bytes round-trip");
    free(b);
    b = rec_get_bytes(m, "plain", &n);
    ok(b && n == 13 && strcmp(b, "Subject: hi\r\n") == 0, "string bytes round-trip");
    free(b);
    json_object_set_new(rec_obj(m, "envelope"), "rcpt", json_string("a@b.test"));
    is_str(rec_str(m, "envelope.rcpt"), "a@b.test", "dotted path lookup");
    ok(rec_str(m, "envelope.none") == NULL && rec_str(m, "nothing.rcpt") == NULL,
       "absent paths give NULL");

    char *line = NULL;
    size_t linelen = 0;
    FILE *mem = open_memstream(&line, &linelen);
    ok(rec_write(mem, m) == 0, "record written");
    fclose(mem);
    ok(linelen > 0 && line[linelen - 1] == '\n' && memchr(line, '\n', linelen - 1) == NULL,
       "written as exactly one line");
    const char *why;
    json_t *back = rec_parse_line(line, linelen - 1, "mem", 1, &why);
    ok(why == NULL && json_equal(back, m), "written record parses back equal");
    json_decref(back);
    free(line);
    json_decref(m);

    /* A line over the limit is skipped and reported, and reading goes on. */
    size_t big = REC_MAX_LINE + 100;
    char *huge = xmalloc(big + 64);
    memset(huge, 'x', big);
    huge[big] = '\n';
    strcpy(huge + big + 1, "{\"v\":1,\"kind\":\"message\",\"id\":\"after\"}\n");
    char path[] = "/tmp/bs-rec-XXXXXX";
    int tfd = mkstemp(path);
    if (write(tfd, huge, strlen(huge + big + 1) + big + 1) < 0)
        abort();
    lseek(tfd, 0, SEEK_SET);
    in = rec_in_new(tfd, path);
    ok(rec_in_next(in, &r) == 1 && strcmp(rec_kind(r), "invalid") == 0 &&
           strstr(rec_str(r, "error"), "longer than"),
       "over-long line becomes an invalid record");
    json_decref(r);
    ok(rec_in_next(in, &r) == 1 && strcmp(rec_id(r), "after") == 0, "reading continues after it");
    json_decref(r);
    rec_in_free(in);
    close(tfd);
    unlink(path);
    free(huge);
    return done_testing();
}
