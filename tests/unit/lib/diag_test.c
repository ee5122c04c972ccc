/* Unit tests for the diagnostics of src/lib/util.c: escaping and bounding (issue 14
 * defect 9). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static void esc(const char *in, size_t n, size_t size, const char *want, size_t want_used,
                const char *desc)
{
    char out[256];
    size_t used = bs_escape(out, size, in, n);
    is_str(out, want, desc);
    is_int(used, want_used, desc);
}

int main(void)
{
    esc("plain text", 10, 256, "plain text", 10, "printable ASCII unchanged");
    esc("a\x1b[2Jb", 6, 256, "a\\x1b[2Jb", 6, "ESC escaped");
    esc("\r\n\t\x7f", 4, 256, "\\x0d\\x0a\\x09\\x7f", 4, "CR, LF, TAB, DEL escaped");
    esc("caf\xc3\xa9 \xe2\x82\xac", 9, 256, "caf\xc3\xa9 \xe2\x82\xac", 9, "UTF-8 kept");
    esc("\xc2\x9b"
        "31m",
        5, 256, "\\xc2\\x9b31m", 5, "C1 control (CSI) escaped");
    esc("\xff\xfe\xc3", 3, 256, "\\xff\\xfe\\xc3", 3, "bytes that are not UTF-8 escaped");
    esc("a\0b", 3, 256, "a\\x00b", 3, "NUL escaped");
    esc("abcdef", 6, 4, "abc", 3, "stops before the buffer is full");
    esc("a\x01", 2, 5, "a", 1, "an escape that does not fit is not cut");

    is_str(bs_show("id-1"), "id-1", "bs_show: short id unchanged");
    is_str(bs_show(NULL), "(none)", "bs_show: NULL");
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    const char *s = bs_show(big);
    ok(strlen(s) == BS_SHOW_MAX + strlen("...(999 bytes)") &&
           strcmp(s + BS_SHOW_MAX, "...(999 bytes)") == 0,
       "bs_show: cut after BS_SHOW_MAX bytes, length given");
    const char *a = bs_show("one"), *b = bs_show("two");
    ok(strcmp(a, "one") == 0 && strcmp(b, "two") == 0, "bs_show: buffers used in turn");

    /* The diagnostic line itself. */
    char path[] = "/tmp/bs-diag-test-XXXXXX";
    int fd = mkstemp(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    bs_set_progname("diag");
    bs_warn("record %s: %s", "a\x1b]0;x\x07\nforged", "ok");
    char *huge = xmalloc(100001);
    memset(huge, 'y', 100000);
    huge[100000] = 0;
    bs_error("%s", huge);
    free(huge);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char buf[16384];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    close(fd);
    unlink(path);
    buf[n > 0 ? n : 0] = 0;
    char *nl = strchr(buf, '\n');
    ok(nl && strncmp(buf, "diag: warning: record a\\x1b]0;x\\x07\\x0aforged: ok\n",
                     (size_t)(nl - buf + 1)) == 0,
       "a diagnostic is one line, control characters escaped");
    ok(nl && strlen(nl + 1) < 4200 && strstr(nl + 1, "...(100000 bytes)\n"),
       "a 100 KB diagnostic is cut at 4 KB, its length given");
    return done_testing();
}
