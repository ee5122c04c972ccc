/* ingest.c — inputs to records (see ingest.h). */
#include "ingest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "cfbl.h"
#include "input.h"
#include "jsonout.h"
#include "message.h"
#include "outcomes.h"
#include "params.h"
#include "pool.h"
#include "record.h"
#include "text.h"
#include "util.h"

typedef struct {
    msg_reader *reader;
    auth_ctx *auth;
    int busy_fd;    /* DIR/.ingest/busy-<i> while reading a spool, else -1 */
    char *busy_map; /* its BUSY_SIZE bytes mapped (shared), or NULL: pwrite then */
    /* What the watchdog looks at: when the current message's reading started (0: not
     * reading) and its name. */
    pthread_mutex_t lock;
    double started;
    const char *where;
} worker_ctx;

struct ingest_run {
    ingest_opts opts;
    ing_pool *pool;
    worker_ctx *ctxs;
    unsigned long long ordinal; /* messages so far */
    int output_failed;
    pthread_t watchdog;
    int watching;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    int stop;
    int lock_fd; /* DIR/.ingest/lock, held while reading a spool */
};

/* A size with an optional K, M or G suffix (binary multiples); the table's default when
 * the key is not set. */
int ingest_read_config(bs_config *cfg, ingest_opts *o)
{
    msg_limits *l = &o->limits;
    long parts, depth, fields;
    if (param_size(cfg, "Ingest", "Max_Message_Size", 1024, SIZE_MAX, &o->max_size) < 0 ||
        param_size(cfg, "Ingest", "Max_Header_Size", 1024, SIZE_MAX, &l->max_header) < 0 ||
        param_size(cfg, "Ingest", "Max_Decoded_Size", 1024, SIZE_MAX, &l->max_decoded) < 0 ||
        param_long(cfg, "Ingest", "Max_MIME_Parts", 1, 100000000, &parts) < 0 ||
        param_long(cfg, "Ingest", "Max_MIME_Depth", 1, 1000, &depth) < 0 ||
        param_long(cfg, "Ingest", "Max_Header_Fields", 1, 100000000, &fields) < 0 ||
        param_long(cfg, "Ingest", "Max_Message_Time", 0, 86400, &o->max_time) < 0 ||
        param_long(cfg, "Ingest", "Quarantine_After", 1, 1000, &o->quarantine_after) < 0 ||
        param_file(cfg, "Ingest", "Quarantine_Dir", &o->quarantine_dir) < 0)
        return -1;
    l->max_parts = (size_t)parts;
    l->max_depth = (size_t)depth;
    l->max_fields = (size_t)fields;
    if (o->quarantine_dir && !*o->quarantine_dir)
        o->quarantine_dir = NULL;
    return 0;
}

/* A busy file's size: a name (NAME_MAX) and its newline fit. */
#define BUSY_SIZE 4096

/* Puts "text\n" at the start of a worker's busy file. Through the shared mapping when
 * there is one: the page is the file's own page in the kernel's cache, so what is
 * written there is in the file even when the process dies the next moment, as with
 * pwrite, without a system call per message. */
static void put_busy(worker_ctx *w, const char *text, size_t len)
{
    if (w->busy_map && len < BUSY_SIZE) {
        memcpy(w->busy_map, text, len);
        w->busy_map[len] = '\n';
        return;
    }
    char *line = xasprintf("%.*s\n", (int)len, text);
    /* Best effort: without the mark a crash on this file is not counted. */
    if (pwrite(w->busy_fd, line, len + 1, 0) < 0)
        bs_warn("cannot write the busy file of a worker: %s", strerror(errno));
    free(line);
}

/* Names the claimed file a worker reads in its busy file ("\n" alone: none). */
static void mark_busy(worker_ctx *w, const char *settle)
{
    if (w->busy_fd < 0 || !settle)
        return;
    const char *base = strrchr(settle, '/');
    base = base ? base + 1 : settle;
    put_busy(w, base, strlen(base));
}

static void mark_idle(worker_ctx *w, const char *settle)
{
    if (w->busy_fd >= 0 && settle)
        put_busy(w, "", 0);
}

static void close_busy(worker_ctx *w)
{
    if (w->busy_map)
        munmap(w->busy_map, BUSY_SIZE);
    w->busy_map = NULL;
    if (w->busy_fd >= 0)
        close(w->busy_fd);
    w->busy_fd = -1;
}

/* Ends the process when a worker has been reading one message for longer than
 * [Ingest] Max_Message_Time: the busy file names it, so the next ingest counts it. */
static void *watchdog_main(void *arg)
{
    ingest_run *r = arg;
    double limit = (double)r->opts.max_time;
    double tick = limit < 4 ? limit / 4 : 1;
    pthread_mutex_lock(&r->stop_lock);
    while (!r->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)(tick * 1e9);
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&r->stop_cond, &r->stop_lock, &until);
        double now = bs_monotonic();
        for (int i = 0; i < r->opts.workers && !r->stop; i++) {
            worker_ctx *w = &r->ctxs[i];
            pthread_mutex_lock(&w->lock);
            if (w->started > 0 && now - w->started > limit) {
                bs_error("message takes longer than %ld s to read (%s): exiting ([Ingest] "
                         "Max_Message_Time)",
                         r->opts.max_time, w->where);
                _exit(EX_SOFTWARE);
            }
            pthread_mutex_unlock(&w->lock);
        }
    }
    pthread_mutex_unlock(&r->stop_lock);
    return NULL;
}

/* RFC 9477: a CFBL-Address the DKIM signatures cover and align (cfbl.h), with a DKIM
 * result that still passes after msgr_apply_signed (duplicate fields fail it). */
static void cfbl_record(const auth_results *res, json_t *rec)
{
    const char *dkim = rec_str(rec, "dkim.result");
    size_t hn;
    char *hb = rec_get_bytes(rec, "header_block", &hn);
    cfbl_result c;
    if (hb && cfbl_check(hb, hn, &res->dkim, &c)) {
        if (!dkim || strcmp(dkim, "pass") != 0) {
            c.aligned = 0;
            c.why = "DKIM did not pass";
        }
        cfbl_json(&c, rec);
        cfbl_clear(&c);
    }
    free(hb);
}

/* The worker: one job to one record line. */
static void process_job(void *arg, ing_job *job)
{
    worker_ctx *w = arg;
    json_t *rec = rec_new("message", job->id);
    json_object_set(rec, "source", job->source);
    if (job->settle)
        json_object_set_new(rec, "settle", json_string(job->settle));
    char *error = NULL;
    const char *error_code = bs_read_error_name(BS_READ_TOO_LARGE);
    mark_busy(w, job->settle);
    if (job->input_error) { /* the one input error: over Max_Message_Size */
        json_object_set_new(rec, "size", json_integer((json_int_t)job->size));
        error = xstrdup(job->input_error);
    } else {
        ing_envelope env = {0};
        pthread_mutex_lock(&w->lock);
        w->where = job->where;
        w->started = bs_monotonic();
        pthread_mutex_unlock(&w->lock);
        int readable = msgr_read(w->reader, job->data, job->len, rec, &env, &error) == 0;
        error_code = msgr_error_code(w->reader);
        pthread_mutex_lock(&w->lock);
        w->started = 0;
        w->where = NULL;
        pthread_mutex_unlock(&w->lock);
        if (readable && w->auth) {
            auth_results res;
            auth_envelope facts = {env.client_ip, env.helo, env.mail_from};
            json_t *listen_ar;
            int reused;
            auth_check_reusing(w->auth, job->data, job->len, &facts, &res, &listen_ar, &reused);
            auth_json(&res, rec);
            if (listen_ar)
                json_object_set_new(rec, "listen_auth", listen_ar);
            msgr_apply_signed(w->reader, job->data, job->len, &res.dkim.cover, rec);
            cfbl_record(&res, rec);
            auth_results_clear(&res);
        }
        envelope_clear(&env);
    }
    mark_idle(w, job->settle);
    if (error) {
        json_object_set_new(rec, "error", json_string(error));
        json_object_set_new(rec, "error_code", json_string(error_code));
        job->diag = xasprintf("bad message (%s): %s", job->where, error);
        free(error);
    }
    bs_buf line;
    buf_init(&line);
    buf_reserve(&line, job->len + 1024);
    json_out(&line, rec);
    buf_putc(&line, '\n');
    json_decref(rec);
    job->line_len = line.len;
    job->line = buf_steal(&line);
}

ingest_run *ingest_start(const ingest_opts *o, char **err)
{
    *err = NULL;
    ingest_run *r = xcalloc(1, sizeof *r);
    r->opts = *o;
    r->lock_fd = -1;
    if (r->opts.workers < 1)
        r->opts.workers = 1;
    msgr_global_init();
    r->ctxs = xcalloc((size_t)r->opts.workers, sizeof *r->ctxs);
    void **args = xcalloc((size_t)r->opts.workers, sizeof *args);
    for (int i = 0; i < r->opts.workers; i++) {
        r->ctxs[i].reader = msgr_new(&r->opts.limits);
        r->ctxs[i].busy_fd = -1;
        pthread_mutex_init(&r->ctxs[i].lock, NULL);
        if (r->opts.auth) {
            r->ctxs[i].auth = auth_new(r->opts.cfg, err);
            if (!r->ctxs[i].auth) {
                for (int j = 0; j <= i; j++) {
                    msgr_free(r->ctxs[j].reader);
                    auth_free(r->ctxs[j].auth);
                }
                free(args);
                free(r->ctxs);
                free(r);
                return NULL;
            }
        }
        args[i] = &r->ctxs[i];
    }
    r->pool = pool_new(r->opts.workers, args, process_job, r->opts.out);
    free(args);
    pthread_mutex_init(&r->stop_lock, NULL);
    pthread_cond_init(&r->stop_cond, NULL);
    if (r->opts.max_time > 0) {
        int rc = pthread_create(&r->watchdog, NULL, watchdog_main, r);
        if (rc)
            bs_fatal(EX_OSERR, "cannot start the watchdog thread: %s", strerror(rc));
        r->watching = 1;
    }
    return r;
}

int ingest_finish(ingest_run *r)
{
    int err = pool_finish(r->pool);
    if (r->watching) {
        pthread_mutex_lock(&r->stop_lock);
        r->stop = 1;
        pthread_cond_signal(&r->stop_cond);
        pthread_mutex_unlock(&r->stop_lock);
        pthread_join(r->watchdog, NULL);
    }
    pthread_mutex_destroy(&r->stop_lock);
    pthread_cond_destroy(&r->stop_cond);
    if (r->lock_fd >= 0)
        close(r->lock_fd);
    for (int i = 0; i < r->opts.workers; i++) {
        msgr_free(r->ctxs[i].reader);
        auth_free(r->ctxs[i].auth);
        pthread_mutex_destroy(&r->ctxs[i].lock);
        close_busy(&r->ctxs[i]);
    }
    free(r->ctxs);
    free(r);
    if (err) {
        bs_error("write error (stdout): %s", strerror(err));
        return EX_IOERR;
    }
    return 0;
}

/* True when the file's name is <16 hex>.msg: its messages are named by it. */
static int named_by_file(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    return strlen(base) == 20 && strcmp(base + 16, ".msg") == 0 && text_is_hex16(base, 16);
}

/* The id of a message: its spool name when that is 16 hex digits, else from content. */
static void message_id(const char *path, const msg_read *m, char id[17])
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!m->mbox && named_by_file(path)) {
        for (int i = 0; i < 16; i++)
            id[i] = (char)((base[i] >= 'A' && base[i] <= 'F') ? base[i] - 'A' + 'a' : base[i]);
        id[16] = 0;
        return;
    }
    hex64(m->hash, id);
}

/* {"type": type, "name": name}, or NULL when name is not UTF-8: what json_pack("{s:s,
 * s:s}") builds, without parsing its format for every message. */
static json_t *source_json(const char *type, const char *name)
{
    json_t *n = json_string(name);
    if (!n)
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "name", n);
    return o;
}

/* Before a read(2) that may wait for input: records written so far must not stay in the
 * output buffer meanwhile. */
static void input_may_wait(void *arg)
{
    pool_idle(arg);
}

/* Every message of one open input. type: "file", "stdin" or "spool". may_wait: reads may
 * wait for input (a pipe, a terminal; not a regular file). */
static int ingest_fd(ingest_run *r, int fd, const char *type, const char *name, const char *settle,
                     int detect_mbox, int empty_is_nothing, int may_wait)
{
    msg_stream *s = mstream_new(fd, r->opts.max_size, detect_mbox);
    if (may_wait)
        mstream_wait_hook(s, input_may_wait, r->pool);
    if (!detect_mbox && named_by_file(name))
        mstream_no_hash(s);
    int status = 0;
    for (;;) {
        msg_read m;
        int rc = mstream_next(s, r->ordinal + 1, empty_is_nothing, &m);
        if (rc < 0) {
            bs_error("read error (%s): %s", name, strerror(errno));
            status = EX_IOERR;
            break;
        }
        if (rc == 0)
            break;
        r->ordinal++;
        ing_job job = {0};
        job.data = m.data;
        job.len = m.len;
        job.size = m.size;
        message_id(name, &m, job.id);
        job.source = source_json(type, name);
        if (m.mbox) {
            json_object_set_new(job.source, "index", json_integer((json_int_t)m.index));
            job.where = xasprintf("%s, message %lu", name, m.index);
        } else {
            job.where = xstrdup(name);
        }
        if (settle)
            job.settle = xstrdup(settle);
        if (!m.data)
            job.input_error = xasprintf("message larger than %zu bytes ([Ingest] "
                                        "Max_Message_Size)",
                                        r->opts.max_size);
        if (pool_submit(r->pool, &job) < 0) {
            status = -1;
            break;
        }
    }
    mstream_free(s);
    return status;
}

static int ingest_file(ingest_run *r, const char *path, const char *type, const char *name,
                       const char *settle, int detect_mbox, int may_wait)
{
    if (may_wait) /* opening a FIFO waits for its writer */
        pool_idle(r->pool);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (settle && errno == ENOENT)
            return 0; /* settled meanwhile */
        bs_error("cannot open input (%s): %s", path, strerror(errno));
        return EX_NOINPUT;
    }
    int status = ingest_fd(r, fd, type, name, settle, detect_mbox, 0, may_wait);
    close(fd);
    return status;
}

/* Keeps the worst status: output failure, then read/open errors. */
static int worse(int a, int b)
{
    if (a < 0 || b < 0)
        return -1;
    return a ? a : b;
}

int ingest_path(ingest_run *r, const char *path)
{
    struct stat st;
    if (strcmp(path, "-") == 0)
        return ingest_fd(r, 0, "stdin", "stdin", NULL, 1, 1,
                         fstat(0, &st) < 0 || !S_ISREG(st.st_mode));
    if (stat(path, &st) < 0) {
        bs_error("cannot open input (%s): %s", path, strerror(errno));
        return EX_NOINPUT;
    }
    if (!S_ISDIR(st.st_mode))
        return ingest_file(r, path, "file", path, NULL, !bs_has_suffix_ci(path, ".msg"),
                           !S_ISREG(st.st_mode));
    char **names = list_msg_files(path, 0);
    if (!names) {
        bs_error("cannot read directory (%s): %s", path, strerror(errno));
        return EX_NOINPUT;
    }
    int status = 0;
    for (char **n = names; *n && status >= 0; n++) {
        char *p = xasprintf("%s/%s", path, *n);
        status = worse(status, ingest_file(r, p, "file", p, NULL, 0, 0));
        free(p);
    }
    free_list(names);
    return status;
}

/* Claims DIR/name (rename into DIR/claimed/) and ingests it; *took (when not NULL) set
 * when it was claimed. */
static int claim(ingest_run *r, const char *dir, const char *name, int *took)
{
    char *from = xasprintf("%s/%s", dir, name);
    char *to = xasprintf("%s/claimed/%s", dir, name);
    int status = 0;
    if (rename(from, to) < 0) {
        if (errno != ENOENT) /* ENOENT: claimed by someone else */
            bs_error("cannot claim spool file (%s): %s", from, strerror(errno));
    } else {
        if (took)
            *took = 1;
        status = ingest_file(r, to, "spool", from, to, 0, 0);
    }
    free(from);
    free(to);
    return status;
}

/* Claims every file of DIR, CLAIM_BATCH names at a time (memory stays small however large
 * the backlog; each batch reads the directory again, without the files claimed before),
 * until a batch is not full or claims nothing (files that cannot be claimed stay). */
#define CLAIM_BATCH 4096
static int claim_all(ingest_run *r, const char *dir)
{
    int status = 0;
    for (;;) {
        char **names = list_msg_files(dir, CLAIM_BATCH);
        if (!names) {
            bs_error("cannot read spool directory (%s): %s", dir, strerror(errno));
            return EX_NOINPUT;
        }
        size_t n = 0;
        int took = 0;
        for (; names[n] && status >= 0; n++)
            status = worse(status, claim(r, dir, names[n], &took));
        free_list(names);
        if (status < 0 || n < CLAIM_BATCH || !took)
            return status;
    }
}

static int ends_msg(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".msg") == 0;
}

#define FOLLOW_GATHER_BELOW 16

/* Watches DIR until a signal, the output dies or the directory goes away. */
static int follow_spool(ingest_run *r, const char *dir, int ifd)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0)
        bs_fatal(EX_OSERR, "signalfd: %s", strerror(errno));
    int status = 0;
    int out_fd = fileno(r->opts.out);
    char evbuf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    int last_claims = 0;
    for (;;) {
        pool_idle(r->pool); /* records out before the wait */
        struct pollfd pfd[3] = {
            {.fd = ifd, .events = POLLIN},
            {.fd = sfd, .events = POLLIN},
            {.fd = out_fd, .events = 0}, /* POLLERR: the reader of the pipe went away */
        };
        if (poll(pfd, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            bs_fatal(EX_OSERR, "poll: %s", strerror(errno));
        }
        if (pfd[1].revents)
            break;
        if (pfd[2].revents & POLLNVAL) {
            out_fd = -1; /* not pollable: write errors will tell */
            continue;
        }
        if (pfd[2].revents & (POLLERR | POLLHUP)) {
            bs_error("write error (stdout): the reader went away");
            status = -1;
            break;
        }
        if (!(pfd[0].revents & POLLIN))
            continue;
        /* Files trickling in (the last read brought few): gather those of the next
         * millisecond too, so that the pool's workers wake once for several, not once
         * a file. */
        if (last_claims < FOLLOW_GATHER_BELOW) {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
        ssize_t n = read(ifd, evbuf, sizeof evbuf);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            bs_fatal(EX_OSERR, "inotify read (%s): %s", dir, strerror(errno));
        }
        int gone = 0;
        last_claims = 0;
        for (char *p = evbuf; p < evbuf + n && status >= 0;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW)
                status = worse(status, claim_all(r, dir));
            else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
                gone = 1;
            else if (ev->len && ends_msg(ev->name)) {
                status = worse(status, claim(r, dir, ev->name, NULL));
                last_claims++;
            }
        }
        if (status < 0)
            break;
        if (gone) {
            bs_error("spool directory went away (%s)", dir);
            status = worse(status, EX_NOINPUT);
            break;
        }
    }
    close(sfd);
    return status;
}

/* ---- poison messages (see ingest.h) ---- */

static char *crashes_path(const char *state, const char *name)
{
    return xasprintf("%s/%s.crashes", state, name);
}

static long read_count(const char *path)
{
    FILE *f = fopen(path, "re");
    long n = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld", &n) != 1 || n < 0)
        n = 0;
    fclose(f);
    return n;
}

static void write_count(const char *path, long n)
{
    char *tmp = xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "we");
    int ok = f && fprintf(f, "%ld\n", n) > 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) < 0) {
        bs_error("cannot write crash count (%s): %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
}

static int exists_in(const char *dir, const char *name, size_t len)
{
    char *p = xasprintf("%s/%.*s", dir, (int)len, name);
    struct stat st;
    int yes = stat(p, &st) == 0;
    free(p);
    return yes;
}

/* What the busy files of the run before say: every claimed file a worker was reading
 * when ingest died gets one more crash. Removes the busy files and the counts of files
 * that are gone. */
static void count_crashes(ingest_run *r, const char *state, const char *claimed)
{
    DIR *d = opendir(state);
    if (!d)
        return;
    bs_buf busy; /* NUL-separated names */
    buf_init(&busy);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (strncmp(n, "busy-", 5) == 0) {
            buf_append(&busy, n, len + 1);
        } else if (len > 8 && strcmp(n + len - 8, ".crashes") == 0 &&
                   !exists_in(claimed, n, len - 8)) {
            char *p = xasprintf("%s/%s", state, n);
            unlink(p);
            free(p);
        }
    }
    closedir(d);
    for (size_t off = 0; off < busy.len; off += strlen(busy.data + off) + 1) {
        char *path = xasprintf("%s/%s", state, busy.data + off);
        char line[512] = "";
        FILE *f = fopen(path, "re");
        if (f) {
            if (!fgets(line, sizeof line, f))
                line[0] = 0;
            fclose(f);
        }
        line[strcspn(line, "\n")] = 0;
        if (line[0] && line[0] != '.' && !strchr(line, '/') &&
            exists_in(claimed, line, strlen(line))) {
            char *cp = crashes_path(state, line);
            long n = read_count(cp) + 1;
            write_count(cp, n);
            bs_warn("spool file %s/%s was being read when ingest stopped (%ld of %ld before "
                    "quarantine)",
                    claimed, line, n, r->opts.quarantine_after);
            free(cp);
        }
        unlink(path);
        free(path);
    }
    buf_free(&busy);
}

/* Moves DIR/claimed/name to the quarantine directory and emits a "quarantine" record. */
static int quarantine(ingest_run *r, const char *dir, const char *state, const char *name,
                      long count)
{
    char *claimed = xasprintf("%s/claimed", dir);
    char *own = NULL;
    const char *qdir = r->opts.quarantine_dir;
    if (!qdir)
        qdir = own = xasprintf("%s/quarantine", dir);
    char *from = xasprintf("%s/%s", claimed, name);
    char *to = xasprintf("%s/%s", qdir, name);
    char *cp = crashes_path(state, name);
    int status = 0;
    if ((mkdir(qdir, 0755) < 0 && errno != EEXIST) || rename(from, to) < 0) {
        bs_error("cannot quarantine spool file (%s to %s): %s; it is left there unread", from, to,
                 strerror(errno));
        goto done;
    }
    unlink(cp);
    char id[17];
    if (named_by_file(name)) {
        for (int i = 0; i < 16; i++)
            id[i] = (char)((name[i] >= 'A' && name[i] <= 'F') ? name[i] - 'A' + 'a' : name[i]);
        id[16] = 0;
    } else {
        hex64(bs_fnv1a64(name, strlen(name), 0), id);
    }
    char *source = xasprintf("%s/%s", dir, name);
    char *why = xasprintf("ingest crashed or timed out %ld times reading it", count);
    json_t *rec = rec_new("quarantine", id);
    json_object_set_new(rec, "source", json_pack("{s:s, s:s}", "type", "spool", "name", source));
    json_object_set_new(rec, "path", json_string(to));
    json_object_set_new(rec, "attempts", json_integer(count));
    json_object_set_new(rec, "error", json_string(why));
    bs_buf line;
    buf_init(&line);
    json_out(&line, rec);
    buf_putc(&line, '\n');
    json_decref(rec);
    ing_job job = {0};
    job.line_len = line.len;
    job.line = buf_steal(&line);
    job.diag = xasprintf("quarantined (%s): %s; moved to %s", source, why, to);
    free(source);
    free(why);
    if (pool_submit(r->pool, &job) < 0)
        status = -1;
done:
    free(claimed);
    free(cp);
    free(from);
    free(to);
    free(own);
    return status;
}

/* A leftover of DIR/claimed: read, read alone (it was being read in a crash), or
 * quarantined (that happened Quarantine_After times). */
static int reclaim(ingest_run *r, const char *dir, const char *state, const char *name)
{
    char *cp = crashes_path(state, name);
    long crashes = read_count(cp);
    char *from = xasprintf("%s/%s", dir, name);
    char *to = xasprintf("%s/claimed/%s", dir, name);
    int status;
    if (crashes >= r->opts.quarantine_after) {
        status = quarantine(r, dir, state, name, crashes);
    } else if (crashes > 0) {
        status = pool_wait_idle(r->pool);
        if (status == 0)
            status = ingest_file(r, to, "spool", from, to, 0, 0);
        if (status >= 0 && pool_wait_idle(r->pool) < 0)
            status = -1;
        if (status >= 0) /* read through without a crash */
            unlink(cp);
    } else {
        status = ingest_file(r, to, "spool", from, to, 0, 0);
    }
    free(cp);
    free(from);
    free(to);
    return status;
}

/* Opens the workers' busy files (after the jobs of other inputs are done). */
static int open_busy_files(ingest_run *r, const char *state)
{
    if (pool_wait_idle(r->pool) < 0)
        return -1;
    for (int i = 0; i < r->opts.workers; i++) {
        char *p = xasprintf("%s/busy-%d", state, i);
        int fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            bs_error("cannot create busy file (%s): %s; crashes are not counted", p,
                     strerror(errno));
        worker_ctx *w = &r->ctxs[i];
        close_busy(w);
        w->busy_fd = fd;
        /* Mapped when it can be (else written with pwrite): "\n" then zero bytes. */
        void *m = MAP_FAILED;
        if (fd >= 0 && ftruncate(fd, BUSY_SIZE) == 0)
            m = mmap(NULL, BUSY_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m != MAP_FAILED) {
            w->busy_map = m;
            w->busy_map[0] = '\n';
        }
        free(p);
    }
    return 0;
}

int ingest_spool(ingest_run *r, const char *dir, int follow)
{
    struct stat st;
    /* A follower may start before the listener made the spool: it creates it. */
    if (follow && stat(dir, &st) < 0 && errno == ENOENT && mkdir(dir, 0755) < 0 &&
        errno != EEXIST) {
        bs_error("cannot create spool directory (%s): %s", dir, strerror(errno));
        return EX_NOINPUT;
    }
    if (stat(dir, &st) < 0) {
        bs_error("cannot open spool directory (%s): %s", dir, strerror(errno));
        return EX_NOINPUT;
    }
    if (!S_ISDIR(st.st_mode)) {
        bs_error("cannot open spool directory (%s): not a directory", dir);
        return EX_NOINPUT;
    }
    char *claimed = xasprintf("%s/claimed", dir);
    if (mkdir(claimed, 0755) < 0 && errno != EEXIST) {
        bs_error("cannot create claim directory (%s): %s", claimed, strerror(errno));
        free(claimed);
        return EX_NOINPUT;
    }
    int ifd = -1;
    if (follow) { /* watch before the first scan: nothing arriving meanwhile is missed */
        ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ifd < 0 ||
            inotify_add_watch(ifd, dir,
                              IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF) < 0)
            bs_fatal(EX_OSERR, "inotify (%s): %s", dir, strerror(errno));
    }
    char *state = xasprintf("%s/.ingest", dir);
    if (mkdir(state, 0755) < 0 && errno != EEXIST)
        bs_error("cannot create state directory (%s): %s; crashes are not counted", state,
                 strerror(errno));
    /* The crash accounting assumes one ingest per spool: a second one reads without it. */
    char *lock = xasprintf("%s/lock", state);
    int status = 0;
    if (r->lock_fd < 0) {
        r->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (r->lock_fd < 0)
            bs_error("cannot create lock file (%s): %s; crashes are not counted", lock,
                     strerror(errno));
        else if (flock(r->lock_fd, LOCK_EX | LOCK_NB) < 0) {
            bs_warn("another ingest reads this spool (%s is locked): crashes are not counted",
                    lock);
            close(r->lock_fd);
            r->lock_fd = -1;
        }
    }
    free(lock);
    if (r->lock_fd >= 0) {
        count_crashes(r, state, claimed);
        status = open_busy_files(r, state);
    }
    char **left = status < 0 ? NULL : list_msg_files(claimed, 0);
    if (!left && status >= 0) {
        bs_error("cannot read claim directory (%s): %s", claimed, strerror(errno));
        status = EX_NOINPUT;
    }
    for (char **n = left; n && *n && status >= 0; n++)
        status = worse(status, reclaim(r, dir, state, *n));
    free_list(left);
    free(state);
    free(claimed);
    if (status >= 0)
        status = worse(status, claim_all(r, dir));
    if (follow && status >= 0)
        status = worse(status, follow_spool(r, dir, ifd));
    if (ifd >= 0)
        close(ifd);
    return status;
}
