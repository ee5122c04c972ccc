/* NAME
 *      decide - add a plan (actions drawn from the statistical model) to every message record
 * SYNOPSIS
 *      decide [-c FILE] [--seed N] [--now TIME]
 * DESCRIPTION
 *      Reads records (man/bouncy-sink-records.5) on standard input and writes them to
 *      standard output. A message record gets a "plan": its stream (routing by the first
 *      label of the recipient domain under a sink domain), the actions to perform (open,
 *      open_again, click, click_again, unsubscribe, ooto, oob, fbl) drawn from the [Sink] model
 *      of consume-mail.ini, a User-Agent, and "skip" when the DKIM/SPF gate stops it.
 *      Every other record passes through unchanged. A "params" record with the model in
 *      force is written at start and whenever the configuration file changes (checked at
 *      most once a second, and on SIGHUP); a bad reload keeps the last good model.
 *      With a seed (--seed or [Decide] Seed) the output is reproducible.
 * DIAGNOSTICS
 *      decide: error: malformed record (stdin:LINE): why
 *      decide: fatal: FILE:LINE: [Section] Key: why      (exit 78)
 *      Exit 0 at end of input, 64 usage, 70 a bug, 71 system error (memory, poll),
 *      74 output error, 78 configuration.
 * SEE ALSO
 *      decide(1), bouncy-sink-records(5)
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: %s [-c FILE] [--seed N] [--now TIME]\n"
            "  -c FILE      configuration (consume-mail.ini format)\n"
            "  --seed N     reproducible draws (overrides [Decide] Seed)\n"
            "  --now TIME   pretend the clock starts at TIME (ISO-8601 or epoch)\n"
            "  -h           this help\n",
            bs_progname);
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
    const char *path;
    cfg_stamp stamp;
    int have_stamp;
    double last_check;
} watch;

/* Reload when the file changed (checked at most once a second) or on SIGHUP. */
static void maybe_reload(decider *dc, watch *w, bs_buf *out)
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
        decider_params(dc, decider_now(dc), w->path, "reload", err, out);
        free(err);
        return;
    }
    decider_set_model(dc, m);
    announce(dc, decider_now(dc), w->path, "reload", out);
}

int main(int argc, char **argv)
{
    bs_stage_init(argv[0]);
    static const struct option longopts[] = {{"seed", required_argument, NULL, 's'},
                                             {"now", required_argument, NULL, 'n'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int have_seed = 0, have_now = 0;
    double start_time = 0;
    uint64_t seed = 0;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 's': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || errno || *end) {
                bs_error("bad --seed '%s': expected a whole number 0-%llu", optarg,
                         (unsigned long long)UINT64_MAX);
                usage(stderr);
                return EX_USAGE;
            }
            have_seed = 1;
            seed = (uint64_t)v;
            break;
        }
        case 'n': {
            double t;
            if (bs_parse_time(optarg, &t) < 0) {
                bs_error("bad --now '%s': expected e.g. 2026-11-24T12:00:00Z or seconds", optarg);
                usage(stderr);
                return EX_USAGE;
            }
            bs_time_set_override(t);
            start_time = t;
            have_now = 1;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (optind != argc) {
        bs_error("unexpected argument '%s'", argv[optind]);
        usage(stderr);
        return EX_USAGE;
    }

    watch w = {path, {0}, 0, 0};
    if (path)
        w.have_stamp = cfg_stamp_read(path, &w.stamp) == 0;
    char *err = NULL;
    decide_model *model = load_model(path, &err);
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
    if (have_seed)
        decider_force_seed(&dc, seed);
    if (have_now)
        decider_freeze_clock(&dc, start_time);
    bs_buf out;
    buf_init(&out);
    /* With --now the clock stands still at that time: a seeded run is then
     * byte-for-byte reproducible. */
    announce(&dc, decider_now(&dc), path, "start", &out);

    /* The line reader of rec_in (same rules: CR stripped, blank lines skipped, over-long
     * lines become invalid records, output flushed before waiting), but handing decide the
     * raw line, so that a message can be passed on with its plan spliced in instead of
     * being parsed into a tree and serialised again (see scan.h), and waking up once a
     * second to look at the configuration file. */
    size_t cap = READ_CHUNK, start = 0, end = 0;
    char *buf = xmalloc(cap);
    unsigned long lineno = 0;
    int eof = 0, skipping = 0;
    unsigned long skip_line = 0;
    for (;;) {
        /* Every complete line in the buffer. */
        char *nl;
        while ((nl = memchr(buf + start, '\n', end - start)) != NULL) {
            size_t len = (size_t)(nl - (buf + start));
            char *line = buf + start;
            start += len + 1;
            if (skipping) {
                skipping = 0;
                char why[96];
                snprintf(why, sizeof why, "line longer than %zu bytes", REC_MAX_LINE);
                decider_invalid(&dc, skip_line, why, &out);
                continue;
            }
            lineno++;
            if (len && line[len - 1] == '\r')
                len--;
            if (len)
                decider_line(&dc, line, len, lineno, &out);
            if (out.len >= OUT_FLUSH)
                out_flush(&out);
        }
        if (eof) {
            if (start < end && !skipping) {
                lineno++;
                size_t len = end - start;
                if (buf[start + len - 1] == '\r')
                    len--;
                if (len)
                    decider_line(&dc, buf + start, len, lineno, &out);
            } else if (skipping) {
                decider_invalid(&dc, skip_line, "line too long", &out);
            }
            break;
        }
        maybe_reload(&dc, &w, &out);
        /* Make room. */
        if (start > 0) {
            memmove(buf, buf + start, end - start);
            end -= start;
            start = 0;
        }
        if (end == cap) {
            if (cap >= REC_MAX_LINE) {
                if (!skipping) {
                    skipping = 1;
                    skip_line = ++lineno;
                }
                end = 0;
            } else {
                cap *= 2;
                buf = xrealloc(buf, cap);
            }
        }
        /* Wait for input, flushing first (the s6 rule); wake up to check the file. */
        struct pollfd pfd = {0, POLLIN, 0};
        int ready = 1;
        if (path || out.len) {
            out_flush(&out);
            ready = poll(&pfd, 1, path ? 1000 : -1);
        }
        if (ready < 0 && errno != EINTR)
            bs_fatal(EX_OSERR, "poll (stdin): %s", strerror(errno));
        if (ready <= 0)
            continue;
        ssize_t n = read(0, buf + end, cap - end);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            bs_fatal(EX_IOERR, "read error (stdin): %s", strerror(errno));
        }
        if (n == 0)
            eof = 1;
        end += (size_t)n;
    }
    out_flush(&out);
    free(buf);
    buf_free(&out);
    decider_free(&dc);
    rec_close_output(stdout, "stdout");
    return 0;
}
