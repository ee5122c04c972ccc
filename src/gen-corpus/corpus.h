/* corpus.h — composition of realistic ESP-style test messages for gen-corpus.
 *
 * Every message is a pure function of (options, seed, index): the same seed gives
 * the same messages whatever the output format or the number of messages asked.
 * Messages are built with CRLF line ends and are not signed here (see sign.h).
 */
#ifndef BS_GEN_CORPUS_CORPUS_H
#define BS_GEN_CORPUS_CORPUS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

typedef struct {
    char *name; /* routing label; "mixed" means directly under the sink domain */
    double weight;
} corpus_stream;

typedef struct {
    const char *tracking_base; /* no trailing slash, e.g. http://127.0.0.1:8080 */
    const char *unsub_base;    /* base of the List-Unsubscribe URL */
    const char *sink_domain;
    const char *from_domain; /* From: and DKIM d= */
    const char *mail_from;   /* envelope sender */
    const corpus_stream *streams;
    size_t nstreams;
    const char *signals_prefix; /* NULL: none */
    double signals_percent;
    uint64_t seed;
    double date;      /* Date of the first message (epoch seconds) */
    double interval;  /* seconds between consecutive messages */
    int no_one_click; /* no List-Unsubscribe-Post (RFC 8058 one-click): --no-one-click */
} corpus_opts;

typedef struct {
    char id[17]; /* 16 hex: spool file name */
    char *rcpt;
    char *stream;
    long date;     /* epoch seconds of the Date field */
    bs_buf msg;    /* header + body, CRLF, unsigned */
    json_t *open;  /* expected <img src> values, decoded, document order */
    json_t *click; /* expected <a href> values */
    const char *html_cte, *text_cte, *charset;
    int signals;
} corpus_msg;

void corpus_msg_init(corpus_msg *m);
void corpus_msg_free(corpus_msg *m); /* also resets for reuse */
void corpus_make(const corpus_opts *o, unsigned long index, corpus_msg *m);

/* "accept=10,oob=5,mixed=50": names are DNS labels (letters, digits, '-'), weights
 * non-negative numbers with a positive sum. 0 ok; -1 with *err (caller frees). */
int corpus_parse_streams(const char *spec, corpus_stream **out, size_t *n, char **err);
void corpus_free_streams(corpus_stream *s, size_t n);

/* Content-Transfer-Encodings (RFC 2045), CRLF line ends, lines <= 76 characters.
 * qp_encode: input lines end with LF (or CRLF); a line starting "From " has its
 * F encoded so mbox quoting never touches it. */
void qp_encode(bs_buf *out, const char *p, size_t n);
void b64_encode_lines(bs_buf *out, const void *p, size_t n);

#endif
