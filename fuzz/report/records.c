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
