/* input.h — reading messages from files, standard input and mbox streams.
 *
 * A msg_stream reads one file descriptor. When mbox detection is on and the input starts
 * with "From ", it is an mbox stream: messages are separated by "From " lines, the empty
 * line before a separator (and at the end) belongs to the format, and mboxrd quoting is
 * undone (">From " -> "From ", ">>From " -> ">From "). Otherwise the whole input is one
 * message, byte for byte.
 *
 * A message longer than max_size is not kept (data NULL) but still read to its end, so
 * that its size and content-derived id are right and the stream goes on after it.
 *
 * Ids: a message's id is the 16 hex digits of bs_fnv1a64(content, size, ordinal), the
 * ordinal being its 1-based position among all messages of the run, so that replaying the
 * same inputs gives the same ids, and the same messages as files or as an mbox give the
 * same ids.
 */
#ifndef BS_INGEST_INPUT_H
#define BS_INGEST_INPUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct msg_stream msg_stream;

typedef struct {
    char *data;          /* NUL-terminated copy of the message, or NULL when over max_size */
    size_t len;          /* bytes in data */
    size_t size;         /* the message's size */
    uint64_t hash;       /* bs_fnv1a64(content, size, ordinal) */
    unsigned long index; /* 1-based position in the stream */
    int mbox;            /* read from an mbox stream */
} msg_read;

/* The fd is not closed by mstream_free. */
msg_stream *mstream_new(int fd, size_t max_size, int detect_mbox);
/* Skip computing hashes (the caller names messages otherwise); hash is then 0. */
void mstream_no_hash(msg_stream *s);
void mstream_free(msg_stream *s);
/* fn(arg) is called before each read(2), for input whose reads may wait (a pipe). */
void mstream_wait_hook(msg_stream *s, void (*fn)(void *arg), void *arg);

/* 1: *m holds the next message (caller frees m->data); 0: end of input (an empty input
 * that is not an mbox gives one empty message unless empty_is_nothing); -1: read error
 * (errno set; the message read so far is lost). */
int mstream_next(msg_stream *s, uint64_t ordinal, int empty_is_nothing, msg_read *m);

/* The .msg files of a directory (names only, sorted; NULL-terminated; caller frees each
 * and the array), at most max of them (0: all). NULL with errno set when the directory
 * cannot be read. */
char **list_msg_files(const char *dir, size_t max);
void free_list(char **names);

/* Hex of a 64-bit value: out holds 17 bytes. */
void hex64(uint64_t v, char out[17]);

#endif
