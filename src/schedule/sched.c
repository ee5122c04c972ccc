/* sched.c — schedule's loop (see sched.h). */
#include "sched.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "params.h"
#include "record.h"
#include "store.h"
#include "timing.h"
#include "util.h"

#define BATCH_LINES 1000 /* records stored in one transaction */
#define EMIT_BATCH 1000  /* actions claimed in one transaction */
#define ACK_MAX 512      /* longest acknowledgement line */
#define NAME_MAX_LEN 32  /* longest action name stored */

typedef struct {
    char **line;
    size_t n;
} batch;

typedef struct {
    sched_store *st;
    const char *store_path;
    double scale, claim_timeout, retention;
    long max_pending, max_claimed;
    long pending[TA_COUNT + 1]; /* not done, by action (TA_COUNT: any other name) */
    long claimed;
    unsigned long stored, emitted, done, overflow, again;
    int acks_fd; /* -1: --no-acks (an emitted action is done) */
    bs_buf ackbuf;
    bs_buf out;
    batch held; /* records read and not yet stored (the store refused them) */
    double retry_at;
    int full_warned, overflow_warned;
    double last_stats, last_unclaim, last_purge;
    char *last_stats_text;
    int dirty;
} sched;

static int name_index(const char *name)
{
    enum timing_action a = timing_action_find(name);
    return (int)a;
}

static long pending_total(const sched *s)
{
    long n = 0;
    for (int i = 0; i <= TA_COUNT; i++)
        n += s->pending[i];
    return n;
}

static void out_flush(sched *s)
{
    if (s->out.len && fwrite(s->out.data, 1, s->out.len, stdout) != s->out.len)
        bs_fatal(EX_IOERR, "write error (stdout): %s", strerror(errno ? errno : EIO));
    buf_reset(&s->out);
    if (fflush(stdout) != 0)
        bs_fatal(EX_IOERR, "write error (stdout): %s", strerror(errno ? errno : EIO));
}

static void put_json(bs_buf *b, const json_t *rec)
{
    char *text = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!text)
        bs_panic("cannot serialise a record");
    buf_puts(b, text);
    buf_putc(b, '\n');
    free(text);
}

/* A store failure: SQLITE_FULL (and an I/O error, which a full disk under a WAL can
 * also give) is waited out; anything else is fatal. */
static int store_trouble(sched *s, int rc, const char *what)
{
    int prim = rc & 0xff;
    if (prim == SQLITE_FULL || prim == SQLITE_IOERR) {
        if (!s->full_warned) {
            bs_error("store refused a write (%s): %s (%s); input held, due actions wait, "
                     "retrying every second",
                     s->store_path, store_error(s->st), what);
            s->dirty = 1; /* store_full in the next status record */
        }
        s->full_warned = 1;
        return -1;
    }
    bs_fatal(EX_IOERR, "%s (%s): %s", what, s->store_path, store_error(s->st));
    return -1;
}

/* ---- storing a plan's delayed actions ---------------------------------------------- */

typedef struct {
    json_t *scheduled; /* [{"action","delay","due"}] */
} stored_ctx;

static void add_scheduled(json_t *list, const char *name, double delay, double due)
{
    char ts[40];
    json_array_append_new(list, json_pack("{s:s, s:f, s:s}", "action", name, "delay",
                                          floor(delay * 1000 + 0.5) / 1000, "due",
                                          bs_iso8601(due, ts, sizeof ts)));
}

static void stored_action(void *arg, const char *name, double delay, double due, int state)
{
    (void)state;
    add_scheduled(((stored_ctx *)arg)->scheduled, name, delay, due);
}

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (!n || n > NAME_MAX_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || name[i] == '_'))
            return 0;
    return 1;
}

/* One record of a batch: passed on as it is, or its delayed actions stored and the
 * record rewritten. delta: pending counts added (applied on commit). */
static int store_line(sched *s, const char *line, size_t len, unsigned long lineno, double now,
                      long *delta, bs_buf *out)
{
    const char *why;
    json_t *rec = rec_parse_line(line, len, "stdin", lineno, &why);
    if (why) {
        bs_error("malformed record (stdin:%lu): %s", lineno, why);
        put_json(out, rec);
        json_decref(rec);
        return 0;
    }
    json_t *plan = json_object_get(rec, "plan");
    json_t *delays = json_object_get(plan, "delays");
    json_t *actions = json_object_get(plan, "actions");
    const char *kind = rec_kind(rec);
    size_t ndelayed = 0, i;
    json_t *a;
    if (kind && strcmp(kind, "message") == 0 && json_is_object(delays) && json_is_array(actions) &&
        !json_object_get(plan, "scheduled")) {
        json_array_foreach(actions, i, a)
        {
            const char *name = json_string_value(a);
            double d = json_number_value(json_object_get(delays, name ? name : ""));
            if (name && name_ok(name) && d > 0 && isfinite(d))
                ndelayed++;
        }
    }
    if (!ndelayed) { /* nothing to hold: the record goes on byte for byte */
        buf_append(out, line, len);
        buf_putc(out, '\n');
        json_decref(rec);
        return 0;
    }
    long adding = 0;
    for (int k = 0; k <= TA_COUNT; k++)
        adding += delta[k];
    if (pending_total(s) + adding + (long)ndelayed > s->max_pending) {
        /* Beyond the cap the actions are done at once: an ESP sees them early rather
         * than never, and the line says so. */
        json_object_set_new(plan, "schedule_full", json_true());
        s->overflow++;
        if (!s->overflow_warned)
            bs_warn("more than Max_Pending (%ld) actions held: new actions are done at once",
                    s->max_pending);
        s->overflow_warned = 1;
        put_json(out, rec);
        json_decref(rec);
        return 0;
    }
    s->overflow_warned = 0;
    const char *id = rec_id(rec);
    json_t *settle = json_object_get(rec, "settle");
    json_incref(settle);
    json_object_del(rec, "settle"); /* the spool file is gone once the line is logged */
    char *text = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (settle)
        json_object_set_new(rec, "settle", settle);
    int added = 0;
    int rc = store_add_message(s->st, id, text, now, &added);
    free(text);
    json_t *scheduled = json_array();
    json_t *now_actions = json_array();
    json_array_foreach(actions, i, a)
    {
        const char *name = json_string_value(a);
        double d = json_number_value(json_object_get(delays, name ? name : ""));
        if (!(name && name_ok(name) && d > 0 && isfinite(d))) {
            json_array_append(now_actions, a);
            continue;
        }
        if (rc != SQLITE_OK || !added)
            continue;
        char *aid = xasprintf("%s/%s", id, name);
        double due = now + d / s->scale;
        rc = store_add_action(s->st, aid, id, name, d, due);
        free(aid);
        if (rc == SQLITE_OK) {
            add_scheduled(scheduled, name, d, due);
            delta[name_index(name)]++;
        }
    }
    if (rc == SQLITE_OK && !added) { /* stored before: what the store holds */
        stored_ctx c = {scheduled};
        rc = store_message_actions(s->st, id, stored_action, &c);
    }
    if (rc != SQLITE_OK) {
        json_decref(scheduled);
        json_decref(now_actions);
        json_decref(rec);
        return rc;
    }
    json_object_set_new(plan, "actions", now_actions);
    json_object_set_new(plan, "scheduled", scheduled);
    put_json(out, rec);
    json_decref(rec);
    return 0;
}

static void batch_clear(batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->line[i]);
    b->n = 0;
}

/* Stores a batch in one transaction; its output goes on only after the commit. 0 ok,
 * -1 the store refused it (kept for a retry). */
static int store_batch(sched *s, batch *b, unsigned long first_line)
{
    double now = bs_now();
    long delta[TA_COUNT + 1] = {0};
    bs_buf out;
    buf_init(&out);
    int rc = store_begin(s->st, 1);
    for (size_t i = 0; rc == SQLITE_OK && i < b->n; i++)
        rc = store_line(s, b->line[i], strlen(b->line[i]), first_line + i, now, delta, &out);
    if (rc == SQLITE_OK)
        rc = store_commit(s->st);
    if (rc != SQLITE_OK) {
        store_rollback(s->st);
        buf_free(&out);
        s->retry_at = now + 1;
        return store_trouble(s, rc, "storing actions");
    }
    if (s->full_warned) {
        bs_warn("store writable again (%s): held records stored", s->store_path);
        s->dirty = 1;
    }
    s->full_warned = 0;
    for (int k = 0; k <= TA_COUNT; k++) {
        s->pending[k] += delta[k];
        s->stored += (unsigned long)delta[k];
        if (delta[k])
            s->dirty = 1;
    }
    buf_append(&s->out, out.data, out.len);
    buf_free(&out);
    batch_clear(b);
    return 0;
}

/* ---- emitting due actions ---------------------------------------------------------- */

typedef struct {
    sched *s;
    double now;
    bs_buf text;
    char **aid;
    int *idx;
    size_t n, cap;
} due_ctx;

static int on_due(void *arg, const char *aid, const char *msg, const char *name, double delay,
                  double due, const char *rectext)
{
    due_ctx *c = arg;
    json_t *rec = rectext ? json_loads(rectext, 0, NULL) : NULL;
    if (!json_is_object(rec)) {
        json_decref(rec);
        rec = rec_new("message", msg);
    }
    char ts[40];
    json_object_set_new(rec, "kind", json_string("action"));
    json_object_set_new(rec, "ts", json_string(bs_iso8601(c->now, ts, sizeof ts)));
    json_t *plan = rec_obj(rec, "plan");
    json_object_set_new(plan, "actions", json_pack("[s]", name));
    json_object_set_new(rec, "action",
                        json_pack("{s:s, s:s, s:f, s:s}", "id", aid, "name", name, "delay",
                                  floor(delay * 1000 + 0.5) / 1000, "due",
                                  bs_iso8601(due, ts, sizeof ts)));
    put_json(&c->text, rec);
    json_decref(rec);
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->aid = xrealloc(c->aid, c->cap * sizeof *c->aid);
        c->idx = xrealloc(c->idx, c->cap * sizeof *c->idx);
    }
    c->aid[c->n] = xstrdup(aid);
    c->idx[c->n++] = name_index(name);
    return 0;
}

/* Claims (or, without acks, settles) up to EMIT_BATCH due actions, then writes them. */
static int emit_due(sched *s)
{
    long room = s->acks_fd >= 0 ? s->max_claimed - s->claimed : EMIT_BATCH;
    if (room <= 0)
        return 0;
    due_ctx c = {s, bs_now(), {0}, NULL, NULL, 0, 0};
    buf_init(&c.text);
    int rc = store_begin(s->st, 0);
    if (rc == SQLITE_OK)
        rc = store_due(s->st, c.now, (int)(room < EMIT_BATCH ? room : EMIT_BATCH), on_due, &c);
    int to = s->acks_fd >= 0 ? ST_CLAIMED : ST_DONE;
    for (size_t i = 0; rc == SQLITE_OK && i < c.n; i++) {
        int changed;
        rc = store_set_state(s->st, c.aid[i], ST_PENDING, to, c.now, &changed);
    }
    if (rc == SQLITE_OK)
        rc = store_commit(s->st);
    size_t n = c.n;
    if (rc == SQLITE_OK) { /* claimed: now they may go */
        buf_append(&s->out, c.text.data, c.text.len);
        s->emitted += n;
        if (to == ST_CLAIMED)
            s->claimed += (long)n;
        else {
            s->done += n;
            for (size_t i = 0; i < n; i++)
                s->pending[c.idx[i]]--;
        }
        if (n)
            s->dirty = 1;
    } else {
        store_rollback(s->st);
        n = 0;
    }
    for (size_t i = 0; i < c.n; i++)
        free(c.aid[i]);
    free(c.aid);
    free(c.idx);
    buf_free(&c.text);
    if (rc != SQLITE_OK)
        return store_trouble(s, rc, "claiming due actions");
    return (int)n;
}

/* ---- acknowledgements -------------------------------------------------------------- */

static void read_acks(sched *s)
{
    if (s->acks_fd < 0)
        return;
    char chunk[16384];
    for (;;) {
        ssize_t r = read(s->acks_fd, chunk, sizeof chunk);
        if (r > 0) {
            buf_append(&s->ackbuf, chunk, (size_t)r);
            if (s->ackbuf.len > (size_t)1 << 20)
                break;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        break; /* EAGAIN; we hold a write end, so there is no end of file */
    }
    if (!s->ackbuf.len)
        return;
    double now = bs_now();
    int rc = store_begin(s->st, 0);
    size_t used = 0;
    long claimed = 0, delta[TA_COUNT + 1] = {0};
    unsigned long done = 0;
    while (rc == SQLITE_OK) {
        char *p = s->ackbuf.data + used;
        char *nl = memchr(p, '\n', s->ackbuf.len - used);
        if (!nl)
            break;
        *nl = 0;
        used = (size_t)(nl - s->ackbuf.data) + 1;
        const char *slash = strrchr(p, '/');
        if ((size_t)(nl - p) > ACK_MAX || !slash || !name_ok(slash + 1))
            continue; /* not an action id: ignored */
        int changed = 0;
        rc = store_set_state(s->st, p, ST_CLAIMED, ST_DONE, now, &changed);
        if (rc == SQLITE_OK && changed)
            claimed++;
        else if (rc == SQLITE_OK)
            rc = store_set_state(s->st, p, ST_PENDING, ST_DONE, now, &changed);
        if (rc == SQLITE_OK && changed) {
            delta[name_index(slash + 1)]++;
            done++;
        }
    }
    if (rc == SQLITE_OK)
        rc = store_commit(s->st);
    if (rc != SQLITE_OK) {
        store_rollback(s->st);
        store_trouble(s, rc, "marking actions done");
        return; /* the ids stay in the buffer for the next try */
    }
    s->claimed -= claimed;
    s->done += done;
    for (int k = 0; k <= TA_COUNT; k++)
        s->pending[k] -= delta[k];
    if (done)
        s->dirty = 1;
    memmove(s->ackbuf.data, s->ackbuf.data + used, s->ackbuf.len - used);
    s->ackbuf.len -= used;
    if (s->ackbuf.len > ACK_MAX) /* a line too long: dropped */
        buf_reset(&s->ackbuf);
}

/* ---- upkeep ------------------------------------------------------------------------ */

static void count_row(void *arg, const char *name, long pending, long claimed)
{
    sched *s = arg;
    s->pending[name_index(name)] += pending + claimed;
}

static void upkeep(sched *s)
{
    double now = bs_now();
    int n, rc;
    if (s->acks_fd >= 0 && now - s->last_unclaim >= 1) {
        s->last_unclaim = now;
        rc = store_unclaim(s->st, now - s->claim_timeout, &n);
        if (rc != SQLITE_OK)
            store_trouble(s, rc, "re-emitting claimed actions");
        else if (n) {
            bs_warn("%d emitted actions not logged within Claim_Timeout (%gs): emitted again", n,
                    s->claim_timeout);
            s->claimed -= n;
            s->again += (unsigned long)n;
        }
    }
    /* done rows: looked at every minute, or more often for a short retention */
    double every = s->retention / 2 < 60 ? s->retention / 2 : 60;
    if (now - s->last_purge >= (every < 1 ? 1 : every)) {
        s->last_purge = now;
        rc = store_purge(s->st, now - s->retention, &n);
        if (rc != SQLITE_OK)
            store_trouble(s, rc, "removing done actions");
    }
    if (s->dirty && now - s->last_stats >= 1) {
        s->last_stats = now;
        s->dirty = 0;
        double next = 0;
        if (store_next_due(s->st, &next) != SQLITE_OK)
            next = 0;
        json_t *rec = rec_new("schedule", "schedule");
        json_t *p = json_object();
        for (int i = 0; i <= TA_COUNT; i++)
            if (s->pending[i] || i < TA_COUNT)
                json_object_set_new(p, i < TA_COUNT ? timing_action_names[i] : "other",
                                    json_integer(s->pending[i]));
        json_object_set_new(rec, "pending", p);
        json_object_set_new(rec, "pending_total", json_integer(pending_total(s)));
        json_object_set_new(rec, "claimed", json_integer(s->claimed));
        char ts[40];
        json_object_set_new(rec, "next_due",
                            next > 0 ? json_string(bs_iso8601(next, ts, sizeof ts)) : json_null());
        json_object_set_new(rec, "stored", json_integer((json_int_t)s->stored));
        json_object_set_new(rec, "emitted", json_integer((json_int_t)s->emitted));
        json_object_set_new(rec, "done", json_integer((json_int_t)s->done));
        json_object_set_new(rec, "overflow", json_integer((json_int_t)s->overflow));
        json_object_set_new(rec, "emitted_again", json_integer((json_int_t)s->again));
        json_object_set_new(rec, "store_full", json_boolean(s->full_warned));
        put_json(&s->out, rec);
        json_decref(rec);
    }
}

/* ---- the loop ---------------------------------------------------------------------- */

static int open_acks(const char *path)
{
    if (mkfifo(path, 0600) != 0 && errno != EEXIST)
        bs_fatal(EX_CANTCREAT, "cannot create the acks FIFO (%s): %s", path, strerror(errno));
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISFIFO(sb.st_mode))
        bs_fatal(EX_CONFIG, "acks (%s): not a FIFO", path);
    /* Read and write: a writer is always there, so no end of file when report restarts,
     * and what report wrote while we were away waits in the pipe. */
    int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        bs_fatal(EX_NOINPUT, "cannot open the acks FIFO (%s): %s", path, strerror(errno));
    return fd;
}

static void load_conf(sched *s, const sched_options *o, const char **store, const char **acks,
                      bs_config **cfgp)
{
    bs_config *cfg = cfg_open_or_exit(o->config);
    timing_conf t;
    if (timing_load(cfg, &t) < 0 ||
        param_long(cfg, "Timing", "Max_Pending", 0, 1000000000L, &s->max_pending) < 0 ||
        param_long(cfg, "Timing", "Max_Claimed", 1, 10000000L, &s->max_claimed) < 0 ||
        param_double_range(cfg, "Timing", "Claim_Timeout", 1, 1e9, &s->claim_timeout) < 0 ||
        param_double_range(cfg, "Timing", "Done_Retention", 0, 1e10, &s->retention) < 0 ||
        param_string(cfg, "Timing", "Store", store) < 0 ||
        param_string(cfg, "Timing", "Acks", acks) < 0)
        bs_fatal(EX_CONFIG, "%s", cfg_error(cfg));
    s->scale = t.time_scale;
    *cfgp = cfg;
}

int sched_run(const sched_options *o)
{
    sched s;
    memset(&s, 0, sizeof s);
    const char *store_path, *acks_path;
    bs_config *cfg;
    load_conf(&s, o, &store_path, &acks_path, &cfg);
    if (o->store)
        store_path = o->store;
    s.store_path = store_path;
    char *err = NULL;
    s.st = store_open(store_path, &err);
    if (!s.st)
        bs_fatal(EX_CANTCREAT, "cannot open the store (%s): %s", store_path, err);
    char *acks_default = xasprintf("%s.acks", store_path);
    if (o->acks)
        acks_path = o->acks;
    if (!acks_path || !*acks_path)
        acks_path = acks_default;
    s.acks_fd = strcmp(acks_path, "none") == 0 ? -1 : open_acks(acks_path);

    /* What was claimed before a crash or restart was maybe never logged: again. */
    int n = 0;
    int rc = store_unclaim(s.st, HUGE_VAL, &n);
    if (rc == SQLITE_OK)
        rc = store_counts(s.st, count_row, &s);
    if (rc != SQLITE_OK)
        bs_fatal(EX_IOERR, "reading the store (%s): %s", store_path, store_error(s.st));
    if (n)
        bs_info("%d actions claimed before the restart: emitted again", n);
    s.again = (unsigned long)n;
    s.dirty = 1;
    bs_info("store %s: %ld actions pending, Time_Scale %g, acks %s", store_path, pending_total(&s),
            s.scale, s.acks_fd >= 0 ? acks_path : "none");
    buf_init(&s.out);
    buf_init(&s.ackbuf);

    int flags = fcntl(0, F_GETFL);
    if (flags >= 0)
        fcntl(0, F_SETFL, flags | O_NONBLOCK);
    rec_in *in = rec_in_new(0, "stdin");
    batch b = {xcalloc(BATCH_LINES, sizeof(char *)), 0};
    unsigned long first_line = 1;
    int eof = 0;
    for (;;) {
        read_acks(&s);
        double now = bs_now();
        if (b.n && now >= s.retry_at && store_batch(&s, &b, first_line) == 0)
            first_line = rec_in_lineno(in) + 1;
        while (!eof && !b.n) {
            /* read what is there, up to a batch */
            int r = 1;
            while (b.n < BATCH_LINES) {
                const char *line, *why;
                size_t len;
                r = rec_in_next_line(in, &line, &len, &why);
                if (r == 1) {
                    if (!b.n)
                        first_line = rec_in_lineno(in);
                    b.line[b.n++] = xstrndup(line, len);
                } else if (r == REC_LINE_TOO_LONG) {
                    bs_error("malformed record (stdin:%lu): %s", rec_in_skipped_line(in), why);
                } else {
                    break;
                }
            }
            if (r == 0)
                eof = 1;
            else if (r == -1)
                exit(EX_IOERR);
            if (b.n)
                store_batch(&s, &b, first_line);
            break; /* one batch a round: due actions go out between batches */
        }
        while (emit_due(&s) == EMIT_BATCH && s.out.len < ((size_t)1 << 20))
            ;
        upkeep(&s);
        out_flush(&s);
        if (eof && !b.n) {
            if (!o->drain)
                break;
            if (pending_total(&s) == 0) {
                s.last_stats = 0;
                upkeep(&s);
                out_flush(&s);
                break;
            }
        }
        /* sleep until the next due action (at most a second) or input */
        double next = 0;
        if (store_next_due(s.st, &next) != SQLITE_OK)
            next = 0;
        now = bs_now();
        double wait = next > 0 ? next - now : 1;
        if (s.claimed >= s.max_claimed && s.acks_fd >= 0)
            wait = 1;
        if (b.n)
            wait = s.retry_at - now;
        else if (!eof && rec_in_has_line(in))
            wait = 0;
        if (wait > 1)
            wait = 1;
        if (wait < 0)
            wait = 0;
        struct pollfd pfd[2];
        int np = 0;
        if (!eof && !b.n)
            pfd[np++] = (struct pollfd){0, POLLIN, 0};
        if (s.acks_fd >= 0)
            pfd[np++] = (struct pollfd){s.acks_fd, POLLIN, 0};
        if (wait > 0 && poll(pfd, (nfds_t)np, (int)ceil(wait * 1000)) < 0 && errno != EINTR)
            bs_fatal(EX_OSERR, "poll: %s", strerror(errno));
    }
    if (flags >= 0)
        fcntl(0, F_SETFL, flags);
    batch_clear(&b);
    free(b.line);
    rec_in_free(in);
    buf_free(&s.out);
    buf_free(&s.ackbuf);
    if (s.acks_fd >= 0)
        close(s.acks_fd);
    store_close(s.st);
    free(acks_default);
    cfg_free(cfg);
    rec_close_output(stdout, "stdout");
    return 0;
}
