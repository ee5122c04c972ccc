/* util.h — generic helpers shared by every Bouncy Sink tool.
 *
 * Diagnostics go to stderr as `prog: severity: text`. Severities:
 *   bs_warn   something is off, processing continues;
 *   bs_error  an input item is bad (named with its position), processing continues;
 *   bs_fatal  the process cannot go on: exits with the given <sysexits.h> code;
 *   bs_panic  a bug: exits 70 (EX_SOFTWARE).
 * Allocation (xmalloc & co.) succeeds or exits 71 (EX_OSERR).
 *
 * One exit-code rule, the same failure the same code in every program (bouncy-sink(7)):
 *   64 EX_USAGE     bad command line          65 EX_DATAERR   an input file's content is bad
 *   66 EX_NOINPUT   an input cannot be opened  69 EX_UNAVAILABLE an address cannot be bound
 *   70 EX_SOFTWARE  a bug: bs_panic, or a library misused (e.g. curl_multi_add_handle)
 *   71 EX_OSERR     the system refused a resource: memory, sockets, threads, signalfd,
 *                   poll/epoll, or a library's initialisation (curl_global_init,
 *                   curl_multi_init, curl_easy_init, event_base_new)
 *   73 EX_CANTCREAT an output cannot be created  74 EX_IOERR a read or write failed
 *   75 EX_TEMPFAIL  try again later (another process holds the resource)
 *   78 EX_CONFIG    bad configuration (FILE:LINE)
 * Each program's EXIT STATUS (its page) and DIAGNOSTICS (its main.c) list the codes it
 * can exit with; tests/man/10-exit-status.t checks them against the sources.
 * Ownership: every function returning char * returns memory the caller frees,
 * unless its comment says otherwise.
 */
#ifndef BS_UTIL_H
#define BS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#define BS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define BS_NORETURN __attribute__((noreturn))

extern const char *bs_progname;
void bs_set_progname(const char *argv0);
/* The release, the same for every program (Makefile VERSION). */
extern const char bs_version[];
/* --version: `PROG (Bouncy Sink) VERSION` on stdout, exit 0 (74 when stdout fails). */
BS_NORETURN void bs_print_version(void);

/* Every diagnostic is printed as one line: control characters (C0, DEL, C1) and bytes
 * that are not UTF-8 in it are escaped as \xHH, and it is cut at 4 KB. */
void bs_info(const char *fmt, ...) BS_PRINTF(1, 2);
void bs_warn(const char *fmt, ...) BS_PRINTF(1, 2);
void bs_error(const char *fmt, ...) BS_PRINTF(1, 2);
BS_NORETURN void bs_fatal(int exit_code, const char *fmt, ...) BS_PRINTF(2, 3);
BS_NORETURN void bs_panic(const char *fmt, ...) BS_PRINTF(1, 2);

/* Escapes s[0, n) into out (always NUL-terminated when size > 0): control characters
 * (C0, DEL, C1) and bytes that are not UTF-8 become \xHH. Stops before out would
 * overflow; returns the number of input bytes written. */
size_t bs_escape(char *out, size_t size, const char *s, size_t n);
/* Untrusted text (a record id, an address, a peer's reply) for a diagnostic: escaped as
 * bs_escape and cut after BS_SHOW_MAX bytes, marked "...(N bytes)". Returns a buffer of
 * the calling thread, one of 8 used in turn: up to 8 per diagnostic. NULL: "(none)". */
#define BS_SHOW_MAX 128
const char *bs_show(const char *s);

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) BS_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) BS_PRINTF(1, 0);

/* Growable byte buffer, always NUL-terminated (data[len] == 0). */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} bs_buf;
void buf_init(bs_buf *b);
void buf_free(bs_buf *b);
void buf_reset(bs_buf *b);
void buf_reserve(bs_buf *b, size_t extra);
/* Appending is inline: a record's log line and history row are built from many short
 * pieces, and a call per piece was a fifth of building them (callgrind, report). */
static inline void buf_append(bs_buf *b, const void *p, size_t n)
{
    if (b->len + n >= b->cap)
        buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}
static inline void buf_puts(bs_buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}
static inline void buf_putc(bs_buf *b, char c)
{
    if (b->len + 1 >= b->cap)
        buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = 0;
}
void buf_printf(bs_buf *b, const char *fmt, ...) BS_PRINTF(2, 3);
void buf_vprintf(bs_buf *b, const char *fmt, va_list ap) BS_PRINTF(2, 0);
/* Appends s (NULL: nothing) with & < > " as HTML entities, and with BS_HTML_APOS ' as
 * &#39; too (a value that may stand in either kind of quotes). */
#define BS_HTML_APOS 1u
void buf_html_escape(bs_buf *b, const char *s, unsigned flags);
/* Hands the data over to the caller (who frees it) and leaves b empty. */
char *buf_steal(bs_buf *b);

/* Strings. */
char *bs_trim(char *s);                         /* in place; returns s advanced */
int bs_strcaseeq(const char *a, const char *b); /* ASCII case-insensitive equality */
int bs_has_suffix_ci(const char *s, const char *suffix);
void bs_lower(char *s); /* ASCII, in place */
/* Strict number parsing of a whole string (surrounding blanks allowed). 0 ok, -1 bad. */
int bs_parse_double(const char *s, double *out);
int bs_parse_long(const char *s, long *out);
/* A whole number of bytes with an optional K, M or G suffix (binary multiples), blanks
 * around allowed: 0 ok, -1 bad or beyond SIZE_MAX. */
int bs_parse_size(const char *s, size_t *out);
/* True when [p, p+n) is valid UTF-8 without NUL bytes (fast on ASCII runs). */
int bs_utf8_valid(const char *p, size_t n);
/* Length of the valid UTF-8 sequence that starts [p, p+n): 1 for ASCII, 2 to 4 for a
 * well-formed shortest sequence of a scalar value; 0 for NUL, an empty range, or a
 * byte that does not start one (overlong forms, surrogates, above U+10FFFF, cut short). */
size_t bs_utf8_seq(const char *p, size_t n);

/* Base64 (standard alphabet, no line breaks). Decode returns -1 on bad input. */
char *bs_base64_encode(const void *p, size_t n);
int bs_base64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen);

/* Time. Wall clock in seconds with sub-second part; overridable for tests through
 * bs_time_set_override (e.g. from a --now option). */
double bs_now(void);
void bs_time_set_override(double epoch);
/* Seconds on CLOCK_MONOTONIC (not overridable): for timeouts, intervals and rates. */
double bs_monotonic(void);
/* Parses `2026-11-24T20:05:10Z`, `2026-11-24T20:05:10.5+01:00`, `2026-11-24 20:05:10`
 * (local time) or a number of seconds since the epoch. 0 ok, -1 bad. */
int bs_parse_time(const char *s, double *out);
/* ISO-8601 UTC with milliseconds: 2026-11-24T20:05:10.387Z (buf >= 32). */
char *bs_iso8601(double t, char *buf, size_t n);

/* Randomness from the kernel (getrandom). */
void bs_random_bytes(void *p, size_t n);
/* A kernel-random number in [0, n) (32 bits % n; 0 when n is 0), where no seed applies. */
unsigned bs_random_below(unsigned n);
/* Lower-case hex of the n bytes at p, NUL-terminated (out must hold 2n+1). */
void bs_hex(char *out, const void *p, size_t n);
/* Lower-case hex of n random bytes (out must hold 2n+1). */
void bs_random_hex(char *out, size_t nbytes);
/* 64-bit FNV-1a, for stable ids derived from content. */
uint64_t bs_fnv1a64(const void *p, size_t n, uint64_t seed);

#endif
