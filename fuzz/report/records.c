/* Fuzz target: record lines -> log line text + counters, then every served document.
 * Input: NDJSON text (each line one record, as report reads it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/report/format.h"
#include "../../src/report/stats.h"
#include "../../src/report/web.h"
#include "record.h"
#include "util.h"

/* Reads one escaped field of a log line (file, To, From) back: up to the next comma,
 * `\\` `\x2c` `\u0085` `\u2028` `\u2029` undone. Advances *p past the comma. */
static char *unescape_field(const char **p)
{
    bs_buf out;
    buf_init(&out);
    const char *s = *p;
    while (*s && *s != ',') {
        static const struct {
            const char *esc, *raw;
        } map[] = {{"\\\\", "\\"},
                   {"\\x2c", ","},
                   {"\\u0085", "\xc2\x85"},
                   {"\\u2028", "\xe2\x80\xa8"},
                   {"\\u2029", "\xe2\x80\xa9"}};
        size_t i, n = sizeof map / sizeof map[0];
        for (i = 0; i < n; i++)
            if (strncmp(s, map[i].esc, strlen(map[i].esc)) == 0)
                break;
        if (i < n) {
            buf_puts(&out, map[i].raw);
            s += strlen(map[i].esc);
        } else {
            if (*s == '\\')
                abort(); /* a backslash in a field is always escaped */
            buf_putc(&out, *s++);
        }
    }
    *p = *s ? s + 1 : s;
    return buf_steal(&out);
}

/* The value as the line shows it: control characters as spaces. */
static char *shown(const char *v)
{
    char *c = xstrdup(v ? v : "");
    for (char *s = c; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
    return c;
}

/* A message line splits into file, To, From and actions, and the three fields read
 * back as the record's values; no Unicode line separator is left raw anywhere. */
static void check_line(const json_t *rec, const char *line)
{
    if (strstr(line, "\xc2\x85") || strstr(line, "\xe2\x80\xa8") || strstr(line, "\xe2\x80\xa9"))
        abort();
    const char *kind = rec_kind(rec);
    if (!kind || strcmp(kind, "message") != 0)
        return;
    const char *file = rec_str(rec, "source.name");
    const char *to = rec_str(rec, "headers.to");
    const char *want[3] = {file ? file : rec_id(rec), to ? to : rec_str(rec, "envelope.rcpt"),
                           rec_str(rec, "headers.from")};
    const char *p = line;
    for (int i = 0; i < 3; i++) {
        char *got = unescape_field(&p), *expect = shown(want[i]);
        if (strcmp(got, expect) != 0)
            abort();
        free(got);
        free(expect);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        bs_set_progname("fuzz-report");
        init = 1;
    }
    rp_stats *st = stats_new(1764014710.0);
    const char *p = (const char *)data, *end = p + size;
    double now = 1764014710.0;
    bs_buf line;
    buf_init(&line);
    unsigned long lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        json_t *rec = rec_parse_line(p, len, "fuzz", lineno, NULL);
        fmt_result res;
        buf_reset(&line);
        fmt_record(rec, st, now, &line, &res);
        if (memchr(line.data, '\n', line.len) || memchr(line.data, '\r', line.len))
            abort(); /* one record, one line */
        if (strlen(line.data) != line.len)
            abort(); /* no NUL inside a line */
        check_line(rec, line.data);
        json_decref(rec);
        now += 61;
        p += len + (nl ? 1 : 0);
    }
    buf_free(&line);
    json_decref(stats_json(st));
    json_decref(stats_series(st));
    json_t *state = stats_state(st);
    rp_stats *st2 = stats_new(0);
    const char *why;
    if (stats_load_state(st2, state, &why) != 0)
        abort(); /* our own state always loads back */
    json_decref(state);
    char *m = stats_metrics(st);
    free(m);
    bs_buf page;
    buf_init(&page);
    web_page(st, &page);
    buf_free(&page);
    stats_free(st2);
    stats_free(st);
    return 0;
}
