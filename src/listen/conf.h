/* conf.h — the listener's settings ([Listen] and the [Sink] keys it uses) and its RNG.
 *
 * lconf_load reads every key once at start (the config getters are not thread-safe);
 * afterwards an lconf is read-only and shared by all threads. Strings are owned by
 * the lconf.
 */
#ifndef LISTEN_CONF_H
#define LISTEN_CONF_H

#include "rng.h"
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cidr.h"
#include "config.h"
#include "facts.h"
#include "proxy.h"

typedef struct {
    char *host; /* numeric address or name, without brackets */
    int port;
    char *where; /* "FILE:LINE" of the setting, for errors found later */
} listen_addr;

/* [Listen] Bare_Newline: what a line end other than <CRLF> gets (Postfix's
 * smtpd_forbid_bare_newline). Either way only <CRLF>.<CRLF> ends DATA. */
typedef enum {
    BARE_NEWLINE_NORMALIZE, /* a bare <LF> is taken for <CRLF> (stored as <CRLF>) */
    BARE_NEWLINE_REJECT     /* a bare <LF> or <CR> gets 550 5.5.2 and the session closes */
} bare_newline_mode;

/* A reply-latency distribution ([Listen] Slow_Delay), in seconds. */
typedef enum { DELAY_FIXED, DELAY_UNIFORM, DELAY_EXP } delay_kind;
typedef struct {
    delay_kind kind;
    double a, b; /* fixed: a; uniform: a-b; exp: mean a */
} slow_delay;

typedef struct {
    listen_addr *addrs;
    size_t naddrs;
    char **sink_domains; /* lower case, no trailing dot */
    size_t nsink;
    char *hostname;
    char *spool;
    int fsync;     /* SPOOL_FSYNC_NO, _FILES or _FS (spool.h) */
    char *records; /* NULL: stdout */
    char *tls_cert, *tls_key;
    char *tls_cert_where, *tls_key_where; /* "FILE:LINE" of the settings */
    bare_newline_mode bare_newline;
    char *replies_file;
    long threads;
    long max_connections;
    long command_timeout, data_timeout, shutdown_timeout;
    long max_message_size;
    long max_recipients;
    long max_errors;
    long records_queue;
    long spool_threads; /* 0: write in the event loop */
    long spill_size;    /* message bytes kept in memory before spilling to a file */
    int has_seed;
    uint64_t seed;
    double upstream_handled; /* percent */
    double inband_percent;   /* percent; < 0: use the weekly cycle */
    double *bounce_cycle;    /* Weekly_Cycle_Bounce_Rate, 7n entries */
    size_t nbounce_cycle;
    /* shaping (greylist, throttle, slow) */
    double greylist_percent;
    long greylist_delay, greylist_window, greylist_max_entries;
    long th_max_conns, th_max_per_conn, th_max_per_minute;
    long th_sub_per_minute, th_sub_per_conn, th_max_entries;
    double slow_percent;
    slow_delay slow;
    char *clock_file; /* NULL: none ($BS_LISTEN_CLOCK_FILE wins) */
    /* PROXY protocol: balancers allowed to send the header (none: off), its read time */
    bs_cidr *proxy_nets;
    size_t nproxy_nets;
    long proxy_timeout;
    /* facts (facts.h) */
    int facts_all;          /* [Listen] Facts: compute them for every transaction */
    long facts_timeout;     /* seconds a session waits for its facts */
    facts_ctx **facts_ctxs; /* one per facts thread ([Listen] Facts_Threads) */
    size_t nfacts_ctxs;
    struct lpersonas *personas; /* [Personas] (personas.h); NULL: no persona applies */
} lconf;

/* "fixed:S", "uniform:A-B", "exp:MEAN" (seconds, fractions allowed): 0 ok, -1 bad. */
int lconf_parse_delay(const char *spec, slow_delay *out);

/* 0 ok; -1 with the message (FILE:LINE: [Section] Key: why) in cfg_error(cfg). */
int lconf_load(bs_config *cfg, lconf *out);
void lconf_free(lconf *c);

/* The in-band bounce percent in force at time t (local time). */
double lconf_bounce_percent(const lconf *c, time_t t);

/* xoshiro256** from src/lib/rng.h — fast, seedable, one per session. */
typedef bs_rng lrng;

#endif
