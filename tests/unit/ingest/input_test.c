/* Unit tests for src/ingest/input.c: single messages, mbox splitting and quoting,
 * size limit, content ids. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../src/ingest/input.h"
#include "tap.h"
#include "util.h"

/* A file descriptor reading `text` (through a temporary file: no pipe size limit). */
static int fd_with(const char *text, size_t n)
{
    char path[] = "/tmp/bs-input-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, n) != (ssize_t)n)
        abort();
    unlink(path);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

typedef struct {
    int n;
    msg_read m[8];
} all_msgs;

static void read_all(const char *text, size_t len, size_t max, int mbox, int empty_nothing,
                     all_msgs *out)
{
    int fd = fd_with(text, len);
    msg_stream *s = mstream_new(fd, max, mbox);
    memset(out, 0, sizeof *out);
    while (out->n < 8 && mstream_next(s, (uint64_t)out->n + 1, empty_nothing, &out->m[out->n]) == 1)
        out->n++;
    mstream_free(s);
    close(fd);
}

static void free_all(all_msgs *a)
{
    for (int i = 0; i < a->n; i++)
        free(a->m[i].data);
}

int main(void)
{
    bs_set_progname("input_test");
    all_msgs a;

    const char one[] = "From: a@b\n\nFrom the body\n";
    read_all(one, strlen(one), 1 << 20, 1, 0, &a);
    is_int(a.n, 1, "a message is one message");
    is_str(a.m[0].data, one, "byte for byte");
    ok(!a.m[0].mbox, "not an mbox");
    ok(a.m[0].hash == bs_fnv1a64(one, strlen(one), 1), "hash = fnv1a64(content, ordinal 1)");
    free_all(&a);

    const char mbox[] = "From x@y Tue Nov 24 20:00:00 2026\n"
                        "Subject: 1\n\nbody one\n>From quoted\n>>From twice\n> From not\n\n"
                        "From x@y Tue Nov 24 20:00:01 2026\r\n"
                        "Subject: 2\r\n\r\nbody two\r\n\r\n\r\n"
                        "From x@y Tue Nov 24 20:00:02 2026\n"
                        "Subject: 3\n\nlast\n";
    read_all(mbox, strlen(mbox), 1 << 20, 1, 0, &a);
    is_int(a.n, 3, "mbox: three messages");
    is_str(a.m[0].data, "Subject: 1\n\nbody one\nFrom quoted\n>From twice\n> From not\n",
           "mboxrd quoting undone, separator line dropped");
    is_str(a.m[1].data, "Subject: 2\r\n\r\nbody two\r\n\r\n", "CRLF: one empty line dropped");
    is_str(a.m[2].data, "Subject: 3\n\nlast\n", "last message");
    ok(a.m[0].mbox && a.m[0].index == 1 && a.m[2].index == 3, "mbox flag and indexes");
    ok(a.m[1].hash == bs_fnv1a64(a.m[1].data, a.m[1].len, 2), "mbox hash with ordinal 2");
    is_int(a.m[1].size, a.m[1].len, "size = length");
    free_all(&a);

    read_all(mbox, strlen(mbox), 1 << 20, 0, 0, &a);
    is_int(a.n, 1, "mbox detection off: one message");
    is_int(a.m[0].len, strlen(mbox), "whole input");
    free_all(&a);

    /* Over the size limit: not kept, but size and hash are right and the stream goes on. */
    bs_buf big;
    buf_init(&big);
    buf_puts(&big, "From x Tue Nov 24 20:00:00 2026\nSubject: big\n\n");
    size_t start = strlen("From x Tue Nov 24 20:00:00 2026\n");
    for (int i = 0; i < 5000; i++)
        buf_puts(&big, "0123456789012345678901234567890123456789\n");
    size_t end = big.len;
    buf_puts(&big, "\nFrom x Tue Nov 24 20:00:00 2026\nSubject: small\n\nx\n");
    read_all(big.data, big.len, 100000, 1, 0, &a);
    is_int(a.n, 2, "oversized message then a small one");
    ok(a.m[0].data == NULL, "oversized: data not kept");
    is_int(a.m[0].size, end - start, "oversized: real size");
    ok(a.m[0].hash == bs_fnv1a64(big.data + start, end - start, 1), "oversized: content hash");
    is_str(a.m[1].data, "Subject: small\n\nx\n", "the stream goes on");
    free_all(&a);
    buf_free(&big);

    /* A line longer than the read buffer, containing "\nFrom " only at a real line start. */
    bs_buf lng;
    buf_init(&lng);
    buf_puts(&lng, "From x Tue\nSubject: long\n\n");
    for (int i = 0; i < 200000; i++)
        buf_putc(&lng, 'a' + i % 26);
    buf_puts(&lng, " From in the middle\nFrom x Tue\nSubject: next\n\nx\n");
    read_all(lng.data, lng.len, 1 << 20, 1, 0, &a);
    is_int(a.n, 2, "a 200 kB line does not split the message");
    is_int(a.m[0].len, strlen("Subject: long\n\n") + 200000 + strlen(" From in the middle\n"),
           "long line kept whole");
    free_all(&a);
    buf_free(&lng);

    read_all("", 0, 1 << 20, 1, 1, &a);
    is_int(a.n, 0, "empty stdin: nothing");
    read_all("", 0, 1 << 20, 0, 0, &a);
    is_int(a.n, 1, "empty file: one empty message");
    is_int(a.m[0].size, 0, "empty message size 0");
    free_all(&a);
    read_all("From ", 5, 1 << 20, 1, 0, &a);
    is_int(a.n, 1, "a lone From_ line: one empty message");
    free_all(&a);
    read_all("Fro", 3, 1 << 20, 1, 0, &a);
    is_int(a.n, 1, "three bytes: one message");
    free_all(&a);

    char **names;
    char dir[] = "/tmp/bs-input-dir-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    const char *files[] = {"b.msg", "a.msg", ".hidden.msg", "c.msg.tmp", "msg", NULL};
    for (const char **f = files; *f; f++) {
        char *p = xasprintf("%s/%s", dir, *f);
        close(open(p, O_CREAT | O_WRONLY, 0644));
        free(p);
    }
    names = list_msg_files(dir, 0);
    ok(names && names[0] && names[1] && !names[2] && strcmp(names[0], "a.msg") == 0 &&
           strcmp(names[1], "b.msg") == 0,
       "directory: *.msg only, sorted, hidden skipped");
    free_list(names);
    names = list_msg_files(dir, 1);
    ok(names && names[0] && !names[1] && bs_has_suffix_ci(names[0], ".msg"),
       "directory: at most max names");
    free_list(names);
    for (const char **f = files; *f; f++) {
        char *p = xasprintf("%s/%s", dir, *f);
        unlink(p);
        free(p);
    }
    rmdir(dir);
    char h[17];
    hex64(0x0123456789abcdefULL, h);
    is_str(h, "0123456789abcdef", "hex64");
    return done_testing();
}
