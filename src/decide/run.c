/* run.c — decide's loop (see run.h). */
#include "run.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "decider.h"
#include "model.h"
#include "record.h"
#include "util.h"

#define READ_CHUNK (256 * 1024)
#define OUT_FLUSH (64 * 1024)

static volatile sig_atomic_t got_hup;

static void on_hup(int sig)
{
    (void)sig;
    got_hup = 1;
}

static void out_flush(bs_buf *out)
{
    if (out->len && fwrite(out->data, 1, out->len, stdout) != out->len)
        bs_fatal(EX_IOERR, "write error (stdout): %s", strerror(errno ? errno : EIO));
    buf_reset(out);
    if (fflush(stdout) != 0)
        bs_fatal(EX_IOERR, "write error (stdout): %s", strerror(errno ? errno : EIO));
}

/* Model from a configuration (or defaults); NULL with *err on failure. */
static decide_model *load_model(const char *path, char **err)
{
    bs_config *cfg = path ? cfg_load(path, err) : cfg_empty();
    if (!cfg)
        return NULL;
    decide_model *m = model_load(cfg, err);
    cfg_free(cfg);
    return m;
}

static void announce(decider *dc, double when, const char *path, const char *reason, bs_buf *out)
{
    char *text = model_params_text(dc->model, decider_day(dc));
    bs_info("%s: %s", reason, text);
    free(text);
    decider_params(dc, when, path ? path : "(defaults)", reason, NULL, out);
}

typedef struct {
    decider *dc;
    bs_buf *out;
    const char *path;
    cfg_stamp stamp;
    int have_stamp;
    double last_check;
} watch;

/* Reload when the file changed (checked at most once a second) or on SIGHUP. */
static void maybe_reload(watch *w)
{
    if (!w->path)
        return;
    double now = bs_now();
    int hup = got_hup;
    if (!hup && now - w->last_check < 1.0 && now >= w->last_check)
        return;
    got_hup = 0;
    w->last_check = now;
    cfg_stamp st;
    int have = cfg_stamp_read(w->path, &st) == 0;
    if (!hup && have == w->have_stamp && (!have || cfg_stamp_equal(&st, &w->stamp)))
        return;
    w->have_stamp = have;
    if (have)
        w->stamp = st;
    char *err = NULL;
    decide_model *m = load_model(w->path, &err);
    if (!m) {
        bs_error("configuration reload failed, keeping the last good model: %s", err);
        decider_params(w->dc, decider_now(w->dc), w->path, "reload", err, w->out);
        free(err);
        return;
    }
    decider_set_model(w->dc, m);
    announce(w->dc, decider_now(w->dc), w->path, "reload", w->out);
}

/* The reader's wait hook: look at the configuration, flush, and wait for input (at most
 * a second when there is a file to watch). 1: read now; 0: look again. */
static int before_read(void *arg)
{
    watch *w = arg;
    maybe_reload(w);
    if (!w->path && !w->out->len)
        return 1; /* nothing to do meanwhile: block in read */
    out_flush(w->out);
    struct pollfd pfd = {0, POLLIN, 0};
    int ready = poll(&pfd, 1, w->path ? 1000 : -1);
    if (ready < 0 && errno != EINTR)
        bs_fatal(EX_OSERR, "poll (stdin): %s", strerror(errno));
    return ready > 0;
}

int decide_run(const decide_options *o)
{
    watch w = {NULL, NULL, o->config, {0}, 0, 0};
    if (o->config)
        w.have_stamp = cfg_stamp_read(o->config, &w.stamp) == 0;
    char *err = NULL;
    decide_model *model = load_model(o->config, &err);
    if (!model)
        bs_fatal(EX_CONFIG, "%s", err);
    w.last_check = bs_now();

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_hup;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL); /* no SA_RESTART: a blocked poll wakes up */

    decider dc;
    decider_init(&dc, model, "stdin");
    if (o->have_seed)
        decider_force_seed(&dc, o->seed);
    if (o->have_now)
        decider_freeze_clock(&dc, o->now);
    bs_buf out;
    buf_init(&out);
    w.dc = &dc;
    w.out = &out;
    /* With --now the clock stands still at that time: a seeded run is then
     * byte-for-byte reproducible. */
    announce(&dc, decider_now(&dc), o->config, "start", &out);

    rec_in *in = rec_in_new(0, "stdin");
    rec_in_buffer_size(in, READ_CHUNK);
    rec_in_wait_hook(in, before_read, &w);
    for (;;) {
        const char *line, *why;
        size_t len;
        int r = rec_in_next_line(in, &line, &len, &why);
        if (r == 1) {
            decider_line(&dc, line, len, rec_in_lineno(in), &out);
        } else if (r == REC_LINE_TOO_LONG) {
            decider_invalid(&dc, rec_in_skipped_line(in), why, &out);
        } else if (r == 2) { /* standard input is non-blocking: wait for it */
            struct pollfd pfd = {0, POLLIN, 0};
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                bs_fatal(EX_OSERR, "poll (stdin): %s", strerror(errno));
        } else if (r == 0) {
            break;
        } else {
            exit(EX_IOERR); /* the reader said why */
        }
        if (out.len >= OUT_FLUSH)
            out_flush(&out);
    }
    out_flush(&out);
    rec_in_free(in);
    buf_free(&out);
    decider_free(&dc);
    rec_close_output(stdout, "stdout");
    return 0;
}
