/* report.c — one record: counters, log line, then the settle of its file. */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "record.h"
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

/* The refusal of a settle path: an error item on the line, a counter, a warning. */
static void refuse_settle(rp_report *r, const char *path, const char *why, bs_buf *line,
                          fmt_result *res)
{
    buf_puts(line, ",!Settle refused (");
    fmt_put_bounded(line, path, FMT_PATH_MAX);
    buf_printf(line, "): %s", why);
    res->level = "ERROR";
    stats_lock(r->stats);
    stats_add(r->stats, "settle_refused", 1);
    stats_unlock(r->stats);
    char *shown = fmt_diag(path);
    bs_warn("settle refused, no file touched (%s): %s", shown, why);
    free(shown);
}

int report_record(rp_report *r, const json_t *rec)
{
    double now = rp_clock_now(&r->clock);
    const char *kind = rec_kind(rec);
    const char *aid = kind && strcmp(kind, "action") == 0 ? rec_str(rec, "action.id") : NULL;
    if (aid && acks_seen(r->acks, aid)) {
        /* emitted again after a restart: logged already, only acknowledged again */
        stats_lock(r->stats);
        stats_add(r->stats, "actions_repeated", 1);
        stats_unlock(r->stats);
        acks_send(r->acks, aid);
        r->records++;
        return 0;
    }
    bs_buf line;
    buf_init(&line);
    fmt_result res;
    stats_lock(r->stats);
    fmt_record(rec, r->stats, now, &line, &res);
    stats_unlock(r->stats);
    int keep = 0;
    const char *name = NULL, *why = NULL;
    if (res.settle) {
        /* Only a message's own spool file, checked before the line is written. */
        if (strcmp(rec_kind(rec) ? rec_kind(rec) : "", "message") != 0)
            why = "only a message record settles a file";
        else
            settle_check(r->settle, res.settle, &name, &why);
        if (why)
            refuse_settle(r, res.settle, why, &line, &res);
    }
    if (name) {
        keep = settle_keeps(r->settle, res.has_error, res.store_done);
        if (keep)
            buf_puts(&line, "!done");
    }
    r->records++;
    rp_clock_record(&r->clock);
    if (r->history) {
        const char *settled = why ? "refused" : name ? (keep ? "kept" : "deleted") : NULL;
        hist_add(r->history, rec, now, res.level, line.data, settled);
        if (r->n_pending == 0)
            r->pending_since = bs_monotonic();
        if (r->n_pending == r->cap_pending) {
            r->cap_pending = r->cap_pending ? 2 * r->cap_pending : 256;
            r->pending = xrealloc(r->pending, r->cap_pending * sizeof *r->pending);
        }
        r->pending[r->n_pending++] = (rp_pending){.now = now,
                                                  .level = res.level,
                                                  .line = buf_steal(&line),
                                                  .no_line = res.no_line,
                                                  .ack_id = aid ? xstrdup(aid) : NULL,
                                                  .settle_name = name ? xstrdup(name) : NULL,
                                                  .keep = keep};
        return 0;
    }
    /* buffered: out at the end of the batch (report_flush_async), or before an
     * acknowledgement or a settle below */
    int rc = res.no_line ? 0 : rplog_put(r->log, now, res.level, line.data);
    if (rc == 0 && (aid || name))
        rc = rplog_flush(r->log);
    int saved = errno;
    buf_free(&line);
    if (rc != 0) {
        errno = saved;
        return -1;
    }
    /* The action is done once its line is written (and remembered: it is on the line). */
    if (aid) {
        acks_remember(r->acks, aid);
        acks_send(r->acks, aid);
    }
    /* Only once the line is on its way to the disk does the file go. */
    if (name)
        settle_file(r->settle, name, keep);
    return 0;
}

/* Writes the lines of the committed batch (one write), then acknowledges its actions and
 * settles its files: a file goes only once its line is on its way to the disk. On a write
 * error nothing of the batch is acknowledged or settled (the files stay in the spool). */
static int write_committed(rp_report *r)
{
    int rc = 0, saved = 0;
    for (size_t i = 0; rc == 0 && i < r->n_committing; i++) {
        rp_pending *p = &r->committing[i];
        if (!p->no_line && rplog_put(r->log, p->now, p->level, p->line) != 0) {
            rc = -1;
            saved = errno;
        }
    }
    if (rc == 0 && rplog_flush(r->log) != 0) {
        rc = -1;
        saved = errno;
    }
    for (size_t i = 0; i < r->n_committing; i++) {
        rp_pending *p = &r->committing[i];
        /* The action is done once its line is written (and remembered: it is on the line). */
        if (rc == 0 && p->ack_id) {
            acks_remember(r->acks, p->ack_id);
            acks_send(r->acks, p->ack_id);
        }
        if (rc == 0 && p->settle_name)
            settle_file(r->settle, p->settle_name, p->keep);
        free(p->line);
        free(p->ack_id);
        free(p->settle_name);
    }
    r->n_committing = 0;
    errno = saved;
    return rc;
}

double report_due(const rp_report *r)
{
    if (!r->n_pending)
        return -1;
    if (r->n_pending >= RP_BATCH_MAX)
        return 0;
    double left = r->pending_since + RP_BATCH_DELAY - bs_monotonic();
    return left > 0 ? left : 0;
}

static int flush_batches(rp_report *r, int force)
{
    if (r->n_committing) {
        hist_wait(r->history);
        if (write_committed(r) != 0)
            return -1;
    }
    if (rplog_flush(r->log) != 0) /* the lines of the batch, in one write */
        return -1;
    if (!r->n_pending || (!force && report_due(r) > 0))
        return 0;
    hist_submit(r->history, rp_clock_now(&r->clock));
    rp_pending *t = r->committing; /* empty: swap the buffers */
    size_t cap = r->cap_committing;
    r->committing = r->pending;
    r->n_committing = r->n_pending;
    r->cap_committing = r->cap_pending;
    r->pending = t;
    r->cap_pending = cap;
    r->n_pending = 0;
    return 0;
}

int report_flush_async(rp_report *r)
{
    return flush_batches(r, 0);
}

int report_flush(rp_report *r)
{
    if (flush_batches(r, 1) != 0)
        return -1;
    if (!r->n_committing)
        return 0;
    hist_wait(r->history);
    if (write_committed(r) != 0)
        return -1;
    return rplog_flush(r->log);
}

void report_free_pending(rp_report *r)
{
    for (size_t i = 0; i < r->n_pending; i++) {
        free(r->pending[i].line);
        free(r->pending[i].ack_id);
        free(r->pending[i].settle_name);
    }
    for (size_t i = 0; i < r->n_committing; i++) {
        free(r->committing[i].line);
        free(r->committing[i].ack_id);
        free(r->committing[i].settle_name);
    }
    free(r->pending);
    free(r->committing);
    r->pending = r->committing = NULL;
    r->n_pending = r->cap_pending = r->n_committing = r->cap_committing = 0;
}

int report_note(rp_report *r, const char *level, const char *text)
{
    if (report_flush(r) != 0)
        return -1;
    return rplog_write(r->log, rp_clock_now(&r->clock), level, text);
}
