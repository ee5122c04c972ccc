/* acks.c — remembered action ids and the acks FIFO (see acks.h). */
#include "acks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logfile.h"
#include "util.h"

#define TABLE_SIZE (2 * ACKS_REMEMBER) /* open addressing, half full at most */
#define AID_MAX 512

/* A set of 64-bit hashes of ids (a collision would need 2^32 ids) with a ring that
 * forgets the oldest. 0 marks a free slot, a tombstone is 1 (hashes are never 0 or 1). */
struct rp_acks {
    uint64_t *table;
    uint64_t *ring;
    size_t ring_pos, ring_n, tombs;
    int fd;
    unsigned long dropped;
};

static uint64_t hash_of(const char *aid)
{
    uint64_t h = bs_fnv1a64(aid, strlen(aid), 0x61636b73);
    return h < 2 ? h + 2 : h;
}

static size_t slot_of(const rp_acks *a, uint64_t h)
{
    size_t i = (size_t)(h % TABLE_SIZE);
    while (a->table[i] && a->table[i] != h)
        i = (i + 1) % TABLE_SIZE;
    return i;
}

rp_acks *acks_new(const char *fifo, char **err)
{
    rp_acks *a = xcalloc(1, sizeof *a);
    a->table = xcalloc(TABLE_SIZE, sizeof *a->table);
    a->ring = xcalloc(ACKS_REMEMBER, sizeof *a->ring);
    a->fd = -1;
    if (fifo) {
        if (mkfifo(fifo, 0600) != 0 && errno != EEXIST) {
            *err = xasprintf("cannot create the acks FIFO (%s): %s", fifo, strerror(errno));
            acks_free(a);
            return NULL;
        }
        struct stat sb;
        a->fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (a->fd < 0 || fstat(a->fd, &sb) != 0 || !S_ISFIFO(sb.st_mode)) {
            *err = xasprintf("cannot open the acks FIFO (%s): %s", fifo,
                             a->fd < 0 ? strerror(errno) : "not a FIFO");
            acks_free(a);
            return NULL;
        }
    }
    return a;
}

void acks_free(rp_acks *a)
{
    if (!a)
        return;
    if (a->fd >= 0)
        close(a->fd);
    free(a->table);
    free(a->ring);
    free(a);
}

int acks_seen(const rp_acks *a, const char *aid)
{
    return a->table[slot_of(a, hash_of(aid))] != 0;
}

/* Removes h by re-inserting the rest of its cluster (no tombstones needed). */
static void forget(rp_acks *a, uint64_t h)
{
    size_t i = slot_of(a, h);
    if (!a->table[i])
        return;
    a->table[i] = 0;
    for (size_t j = (i + 1) % TABLE_SIZE; a->table[j]; j = (j + 1) % TABLE_SIZE) {
        uint64_t v = a->table[j];
        a->table[j] = 0;
        a->table[slot_of(a, v)] = v;
    }
}

void acks_remember(rp_acks *a, const char *aid)
{
    uint64_t h = hash_of(aid);
    size_t i = slot_of(a, h);
    if (a->table[i])
        return;
    if (a->ring_n == ACKS_REMEMBER)
        forget(a, a->ring[a->ring_pos]);
    else
        a->ring_n++;
    i = slot_of(a, h);
    a->table[i] = h;
    a->ring[a->ring_pos] = h;
    a->ring_pos = (a->ring_pos + 1) % ACKS_REMEMBER;
}

void acks_send(rp_acks *a, const char *aid)
{
    if (a->fd < 0)
        return;
    size_t n = strlen(aid);
    if (n >= AID_MAX || memchr(aid, '\n', n)) {
        a->dropped++;
        return;
    }
    char line[AID_MAX + 1];
    memcpy(line, aid, n);
    line[n] = '\n';
    /* at most PIPE_BUF: the write is whole or nothing */
    if (write(a->fd, line, n + 1) != (ssize_t)(n + 1))
        a->dropped++;
}

unsigned long acks_dropped(const rp_acks *a)
{
    return a->dropped;
}

int acks_id_of_line(const char *line, size_t len, char *out, size_t outlen)
{
    /* `date time,ms,logger,LEVEL,file,to,from,Action NAME ID ...`: the fields before
     * the items never hold a raw comma (report writes it as \x2c). */
    size_t commas = 0, i = 0;
    for (; i < len && commas < 7; i++)
        if (line[i] == ',')
            commas++;
    static const char tag[] = "Action ";
    if (commas < 7 || len - i < sizeof tag || memcmp(line + i, tag, sizeof tag - 1) != 0)
        return 0;
    i += sizeof tag - 1;
    while (i < len && line[i] != ' ') /* the name */
        i++;
    if (i < len)
        i++;
    size_t start = i;
    while (i < len && line[i] != ' ' && line[i] != ',')
        i++;
    size_t n = i - start;
    if (!n || n >= outlen)
        return 0;
    memcpy(out, line + start, n);
    out[n] = 0;
    return 1;
}

/* The action ids of the last `tail` bytes of a file (from the start of a line). */
static size_t read_tail(rp_acks *a, const char *path, size_t tail)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    struct stat sb;
    if (fstat(fileno(fp), &sb) == 0 && (size_t)sb.st_size > tail) {
        fseeko(fp, sb.st_size - (off_t)tail, SEEK_SET);
        int c;
        while ((c = getc(fp)) != EOF && c != '\n') /* to the start of a line */
            ;
    }
    char *line = NULL;
    size_t cap = 0, found = 0;
    ssize_t n;
    char aid[AID_MAX];
    while ((n = getline(&line, &cap, fp)) > 0) {
        if (acks_id_of_line(line, (size_t)n, aid, sizeof aid)) {
            acks_remember(a, aid);
            found++;
        }
    }
    free(line);
    fclose(fp);
    return found;
}

size_t acks_read_log(rp_acks *a, const char *logfile)
{
    /* Just after midnight the actions logged last are in the file rotated then: its end
     * first (older ids first: the ring forgets the oldest), up to ACKS_LOG_TAIL in all. */
    struct stat sb;
    size_t cur = stat(logfile, &sb) == 0 ? (size_t)sb.st_size : 0, found = 0;
    if (cur < ACKS_LOG_TAIL) {
        char *prev = rplog_newest_rotated(logfile);
        if (prev)
            found += read_tail(a, prev, ACKS_LOG_TAIL - cur);
        free(prev);
    }
    return found + read_tail(a, logfile, ACKS_LOG_TAIL);
}
