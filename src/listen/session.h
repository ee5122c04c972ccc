/* session.h — one SMTP session as a state machine: client bytes in, reply bytes out.
 *
 * The session knows nothing of sockets, so tests and the fuzzer drive it in-process.
 * The server feeds it what arrived (sess_feed), sends what it appended to sess_out(),
 * and acts on its flags: CLOSE (send the output, then close), STARTTLS (send the output,
 * discard unread input, start TLS, call sess_tls_started), BLOCKED (a spool job is
 * running; stop reading until sess_spool_done), DELAY (a slow reply: send the output up
 * to the mark of sess_delay, hold the rest and stop reading for the delay, then send it
 * and call sess_delay_done).
 *
 * Commands are a table of {name, check, proceed} (OpenSMTPD style): check validates
 * state and syntax and answers errors; proceed acts. Reply texts are in a table too.
 */
#ifndef LISTEN_SESSION_H
#define LISTEN_SESSION_H

#include <stddef.h>

#include "conf.h"
#include "facts.h"
#include "replies.h"
#include "shape.h"
#include "spool.h"
#include "util.h"

typedef enum {
    S_GREET,    /* connected, before HELO/EHLO */
    S_IDLE,     /* after HELO/EHLO, no transaction */
    S_MAIL,     /* after MAIL, no recipient accepted yet */
    S_RCPT,     /* at least one recipient accepted */
    S_DATA,     /* reading a DATA body */
    S_BDAT,     /* reading a BDAT chunk */
    S_SPOOLING, /* waiting for the spool job */
    S_CLOSED
} sess_state;

#define SESS_CLOSE 1
#define SESS_STARTTLS 2
#define SESS_BLOCKED 4
#define SESS_DELAY 8 /* a slow reply: send sess_out() up to the mark, hold the rest */

typedef struct sess sess;

typedef struct {
    void *ctx;
    /* Starts a spool job. Returns 0 when it ran synchronously (job->err holds the result),
     * 1 when it runs elsewhere and sess_spool_done will be called. The session owns job. */
    int (*spool)(void *ctx, sess *s, spool_job *job);
    /* Takes a record line (malloc'd, without newline). */
    void (*record)(void *ctx, char *line, size_t len);
    /* True when the record queue is full (back-pressure). */
    int (*records_full)(void *ctx);
    /* Starts a facts job (facts.h). Returns 0 when it ran synchronously (job->out holds
     * the result), 1 when it runs elsewhere and sess_facts_done will be called. The
     * session gives job away: the server frees it (a NULL hook: facts are never computed,
     * every costly fact reads temperror). */
    int (*facts)(void *ctx, sess *s, facts_job *job);
} sess_hooks;

typedef struct {
    const lconf *cf;
    const reply_table *replies;
    int tls_available;
    shape *shape; /* greylist and throttle tables; NULL: none (greylist is accept) */
} sess_env;

typedef struct {
    unsigned long messages, spooled, blackholed, inband, relay_denied;
    unsigned long greylisted, throttled,
        delayed;           /* 451 greylist, throttle refusals, slow replies */
    unsigned long persona; /* persona replies (one per recipient) */
} sess_stats;

sess *sess_new(const sess_env *env, const sess_hooks *hooks, const char *client_ip, uint64_t seed);
void sess_free(sess *s);
/* 1: every record through jansson, the reference (tests compare it with the direct
 * writer that blackhole and in-band records use by default, byte for byte). */
extern int sess_records_via_jansson;

void sess_greet(sess *s);
/* Consumes client bytes; returns how many were used (fewer than n only when a flag
 * stopped it). */
size_t sess_feed(sess *s, const char *p, size_t n);
bs_buf *sess_out(sess *s);
int sess_flags(const sess *s);
sess_state sess_get_state(const sess *s);
int sess_in_transaction(const sess *s);
const sess_stats *sess_get_stats(const sess *s);

void sess_spool_done(sess *s);

/* Facts (facts.h). The "needs facts" switch: bits (FACT_*) this session (FACT_RDNS) or
 * this transaction (FACT_SPF, FACT_MESSAGE; cleared when it ends) needs; a transaction
 * needing FACT_MESSAGE gets its facts at the end of DATA and an Authentication-Results
 * header in its spool files. */
void sess_facts_need(sess *s, unsigned bits);
/* Asks for facts now: 0 when they are known (nothing to wait for), 1 when a job runs
 * (SESS_BLOCKED) and resume(s, arg) will be called from sess_facts_done. */
int sess_facts_get(sess *s, unsigned bits, void (*resume)(sess *s, void *arg), void *arg);
/* The server: the job given to hooks->facts finished (job: its results, taken over by the
 * session and freed) or timed out / was given up (job NULL: what was asked reads
 * temperror). */
void sess_facts_done(sess *s, facts_job *job);
/* The facts known so far (cheap facts always filled in). */
const listen_facts *sess_facts(sess *s);
/* With SESS_DELAY: the delay in milliseconds and the output offset where it starts. */
void sess_delay(const sess *s, long *ms, size_t *mark);
void sess_delay_done(sess *s); /* the job given to hooks->spool finished (job->err) */
void sess_tls_started(sess *s);
void sess_timeout(sess *s);
/* Server shutdown: force = 0 closes now when idle, else after the transaction;
 * force = 1 closes now. */
void sess_shutdown(sess *s, int force);

#endif
