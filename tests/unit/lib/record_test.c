/* Unit tests for src/lib/record.c: reading, malformed lines, bytes, writing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "tap.h"
#include "util.h"

static int waits;
static int wait_twice(void *arg)
{
    (void)arg;
    return ++waits % 2 == 0; /* "not yet" once before every read */
}

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

    /* The raw line reader (decide's): CR stripped also on a last line without LF, blank
     * lines (also a last "\r") skipped, the wait hook called before every read. */
    const char raw[] = "a1\r\n\r\n{\"x\"}\r";
    fd = pipe_with(raw, sizeof raw - 1);
    in = rec_in_new(fd, "raw");
    rec_in_wait_hook(in, wait_twice, NULL);
    const char *rline, *rwhy;
    size_t rlen;
    ok(rec_in_next_line(in, &rline, &rlen, &rwhy) == 1 && rlen == 2 &&
           memcmp(rline, "a1", 2) == 0 && rec_in_lineno(in) == 1,
       "raw line 1 without CR");
    ok(waits == 2, "the wait hook was asked again after it said not yet");
    ok(rec_in_next_line(in, &rline, &rlen, &rwhy) == 1 && rlen == 5 &&
           memcmp(rline, "{\"x\"}", 5) == 0 && rec_in_lineno(in) == 3,
       "last line without LF: its CR stripped, blank line 2 skipped");
    ok(rec_in_next_line(in, &rline, &rlen, &rwhy) == 0, "raw: end of input");
    rec_in_free(in);
    close(fd);
    fd = pipe_with("\n\r", 2);
    in = rec_in_new(fd, "raw");
    ok(rec_in_next_line(in, &rline, &rlen, &rwhy) == 0, "a last line of only CR is blank");
    rec_in_free(in);
    close(fd);

    /* An over-long last line without LF is reported, not dropped. */
    memset(huge, 'x', big);
    memcpy(path, "/tmp/bs-rec-XXXXXX", sizeof path);
    tfd = mkstemp(path);
    if (write(tfd, huge, big) < 0)
        abort();
    lseek(tfd, 0, SEEK_SET);
    in = rec_in_new(tfd, path);
    ok(rec_in_next_line(in, &rline, &rlen, &rwhy) == REC_LINE_TOO_LONG &&
           strcmp(rwhy, "line too long") == 0 && rec_in_skipped_line(in) == 1,
       "over-long last line without LF: REC_LINE_TOO_LONG, line 1");
    ok(rec_in_next_line(in, &rline, &rlen, &rwhy) == 0, "then end of input");
    rec_in_free(in);
    close(tfd);
    unlink(path);
    free(huge);

    /* rec_write_spliced: the line with one member added last, as rec_write prints it */
    json_t *rec = json_pack("{s:i,s:s,s:s,s:{s:[s,s]}}", "v", 1, "kind", "message", "id", "a\"b",
                            "plan", "actions", "open", "click");
    json_t *http = json_pack("{s:{s:i,s:s},s:[]}", "open", "status", 200, "url",
                             "http://h/\xc3\xa9?a=\"1\"\t", "errors");
    char *sline = json_dumps(rec, JSON_COMPACT);
    json_object_set(rec, "http", http);
    char *want = json_dumps(rec, JSON_COMPACT), *got = NULL;
    size_t gotlen = 0;
    FILE *sp = open_memstream(&got, &gotlen);
    bs_buf scratch;
    buf_init(&scratch);
    int rc = rec_write_spliced(sp, sline, strlen(sline) - 1, "http", http, &scratch);
    fclose(sp);
    ok(rc == 0 && gotlen == strlen(want) + 1 && memcmp(got, want, strlen(want)) == 0 &&
           got[gotlen - 1] == '\n',
       "rec_write_spliced: the bytes rec_write prints with the member set last");
    free(got);
    json_t *bad = json_stringn_nocheck("a\xff", 2);
    sp = open_memstream(&got, &gotlen);
    errno = 0;
    ok(rec_write_spliced(sp, sline, strlen(sline) - 1, "http", bad, &scratch) < 0 &&
           errno == EILSEQ,
       "rec_write_spliced: a value jansson would not print is refused (EILSEQ)");
    fclose(sp);
    free(got);
    buf_free(&scratch);
    json_decref(bad);
    json_decref(http);
    json_decref(rec);
    free(sline);
    free(want);
    return done_testing();
}
