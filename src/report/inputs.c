/* inputs.c — non-blocking record sources with FIFO reconnection. */
#include "inputs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

void inputs_init(rp_inputs *ins, int reopen)
{
    memset(ins, 0, sizeof *ins);
    ins->reopen = reopen;
}

static rp_input *grow(rp_inputs *ins)
{
    ins->v = xrealloc(ins->v, (ins->n + 1) * sizeof *ins->v);
    rp_input *in = &ins->v[ins->n++];
    memset(in, 0, sizeof *in);
    in->fd = -1;
    in->saved_flags = -1;
    return in;
}

void inputs_add_stdin(rp_inputs *ins)
{
    int flags = fcntl(0, F_GETFL);
    if (flags < 0)
        return; /* closed */
    rp_input *in = grow(ins);
    in->path = xstrdup("stdin");
    in->type = INPUT_STDIN;
    in->fd = 0;
    in->saved_flags = flags;
    fcntl(0, F_SETFL, flags | O_NONBLOCK);
    in->in = rec_in_new(0, "stdin");
}

static int open_input(rp_input *in)
{
    in->fd = open(in->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (in->fd < 0)
        return -1;
    in->in = rec_in_new(in->fd, in->path);
    return 0;
}

int inputs_add(rp_inputs *ins, const char *path, char **err)
{
    *err = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        *err = xasprintf("cannot open input (%s): %s", path, strerror(errno));
        return -1;
    }
    rp_input *in = grow(ins);
    in->path = xstrdup(path);
    in->type = S_ISFIFO(sb.st_mode) ? INPUT_FIFO : INPUT_FILE;
    if (open_input(in) != 0) {
        *err = xasprintf("cannot open input (%s): %s", path, strerror(errno));
        free(in->path);
        ins->n--;
        return -1;
    }
    return 0;
}

static void finish(rp_input *in)
{
    rec_in_free(in->in);
    in->in = NULL;
    if (in->type == INPUT_STDIN) {
        if (in->saved_flags >= 0)
            fcntl(0, F_SETFL, in->saved_flags);
    } else if (in->fd >= 0) {
        close(in->fd);
    }
    in->fd = -1;
}

void inputs_free(rp_inputs *ins)
{
    for (size_t i = 0; i < ins->n; i++) {
        finish(&ins->v[i]);
        free(ins->v[i].path);
    }
    free(ins->v);
    memset(ins, 0, sizeof *ins);
}

int inputs_open(const rp_inputs *ins)
{
    for (size_t i = 0; i < ins->n; i++)
        if (ins->v[i].fd >= 0)
            return 1;
    return 0;
}

size_t inputs_pollfds(const rp_inputs *ins, struct pollfd *pfd, size_t *idx)
{
    size_t k = 0;
    for (size_t i = 0; i < ins->n; i++) {
        if (ins->v[i].fd < 0)
            continue;
        pfd[k].fd = ins->v[i].fd;
        pfd[k].events = POLLIN;
        pfd[k].revents = 0;
        idx[k++] = i;
    }
    return k;
}

int inputs_buffered(const rp_inputs *ins, size_t i)
{
    return ins->v[i].fd >= 0 && ins->v[i].in && rec_in_has_line(ins->v[i].in);
}

long inputs_read(rp_inputs *ins, size_t i, long max, input_fn fn, void *ctx)
{
    rp_input *in = &ins->v[i];
    long n = 0;
    while (in->fd >= 0 && n < max) {
        json_t *rec;
        /* report never reads the original header block (a third of a message record): a
         * canonical line is parsed without it */
        static const char *const unread[] = {"header_block", "header_block_b64"};
        int rc = rec_in_next_without(in->in, &rec, unread, 2);
        if (rc == 1) {
            n++;
            int frc = fn(ctx, rec);
            json_decref(rec);
            if (frc < 0)
                return -1;
            continue;
        }
        if (rc == 2)
            break;
        /* End of file (0) or a read error (-1, already reported). */
        finish(in);
        if (in->type == INPUT_FIFO && ins->reopen && open_input(in) != 0)
            bs_error("cannot reopen input (%s): %s", in->path, strerror(errno));
        break;
    }
    return n;
}
