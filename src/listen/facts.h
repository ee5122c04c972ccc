/* facts.h — the real facts of an SMTP session and its transaction (issue 16): what a
 * persona's rules are evaluated on.
 *
 * Stages: each fact is known from one SMTP stage on, and only when asked for:
 *   connect  client_ip; (FACT_RDNS) ptr, fcrdns
 *   EHLO     helo, tls (STARTTLS resets the session: tls is set from the next EHLO on)
 *   MAIL     mail_from; (FACT_SPF) auth.spf for the real client IP and MAIL FROM
 *   RCPT     rcpts (recipients accepted so far in this transaction)
 *   DATA     (FACT_MESSAGE, at the end of DATA) size, auth.dkim (results, d=), auth.dmarc
 *            (result, p=, sp=, alignment), the header facts
 * The cheap facts (client_ip, helo, tls, mail_from, rcpts, size) are always filled. The
 * costly ones (FACT_* bits) cost DNS and CPU: they are computed only for a session or
 * transaction that asks for them (a persona applies), off the event loop, and cached:
 * FACT_RDNS for the session, FACT_SPF and FACT_MESSAGE for the transaction.
 *
 * Asking (session.h): sess_facts_need(s, bits) is the "needs facts" switch — a transaction
 * that needs FACT_MESSAGE gets its facts computed at the end of DATA before it is spooled,
 * and its spool files carry them as an Authentication-Results header (RFC 8601; auth.h).
 * sess_facts_get(s, bits, resume, arg) asks for facts at any stage: it returns 0 when they
 * are known (or nothing is to compute), else 1: a facts job runs (hooks->facts), the
 * session is SESS_BLOCKED (reads nothing more), and when the job finishes or times out
 * (each DNS question: [Listen] Facts_Timeout; the job: three times that) the server
 * calls sess_facts_done, which calls resume(s, arg)
 * with the facts filled in (a lookup that timed out reads temperror). resume then
 * continues the command (answers it); the session reads on after it.
 *
 * Ownership: a listen_facts belongs to its session (sess_facts); strings are owned by it,
 * the borrowed ones (client_ip, helo, mail_from) live as long as the session's own.
 */
#ifndef LISTEN_FACTS_H
#define LISTEN_FACTS_H

#include <stddef.h>

#include "auth.h"
#include "config.h"

/* The costly facts, as a bit mask. */
#define FACT_RDNS 1u    /* ptr and fcrdns of the client IP (c-ares) */
#define FACT_SPF 2u     /* auth.spf (libspf2): needs MAIL */
#define FACT_MESSAGE 4u /* auth.dkim, auth.dmarc and the header facts: at the end of DATA */
#define FACT_ALL (FACT_RDNS | FACT_SPF | FACT_MESSAGE)

typedef enum {
    FACTS_AT_CONNECT,
    FACTS_AT_EHLO,
    FACTS_AT_MAIL,
    FACTS_AT_RCPT,
    FACTS_AT_DATA, /* the end of DATA (or of the last BDAT chunk) */
} facts_stage;

/* Forward-confirmed reverse DNS (RFC 8601 "iprev" words). */
typedef enum {
    FCRDNS_NONE,      /* not computed */
    FCRDNS_PASS,      /* a PTR name resolves back to the client IP */
    FCRDNS_FAIL,      /* PTR names exist, none resolves back to the client IP */
    FCRDNS_NOPTR,     /* no PTR record (NXDOMAIN or no answer) — iprev "permerror" */
    FCRDNS_TEMPERROR, /* a lookup failed or timed out */
} facts_fcrdns;

/* "none", "pass", "fail", "permerror" (no PTR), "temperror": the iprev result. */
const char *facts_fcrdns_name(facts_fcrdns r);

typedef struct {
    unsigned known; /* the FACT_* bits computed so far */

    /* connect */
    const char *client_ip; /* as text, "unknown" when the server could not tell */
    char *ptr;             /* FACT_RDNS: the first PTR name, without trailing dot (NULL: none) */
    facts_fcrdns fcrdns;   /* FACT_RDNS */

    /* EHLO */
    const char *helo; /* NULL before HELO/EHLO */
    int tls;          /* the session runs over TLS */

    /* MAIL */
    const char *mail_from; /* "" null sender; NULL before MAIL */

    /* RCPT */
    size_t rcpts; /* recipients accepted in this transaction so far */

    /* DATA */
    size_t size; /* octets of the message received (as the client sent them) */
    /* auth.spf (FACT_SPF); auth.dkim: every signature with result and d=, the verdict
     * (auth_dkim_verdict) and what it covers; auth.dmarc (FACT_MESSAGE): result, p=, sp=,
     * pct, the alignment modes and dkim_aligned / spf_aligned. */
    auth_results auth;
    /* header facts (FACT_MESSAGE) */
    int from_count;              /* From: fields (1 is right; RFC 5322 3.6) */
    int has_message_id;          /* a Message-ID field */
    int has_date;                /* a Date field */
    int list_unsubscribe;        /* a List-Unsubscribe field (RFC 2369) */
    int list_unsubscribe_post;   /* a List-Unsubscribe-Post field (RFC 8058) */
    int list_unsubscribe_signed; /* both, and both covered by the passing DKIM signature
                                    (auth_signed.h): the one-click unsubscribe of RFC 8058 */
} listen_facts;

/* One computation off the event loop: the server runs it (facts_run) on a facts thread and
 * hands it back to the session (sess_facts_done). Its inputs are its own copies, so a job
 * the session gave up on (timeout, closed connection) may finish later and be freed. */
typedef struct facts_job {
    unsigned want;   /* FACT_* bits to compute */
    char *client_ip; /* inputs (owned) */
    char *helo;
    char *mail_from;
    char *msg; /* FACT_MESSAGE: the whole message, header and body (owned) */
    size_t msg_len;
    listen_facts out; /* results: ptr, fcrdns, auth and the header facts of want */
    void *owner;      /* for the server */
    struct facts_job *next;
} facts_job;

typedef struct facts_ctx facts_ctx;

/* One per facts thread. NULL on a configuration error with *err (caller frees). */
facts_ctx *facts_ctx_new(bs_config *cfg, char **err);
void facts_ctx_free(facts_ctx *fc);
/* Computes job->want into job->out. Blocks (DNS; each lookup bounded by the timeout). */
void facts_run(facts_ctx *fc, facts_job *job);
void facts_job_free(facts_job *job);

/* Frees what a listen_facts owns (ptr, auth) and empties it. */
void facts_clear(listen_facts *f);

/* Does a passing DKIM signature have d= domain (without regard to case)? */
int facts_dkim_pass_domain(const listen_facts *f, const char *domain);

#endif
