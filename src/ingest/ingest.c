/* ingest.c — inputs to records (see ingest.h). */
#include "ingest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "input.h"
#include "jsonout.h"
#include "message.h"
#include "pool.h"
#include "record.h"
#include "text.h"
#include "util.h"

typedef struct {
    msg_reader *reader;
    auth_ctx *auth;
} worker_ctx;

struct ingest_run {
    ingest_opts opts;
    ing_pool *pool;
    worker_ctx *ctxs;
    unsigned long long ordinal; /* messages so far */
    int output_failed;
};

/* A size with an optional K, M or G suffix (binary multiples). */
static int cfg_size(bs_config *cfg, const char *section, const char *key, size_t def,
                    size_t min, size_t *out)
{
    const char *v = cfg_get(cfg, section, key);
    *out = def;
    if (!v)
        return 0;
    char *copy = xstrdup(v), *t = bs_trim(copy);
    size_t n = strlen(t);
    unsigned long long mult = 1;
    if (n && strchr("kKmMgG", t[n - 1])) {
        char c = t[n - 1];
        mult = (c == 'k' || c == 'K') ? 1ULL << 10 : (c == 'm' || c == 'M') ? 1ULL << 20 : 1ULL << 30;
        t[--n] = 0;
    }
    long num;
    int bad = bs_parse_long(t, &num) < 0 || num < 0 ||
              (unsigned long long)num > (unsigned long long)SIZE_MAX / mult ||
              (size_t)num * mult < min;
    free(copy);
    if (bad)
        return cfg_fail(cfg, section, key,
                        "expected a size in bytes (suffix K, M or G allowed) of at least %zu",
                        min);
    *out = (size_t)((unsigned long long)num * mult);
    return 0;
}

int ingest_read_config(bs_config *cfg, ingest_opts *o)
{
    if (cfg_size(cfg, "Ingest", "Max_Message_Size", INGEST_DEFAULT_MAX_SIZE, 1024,
                 &o->max_size) < 0 ||
        cfg_size(cfg, "Ingest", "Max_Header_Size", MSG_DEFAULT_MAX_HEADER, 1024,
                 &o->max_header) < 0)
        return -1;
    return 0;
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
    if (job->input_error) {
        json_object_set_new(rec, "size", json_integer((json_int_t)job->size));
        error = xstrdup(job->input_error);
    } else {
        ing_envelope env = {0};
        if (msgr_read(w->reader, job->data, job->len, rec, &env, &error) == 0 && w->auth) {
            sig_cover cover;
            auth_check(w->auth, job->data, job->len, env.client_ip, env.helo, env.mail_from, rec,
                       &cover);
            msgr_apply_signed(w->reader, job->data, job->len, &cover, rec);
            sig_cover_clear(&cover);
        }
        envelope_clear(&env);
    }
    if (error) {
        json_object_set_new(rec, "error", json_string(error));
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
    if (r->opts.workers < 1)
        r->opts.workers = 1;
    msgr_global_init();
    r->ctxs = xcalloc((size_t)r->opts.workers, sizeof *r->ctxs);
    void **args = xcalloc((size_t)r->opts.workers, sizeof *args);
    for (int i = 0; i < r->opts.workers; i++) {
        r->ctxs[i].reader = msgr_new(r->opts.max_header);
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
    return r;
}

int ingest_finish(ingest_run *r)
{
    int err = pool_finish(r->pool);
    for (int i = 0; i < r->opts.workers; i++) {
        msgr_free(r->ctxs[i].reader);
        auth_free(r->ctxs[i].auth);
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

/* Every message of one open input. type: "file", "stdin" or "spool". */
static int ingest_fd(ingest_run *r, int fd, const char *type, const char *name,
                     const char *settle, int detect_mbox, int empty_is_nothing)
{
    msg_stream *s = mstream_new(fd, r->opts.max_size, detect_mbox);
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
        job.source = json_pack("{s:s, s:s}", "type", type, "name", name);
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
                       const char *settle, int detect_mbox)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (settle && errno == ENOENT)
            return 0; /* settled meanwhile */
        bs_error("cannot open input (%s): %s", path, strerror(errno));
        return EX_NOINPUT;
    }
    int status = ingest_fd(r, fd, type, name, settle, detect_mbox, 0);
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
    if (strcmp(path, "-") == 0)
        return ingest_fd(r, 0, "stdin", "stdin", NULL, 1, 1);
    struct stat st;
    if (stat(path, &st) < 0) {
        bs_error("cannot open input (%s): %s", path, strerror(errno));
        return EX_NOINPUT;
    }
    if (!S_ISDIR(st.st_mode))
        return ingest_file(r, path, "file", path, NULL, !bs_has_suffix_ci(path, ".msg"));
    char **names = list_msg_files(path, 0);
    if (!names) {
        bs_error("cannot read directory (%s): %s", path, strerror(errno));
        return EX_NOINPUT;
    }
    int status = 0;
    for (char **n = names; *n && status >= 0; n++) {
        char *p = xasprintf("%s/%s", path, *n);
        status = worse(status, ingest_file(r, p, "file", p, NULL, 0));
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
        status = ingest_file(r, to, "spool", from, to, 0);
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
    for (;;) {
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
        ssize_t n = read(ifd, evbuf, sizeof evbuf);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            bs_fatal(EX_OSERR, "inotify read (%s): %s", dir, strerror(errno));
        }
        int gone = 0;
        for (char *p = evbuf; p < evbuf + n && status >= 0;) {
            struct inotify_event *ev = (struct inotify_event *)p;
            p += sizeof *ev + ev->len;
            if (ev->mask & IN_Q_OVERFLOW)
                status = worse(status, claim_all(r, dir));
            else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
                gone = 1;
            else if (ev->len && ends_msg(ev->name))
                status = worse(status, claim(r, dir, ev->name, NULL));
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
        if (ifd < 0 || inotify_add_watch(ifd, dir, IN_MOVED_TO | IN_CLOSE_WRITE |
                                                       IN_DELETE_SELF | IN_MOVE_SELF) < 0)
            bs_fatal(EX_OSERR, "inotify (%s): %s", dir, strerror(errno));
    }
    int status = 0;
    char **left = list_msg_files(claimed, 0);
    if (!left) {
        bs_error("cannot read claim directory (%s): %s", claimed, strerror(errno));
        status = EX_NOINPUT;
    }
    for (char **n = left; n && *n && status >= 0; n++) {
        char *from = xasprintf("%s/%s", dir, *n);
        char *to = xasprintf("%s/%s", claimed, *n);
        status = worse(status, ingest_file(r, to, "spool", from, to, 0));
        free(from);
        free(to);
    }
    free_list(left);
    free(claimed);
    if (status >= 0)
        status = worse(status, claim_all(r, dir));
    if (follow && status >= 0)
        status = worse(status, follow_spool(r, dir, ifd));
    if (ifd >= 0)
        close(ifd);
    return status;
}
