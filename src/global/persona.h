/* persona.h — mailbox-provider personas (bouncy-sink-persona(5)): a persona is a list of
 * rules, each an SMTP stage, a condition over the facts of the transaction and a reply.
 * listen evaluates them; the fuzzer and the unit tests drive the same parser and engine.
 *
 * A persona file (one per persona, NAME.persona; the name is the file name without the
 * suffix) holds, one per line, blank lines and '#' comments aside:
 *     param NAME VALUE                  a number, used in conditions as $NAME
 *     bulk THRESHOLD WINDOW             the fact "bulk": the sending domain's messages
 *                                       over WINDOW reached THRESHOLD
 *     rule NAME STAGE CONDITION => CODE ENHANCED TEXT
 * STAGE is connect, ehlo, mail, rcpt or data (the end of DATA). CONDITION:
 *     or := and {"or" and};  and := unary {"and" unary};
 *     unary := "not" unary | "(" or ")" | "always" | atom
 *     atom := FACT                       a yes/no fact is yes
 *           | FACT OP VALUE              OP: = != < <= > >=; VALUE a word of the fact's
 *                                        vocabulary (alternatives a|b: any of them), a
 *                                        number or $NAME
 *           | RATE/WINDOW OP VALUE       RATE ip_msgs ip_conns domain_msgs; WINDOW 60s 10m
 *                                        24h 1d or seconds
 * A fact used before the stage it is known at is an error. Every error names FILE:LINE.
 *
 * Ownership: a persona owns all its strings; persona_free releases it.
 */
#ifndef BS_PERSONA_H
#define BS_PERSONA_H

#include <stddef.h>

#include "util.h"

typedef enum { PST_CONNECT, PST_EHLO, PST_MAIL, PST_RCPT, PST_DATA, PST_COUNT } persona_stage;
extern const char *const persona_stage_names[PST_COUNT];

/* The facts a condition may name. Results are auth.h's auth_result values; the DMARC
 * policy auth_dmarc_policy's; iprev 0 none, 1 pass, 2 fail, 3 permerror (no PTR), 4
 * temperror; yes/no facts 0 or 1; counts plain numbers. */
typedef enum {
    PF_SPF,             /* SPF result for the client IP and MAIL FROM (mail) */
    PF_DKIM,            /* the deciding DKIM signature's result (data) */
    PF_DMARC,           /* DMARC result (data) */
    PF_DMARC_POLICY,    /* p= of the From domain's record (data) */
    PF_DKIM_ALIGNED,    /* a passing signature's d= aligns with the From domain (data) */
    PF_SPF_ALIGNED,     /* SPF passed for a domain aligned with the From domain (data) */
    PF_PTR,             /* the client IP has a PTR name (connect) */
    PF_FCRDNS,          /* that name resolves back to the client IP (connect) */
    PF_TLS,             /* the session is under TLS (ehlo) */
    PF_FROM_COUNT,      /* number of From fields (data) */
    PF_MESSAGE_ID,      /* a Message-ID field is present (data) */
    PF_DATE,            /* a Date field is present (data) */
    PF_LIST_UNSUB,      /* List-Unsubscribe present and covered by a valid signature (data) */
    PF_LIST_UNSUB_POST, /* List-Unsubscribe-Post likewise (data) */
    PF_SIZE,            /* message size in octets (data) */
    PF_RCPTS,           /* recipients of the transaction so far (rcpt) */
    PF_BULK,            /* the sending domain reached the persona's bulk threshold (data) */
    PF_IPREV,           /* forward-confirmed reverse DNS as RFC 8601 iprev words (connect) */
    PF_NSCALAR,
    /* rates: counted by the caller over a window */
    PF_IP_MSGS = PF_NSCALAR, /* messages from the client IP (connect) */
    PF_IP_CONNS,             /* connections from the client IP (connect) */
    PF_DOMAIN_MSGS,          /* messages of the sending (DKIM d=) domain (data) */
    PF_COUNT
} persona_fact;
extern const char *const persona_fact_names[PF_COUNT];
#define PERSONA_NRATES (PF_COUNT - PF_NSCALAR)

/* The facts of one transaction. v[] holds the scalar facts known so far; rate() counts
 * a rate fact over the last window seconds (NULL: every rate is 0). */
typedef struct {
    int v[PF_NSCALAR];
    long (*rate)(void *ctx, persona_fact f, long window);
    void *rate_ctx;
} persona_facts;

typedef enum { PC_TRUE, PC_NOT, PC_AND, PC_OR, PC_CMP } persona_cond_kind;
typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } persona_op;

typedef struct persona_cond {
    persona_cond_kind kind;
    struct persona_cond *a, *b; /* NOT: a; AND/OR: a, b */
    persona_fact fact;          /* CMP */
    persona_op op;
    long window; /* rates: seconds */
    long value;  /* numbers; for words with OP_EQ/OP_NE: a bit set of values */
    int is_set;  /* value is a bit set (words) */
} persona_cond;

typedef struct {
    char *name;
    persona_stage stage;
    persona_cond *cond;
    int code;          /* 400-599 */
    char enhanced[16]; /* "5.7.26" */
    char *text;        /* with placeholders */
    int line;
} persona_rule;

typedef struct {
    char *name;
    persona_rule *rules;
    size_t nrules;
    long bulk_threshold; /* 0: no bulk threshold (bulk is never yes) */
    long bulk_window;    /* seconds */
} persona;

/* Parses a persona held in memory; name is the persona's name, file what errors call it.
 * 0 ok; -1 with *err = "FILE:LINE: why" (caller frees). A persona without rules is an
 * error. */
int persona_parse(const char *data, size_t len, const char *name, const char *file, persona *out,
                  char **err);
/* Reads PATH (its name: the file name without directory and ".persona"). */
int persona_load(const char *path, persona *out, char **err);
void persona_free(persona *p);

/* Every rate (fact, window) pair the persona uses, the bulk window included, calling
 * fn once per use. */
void persona_rates(const persona *p, void (*fn)(void *ctx, persona_fact f, long window), void *ctx);

/* The facts (bit 1 << persona_fact) the conditions of the rules of stages up to upto
 * name: what must be known before they are evaluated. */
unsigned long persona_facts_used(const persona *p, persona_stage upto);

/* The first rule of stage st whose condition holds, or NULL. */
const persona_rule *persona_match(const persona *p, persona_stage st, const persona_facts *f);

/* Placeholder values of a reply text: <CLIENT_IP> <HELO> <MAIL_FROM> <MAIL_DOMAIN> <RCPT>
 * <RCPT_DOMAIN> <FROM_DOMAIN> <DKIM_DOMAIN> <PTR> <HOSTNAME>. NULL: "". */
typedef struct {
    const char *client_ip, *helo, *mail_from, *rcpt, *from_domain, *dkim_domain, *ptr, *hostname;
} persona_vars;
/* The rule's text with its placeholders filled; a CR or LF of a value becomes a blank. */
void persona_fill(const persona_rule *r, const persona_vars *v, bs_buf *out);

#endif
