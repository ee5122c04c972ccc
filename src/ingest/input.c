/* input.c — messages from files, stdin and mbox streams (see input.h). */
#include "input.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define CHUNK ((size_t)64 * 1024)
#define FNV_BASIS 0xcbf29ce484222325ULL

enum mode { MODE_UNKNOWN, MODE_SINGLE, MODE_MBOX, MODE_DONE };

struct msg_stream {
    int fd;
    size_t max_size;
    int detect_mbox;
    enum mode mode;
    char *buf; /* unread input: [start, end) */
    size_t start, end, cap;
    int eof;
    int at_line_start;
    int is_mbox;
    int no_hash;
    unsigned long index;
    void (*wait_hook)(void *arg); /* called before each read(2) */
    void *wait_arg;
};

void mstream_wait_hook(msg_stream *s, void (*fn)(void *arg), void *arg)
{
    s->wait_hook = fn;
    s->wait_arg = arg;
}

void mstream_no_hash(msg_stream *s)
{
    s->no_hash = 1;
}

msg_stream *mstream_new(int fd, size_t max_size, int detect_mbox)
{
    msg_stream *s = xcalloc(1, sizeof *s);
    s->fd = fd;
    s->max_size = max_size;
    s->detect_mbox = detect_mbox;
    s->cap = CHUNK;
    s->buf = xmalloc(s->cap);
    s->at_line_start = 1;
    return s;
}

void mstream_free(msg_stream *s)
{
    if (!s)
        return;
    free(s->buf);
    free(s);
}

/* Reads more input after the unread part. 1 read, 0 EOF, -1 error. */
static int fill(msg_stream *s)
{
    if (s->eof)
        return 0;
    if (s->start > 0 && s->start == s->end)
        s->start = s->end = 0;
    if (s->end == s->cap) {
        if (s->start > 0) {
            memmove(s->buf, s->buf + s->start, s->end - s->start);
            s->end -= s->start;
            s->start = 0;
        } else {
            return 1; /* full: the caller takes what is there */
        }
    }
    if (s->wait_hook)
        s->wait_hook(s->wait_arg);
    for (;;) {
        ssize_t n = read(s->fd, s->buf + s->end, s->cap - s->end);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) {
            s->eof = 1;
            return 0;
        }
        s->end += (size_t)n;
        return 1;
    }
}

/* The message being assembled. */
typedef struct {
    bs_buf data;
    size_t size;
    uint64_t hash;
    int over;
    int no_hash;
    size_t max;
} assembly;

static void asm_add(assembly *a, const char *p, size_t n)
{
    if (!n)
        return;
    if (!a->no_hash)
        a->hash = bs_fnv1a64(p, n, a->hash ^ FNV_BASIS);
    a->size += n;
    if (a->over)
        return;
    if (a->size > a->max) {
        a->over = 1;
        buf_free(&a->data);
        return;
    }
    buf_append(&a->data, p, n);
}

static void asm_finish(assembly *a, msg_read *m)
{
    m->size = a->size;
    m->hash = a->hash;
    if (a->over) {
        m->data = NULL;
        m->len = 0;
    } else {
        m->len = a->data.len;
        m->data = buf_steal(&a->data);
    }
}

/* Next piece of input: a whole line (with its newline) or, for a line longer than the
 * buffer, a part of it. *line_start tells whether the piece begins a line.
 * 1 piece, 0 EOF, -1 error. */
static int next_piece(msg_stream *s, const char **p, size_t *n, int *line_start)
{
    for (;;) {
        char *nl = memchr(s->buf + s->start, '\n', s->end - s->start);
        int full = s->start == 0 && s->end == s->cap;
        if (nl || full || (s->eof && s->end > s->start)) {
            size_t len = nl ? (size_t)(nl - (s->buf + s->start)) + 1 : s->end - s->start;
            *p = s->buf + s->start;
            *n = len;
            *line_start = s->at_line_start;
            s->at_line_start = nl != NULL;
            s->start += len;
            return 1;
        }
        int r = fill(s);
        if (r < 0)
            return -1;
        if (r == 0 && s->end == s->start)
            return 0;
    }
}

static int is_from_line(const char *p, size_t n)
{
    return n >= 5 && memcmp(p, "From ", 5) == 0;
}

/* ">From ", ">>From "...: mboxrd quoting, one '>' to drop. */
static int is_quoted_from(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && p[i] == '>')
        i++;
    return i > 0 && is_from_line(p + i, n - i);
}

static int is_empty_line(const char *p, size_t n)
{
    return (n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n');
}

static int read_single(msg_stream *s, assembly *a)
{
    for (;;) {
        if (s->end > s->start) {
            asm_add(a, s->buf + s->start, s->end - s->start);
            s->start = s->end;
        }
        int r = fill(s);
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
    }
}

static int read_mbox_message(msg_stream *s, assembly *a)
{
    const char *p;
    size_t n;
    int ls;
    char pending[2];
    size_t npending = 0; /* an empty line that may be the separator */
    for (;;) {
        /* Peek: a "From " line ends this message (left unread for the next one). */
        int r = next_piece(s, &p, &n, &ls);
        if (r < 0)
            return -1;
        if (r == 0)
            return 0; /* a trailing empty line is dropped too */
        if (ls && is_from_line(p, n)) {
            s->start -= n;
            s->at_line_start = 1;
            return 1;
        }
        if (npending) {
            asm_add(a, pending, npending);
            npending = 0;
        }
        if (ls && is_empty_line(p, n)) {
            memcpy(pending, p, n);
            npending = n;
            continue;
        }
        if (ls && is_quoted_from(p, n)) {
            p++;
            n--;
        }
        asm_add(a, p, n);
    }
}

int mstream_next(msg_stream *s, uint64_t ordinal, int empty_is_nothing, msg_read *m)
{
    memset(m, 0, sizeof *m);
    if (s->mode == MODE_DONE)
        return 0;
    if (s->mode == MODE_UNKNOWN) {
        while (s->end - s->start < 5) {
            int r = fill(s);
            if (r < 0)
                return -1;
            if (r == 0)
                break;
        }
        s->mode = s->detect_mbox && is_from_line(s->buf + s->start, s->end - s->start)
                      ? MODE_MBOX
                      : MODE_SINGLE;
        s->is_mbox = s->mode == MODE_MBOX;
        if (s->mode == MODE_SINGLE && s->eof && s->end == s->start && empty_is_nothing) {
            s->mode = MODE_DONE;
            return 0;
        }
    }
    assembly a = {
        .hash = s->no_hash ? 0 : FNV_BASIS ^ ordinal, .max = s->max_size, .no_hash = s->no_hash};
    buf_init(&a.data);
    int r;
    if (s->mode == MODE_SINGLE) {
        r = read_single(s, &a);
        s->mode = MODE_DONE;
    } else {
        const char *p;
        size_t n;
        int ls;
        r = next_piece(s, &p, &n, &ls); /* the "From " line */
        if (r == 0) {
            s->mode = MODE_DONE;
            buf_free(&a.data);
            return 0;
        }
        if (r > 0) {
            /* A "From " line longer than the buffer: skip the rest of it. */
            while (r > 0 && p[n - 1] != '\n')
                r = next_piece(s, &p, &n, &ls);
            if (r >= 0)
                r = read_mbox_message(s, &a);
        }
        if (r == 0)
            s->mode = MODE_DONE;
    }
    if (r < 0) {
        buf_free(&a.data);
        return -1;
    }
    asm_finish(&a, m);
    m->index = ++s->index;
    m->mbox = s->is_mbox;
    return 1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **list_msg_files(const char *dir, size_t max)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    size_t n = 0, cap = 64;
    char **names = xmalloc(cap * sizeof *names);
    struct dirent *de;
    while ((max == 0 || n < max) && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".msg") != 0)
            continue;
        if (n + 1 >= cap) {
            cap *= 2;
            names = xrealloc(names, cap * sizeof *names);
        }
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    names[n] = NULL;
    return names;
}

void free_list(char **names)
{
    if (!names)
        return;
    for (char **p = names; *p; p++)
        free(*p);
    free(names);
}

void hex64(uint64_t v, char out[17])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, v >>= 4)
        out[i] = digits[v & 15];
    out[16] = 0;
}
