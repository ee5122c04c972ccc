/* record.c — NDJSON record reader and writer. */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

struct rec_in {
    int fd;
    char *name;
    char *buf;
    size_t start, end, cap;
    unsigned long lineno;
    int eof;
    int skipping; /* discarding the rest of an over-long line */
    unsigned long skip_line;
    FILE *flush;
    int (*wait)(void *arg); /* rec_in_wait_hook */
    void *wait_arg;
    char *scratch; /* rec_in_next_without's shortened line */
    size_t scratch_cap;
};

rec_in *rec_in_new(int fd, const char *name)
{
    rec_in *in = xcalloc(1, sizeof *in);
    in->fd = fd;
    in->name = xstrdup(name);
    in->cap = 64 * 1024;
    in->buf = xmalloc(in->cap);
    return in;
}

void rec_in_free(rec_in *in)
{
    if (!in)
        return;
    free(in->name);
    free(in->buf);
    free(in->scratch);
    free(in);
}

void rec_in_flush_before_wait(rec_in *in, FILE *out)
{
    in->flush = out;
}

void rec_in_wait_hook(rec_in *in, int (*wait)(void *arg), void *arg)
{
    in->wait = wait;
    in->wait_arg = arg;
}

void rec_in_buffer_size(rec_in *in, size_t size)
{
    if (size > in->cap && size <= REC_MAX_LINE) {
        in->cap = size;
        in->buf = xrealloc(in->buf, in->cap);
    }
}

unsigned long rec_in_lineno(const rec_in *in)
{
    return in->lineno;
}

int rec_in_fd(const rec_in *in)
{
    return in->fd;
}

int rec_in_has_line(const rec_in *in)
{
    return memchr(in->buf + in->start, '\n', in->end - in->start) != NULL;
}

static const char *why_static(const char *fmt, ...) BS_PRINTF(1, 2);
static const char *why_static(const char *fmt, ...)
{
    static char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return why;
}

static json_t *invalid_record(const char *line, size_t len, const char *name, unsigned long lineno,
                              const char *why)
{
    char id[64];
    snprintf(id, sizeof id, "invalid-%016llx-%lu",
             (unsigned long long)bs_fnv1a64(name, strlen(name), 0), lineno);
    json_t *rec = rec_new("invalid", id);
    char *where = xasprintf("%s:%lu: %s", name, lineno, why);
    json_object_set_new(rec, "error", json_string(where));
    free(where);
    json_object_set_new(rec, "source",
                        json_pack("{s:s, s:I}", "name", name, "line", (json_int_t)lineno));
    rec_set_bytes(rec, "text", line, len > 1000 ? 1000 : len);
    return rec;
}

json_t *rec_parse_line(const char *line, size_t len, const char *name, unsigned long lineno,
                       const char **why_out)
{
    const char *why = NULL;
    json_error_t jerr;
    json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!rec) {
        why = why_static("not JSON: %s (column %d)", jerr.text, jerr.column);
    } else if (!json_is_object(rec)) {
        why = "not a JSON object";
    } else {
        json_t *v = json_object_get(rec, "v");
        if (!json_is_integer(v))
            why = "missing \"v\" (schema version)";
        else if (json_integer_value(v) != REC_VERSION)
            why = why_static("unsupported schema version %lld (this program reads %d)",
                             (long long)json_integer_value(v), REC_VERSION);
        else if (!json_is_string(json_object_get(rec, "kind")))
            why = "missing \"kind\"";
        else if (!json_is_string(json_object_get(rec, "id")) ||
                 !*json_string_value(json_object_get(rec, "id")))
            why = "missing \"id\"";
    }
    if (why_out)
        *why_out = why;
    if (!why)
        return rec;
    json_decref(rec);
    return invalid_record(line, len, name, lineno, why);
}

static json_t *parse_reporting(rec_in *in, const char *line, size_t len)
{
    const char *why;
    json_t *rec = rec_parse_line(line, len, in->name, in->lineno, &why);
    if (why)
        bs_error("malformed record (%s:%lu): %s", in->name, in->lineno, why);
    return rec;
}

int rec_in_next_line(rec_in *in, const char **line_out, size_t *len_out, const char **why)
{
    static char long_why[96];
    *line_out = NULL;
    *len_out = 0;
    *why = NULL;
    for (;;) {
        char *nl = memchr(in->buf + in->start, '\n', in->end - in->start);
        if (nl) {
            char *line = in->buf + in->start;
            size_t len = (size_t)(nl - line);
            in->start += len + 1;
            if (in->skipping) {
                in->skipping = 0;
                snprintf(long_why, sizeof long_why, "line longer than %zu bytes", REC_MAX_LINE);
                *why = long_why;
                return REC_LINE_TOO_LONG;
            }
            in->lineno++;
            if (len && line[len - 1] == '\r')
                len--;
            if (len == 0)
                continue; /* blank lines separate nothing; ignore them */
            *line_out = line;
            *len_out = len;
            return 1;
        }
        if (in->eof) {
            if (in->skipping) { /* an over-long last line without newline */
                in->skipping = 0;
                in->start = in->end;
                *why = "line too long";
                return REC_LINE_TOO_LONG;
            }
            if (in->start < in->end) { /* last line without newline */
                in->lineno++;
                char *line = in->buf + in->start;
                size_t len = in->end - in->start;
                in->start = in->end;
                if (line[len - 1] == '\r')
                    len--;
                if (len == 0)
                    return 0;
                *line_out = line;
                *len_out = len;
                return 1;
            }
            return 0;
        }
        /* Need more input: compact, grow, or start skipping an over-long line. */
        if (in->start > 0) {
            memmove(in->buf, in->buf + in->start, in->end - in->start);
            in->end -= in->start;
            in->start = 0;
        }
        if (in->end == in->cap) {
            if (in->cap >= REC_MAX_LINE) {
                if (!in->skipping) {
                    in->skipping = 1;
                    in->skip_line = ++in->lineno;
                }
                in->end = 0;
            } else {
                in->cap *= 2;
                in->buf = xrealloc(in->buf, in->cap);
            }
        }
        if (in->flush)
            fflush(in->flush);
        if (in->wait && !in->wait(in->wait_arg))
            continue; /* not ready yet: look again (the hook may have work to do) */
        ssize_t n = read(in->fd, in->buf + in->end, in->cap - in->end);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 2;
            int saved = errno;
            bs_error("read error (%s): %s", in->name, strerror(errno));
            errno = saved;
            return -1;
        }
        if (n == 0)
            in->eof = 1;
        in->end += (size_t)n;
    }
}

unsigned long rec_in_skipped_line(const rec_in *in)
{
    return in->skip_line;
}

int rec_in_next(rec_in *in, json_t **out)
{
    const char *line, *why;
    size_t len;
    *out = NULL;
    int r = rec_in_next_line(in, &line, &len, &why);
    if (r == REC_LINE_TOO_LONG) {
        bs_error("malformed record (%s:%lu): %s", in->name, in->skip_line, why);
        *out = invalid_record("", 0, in->name, in->skip_line, why);
        return 1;
    }
    if (r == 1)
        *out = parse_reporting(in, line, len);
    return r;
}

int rec_in_next_pass(rec_in *in, json_t **out, const char **line, size_t *len, jc_want *want,
                     size_t nwant)
{
    const char *why;
    *out = NULL;
    *line = NULL;
    *len = 0;
    const char *l;
    size_t n;
    int r = rec_in_next_line(in, &l, &n, &why);
    if (r == REC_LINE_TOO_LONG) {
        bs_error("malformed record (%s:%lu): %s", in->name, in->skip_line, why);
        *out = invalid_record("", 0, in->name, in->skip_line, why);
        return 1;
    }
    if (r != 1)
        return r;
    if (jc_record_scan(l, n, want, nwant)) {
        *line = l;
        *len = n;
    } else {
        *out = parse_reporting(in, l, n);
    }
    return 1;
}

int rec_in_next_without(rec_in *in, json_t **out, const char *const *skip, size_t nskip)
{
    jc_want want[JC_MAX_WANT];
    const char *line;
    size_t len;
    if (nskip > JC_MAX_WANT)
        nskip = JC_MAX_WANT;
    for (size_t i = 0; i < nskip; i++)
        want[i] = (jc_want){skip[i], {NULL, 0}};
    int r = rec_in_next_pass(in, out, &line, &len, want, nskip);
    if (r != 1 || !line)
        return r;
    /* The members to leave out, as [from, to) of the line: `,"key":value`, in the order
     * of the line (a first member is kept: it has no comma before it). */
    size_t from[JC_MAX_WANT], to[JC_MAX_WANT], k = 0;
    for (size_t i = 0; i < nskip; i++) {
        if (!want[i].val.p)
            continue;
        size_t v = (size_t)(want[i].val.p - line), klen = strlen(skip[i]) + 3; /* "key": */
        size_t a = v - klen - 1, b = v + want[i].val.n;
        if (line[a] != ',')
            continue;
        size_t j = k++;
        for (; j > 0 && from[j - 1] > a; j--) {
            from[j] = from[j - 1];
            to[j] = to[j - 1];
        }
        from[j] = a;
        to[j] = b;
    }
    if (k == 0) {
        *out = jc_build(line, len);
    } else {
        if (in->scratch_cap < len) {
            free(in->scratch);
            in->scratch_cap = len;
            in->scratch = xmalloc(len);
        }
        size_t n = 0, at = 0;
        for (size_t i = 0; i < k; i++) {
            memcpy(in->scratch + n, line + at, from[i] - at);
            n += from[i] - at;
            at = to[i];
        }
        memcpy(in->scratch + n, line + at, len - at);
        n += len - at;
        *out = jc_build(in->scratch, n); /* still canonical: whole members left out */
    }
    if (!*out) /* cannot happen: the line is canonical */
        *out = parse_reporting(in, line, len);
    return 1;
}

int rec_write_line(FILE *out, const char *line, size_t len)
{
    if (fwrite(line, 1, len, out) != len || putc('\n', out) == EOF) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}

int rec_splice_begin(bs_buf *scratch, const char *key)
{
    buf_reset(scratch);
    buf_putc(scratch, ',');
    int bad = jc_dump_string(scratch, key, strlen(key)) < 0;
    buf_putc(scratch, ':');
    return bad ? -1 : 0;
}

int rec_splice_end(FILE *out, const char *line, size_t len, bs_buf *scratch)
{
    buf_puts(scratch, "}\n");
    if (fwrite(line, 1, len, out) != len ||
        fwrite(scratch->data, 1, scratch->len, out) != scratch->len) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}

int rec_write_spliced(FILE *out, const char *line, size_t len, const char *key, const json_t *v,
                      bs_buf *scratch)
{
    if (rec_splice_begin(scratch, key) < 0 || jc_dump(scratch, v) < 0) {
        errno = EILSEQ;
        return -1;
    }
    return rec_splice_end(out, line, len, scratch);
}

json_t *rec_new(const char *kind, const char *id)
{
    char ts[40];
    bs_iso8601(bs_now(), ts, sizeof ts);
    /* What json_pack("{s:i, s:s, s:s, s:s}") builds (NULL for a kind or id that is not
     * UTF-8), without parsing a format per record. */
    json_t *k = kind ? json_string(kind) : NULL, *i = id ? json_string(id) : NULL;
    if (!k || !i) {
        json_decref(k);
        json_decref(i);
        return NULL;
    }
    json_t *rec = json_object();
    json_object_set_new(rec, "v", json_integer(REC_VERSION));
    json_object_set_new(rec, "kind", k);
    json_object_set_new(rec, "id", i);
    json_object_set_new(rec, "ts", json_string(ts));
    return rec;
}

const char *rec_kind(const json_t *rec)
{
    return json_string_value(json_object_get(rec, "kind"));
}

const char *rec_id(const json_t *rec)
{
    return json_string_value(json_object_get(rec, "id"));
}

int rec_write(FILE *out, const json_t *rec)
{
    if (json_dumpf(rec, out, JSON_COMPACT) < 0 || putc('\n', out) == EOF) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return ferror(out) ? -1 : 0;
}

void rec_close_output(FILE *out, const char *name)
{
    int bad = fflush(out) != 0 || ferror(out);
    int saved = errno;
    if (fclose(out) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (bad)
        bs_fatal(EX_IOERR, "write error (%s): %s", name, strerror(saved ? saved : EIO));
}

void rec_set_bytes(json_t *obj, const char *key, const char *p, size_t n)
{
    if (bs_utf8_valid(p, n)) {
        json_object_set_new(obj, key, json_stringn(p, n));
        return;
    }
    char *k = xasprintf("%s_b64", key);
    char *enc = bs_base64_encode(p, n);
    json_object_set_new(obj, k, json_string(enc));
    free(enc);
    free(k);
}

char *rec_get_bytes(const json_t *obj, const char *key, size_t *n)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v)) {
        *n = json_string_length(v);
        return xstrndup(json_string_value(v), *n);
    }
    char *k = xasprintf("%s_b64", key);
    v = json_object_get(obj, k);
    free(k);
    if (!json_is_string(v))
        return NULL;
    unsigned char *out;
    if (bs_base64_decode(json_string_value(v), json_string_length(v), &out, n) < 0)
        return NULL;
    return (char *)out;
}

json_t *rec_get(const json_t *obj, const char *path)
{
    const char *p = path;
    json_t *cur = (json_t *)obj;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        cur = json_object_getn(cur, p, len);
        p += len + (dot ? 1 : 0);
        if (!dot)
            break;
    }
    return cur;
}

const char *rec_str(const json_t *obj, const char *path)
{
    return json_string_value(rec_get(obj, path));
}

json_t *rec_obj(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_object(v)) {
        v = json_object();
        json_object_set_new(obj, key, v);
    }
    return v;
}

void bs_stage_init(const char *argv0)
{
    bs_set_progname(argv0);
    signal(SIGPIPE, SIG_IGN);
    /* A closed standard descriptor would be reused by the next open socket or file, and
     * records would go there: hold each closed one with /dev/null opened the wrong way
     * round, so that using it still fails (EBADF: write error, exit 74). */
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
            int nfd = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
            if (nfd >= 0 && nfd != fd) {
                dup2(nfd, fd);
                close(nfd);
            }
        }
    }
}
