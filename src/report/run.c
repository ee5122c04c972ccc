/* run.c — report's loop: configuration, inputs, signals, the state file, the web
 * server and the log, wired together (see run.h). */
#include "run.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "inputs.h"
#include "params.h"
#include "record.h"
#include "report.h"
#include "stats.h"
#include "util.h"
#include "web.h"

#define HISTORY_NAME "report-history.sqlite" /* [Report] History's default name */

/* One progress line on stderr, rewritten in place: records, rate and time left. */
static void show_progress(unsigned long done, long total, double elapsed, int last)
{
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    if (total > 0) {
        double left = rate > 0 && (long)done < total ? (double)(total - (long)done) / rate : 0;
        fprintf(stderr, "\rreport: %lu/%ld records (%.0f%%), %.0f/s, ETA %.0fs   ", done, total,
                100.0 * (double)done / (double)total, rate, left);
    } else {
        fprintf(stderr, "\rreport: %lu records, %.0f/s   ", done, rate);
    }
    if (last)
        fputc('\n', stderr);
    fflush(stderr);
}

typedef struct {
    rp_report rep;
    const char *state_file; /* NULL in --once mode */
} ctx;

static void save_state(ctx *c)
{
    if (!c->state_file)
        return;
    stats_lock(c->rep.stats);
    stats_prune(c->rep.stats, rp_clock_now(&c->rep.clock));
    json_t *state = stats_state(c->rep.stats);
    stats_mark_clean(c->rep.stats);
    stats_unlock(c->rep.stats);
    static int save_failing; /* warn once per failure spell, not every second */
    if (stats_save_file(state, c->state_file) != 0) {
        if (!save_failing)
            bs_warn("cannot save state (%s): %s (retrying every second)", c->state_file,
                    strerror(errno));
        save_failing = 1;
        stats_lock(c->rep.stats);
        stats_mark_dirty(c->rep.stats); /* try again in a second */
        stats_unlock(c->rep.stats);
    } else if (save_failing) {
        bs_warn("state saved again (%s)", c->state_file);
        save_failing = 0;
    }
    json_decref(state);
}

static int on_record(void *arg, const json_t *rec)
{
    ctx *c = arg;
    if (report_record(&c->rep, rec) != 0) {
        int saved = errno;
        save_state(c);
        bs_fatal(EX_IOERR, "cannot write log line: %s", strerror(saved));
    }
    return 0;
}

/* The end of a batch: rows committed, then lines written and files settled (all of it,
 * or, with async, up to the batch before, while this one is committed). */
static void flush(ctx *c, int async)
{
    if ((async ? report_flush_async(&c->rep) : report_flush(&c->rep)) != 0) {
        int saved = errno;
        save_state(c);
        bs_fatal(EX_IOERR, "cannot write log line: %s", strerror(saved));
    }
}

static void load_state(ctx *c)
{
    char *err;
    stats_lock(c->rep.stats);
    int rc = stats_load_file(c->rep.stats, c->state_file, &err);
    stats_unlock(c->rep.stats);
    if (rc >= 0)
        return;
    char *aside = xasprintf("%s.bad", c->state_file);
    bs_warn("state file unusable, counting from zero (%s); kept as %s", err, aside);
    if (rename(c->state_file, aside) != 0)
        bs_warn("cannot rename state file (%s): %s", c->state_file, strerror(errno));
    free(aside);
    free(err);
}

/* The start lines: who is running, and the model settings of [Sink] as configured. */
static void note(ctx *c, const char *text)
{
    if (report_note(&c->rep, "INFO", text) != 0)
        bs_fatal(EX_IOERR, "cannot write log line: %s", strerror(errno));
}

static void start_lines(ctx *c, bs_config *cfg, int once, const char *addr)
{
    char *text0 = xasprintf("** Process starting: report%s (config %s, state %s, address %s)",
                            once ? " --once" : "", cfg_path(cfg),
                            c->state_file ? c->state_file : "none", addr ? addr : "none");
    note(c, text0);
    free(text0);
    const char *const *keys, *const *values;
    size_t n = cfg_section(cfg, "Sink", &keys, &values);
    json_t *p = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(p, keys[i], json_string(values[i]));
    char *text = json_dumps(p, JSON_COMPACT | JSON_ENSURE_ASCII);
    for (char *s = text; *s; s++) /* continuation lines of list values */
        if (*s == '\n')
            *s = ' ';
    char *line = xasprintf("** Parameters (report start, %s): %s", cfg_path(cfg), text);
    note(c, line);
    free(line);
    free(text);
    json_decref(p);
}

/* [Report] settings of the web server against hostile clients (see web.h). */
static void read_web_conf(bs_config *cfg, rp_web_conf *wc)
{
    long timeout, per_address;
    const char *cors;
    if (param_long(cfg, "Report", "Request_Timeout", 1, 3600, &timeout) < 0 ||
        param_long(cfg, "Report", "Max_Connections_Per_Address", 1, WEB_MAX_CONNECTIONS,
                   &per_address) < 0 ||
        cfg_list(cfg, "Report", "Allowed_Hosts", &wc->allowed_hosts, &wc->n_allowed_hosts) < 0 ||
        cfg_string(cfg, "Report", "CORS_Origin", NULL, &cors) < 0)
        bs_fatal(EX_CONFIG, "%s", cfg_error(cfg));
    if (!cfg_get(cfg, "Report", "Allowed_Hosts")) {
        static char **default_hosts; /* the table's default, kept for the process's life */
        wc->n_allowed_hosts = param_default_list("Report", "Allowed_Hosts", &default_hosts);
        wc->allowed_hosts = (const char *const *)default_hosts;
    }
    for (size_t i = 0; i < wc->n_allowed_hosts; i++) {
        char name[256];
        const char *h = wc->allowed_hosts[i];
        if (strcmp(h, "*") != 0 && web_name_parse(h, name, sizeof name) != 0) {
            cfg_fail(cfg, "Report", "Allowed_Hosts", "'%s' is not a host name or IP address", h);
            bs_fatal(EX_CONFIG, "%s", cfg_error(cfg));
        }
    }
    if (cors && *cors && !web_origin_valid(cors)) {
        cfg_fail(cfg, "Report", "CORS_Origin",
                 "'%s' is not *, null or an origin (http[s]://host[:port])", cors);
        bs_fatal(EX_CONFIG, "%s", cfg_error(cfg));
    }
    wc->request_timeout = (unsigned)timeout;
    wc->per_address = (unsigned)per_address;
    wc->cors_origin = cors && *cors ? cors : NULL;
}

int report_run(const rp_options *o)
{
    int once = o->once, until_eof = o->until_eof;
    long progress_total = o->progress_total;
    ctx c;
    memset(&c, 0, sizeof c);
    if (o->have_now) {
        if (o->have_tick) {
            c.rep.clock.frozen = 1;
            c.rep.clock.now = o->now;
            c.rep.clock.tick = o->tick;
        } else {
            bs_time_set_override(o->now);
        }
    }

    char *err = NULL;
    bs_config *cfg = cfg_open_or_exit(o->config);
    const char *logfile, *done_dir, *state_file, *host, *spool;
    long backups;
    int port;
    if (param_file(cfg, "Sink", "Logfile", &logfile) < 0 ||
        param_long(cfg, "Sink", "Logfile_backup_count", 0, 100000, &backups) < 0 ||
        param_file(cfg, "Sink", "Done_Msg_File_Dest", &done_dir) < 0 ||
        param_file(cfg, "Listen", "Spool", &spool) < 0 ||
        param_file(cfg, "Report", "State_File", &state_file) < 0 ||
        param_hostport(cfg, "Report", "Address", &host, &port) < 0)
        bs_fatal(EX_CONFIG, "%s", cfg_error(cfg));
    const char *history, *chart_js;
    long history_days, history_rows;
    if (cfg_string(cfg, "Report", "History", NULL, &history) < 0 ||
        param_long(cfg, "Report", "History_Days", 0, 36500, &history_days) < 0 ||
        param_long(cfg, "Report", "History_Max_Rows", 1000, 1000000000, &history_rows) < 0 ||
        param_string(cfg, "Report", "Chart_JS", &chart_js) < 0)
        bs_fatal(EX_CONFIG, "%s", cfg_error(cfg));
    rp_web_conf web_conf = {.host = host, .port = port, .chart_js = chart_js};
    read_web_conf(cfg, &web_conf);
    if (o->spool)
        spool = o->spool;
    if (o->log)
        logfile = o->log;

    rp_inputs ins;
    inputs_init(&ins, !once);
    inputs_add_stdin(&ins);
    for (size_t i = 0; i < o->n_inputs; i++)
        if (inputs_add(&ins, o->inputs[i], &err) != 0)
            bs_fatal(EX_NOINPUT, "%s", err);

    /* SIGINT/SIGTERM arrive through a signalfd, in every thread blocked (set before
     * the HTTP threads start, which inherit the mask). */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0)
        bs_fatal(EX_OSERR, "signalfd: %s", strerror(errno));

    c.rep.stats = stats_new(rp_clock_now(&c.rep.clock));
    char *claimed = xasprintf("%s%sclaimed", spool, spool[strlen(spool) - 1] == '/' ? "" : "/");
    c.rep.settle = settle_new(claimed, done_dir);
    free(claimed);
    c.state_file = once ? NULL : state_file;
    if (c.state_file)
        load_state(&c);

    rp_hist_reader *reader = NULL;
    char *history_own = NULL;
    if (!history || !*history) { /* beside the state file */
        const char *slash = strrchr(state_file, '/');
        history = history_own =
            xasprintf("%.*s" HISTORY_NAME, slash ? (int)(slash - state_file + 1) : 0, state_file);
    }
    if (!once && strcmp(history, "none") != 0) {
        /* Like the state file, the history is not worth stopping the log for. */
        c.rep.history = hist_open(history, history_days, history_rows, &err);
        if (c.rep.history && !(reader = hist_reader_open(history, &err))) {
            hist_close(c.rep.history);
            c.rep.history = NULL;
        }
        if (!c.rep.history) {
            bs_warn("%s; no history kept", err);
            free(err);
            err = NULL;
        }
        web_conf.history = reader;
    }

    rp_web *web = NULL;
    char *addr = NULL;
    if (!once) {
        web = web_start(&web_conf, c.rep.stats, &err);
        if (!web)
            bs_fatal(EX_UNAVAILABLE, "%s", err);
        addr =
            strchr(host, ':') ? xasprintf("[%s]:%d", host, port) : xasprintf("%s:%d", host, port);
    }
    c.rep.log = rplog_open(logfile, backups, &err);
    if (!c.rep.log)
        bs_fatal(errno == EWOULDBLOCK ? EX_TEMPFAIL : EX_CANTCREAT, "%s", err);
    /* The actions already logged (the log is ours now: nobody else appends to it). */
    c.rep.acks = acks_new(o->acks, &err);
    if (!c.rep.acks)
        bs_fatal(EX_CANTCREAT, "%s", err);
    size_t known = acks_read_log(c.rep.acks, logfile);
    if (known)
        bs_info("%zu scheduled actions already in %s: each is logged once", known, logfile);
    start_lines(&c, cfg, once, addr);
    double t_start = rp_clock_now(&c.rep.clock);
    free(addr);
    save_state(&c); /* startedRunning is fixed from the first run on */

    struct pollfd *pfd = xcalloc(ins.n + 1, sizeof *pfd);
    size_t *idx = xcalloc(ins.n + 1, sizeof *idx);
    double t_progress = bs_monotonic(), last_save = t_progress, last_progress = t_progress;
    int stop = 0;
    while (!stop && inputs_open(&ins)) {
        size_t k = inputs_pollfds(&ins, pfd, idx);
        pfd[k].fd = sfd;
        pfd[k].events = POLLIN;
        pfd[k].revents = 0;
        int buffered = 0;
        for (size_t j = 0; j < k; j++)
            if (inputs_buffered(&ins, idx[j]))
                buffered = 1;
        int timeout = buffered ? 0 : 1000 - (int)((bs_monotonic() - last_save) * 1000);
        if (timeout < 0)
            timeout = 0;
        /* Nothing more to read at once: every line out before waiting, unless a batch
         * is being gathered (report_due): then wait for more records until it is due. */
        int n = poll(pfd, k + 1, 0);
        if (n == 0 && timeout > 0) {
            double due = report_due(&c.rep);
            flush(&c, due > 0);
            if (due > 0 && due * 1000 < timeout)
                timeout = (int)(due * 1000) + 1;
            n = poll(pfd, k + 1, timeout);
        }
        if (n < 0 && errno != EINTR)
            bs_fatal(EX_OSERR, "poll: %s", strerror(errno));
        if (n > 0 && (pfd[k].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == (ssize_t)sizeof si)
                stop = 1;
        }
        /* Up to 1000 records per input and round, so one busy input cannot starve the
         * others, the signal or the state saves. */
        for (size_t j = 0; !stop && j < k; j++)
            if ((n > 0 && pfd[j].revents) || inputs_buffered(&ins, idx[j]))
                inputs_read(&ins, idx[j], 1000, on_record, &c);
        flush(&c, 1);
        /* Live mode: the main stream (stdin) has ended, as when the sink drains on
         * SIGTERM. Take what the side inputs (FIFOs) already hold, then finish. */
        if (until_eof && !stop && !once && ins.n > 0 && ins.v[0].type == INPUT_STDIN &&
            ins.v[0].fd < 0) {
            for (size_t i = 1; i < ins.n; i++)
                while (inputs_read(&ins, i, 1000, on_record, &c) > 0)
                    flush(&c, 1);
            break;
        }
        double now = bs_monotonic();
        if (progress_total >= 0 && now - last_progress >= 1.0) {
            show_progress(c.rep.records, progress_total, now - t_progress, 0);
            last_progress = now;
        }
        if (now - last_save >= 1.0) {
            stats_lock(c.rep.stats);
            stats_prune(c.rep.stats, rp_clock_now(&c.rep.clock));
            int dirty = stats_dirty(c.rep.stats);
            stats_unlock(c.rep.stats);
            if (dirty)
                save_state(&c);
            last_save = bs_monotonic();
        }
    }
    if (progress_total >= 0)
        show_progress(c.rep.records, progress_total, bs_monotonic() - t_progress, 1);
    free(pfd);
    free(idx);
    inputs_free(&ins);
    flush(&c, 0);
    save_state(&c);
    web_stop(web);
    hist_reader_close(reader);
    double run = rp_clock_now(&c.rep.clock) - t_start;
    char *bye = xasprintf("** Process finishing%s: run time(s)=%.3f,done %lu,done rate=%.3f/s",
                          stop ? " on a signal" : "", run, c.rep.records,
                          run > 0 ? (double)c.rep.records / run : 0.0);
    note(&c, bye);
    free(bye);
    if (rplog_close(c.rep.log) != 0)
        bs_fatal(EX_IOERR, "cannot close log file (%s): %s", logfile, strerror(errno));
    if (once) {
        json_t *doc = stats_json(c.rep.stats);
        char *s = json_dumps(doc, JSON_ENCODE_ANY);
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
        json_decref(doc);
    }
    report_free_pending(&c.rep);
    hist_close(c.rep.history);
    free(history_own);
    stats_free(c.rep.stats);
    settle_free(c.rep.settle);
    acks_free(c.rep.acks);
    close(sfd);
    cfg_free(cfg);
    rec_close_output(stdout, "stdout");
    return 0;
}
