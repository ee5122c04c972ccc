/* report.c — one record: counters, log line, then the settle of its file. */
#include "report.h"

#include <errno.h>
#include <string.h>

#include "format.h"
#include "settle.h"
#include "util.h"

double rp_clock_now(const rp_clock *c)
{
    return c->frozen ? c->now : bs_now();
}

void rp_clock_record(rp_clock *c)
{
    if (c->frozen)
        c->now += c->tick;
}

int report_record(rp_report *r, const json_t *rec)
{
    double now = rp_clock_now(&r->clock);
    bs_buf line;
    buf_init(&line);
    fmt_result res;
    stats_lock(r->stats);
    fmt_record(rec, r->stats, now, &line, &res);
    stats_unlock(r->stats);
    int keep = 0;
    if (res.settle) {
        keep = settle_keeps(r->done_dir, res.has_error, res.store_done);
        if (keep)
            buf_puts(&line, "!done");
    }
    int rc = rplog_write(r->log, now, res.level, line.data);
    int saved = errno;
    buf_free(&line);
    r->records++;
    rp_clock_record(&r->clock);
    if (rc != 0) {
        errno = saved;
        return -1;
    }
    /* Only once the line is on its way to the disk does the file go. */
    if (res.settle)
        settle_file(res.settle, r->done_dir, keep);
    return 0;
}

int report_note(rp_report *r, const char *level, const char *text)
{
    return rplog_write(r->log, rp_clock_now(&r->clock), level, text);
}
