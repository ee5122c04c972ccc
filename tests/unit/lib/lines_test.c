/* Unit tests for src/lib/lines.c: LF, CRLF and CR line ends read alike. */
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "tap.h"
#include "util.h"

/* The lines of text joined with '|', and their count. */
static char *cut(const char *text, size_t len, unsigned long *count)
{
    bs_lines it;
    bs_lines_init(&it, text, len);
    bs_buf b;
    buf_init(&b);
    const char *line;
    size_t n;
    while (bs_lines_next(&it, &line, &n)) {
        if (it.lineno > 1)
            buf_putc(&b, '|');
        buf_append(&b, line, n);
    }
    *count = it.lineno;
    return buf_steal(&b);
}

static void check(const char *text, size_t len, const char *want, unsigned long want_n,
                  const char *desc)
{
    unsigned long n;
    char *got = cut(text, len, &n);
    is_str(got, want, desc);
    is_int(n, want_n, desc);
    free(got);
}

int main(void)
{
    check("a\nb\nc\n", 6, "a|b|c", 3, "LF");
    check("a\r\nb\r\nc\r\n", 9, "a|b|c", 3, "CRLF");
    check("a\rb\rc\r", 6, "a|b|c", 3, "CR");
    check("a\rb\rc", 5, "a|b|c", 3, "CR, no final line end");
    check("a\n\nb", 4, "a||b", 3, "LF: an empty line counts");
    check("a\r\rb", 4, "a||b", 3, "CR: an empty line counts");
    check("a\r\n\r\nb", 7, "a||b", 3, "CRLF: an empty line counts");
    check("a\n\rb", 4, "a||b", 3, "LF then CR: two line ends");
    check("a\rb\nc\r\nd", 8, "a|b|c|d", 4, "mixed line ends");
    check("", 0, "", 0, "empty text: no lines");
    check("\n", 1, "", 1, "one empty line");
    check("\xEF\xBB\xBFkey = v\r", 11, "key = v", 1, "UTF-8 byte order mark skipped");
    check("a\0b\nc", 5, "a", 2, "NUL bytes are not line ends (length given)");
    unsigned long n;
    char *got = cut("a\0b\nc", 5, &n);
    ok(memcmp(got, "a\0b|c", 5) == 0, "... the NUL byte is kept in the line");
    free(got);

    char *data;
    size_t len;
    ok(bs_read_file("data/reference/user-agents-cr.csv", 1 << 20, &data, &len) == 0 &&
           len == 7174 && data[len] == '\0',
       "bs_read_file reads a whole file, NUL-terminated");
    free(data);
    ok(bs_read_file("data/reference/user-agents-cr.csv", 100, &data, &len) < 0 && !data,
       "bs_read_file refuses a file over its limit");
    ok(bs_read_file("/nonexistent", 100, &data, &len) < 0, "bs_read_file: missing file");
    return done_testing();
}
