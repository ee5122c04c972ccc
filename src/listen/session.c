/* session.c — the SMTP state machine (RFC 5321, 1870, 2920, 3030, 3207, 6152). */
#include "session.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dsn.h"
#include "esmtp.h"
#include "jcanon.h"
#include "maildate.h"
#include "override.h"
#include "personas.h"
#include "record.h"
#include "route.h"
#include "split.h"

#define MAX_LINE 1000 /* octets, CRLF included */
#define MAX_PATH 256

/* ---- reply table ---------------------------------------------------------------- */

typedef enum {
    R_GREETING,
    R_HELO,
    R_DONE,
    R_MAIL_OK,
    R_RCPT_OK,
    R_DATA_GO,
    R_QUEUED,
    R_CHUNK_OK,
    R_BYE,
    R_VRFY,
    R_TLS_GO,
    R_RELAY,
    R_TOO_MANY_RCPT,
    R_SIZE,
    R_SIZE_DECLARED,
    R_LINE_LONG,
    R_NEED_HELO,
    R_NESTED_MAIL,
    R_NEED_MAIL,
    R_NEED_RCPT,
    R_IN_TXN,
    R_BDAT_MIX,
    R_TLS_ACTIVE,
    R_NO_RCPT,
    R_UNKNOWN,
    R_NOT_IMPL,
    R_SYNTAX,
    R_NUL,
    R_BAD_SENDER,
    R_BAD_RCPT,
    R_NEED_UTF8,
    R_PARAM,
    R_STORAGE,
    R_BACKPRESSURE,
    R_TOO_MANY_ERR,
    R_TIMEOUT,
    R_SHUTDOWN,
    R_BARE_LF,
    R_BARE_CR,
    R_SYNC,
} reply_id;

static const struct {
    int code;
    const char *enhanced; /* NULL: none */
    const char *text;     /* may hold one %s (argument) */
    int is_error;         /* a client error counted towards Max_Errors */
} replies[] = {
    [R_GREETING] = {220, NULL, "%s ESMTP Bouncy Sink", 0},
    [R_HELO] = {250, NULL, "%s", 0},
    [R_DONE] = {250, "2.0.0", "Ok", 0},
    [R_MAIL_OK] = {250, "2.1.0", "Ok", 0},
    [R_RCPT_OK] = {250, "2.1.5", "Ok", 0},
    [R_DATA_GO] = {354, NULL, "End data with <CR><LF>.<CR><LF>", 0},
    [R_QUEUED] = {250, "2.0.0", "Ok: queued as %s", 0},
    [R_CHUNK_OK] = {250, "2.0.0", "Ok: %s octets received", 0},
    [R_BYE] = {221, "2.0.0", "Bye", 0},
    [R_VRFY] = {252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery", 0},
    [R_TLS_GO] = {220, "2.0.0", "Ready to start TLS", 0},
    [R_RELAY] = {550, "5.7.1", "<%s>: Relaying denied", 0},
    [R_TOO_MANY_RCPT] = {452, "4.5.3", "Error: too many recipients", 0},
    [R_SIZE] = {552, "5.3.4", "Error: message file too big", 0},
    [R_SIZE_DECLARED] = {552, "5.3.4", "Message size exceeds fixed limit", 0},
    [R_LINE_LONG] = {500, "5.5.2", "Error: line too long", 1},
    [R_NEED_HELO] = {503, "5.5.1", "Error: send HELO/EHLO first", 1},
    [R_NESTED_MAIL] = {503, "5.5.1", "Error: nested MAIL command", 1},
    [R_NEED_MAIL] = {503, "5.5.1", "Error: need MAIL command", 1},
    [R_NEED_RCPT] = {503, "5.5.1", "Error: need RCPT command", 1},
    [R_IN_TXN] = {503, "5.5.1", "Error: MAIL transaction in progress", 1},
    [R_BDAT_MIX] = {503, "5.5.1", "Error: DATA and BDAT cannot be mixed", 1},
    [R_TLS_ACTIVE] = {503, "5.5.1", "Error: TLS already active", 1},
    [R_NO_RCPT] = {554, "5.5.1", "Error: no valid recipients", 0},
    [R_UNKNOWN] = {500, "5.5.1", "Error: command not recognized", 1},
    [R_NOT_IMPL] = {502, "5.5.1", "Error: command not implemented", 1},
    [R_SYNTAX] = {501, "5.5.4", "Syntax: %s", 1},
    [R_NUL] = {500, "5.5.2", "Error: NUL character in command", 1},
    [R_BAD_SENDER] = {501, "5.1.7", "Bad sender address syntax: %s", 1},
    [R_BAD_RCPT] = {501, "5.1.3", "Bad recipient address syntax: %s", 1},
    [R_NEED_UTF8] = {553, "5.6.7", "Non-ASCII address without SMTPUTF8", 1},
    [R_PARAM] = {555, "5.5.4", "Unsupported option: %s", 1},
    [R_STORAGE] = {452, "4.3.1", "Insufficient system storage", 0},
    [R_BACKPRESSURE] = {451, "4.3.0", "Error: record queue full, try again later", 0},
    [R_TOO_MANY_ERR] = {421, "4.7.0", "%s Error: too many errors", 0},
    [R_TIMEOUT] = {421, "4.4.2", "%s Error: timeout exceeded", 0},
    [R_SHUTDOWN] = {421, "4.3.2", "%s Service shutting down, closing transmission channel", 0},
    /* Bare_Newline = reject (Postfix's smtpd_forbid_bare_newline texts); these close */
    [R_BARE_LF] = {550, "5.5.2", "%s Error: bare <LF> received", 0},
    [R_BARE_CR] = {550, "5.5.2", "%s Error: bare <CR> received", 0},
    /* input pipelined after a refused DATA (RFC 2920 3.1); closes */
    [R_SYNC] = {554, "5.5.0", "%s Error: SMTP protocol synchronization", 0},
};

/* ---- the session ------------------------------------------------------------------ */

typedef struct {
    char *addr;
    const char *stream;
    dsn_params dsn; /* NOTIFY, ORCPT of this RCPT */
    long persona;   /* its persona (personas.h), -1: none */
} rcpt_entry;

/* DATA reader states: at a line start, after a dot there, after ".<CR>" there, inside a
 * line, after a <CR> inside a line. */
enum { D_BOL, D_DOT, D_DOTCR, D_MID, D_CR };

struct sess {
    const sess_env *env;
    const lconf *cf;
    const sess_hooks *h;
    sess_state state;
    int flags;
    bs_buf out;
    bs_buf line;
    int line_overflow;
    char client_ip[64];
    char *helo;
    int tls;
    int errors;
    int shutting_down;
    lrng rng;
    sess_stats stats;

    /* transaction */
    char *mail_from;     /* "" for the null sender */
    dsn_params mail_dsn; /* RET, ENVID, SMTPUTF8 of MAIL */
    size_t nrcpt_seen;
    rcpt_entry *spool;
    size_t nspool, capspool;
    rcpt_entry *black;
    size_t nblack, capblack;
    bs_buf body;
    size_t body_size;   /* octets received */
    size_t body_stored; /* octets kept (in memory or in the spill file) */
    int spill_fd;       /* >= 0: a large body goes to this file */
    int spill_err;      /* errno of a failed spill write */
    char spill_path[4096];
    int too_big;
    int dstate;
    int data_refused; /* the command just dispatched was a refused DATA */
    int bol_crlf;     /* the line starting now follows a <CRLF>: "." <CRLF> here ends DATA */
    int used_bdat;
    size_t bdat_left, bdat_size;
    int bdat_last;
    int txn_slow;        /* a recipient of the slow subdomain */
    int txn_counted;     /* counted towards the general message limits */
    int txn_thr_counted; /* counted towards the throttle-subdomain limits */
    reply_id bdat_error; /* R_DONE: none */
    sess_state bdat_return;
    spool_job *job;

    /* shaping */
    int slow_conn; /* one of Slow_percent connections: banner, RCPT, DATA replies slow */
    long delay_ms;
    size_t delay_mark;
    long conn_msgs, conn_thr_msgs;
    char last_rcpt[MAX_PATH + 1];
    const char *last_stream;

    /* facts (facts.h) */
    unsigned facts_need;  /* FACT_* bits asked for by sess_facts_need */
    listen_facts facts;   /* the known facts; costly ones in facts.known */
    int facts_waiting;    /* a facts job runs: resume when it ends */
    unsigned facts_asked; /* the bits that job computes */
    void (*facts_resume)(sess *s, void *arg);
    void *facts_arg;

    /* personas: a recipient waiting for its facts */
    char *persona_addr;
    const char *persona_stream;
    long persona_index;
    dsn_params persona_dsn; /* NOTIFY, ORCPT of the recipient waiting for its facts */
};

/* One reply line, put together without printf: it is written for every command. */
static void reply(sess *s, reply_id id, const char *arg)
{
    const char *text = replies[id].text;
    int code = replies[id].code;
    char head[4] = {(char)('0' + code / 100), (char)('0' + code / 10 % 10), (char)('0' + code % 10),
                    ' '};
    buf_append(&s->out, head, sizeof head);
    if (replies[id].enhanced) {
        buf_puts(&s->out, replies[id].enhanced);
        buf_putc(&s->out, ' ');
    }
    const char *hole = strstr(text, "%s");
    if (hole) {
        buf_append(&s->out, text, (size_t)(hole - text));
        buf_puts(&s->out, arg ? arg : "");
        buf_puts(&s->out, hole + 2);
    } else {
        buf_puts(&s->out, text);
    }
    buf_append(&s->out, "\r\n", 2);
    if (replies[id].code == 421) {
        s->flags |= SESS_CLOSE;
        s->state = S_CLOSED;
        return;
    }
    if (replies[id].is_error && ++s->errors >= s->cf->max_errors)
        reply(s, R_TOO_MANY_ERR, s->cf->hostname);
}

/* The transaction's facts go with it; the session's (FACT_RDNS) stay. */
static void txn_facts_reset(sess *s)
{
    s->facts_need &= FACT_RDNS;
    s->facts.known &= FACT_RDNS;
    auth_results_clear(&s->facts.auth);
    s->facts.rcpts = 0;
    s->facts.size = 0;
    s->facts.from_count = s->facts.has_message_id = s->facts.has_date = 0;
    s->facts.list_unsubscribe = s->facts.list_unsubscribe_post = 0;
    s->facts.list_unsubscribe_signed = 0;
}

static void txn_reset(sess *s)
{
    free(s->mail_from);
    s->mail_from = NULL;
    dsn_params_clear(&s->mail_dsn);
    for (size_t i = 0; i < s->nspool; i++) {
        free(s->spool[i].addr);
        dsn_params_clear(&s->spool[i].dsn);
    }
    for (size_t i = 0; i < s->nblack; i++) {
        free(s->black[i].addr);
        dsn_params_clear(&s->black[i].dsn);
    }
    s->nspool = s->nblack = 0;
    s->nrcpt_seen = 0;
    if (s->body.cap > 65536)
        buf_free(&s->body);
    else
        buf_reset(&s->body);
    s->body_size = s->body_stored = 0;
    if (s->spill_fd >= 0) {
        close(s->spill_fd);
        unlink(s->spill_path);
        s->spill_fd = -1;
    }
    s->spill_err = 0;
    s->too_big = 0;
    s->used_bdat = 0;
    s->bdat_left = 0;
    s->bdat_last = 0;
    s->bdat_error = R_DONE;
    s->txn_slow = s->txn_counted = s->txn_thr_counted = 0;
    txn_facts_reset(s);
    if (s->state != S_CLOSED)
        s->state = s->helo ? S_IDLE : S_GREET;
}

/* After a transaction ended: a pending shutdown closes the session now. */
static void txn_done(sess *s)
{
    txn_reset(s);
    if (s->shutting_down && s->state != S_CLOSED)
        reply(s, R_SHUTDOWN, s->cf->hostname);
}

sess *sess_new(const sess_env *env, const sess_hooks *hooks, const char *client_ip, uint64_t seed)
{
    sess *s = xcalloc(1, sizeof *s);
    s->env = env;
    s->cf = env->cf;
    s->h = hooks;
    s->state = S_GREET;
    buf_init(&s->out);
    buf_init(&s->line);
    buf_init(&s->body);
    s->spill_fd = -1;
    snprintf(s->client_ip, sizeof s->client_ip, "%s", client_ip ? client_ip : "unknown");
    bs_rng_seed(&s->rng, seed);
    s->bdat_error = R_DONE;
    auth_results_clear(&s->facts.auth);
    if (s->cf->slow_percent > 0)
        s->slow_conn = bs_rng_uniform(&s->rng) * 100.0 < s->cf->slow_percent;
    if (s->cf->personas) /* connections per client IP, for the personas' rates */
        rates_count(s->cf->personas->rates, PF_IP_CONNS, s->client_ip, shape_now(env->shape));
    return s;
}

void sess_free(sess *s)
{
    if (!s)
        return;
    s->state = S_CLOSED;
    txn_reset(s);
    spool_job_free(s->job);
    facts_clear(&s->facts);
    free(s->persona_addr);
    dsn_params_clear(&s->persona_dsn);
    free(s->spool);
    free(s->black);
    free(s->helo);
    buf_free(&s->out);
    buf_free(&s->line);
    buf_free(&s->body);
    free(s);
}

static void delay_reply(sess *s, size_t mark, const char *stage, const char *stream,
                        const char *rcpt);

void sess_greet(sess *s)
{
    size_t mark = s->out.len;
    reply(s, R_GREETING, s->cf->hostname);
    if (s->slow_conn)
        delay_reply(s, mark, "banner", "mixed", "");
}

void sess_delay(const sess *s, long *ms, size_t *mark)
{
    *ms = s->delay_ms;
    *mark = s->delay_mark;
}

void sess_delay_done(sess *s)
{
    s->flags &= ~SESS_DELAY;
    s->delay_ms = 0;
    s->delay_mark = 0;
}

bs_buf *sess_out(sess *s)
{
    return &s->out;
}
int sess_flags(const sess *s)
{
    return s->flags;
}
sess_state sess_get_state(const sess *s)
{
    return s->state;
}
const sess_stats *sess_get_stats(const sess *s)
{
    return &s->stats;
}
int sess_in_transaction(const sess *s)
{
    return s->state == S_MAIL || s->state == S_RCPT || s->state == S_DATA || s->state == S_BDAT ||
           s->state == S_SPOOLING;
}

void sess_timeout(sess *s)
{
    if (s->state != S_CLOSED)
        reply(s, R_TIMEOUT, s->cf->hostname);
}

void sess_shutdown(sess *s, int force)
{
    if (s->state == S_CLOSED)
        return;
    if (force || !sess_in_transaction(s))
        reply(s, R_SHUTDOWN, s->cf->hostname);
    else
        s->shutting_down = 1;
}

void sess_tls_started(sess *s)
{
    s->flags &= ~SESS_STARTTLS;
    s->tls = 1;
    free(s->helo);
    s->helo = NULL;
    txn_reset(s);
    s->state = S_GREET;
    buf_reset(&s->line);
    s->line_overflow = 0;
}

/* ---- records ---------------------------------------------------------------------- */

/* A record of this session's: envelope as known, plus a reply when code is set. */
static json_t *event_record(sess *s, const char *kind, const char *stream, const char *rcpt,
                            int code, const char *enh, const char *text, size_t textlen)
{
    char id[17];
    bs_rng_hex(&s->rng, id, 8, 0);
    json_t *rec = rec_new(kind, id);
    json_object_set_new(rec, "stream", json_string(stream));
    json_t *env = json_object();
    json_object_set_new(env, "mail_from", json_string(s->mail_from ? s->mail_from : ""));
    json_object_set_new(env, "rcpt", json_string(rcpt ? rcpt : ""));
    json_object_set_new(env, "client_ip", json_string(s->client_ip));
    json_object_set_new(env, "helo", json_string(s->helo ? s->helo : ""));
    json_object_set_new(rec, "envelope", env);
    if (code) {
        json_t *r = json_object();
        json_object_set_new(r, "code", json_integer(code));
        json_object_set_new(r, "enhanced", json_string(enh));
        json_object_set_new(r, "text", json_stringn(text, textlen));
        json_object_set_new(rec, "reply", r);
    }
    return rec;
}

/* Hands the record (taken) to the record writer as one line. */
static void send_record(sess *s, json_t *rec)
{
    char *line = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    if (line)
        s->h->record(s->h->ctx, line, strlen(line));
}

int sess_records_via_jansson;

/* KEY (punctuation and name) and the string V: -1 when V is not UTF-8 (jansson refuses it). */
static int put_key_string(bs_buf *b, const char *key, const char *v, size_t n)
{
    buf_puts(b, key);
    return jc_dump_string(b, v, n);
}

/* emit's record written directly (jc_dump_string, jcanon.h): the same bytes as event_record and
 * json_dumps, without a json_t tree — this runs for every blackholed recipient. 0 when a
 * string is one jansson would refuse (or absent): the caller then takes the jansson path,
 * which drops such a member exactly as before. */
static int emit_direct(sess *s, const char *kind, const char *stream, const char *rcpt, int code,
                       const char *enh, const char *text, size_t textlen)
{
    if (!stream || (code && !enh))
        return 0;
    const char *from = s->mail_from ? s->mail_from : "", *to = rcpt ? rcpt : "";
    const char *helo = s->helo ? s->helo : "";
    size_t nfrom = strlen(from), nto = strlen(to), nhelo = strlen(helo);
    char id[17], ts[40];
    bs_rng_hex(&s->rng, id, 8, 0);
    bs_iso8601(bs_now(), ts, sizeof ts);
    bs_buf b;
    buf_init(&b);
    buf_reserve(&b, 256 + nfrom + nto + nhelo + textlen);
    buf_puts(&b, "{\"v\":");
    jc_dump_int(&b, REC_VERSION);
    int bad = put_key_string(&b, ",\"kind\":", kind, strlen(kind)) |
              put_key_string(&b, ",\"id\":", id, strlen(id)) |
              put_key_string(&b, ",\"ts\":", ts, strlen(ts)) |
              put_key_string(&b, ",\"stream\":", stream, strlen(stream)) |
              put_key_string(&b, ",\"envelope\":{\"mail_from\":", from, nfrom) |
              put_key_string(&b, ",\"rcpt\":", to, nto) |
              put_key_string(&b, ",\"client_ip\":", s->client_ip, strlen(s->client_ip)) |
              put_key_string(&b, ",\"helo\":", helo, nhelo);
    if (code) {
        buf_puts(&b, "},\"reply\":{\"code\":");
        jc_dump_int(&b, code);
        bad |= put_key_string(&b, ",\"enhanced\":", enh, strlen(enh)) |
               put_key_string(&b, ",\"text\":", text ? text : "", textlen);
        buf_puts(&b, "}}");
    } else {
        buf_puts(&b, "},\"size\":");
        jc_dump_int(&b, (long long)s->body_size);
        buf_putc(&b, '}');
    }
    if (bad) {
        buf_free(&b);
        return 0;
    }
    size_t len = b.len;
    s->h->record(s->h->ctx, buf_steal(&b), len);
    return 1;
}

/* An inband record (code set) or a blackhole record (code 0, with the message size). */
static void emit(sess *s, const char *kind, const char *stream, const char *rcpt, int code,
                 const char *enh, const char *text, size_t textlen)
{
    if (!s->h->record)
        return;
    if (!sess_records_via_jansson && emit_direct(s, kind, stream, rcpt, code, enh, text, textlen))
        return;
    json_t *rec = event_record(s, kind, stream, rcpt, code, enh, text, textlen);
    if (!code)
        json_object_set_new(rec, "size", json_integer((json_int_t)s->body_size));
    send_record(s, rec);
}

/* A greylist, throttle or slow record: envelope as known, plus the fields of extra
 * (taken), plus a reply when code is set. */
static void emit_shape(sess *s, const char *kind, const char *stream, const char *rcpt, int code,
                       const char *enh, const char *text, size_t textlen, json_t *extra)
{
    if (!s->h->record) {
        json_decref(extra);
        return;
    }
    json_t *rec = event_record(s, kind, stream, rcpt, code, enh, text, textlen);
    json_object_update(rec, extra);
    json_decref(extra);
    send_record(s, rec);
}

/* Marks the output from mark on as a slow reply (SESS_DELAY) and records it. */
static void delay_reply(sess *s, size_t mark, const char *stage, const char *stream,
                        const char *rcpt)
{
    if (s->flags & (SESS_DELAY | SESS_CLOSE))
        return;
    s->delay_ms = shape_draw_delay(&s->cf->slow, &s->rng);
    s->delay_mark = mark;
    s->flags |= SESS_DELAY;
    s->stats.delayed++;
    json_t *x = json_object();
    json_object_set_new(x, "delay_ms", json_integer(s->delay_ms));
    json_object_set_new(x, "stage", json_string(stage));
    emit_shape(s, "slow", stream, rcpt, 0, NULL, NULL, 0, x);
}

/* ---- parsing helpers ---------------------------------------------------------------- */

static int addr_char_ok(unsigned char c)
{
    return c > ' ' && c < 0x7f && c != '<' && c != '>' && c != '(' && c != ')' && c != ',' &&
           c != ';' && c != '\\' && c != '"';
}

/* End of a path's text at p: the '>' (angle) or the blank (bare) outside a quoted
 * string; NULL when an angle path has no '>'. */
static const char *path_end(const char *p, int angle)
{
    int quoted = 0;
    for (; *p; p++) {
        if (quoted && *p == '\\' && p[1])
            p++;
        else if (*p == '"')
            quoted = !quoted;
        else if (!quoted && (angle ? *p == '>' : *p == ' '))
            return p;
    }
    return angle ? NULL : p;
}

/* An RFC 5321 Quoted-string local part at p (p[0] == '"'): its end (after the closing
 * quote), or NULL with *why. Of qtextSMTP and quoted-pairSMTP, the characters that the
 * spool file's Received field and the log cannot carry are refused. */
static const char *quoted_local(const char *p, const char *end, const char **why)
{
    for (p++; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            p++;
            if (p == end || (unsigned char)*p < ' ' || (unsigned char)*p > '~')
                break;
            c = (unsigned char)*p;
        } else if (c < ' ' || c > '~') {
            break;
        }
        if (strchr(",<>()", c)) {
            *why = "quoted local part with , < > ( or ) not supported";
            return NULL;
        }
    }
    *why = "bad quoted local part";
    return NULL;
}

/* An RFC 5321 Domain (one trailing dot allowed) or address literal: NULL ok, else why. */
static const char *domain_why(const char *p, const char *end)
{
    if (p == end)
        return "empty domain";
    if (*p == '[') {
        if (end - p < 3 || end[-1] != ']')
            return "bad address literal";
        for (const char *c = p + 1; c < end - 1; c++)
            if (!(isalnum((unsigned char)*c) || *c == ':' || *c == '.' || *c == '-'))
                return "bad address literal";
        return NULL;
    }
    if (end[-1] == '.')
        end--; /* an absolute name */
    if (end - p > 255)
        return "domain too long";
    for (const char *label = p; label <= end;) {
        const char *c = label;
        while (c < end && *c != '.') {
            if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_'))
                return "bad character in domain";
            c++;
        }
        if (c == label)
            return "empty label in domain";
        if (c - label > 63)
            return "domain label over 63 characters";
        label = c + 1;
    }
    return NULL;
}

/* Parses "<path>" (or a bare address) at p; sets *addr (malloc'd, "" for <>) and
 * *rest (the parameters). 0 ok, -1 bad syntax with *why. A Mailbox is a dot-string or
 * quoted-string local part, "@" and a domain or address literal; a local part alone is
 * taken too (RCPT TO:<postmaster>). */
static int parse_path(const char *p, char **addr, const char **rest, const char **why)
{
    while (*p == ' ')
        p++;
    const char *start, *end;
    *why = "syntax";
    if (*p == '<') {
        start = p + 1;
        end = path_end(start, 1);
        if (!end) {
            *why = "missing >";
            return -1;
        }
        *rest = end + 1;
        if (**rest && **rest != ' ')
            return -1;
    } else {
        start = p;
        end = path_end(p, 0);
        if (end == start)
            return -1;
        *rest = end;
    }
    /* drop an RFC 5321 source route "@a,@b:" */
    if (start < end && *start == '@') {
        const char *colon = memchr(start, ':', (size_t)(end - start));
        if (!colon)
            return -1;
        start = colon + 1;
    }
    size_t n = (size_t)(end - start);
    if (n > MAX_PATH) {
        *why = "address too long";
        return -1;
    }
    const char *local_end = start;
    if (n && *start == '"') {
        if (!(local_end = quoted_local(start, end, why)))
            return -1;
    } else {
        while (local_end < end && *local_end != '@') {
            if ((unsigned char)*local_end >= 0x80) {
                /* RFC 6531 atext: UTF-8 (utf8_refused asks for SMTPUTF8) */
                size_t q = bs_utf8_seq(local_end, (size_t)(end - local_end));
                if (q < 2) {
                    *why = "bad UTF-8 in local part";
                    return -1;
                }
                local_end += q;
                continue;
            }
            if (!addr_char_ok((unsigned char)*local_end)) {
                *why = "bad character in local part";
                return -1;
            }
            local_end++;
        }
    }
    if (local_end < end) {
        if (*local_end != '@' || local_end == start) {
            *why = local_end == start ? "empty local part" : "syntax";
            return -1;
        }
        if ((*why = domain_why(local_end + 1, end)))
            return -1;
    } else if (n && *start == '"') {
        *why = "quoted local part without a domain";
        return -1;
    }
    *addr = xstrndup(start, n);
    return 0;
}

static int prefix_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* ---- commands ------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int (*check)(sess *s, const char *args); /* 0: go on; -1: already answered */
    void (*proceed)(sess *s, const char *args);
} command;

static int check_helo(sess *s, const char *args)
{
    if (!*args) {
        reply(s, R_SYNTAX, "EHLO hostname");
        return -1;
    }
    if (strlen(args) > 255) {
        reply(s, R_SYNTAX, "EHLO hostname (at most 255 characters)");
        return -1;
    }
    for (const char *p = args; *p; p++)
        if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f) {
            reply(s, R_SYNTAX, "EHLO hostname (printable ASCII)");
            return -1;
        }
    return 0;
}

static void set_helo(sess *s, const char *args)
{
    free(s->helo);
    const char *sp = strchr(args, ' ');
    s->helo = sp ? xstrndup(args, (size_t)(sp - args)) : xstrdup(args);
    txn_reset(s);
    s->state = S_IDLE;
}

static void do_helo(sess *s, const char *args)
{
    set_helo(s, args);
    reply(s, R_HELO, s->cf->hostname);
}

static void do_ehlo(sess *s, const char *args)
{
    set_helo(s, args);
    buf_printf(&s->out, "250-%s\r\n", s->cf->hostname);
    buf_puts(&s->out, "250-PIPELINING\r\n");
    buf_printf(&s->out, "250-SIZE %ld\r\n", s->cf->max_message_size);
    buf_puts(&s->out, "250-VRFY\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n");
    if (s->env->tls_available && !s->tls)
        buf_puts(&s->out, "250-STARTTLS\r\n");
    esmtp_ehlo_lines(&s->out);
    buf_puts(&s->out, "250 CHUNKING\r\n");
}

static int check_mail(sess *s, const char *args)
{
    if (s->state == S_GREET) {
        reply(s, R_NEED_HELO, NULL);
        return -1;
    }
    if (s->state != S_IDLE) {
        reply(s, R_NESTED_MAIL, NULL);
        return -1;
    }
    if (!prefix_ci(args, "FROM:")) {
        reply(s, R_SYNTAX, "MAIL FROM:<address>");
        return -1;
    }
    return 0;
}

/* The parameters of MAIL or RCPT (esmtp.h): 0 ok, -1 answered. */
static int mail_params(sess *s, const char *rest, int rcpt, dsn_params *p)
{
    char *word;
    const char *why;
    switch (esmtp_params(rest, rcpt, s->cf->max_message_size, p, &word, &why)) {
    case ESMTP_OK:
        return 0;
    case ESMTP_SYNTAX:
        reply(s, R_SYNTAX, why);
        break;
    case ESMTP_TOO_BIG:
        reply(s, R_SIZE_DECLARED, NULL);
        break;
    case ESMTP_UNKNOWN:
        reply(s, R_PARAM, word);
        free(word);
        break;
    }
    return -1;
}

/* RFC 6531 3.4: a UTF-8 address only in a transaction that said SMTPUTF8: 1 answered. */
static int utf8_refused(sess *s, const char *addr)
{
    for (const char *p = addr; *p; p++)
        if ((unsigned char)*p >= 0x80) {
            if (s->mail_dsn.smtputf8)
                return 0;
            reply(s, R_NEED_UTF8, NULL);
            return 1;
        }
    return 0;
}

static void do_mail(sess *s, const char *args)
{
    char *addr;
    const char *rest, *why;
    if (parse_path(args + 5, &addr, &rest, &why) < 0) {
        reply(s, R_BAD_SENDER, why);
        return;
    }
    if (mail_params(s, rest, 0, &s->mail_dsn) < 0 || utf8_refused(s, addr)) {
        dsn_params_clear(&s->mail_dsn);
        free(addr);
        return;
    }
    s->mail_from = addr;
    s->state = S_MAIL;
    if (s->cf->facts_all) /* from here on, so that the body is kept for them */
        s->facts_need |= FACT_ALL;
    reply(s, R_MAIL_OK, NULL);
}

static int check_rcpt(sess *s, const char *args)
{
    if (s->state != S_MAIL && s->state != S_RCPT) {
        reply(s, s->state == S_GREET ? R_NEED_HELO : R_NEED_MAIL, NULL);
        return -1;
    }
    if (s->used_bdat) {
        reply(s, R_BDAT_MIX, NULL);
        return -1;
    }
    if (!prefix_ci(args, "TO:")) {
        reply(s, R_SYNTAX, "RCPT TO:<address>");
        return -1;
    }
    return 0;
}

/* Takes addr and the parameters in *dsn (cleared). */
static void push_rcpt(rcpt_entry **v, size_t *n, size_t *cap, char *addr, const char *stream,
                      dsn_params *dsn)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 8;
        *v = xrealloc(*v, *cap * sizeof **v);
    }
    (*v)[*n].addr = addr;
    (*v)[*n].dsn = *dsn;
    memset(dsn, 0, sizeof *dsn);
    (*v)[*n].persona = -1;
    (*v)[(*n)++].stream = stream;
}

/* An in-band reply: from the table (a code chosen by the inband subdomain's local part or
 * by a +bs- tag, else at random); a tag's code the table lacks is answered as given. */
static void answer_inband(sess *s, const char *addr, const char *local, const char *domain,
                          const char *stream, const bs_override *ov)
{
    int code = 0;
    char enh[16] = "";
    if (ov) {
        code = ov->code;
        snprintf(enh, sizeof enh, "%s", ov->enhanced);
    } else if (strcmp(stream, "inband") == 0) {
        replies_code_of(local, &code, enh, sizeof enh);
    }
    const reply_table *t = s->env->replies;
    const inband_reply *rep = &t->v[replies_pick(t, &s->rng, code, enh)];
    reply_vars vars = {local, domain, s->client_ip, s->mail_from};
    bs_buf text;
    buf_init(&text);
    int rcode = rep->code;
    const char *renh = rep->enhanced;
    if (ov && (rep->code != code || (enh[0] && strcmp(rep->enhanced, enh) != 0))) {
        rcode = code;
        if (!enh[0])
            snprintf(enh, sizeof enh, "%d.0.0", code / 100);
        renh = enh;
        buf_printf(&text, "Requested action not taken (sender-chosen outcome " OVERRIDE_TAG "%s)",
                   ov->text);
    } else {
        replies_fill(rep, &vars, &s->rng, &text);
    }
    replies_format(rcode, renh, text.data, text.len, &s->out);
    if (ov) {
        json_t *x = json_object();
        json_object_set_new(x, "override",
                            json_pack("{s:s, s:s}", "kind", "reply", "directive", ov->text));
        emit_shape(s, "inband", stream, addr, rcode, renh, text.data, text.len, x);
    } else {
        emit(s, "inband", stream, addr, rcode, renh, text.data, text.len);
    }
    buf_free(&text);
    s->stats.inband++;
    if (rcode == 421) { /* 421 always closes the channel */
        s->flags |= SESS_CLOSE;
        s->state = S_CLOSED;
    }
}

static void throttle_refuse(sess *s, th_limit which, const char *addr, const char *stream)
{
    char *at = strrchr(addr, '@');
    char *local = at ? xstrndup(addr, (size_t)(at - addr)) : xstrdup(addr);
    reply_vars vars = {local, at ? at + 1 : "", s->client_ip, s->mail_from};
    int code;
    const char *enh;
    bs_buf text;
    buf_init(&text);
    shape_throttle_reply(s->env->shape, which, &vars, &s->rng, &code, &enh, &text);
    replies_format(code, enh, text.data, text.len, &s->out);
    json_t *x = json_object();
    json_object_set_new(x, "client_ip", json_string(s->client_ip));
    json_object_set_new(x, "limit", json_string(shape_limit_names[which]));
    emit_shape(s, "throttle", stream, addr, code, enh, text.data, text.len, x);
    s->stats.throttled++;
    buf_free(&text);
    free(local);
}

/* Throttle and greylist checks for an accepted-looking recipient: 0 go on, -1 answered. */
static int shape_rcpt(sess *s, const char *addr, const char *stream)
{
    shape *sh = s->env->shape;
    if (!sh)
        return 0;
    const lconf *cf = s->cf;
    time_t now = 0;
    int have_now = 0;
    if (!s->txn_counted && (cf->th_max_per_conn > 0 || cf->th_max_per_minute > 0)) {
        if (cf->th_max_per_conn > 0 && s->conn_msgs >= cf->th_max_per_conn) {
            throttle_refuse(s, TH_PER_CONNECTION, addr, stream);
            return -1;
        }
        now = shape_now(sh);
        have_now = 1;
        if (shape_minute_take(sh, s->client_ip, 0, cf->th_max_per_minute, now) < 0) {
            throttle_refuse(s, TH_PER_MINUTE, addr, stream);
            return -1;
        }
        s->conn_msgs++;
        s->txn_counted = 1;
    }
    if (!s->txn_thr_counted && strcmp(stream, "throttle") == 0) {
        if (cf->th_sub_per_conn > 0 && s->conn_thr_msgs >= cf->th_sub_per_conn) {
            throttle_refuse(s, TH_PER_CONNECTION, addr, stream);
            return -1;
        }
        if (!have_now)
            now = shape_now(sh);
        have_now = 1;
        if (shape_minute_take(sh, s->client_ip, 1, cf->th_sub_per_minute, now) < 0) {
            throttle_refuse(s, TH_PER_MINUTE, addr, stream);
            return -1;
        }
        s->conn_thr_msgs++;
        s->txn_thr_counted = 1;
    }
    uint64_t h = shape_triple_hash(s->client_ip, s->mail_from ? s->mail_from : "", addr);
    if (!shape_greylisted(cf, stream, h))
        return 0;
    if (!have_now)
        now = shape_now(sh);
    gl_result r = shape_greylist_check(sh, h, now);
    if (r == GL_KNOWN)
        return 0;
    json_t *x = json_object();
    json_object_set_new(x, "outcome", json_string(r == GL_DEFER ? "deferred" : "passed"));
    if (r == GL_PASSED) {
        emit_shape(s, "greylist", stream, addr, 0, NULL, NULL, 0, x);
        return 0;
    }
    bs_buf text;
    buf_init(&text);
    shape_greylist_text(addr, &text);
    replies_format(451, "4.7.1", text.data, text.len, &s->out);
    emit_shape(s, "greylist", stream, addr, 451, "4.7.1", text.data, text.len, x);
    s->stats.greylisted++;
    buf_free(&text);
    return -1;
}

/* +bs-defer-until-TIME: 451 until then (1, answered), then as usual (0). The clock is
 * greylisting's (shape_now: the test hook's offset applies). */
static int defer_override(sess *s, const char *addr, const char *stream, const bs_override *ov)
{
    time_t now = s->env->shape ? shape_now(s->env->shape) : time(NULL);
    json_t *x = json_object();
    json_object_set_new(x, "override",
                        json_pack("{s:s, s:s, s:s}", "kind", "defer", "directive", ov->text,
                                  "outcome", (double)now < ov->until ? "deferred" : "passed"));
    if ((double)now >= ov->until) {
        json_decref(x);
        return 0;
    }
    char until[40];
    bs_iso8601(ov->until, until, sizeof until);
    bs_buf text;
    buf_init(&text);
    buf_printf(&text, "<%s>: deferred until %s at the sender's request (" OVERRIDE_TAG "%s)", addr,
               until, ov->text);
    replies_format(451, "4.7.1", text.data, text.len, &s->out);
    emit_shape(s, "inband", stream, addr, 451, "4.7.1", text.data, text.len, x);
    s->stats.inband++;
    buf_free(&text);
    return 1;
}

/* ---- personas (personas.h, persona.h) ------------------------------------------------- */

static void rcpt_route(sess *s, char *addr, const char *stream, long pindex, dsn_params *dsn);

/* The reply of rule r of persona pi, and its record for each recipient: rcpt (with its
 * stream), or every recipient of the transaction when rcpt is NULL. */
static void persona_answer(sess *s, long pi, const persona_rule *r, const char *rcpt,
                           const char *stream)
{
    const lpersonas *P = s->cf->personas;
    const listen_facts *lf = sess_facts(s);
    const auth_dkim_sig *d = (lf->known & FACT_MESSAGE) ? auth_dkim_verdict(&lf->auth.dkim) : NULL;
    persona_vars v = {s->client_ip,
                      s->helo,
                      s->mail_from,
                      rcpt ? rcpt
                           : (s->nspool   ? s->spool[0].addr
                              : s->nblack ? s->black[0].addr
                                          : ""),
                      lf->auth.dmarc.from_domain,
                      d && d->result == AUTH_PASS ? d->domain : NULL,
                      lf->ptr,
                      s->cf->hostname};
    bs_buf text;
    buf_init(&text);
    persona_fill(r, &v, &text);
    replies_format(r->code, r->enhanced, text.data, text.len, &s->out);
    for (size_t i = 0; i < (rcpt ? 1 : s->nspool + s->nblack); i++) {
        const rcpt_entry *e = rcpt ? NULL : i < s->nspool ? &s->spool[i] : &s->black[i - s->nspool];
        json_t *x = json_object();
        json_object_set_new(x, "persona", json_string(P->v[pi].name));
        json_object_set_new(x, "rule", json_string(r->name));
        json_object_set_new(x, "stage", json_string(persona_stage_names[r->stage]));
        emit_shape(s, "persona", e ? e->stream : stream, e ? e->addr : rcpt, r->code, r->enhanced,
                   text.data, text.len, x);
        s->stats.persona++;
    }
    buf_free(&text);
    if (r->code == 421) { /* 421 always closes the channel */
        s->flags |= SESS_CLOSE;
        s->state = S_CLOSED;
    }
}

/* The facts of the session for the engine, with the rates at time now. */
static void persona_facts_now(sess *s, lpersonas_rate_ctx *rc, persona_facts *pf)
{
    const listen_facts *lf = sess_facts(s);
    *rc = (lpersonas_rate_ctx){s->cf->personas->rates, s->client_ip, lpersonas_sending_domain(lf),
                               shape_now(s->env->shape)};
    lpersonas_facts(lf, rc, pf);
}

/* A recipient of a persona, its facts known: the rules of the stages up to RCPT (those
 * of connect, EHLO and MAIL too: the persona is known from RCPT on). */
static void persona_rcpt_resume(sess *s, void *arg)
{
    (void)arg;
    char *addr = s->persona_addr;
    s->persona_addr = NULL;
    dsn_params dsn = s->persona_dsn;
    memset(&s->persona_dsn, 0, sizeof s->persona_dsn);
    if (!addr || s->state == S_CLOSED) {
        dsn_params_clear(&dsn);
        free(addr);
        return;
    }
    const lpersonas *P = s->cf->personas;
    long pi = s->persona_index;
    lpersonas_rate_ctx rc;
    persona_facts pf;
    persona_facts_now(s, &rc, &pf);
    for (int st = PST_CONNECT; st <= PST_RCPT; st++) {
        const persona_rule *r = persona_match(&P->v[pi], (persona_stage)st, &pf);
        if (r) {
            persona_answer(s, pi, r, addr, s->persona_stream);
            dsn_params_clear(&dsn);
            free(addr);
            return;
        }
    }
    rcpt_route(s, addr, s->persona_stream, pi, &dsn);
}

static void persona_rcpt(sess *s, char *addr, const char *stream, long pi, dsn_params *dsn)
{
    /* the transaction's facts are computed from now on (DKIM, DMARC at the end of DATA);
     * now only what the rules up to RCPT name (SPF otherwise comes with the message's) */
    sess_facts_need(s, FACT_ALL);
    unsigned now_bits = s->cf->personas->rcpt_facts[pi];
    free(s->persona_addr);
    dsn_params_clear(&s->persona_dsn);
    s->persona_addr = addr;
    s->persona_dsn = *dsn;
    memset(dsn, 0, sizeof *dsn);
    s->persona_stream = stream;
    s->persona_index = pi;
    if (now_bits && sess_facts_get(s, now_bits, persona_rcpt_resume, NULL) == 1)
        return;
    persona_rcpt_resume(s, NULL);
}

/* End of DATA, the facts known: counts the message, then each persona of the recipients
 * judges it. 1: a rule refused it (answered, the transaction is over); 0: go on. */
static int persona_data(sess *s)
{
    const lpersonas *P = s->cf->personas;
    if (!P)
        return 0;
    lpersonas_rate_ctx rc;
    persona_facts pf;
    persona_facts_now(s, &rc, &pf);
    rates_count(P->rates, PF_IP_MSGS, s->client_ip, rc.now);
    if (rc.domain)
        rates_count(P->rates, PF_DOMAIN_MSGS, rc.domain, rc.now);
    for (size_t i = 0; i < s->nspool + s->nblack; i++) {
        long pi = i < s->nspool ? s->spool[i].persona : s->black[i - s->nspool].persona;
        if (pi < 0)
            continue;
        const persona_rule *r = persona_match(&P->v[pi], PST_DATA, &pf);
        if (r) {
            s->state = S_RCPT;
            persona_answer(s, pi, r, NULL, NULL);
            txn_done(s);
            return 1;
        }
    }
    return 0;
}

static void rcpt_body(sess *s, const char *args)
{
    char *addr;
    const char *rest, *why;
    if (parse_path(args + 3, &addr, &rest, &why) < 0) {
        reply(s, R_BAD_RCPT, why);
        return;
    }
    if (!*addr) {
        free(addr);
        reply(s, R_BAD_RCPT, "empty address");
        return;
    }
    dsn_params dsn = {0};
    if (mail_params(s, rest, 1, &dsn) < 0 || utf8_refused(s, addr)) {
        dsn_params_clear(&dsn);
        free(addr);
        return;
    }
    if (s->nrcpt_seen >= (size_t)s->cf->max_recipients) {
        reply(s, R_TOO_MANY_RCPT, NULL);
        goto drop;
    }
    s->nrcpt_seen++;
    char *at = strrchr(addr, '@');
    const char *stream;
    long pindex = -1;
    if (!at) {
        /* RFC 5321 4.5.1: "postmaster" without a domain must be accepted */
        stream = strcasecmp(addr, "postmaster") == 0 ? "accept" : NULL;
    } else {
        char *domain = xstrdup(at + 1);
        bs_lower(domain);
        size_t dl = strlen(domain);
        while (dl && domain[dl - 1] == '.')
            domain[--dl] = 0;
        stream = route_stream(s->cf, domain);
        pindex = lpersonas_for(s->cf->personas, domain, stream, s->cf->sink_domains, s->cf->nsink);
        free(domain);
    }
    if (!stream) {
        reply(s, R_RELAY, addr);
        s->stats.relay_denied++;
        goto drop;
    }
    /* a sender-chosen outcome in the local part (override.h) */
    bs_override ov;
    const char *ov_why;
    int has_ov = at ? override_from_local(addr, (size_t)(at - addr), &ov, &ov_why) : 0;
    if (has_ov < 0) {
        char tag_why[96];
        snprintf(tag_why, sizeof tag_why, OVERRIDE_TAG " tag: %s", ov_why);
        reply(s, R_BAD_RCPT, tag_why);
        goto drop;
    }
    if (has_ov && ov.kind != OV_ACTION && s->h->records_full && s->h->records_full(s->h->ctx)) {
        reply(s, R_BACKPRESSURE, NULL);
        goto drop;
    }
    if (has_ov && ov.kind == OV_REPLY) {
        char *local = xstrndup(addr, (size_t)(at - addr));
        answer_inband(s, addr, local, at + 1, stream, &ov);
        free(local);
        goto drop;
    }
    if (has_ov && ov.kind == OV_DEFER && defer_override(s, addr, stream, &ov))
        goto drop;
    if (has_ov && ov.kind == OV_ACTION)
        stream = route_labels[ov.route];
    snprintf(s->last_rcpt, sizeof s->last_rcpt, "%s", addr);
    s->last_stream = stream;
    if (pindex >= 0) {
        persona_rcpt(s, addr, stream, pindex, &dsn);
        return;
    }
    rcpt_route(s, addr, stream, -1, &dsn);
    return;
drop:
    dsn_params_clear(&dsn);
    free(addr);
}

/* The recipient addr (taken) of stream, past the checks of its address: shaping, then
 * in-band, blackhole or spool. */
static void rcpt_route(sess *s, char *addr, const char *stream, long pindex, dsn_params *dsn)
{
    char *at = strrchr(addr, '@');
    if (shape_rcpt(s, addr, stream) < 0) {
        goto drop;
    }
    route_action act = route_decide(s->cf, stream, &s->rng, time(NULL));
    if (act != ROUTE_SPOOL && s->h->records_full && s->h->records_full(s->h->ctx)) {
        reply(s, R_BACKPRESSURE, NULL);
        goto drop;
    }
    if (act == ROUTE_INBAND) {
        char *local = xstrndup(addr, (size_t)(at - addr));
        answer_inband(s, addr, local, at + 1, stream, NULL);
        free(local);
        goto drop;
    }
    if (act == ROUTE_SPOOL) {
        push_rcpt(&s->spool, &s->nspool, &s->capspool, addr, stream, dsn);
        s->spool[s->nspool - 1].persona = pindex;
    } else {
        push_rcpt(&s->black, &s->nblack, &s->capblack, addr, stream, dsn);
        s->black[s->nblack - 1].persona = pindex;
    }
    if (strcmp(stream, "slow") == 0)
        s->txn_slow = 1;
    s->state = S_RCPT;
    reply(s, R_RCPT_OK, NULL);
    return;
drop:
    dsn_params_clear(dsn);
    free(addr);
}

/* RCPT: the reply of a slow recipient (or on a slow connection) is delayed. */
static void do_rcpt(sess *s, const char *args)
{
    size_t mark = s->out.len;
    s->last_rcpt[0] = 0;
    s->last_stream = NULL;
    rcpt_body(s, args);
    int slow_rcpt = s->last_stream && strcmp(s->last_stream, "slow") == 0;
    /* a persona recipient waiting for its facts is answered later, never delayed */
    if (s->state != S_CLOSED && (s->slow_conn || slow_rcpt) && !s->persona_addr)
        delay_reply(s, mark, "rcpt", s->last_stream ? s->last_stream : "mixed", s->last_rcpt);
}

static int check_data_state(sess *s, const char *args)
{
    if (s->used_bdat) {
        reply(s, R_BDAT_MIX, NULL);
        return -1;
    }
    if (s->state == S_MAIL) {
        reply(s, R_NO_RCPT, NULL);
        return -1;
    }
    if (s->state != S_RCPT) {
        reply(s, s->state == S_GREET ? R_NEED_HELO : R_NEED_MAIL, NULL);
        return -1;
    }
    if (*args) {
        reply(s, R_SYNTAX, "DATA");
        return -1;
    }
    return 0;
}

static int check_data(sess *s, const char *args)
{
    if (check_data_state(s, args) == 0)
        return 0;
    s->data_refused = 1;
    return -1;
}

static void do_data(sess *s, const char *args)
{
    (void)args;
    s->state = S_DATA;
    s->dstate = D_BOL;
    s->bol_crlf = 1;
    reply(s, R_DATA_GO, NULL);
}

static void finish_message(sess *s);
static void facts_ready(sess *s, void *arg);

static int check_bdat(sess *s, const char *args)
{
    const char *p = args;
    size_t size = 0;
    if (!isdigit((unsigned char)*p)) {
        reply(s, R_SYNTAX, "BDAT size [LAST]");
        return -1;
    }
    while (isdigit((unsigned char)*p)) {
        if (size > ((size_t)1 << 50)) {
            reply(s, R_SYNTAX, "BDAT size [LAST]");
            return -1;
        }
        size = size * 10 + (size_t)(*p++ - '0');
    }
    while (*p == ' ')
        p++;
    int last = 0;
    if (strcasecmp(p, "LAST") == 0) {
        last = 1;
    } else if (*p) {
        reply(s, R_SYNTAX, "BDAT size [LAST]");
        return -1;
    }
    s->bdat_left = s->bdat_size = size;
    s->bdat_last = last;
    s->bdat_error = R_DONE;
    s->bdat_return = s->state;
    if (s->state == S_MAIL)
        s->bdat_error = R_NO_RCPT;
    else if (s->state != S_RCPT)
        s->bdat_error = s->state == S_GREET ? R_NEED_HELO : R_NEED_MAIL;
    return 0;
}

static void bdat_chunk_end(sess *s)
{
    if (s->bdat_error != R_DONE) {
        s->state = s->bdat_return;
        reply(s, s->bdat_error, NULL);
        return;
    }
    s->state = S_RCPT;
    if (s->bdat_last) {
        finish_message(s);
    } else {
        char n[32];
        snprintf(n, sizeof n, "%zu", s->bdat_size);
        reply(s, R_CHUNK_OK, n);
    }
}

static void do_bdat(sess *s, const char *args)
{
    (void)args;
    if (s->bdat_error == R_DONE)
        s->used_bdat = 1;
    s->state = S_BDAT;
    if (s->bdat_left == 0)
        bdat_chunk_end(s);
}

static int check_any(sess *s, const char *args)
{
    (void)s;
    (void)args;
    return 0;
}

static void do_rset(sess *s, const char *args)
{
    (void)args;
    txn_reset(s);
    reply(s, R_DONE, NULL);
    if (s->shutting_down)
        reply(s, R_SHUTDOWN, s->cf->hostname);
}

static void do_noop(sess *s, const char *args)
{
    (void)args;
    reply(s, R_DONE, NULL);
}

static void do_quit(sess *s, const char *args)
{
    (void)args;
    reply(s, R_BYE, NULL);
    s->flags |= SESS_CLOSE;
    s->state = S_CLOSED;
}

static int check_vrfy(sess *s, const char *args)
{
    if (!*args) {
        reply(s, R_SYNTAX, "VRFY address");
        return -1;
    }
    return 0;
}

static void do_vrfy(sess *s, const char *args)
{
    (void)args;
    reply(s, R_VRFY, NULL);
}

static void do_help(sess *s, const char *args)
{
    (void)args;
    buf_puts(&s->out, "214-2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY"
                      " HELP");
    if (s->env->tls_available && !s->tls)
        buf_puts(&s->out, " STARTTLS");
    buf_puts(&s->out, "\r\n214 2.0.0 End of HELP info\r\n");
}

static int check_starttls(sess *s, const char *args)
{
    if (!s->env->tls_available) {
        reply(s, R_NOT_IMPL, NULL);
        return -1;
    }
    if (s->tls) {
        reply(s, R_TLS_ACTIVE, NULL);
        return -1;
    }
    if (*args) {
        reply(s, R_SYNTAX, "STARTTLS");
        return -1;
    }
    if (sess_in_transaction(s)) {
        reply(s, R_IN_TXN, NULL);
        return -1;
    }
    return 0;
}

static void do_starttls(sess *s, const char *args)
{
    (void)args;
    reply(s, R_TLS_GO, NULL);
    s->flags |= SESS_STARTTLS;
}

static int check_not_impl(sess *s, const char *args)
{
    (void)args;
    reply(s, R_NOT_IMPL, NULL);
    return -1;
}

static const command commands[] = {
    {"EHLO", check_helo, do_ehlo},  {"HELO", check_helo, do_helo},
    {"MAIL", check_mail, do_mail},  {"RCPT", check_rcpt, do_rcpt},
    {"DATA", check_data, do_data},  {"BDAT", check_bdat, do_bdat},
    {"RSET", check_any, do_rset},   {"NOOP", check_any, do_noop},
    {"QUIT", check_any, do_quit},   {"VRFY", check_vrfy, do_vrfy},
    {"HELP", check_any, do_help},   {"STARTTLS", check_starttls, do_starttls},
    {"EXPN", check_not_impl, NULL}, {"AUTH", check_not_impl, NULL},
    {"TURN", check_not_impl, NULL}, {"ETRN", check_not_impl, NULL},
};

static void dispatch(sess *s, char *line, size_t len)
{
    if (memchr(line, 0, len)) {
        reply(s, R_NUL, NULL);
        return;
    }
    char *sp = strchr(line, ' ');
    size_t vlen = sp ? (size_t)(sp - line) : len;
    const char *args = sp ? sp + 1 : "";
    while (*args == ' ')
        args++;
    /* trailing blanks are not part of the arguments */
    size_t alen = strlen(args);
    while (alen && (args[alen - 1] == ' ' || args[alen - 1] == '\t'))
        line[(size_t)(args - line) + --alen] = 0;
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        const command *c = &commands[i];
        if (strlen(c->name) == vlen && strncasecmp(c->name, line, vlen) == 0) {
            if (c->check(s, args) == 0 && c->proceed)
                c->proceed(s, args);
            return;
        }
    }
    reply(s, R_UNKNOWN, NULL);
}

/* ---- facts (facts.h) ------------------------------------------------------------------ */

void sess_facts_need(sess *s, unsigned bits)
{
    s->facts_need |= bits & FACT_ALL;
}

const listen_facts *sess_facts(sess *s)
{
    listen_facts *f = &s->facts;
    f->client_ip = s->client_ip;
    f->helo = s->helo;
    f->tls = s->tls;
    f->mail_from = s->mail_from;
    f->rcpts = s->nspool + s->nblack;
    f->size = s->body_size;
    return f;
}

/* The message as received, for the facts job (owned copy): the body kept in memory or
 * in the spill file. */
static char *message_copy(sess *s, size_t *len)
{
    *len = 0;
    if (s->spill_fd < 0) {
        char *m = xmalloc(s->body.len + 1);
        if (s->body.len)
            memcpy(m, s->body.data, s->body.len);
        m[s->body.len] = 0;
        *len = s->body.len;
        return m;
    }
    char *m = xmalloc(s->body_stored + 1);
    size_t got = 0;
    while (got < s->body_stored) {
        ssize_t r = pread(s->spill_fd, m + got, s->body_stored - got, (off_t)got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    m[got] = 0;
    *len = got;
    return m;
}

/* What a job that did not run (no hook) or timed out leaves: temperror for what it was
 * asked. */
static void facts_unknown(sess *s, unsigned bits)
{
    listen_facts *f = &s->facts;
    if (bits & FACT_RDNS) {
        free(f->ptr);
        f->ptr = NULL;
        f->fcrdns = FCRDNS_TEMPERROR;
    }
    if (bits & FACT_SPF) {
        free(f->auth.spf.domain);
        free(f->auth.spf.reason);
        f->auth.spf = (auth_spf){AUTH_TEMPERROR, xstrdup(""), xstrdup("lookup timed out")};
    }
    if (bits & FACT_MESSAGE) {
        f->auth.dkim.message.result = AUTH_TEMPERROR;
        free(f->auth.dkim.message.reason);
        f->auth.dkim.message.reason = xstrdup("lookup timed out");
        f->auth.dmarc.result = AUTH_TEMPERROR;
    }
    f->known |= bits;
}

/* Moves the results of job into the session's facts. */
static void facts_take(sess *s, facts_job *job)
{
    listen_facts *f = &s->facts, *o = &job->out;
    unsigned bits = job->want;
    if (bits & FACT_RDNS) {
        free(f->ptr);
        f->ptr = o->ptr;
        o->ptr = NULL;
        f->fcrdns = o->fcrdns;
    }
    if (bits & FACT_SPF) {
        free(f->auth.spf.domain);
        free(f->auth.spf.reason);
        f->auth.spf = o->auth.spf;
        o->auth.spf = (auth_spf){.result = AUTH_OFF};
    }
    if (bits & FACT_MESSAGE) {
        auth_spf spf = f->auth.spf;
        f->auth.spf = (auth_spf){.result = AUTH_OFF};
        auth_results_clear(&f->auth);
        f->auth = o->auth;
        f->auth.spf = spf;
        o->auth = (auth_results){.dkim = {.chosen = -1, .cover = {.l = -1}}};
        o->auth.spf = (auth_spf){.result = AUTH_OFF};
        f->from_count = o->from_count;
        f->has_message_id = o->has_message_id;
        f->has_date = o->has_date;
        f->list_unsubscribe = o->list_unsubscribe;
        f->list_unsubscribe_post = o->list_unsubscribe_post;
        f->list_unsubscribe_signed = o->list_unsubscribe_signed;
    }
    f->known |= bits;
}

int sess_facts_get(sess *s, unsigned bits, void (*resume)(sess *s, void *arg), void *arg)
{
    bits &= FACT_ALL;
    if (s->state != S_SPOOLING)
        bits &= ~(unsigned)FACT_MESSAGE; /* only at the end of DATA */
    if (bits & FACT_MESSAGE)
        bits |= FACT_SPF; /* DMARC needs the SPF result */
    if (!s->mail_from)
        bits &= ~(unsigned)FACT_SPF; /* needs MAIL */
    bits &= ~s->facts.known;
    if (!bits)
        return 0;
    if (!s->h->facts) {
        facts_unknown(s, bits);
        return 0;
    }
    facts_job *job = xcalloc(1, sizeof *job);
    job->want = bits;
    job->client_ip = xstrdup(s->client_ip);
    job->helo = s->helo ? xstrdup(s->helo) : NULL;
    job->mail_from = s->mail_from ? xstrdup(s->mail_from) : NULL;
    if (bits & FACT_MESSAGE)
        job->msg = message_copy(s, &job->msg_len);
    s->facts_asked = job->want;
    s->facts_resume = resume;
    s->facts_arg = arg;
    s->facts_waiting = 1;
    if (s->h->facts(s->h->ctx, s, job) == 1) {
        s->flags |= SESS_BLOCKED;
        return 1;
    }
    s->facts_waiting = 0;
    facts_take(s, job);
    facts_job_free(job);
    return 0;
}

void sess_facts_done(sess *s, facts_job *job)
{
    if (!s->facts_waiting) {
        facts_job_free(job);
        return;
    }
    s->facts_waiting = 0;
    s->flags &= ~SESS_BLOCKED;
    if (job)
        facts_take(s, job);
    else
        facts_unknown(s, s->facts_asked);
    facts_job_free(job);
    if (s->facts_resume)
        s->facts_resume(s, s->facts_arg);
}

/* ---- end of message and spooling ------------------------------------------------------ */

static void complete(sess *s, int stored)
{
    size_t mark = s->out.len;
    int slow = s->slow_conn || s->txn_slow;
    char rcpt[MAX_PATH + 1] = "";
    if (slow)
        snprintf(rcpt, sizeof rcpt, "%s",
                 s->nspool   ? s->spool[0].addr
                 : s->nblack ? s->black[0].addr
                             : "");
    if (!stored) {
        reply(s, R_STORAGE, NULL);
        if (slow)
            delay_reply(s, mark, "data", s->txn_slow ? "slow" : "mixed", rcpt);
        txn_done(s);
        return;
    }
    for (size_t i = 0; i < s->nblack; i++)
        emit(s, "blackhole", s->black[i].stream, s->black[i].addr, 0, NULL, NULL, 0);
    s->stats.messages++;
    s->stats.blackholed += s->nblack;
    s->stats.spooled += s->nspool;
    char id[17];
    if (s->job && s->job->nfiles)
        memcpy(id, s->job->files[0].id, sizeof id);
    else
        bs_rng_hex(&s->rng, id, 8, 0);
    reply(s, R_QUEUED, id);
    if (slow)
        delay_reply(s, mark, "data", s->txn_slow ? "slow" : "mixed", rcpt);
    txn_done(s);
}

static void finish_message(sess *s)
{
    if (s->too_big) {
        reply(s, R_SIZE, NULL);
        txn_done(s);
        return;
    }
    if (s->spill_err) {
        reply(s, R_STORAGE, NULL);
        txn_done(s);
        return;
    }
    if (s->cf->facts_all)
        s->facts_need |= FACT_ALL;
    if (s->facts_need & FACT_MESSAGE) {
        /* the costly facts, off the event loop; the spool files then carry them */
        s->state = S_SPOOLING;
        if (sess_facts_get(s, s->facts_need, facts_ready, NULL) == 1)
            return;
    }
    facts_ready(s, NULL);
}

/* The date of the Received field, formatted once a second per thread (mail_date's
 * localtime_r and snprintf cost as much as the rest of the header). */
static const char *received_date(void)
{
    static _Thread_local time_t last = (time_t)-1;
    static _Thread_local char date[64];
    time_t now = time(NULL);
    if (now != last) {
        mail_date(now, MAIL_DATE_LOCAL, date, sizeof date);
        last = now;
    }
    return date;
}

/* The message is complete and its facts (if needed) known: spool it. Rules that answer
 * at the end of DATA from the facts (personas) go here, before the spool job. */
static void facts_ready(sess *s, void *arg)
{
    (void)arg;
    if (s->state == S_CLOSED)
        return;
    if (persona_data(s))
        return;
    if (s->nspool == 0) {
        s->state = S_RCPT;
        complete(s, 1);
        return;
    }
    bs_buf ar;
    buf_init(&ar);
    if (s->facts.known & FACT_MESSAGE)
        auth_ar_header(&s->facts.auth, s->cf->hostname, s->client_ip,
                       (s->facts.known & FACT_RDNS) ? facts_fcrdns_name(s->facts.fcrdns) : NULL,
                       s->facts.ptr, &ar);
    spool_job *job = xcalloc(1, sizeof *job);
    job->dir = s->cf->spool;
    job->fsync = s->cf->fsync;
    job->files = xcalloc(s->nspool, sizeof *job->files);
    job->nfiles = s->nspool;
    job->body = s->body.data;
    job->body_len = s->body_stored;
    job->body_fd = s->spill_fd;
    const char *date = received_date();
    for (size_t i = 0; i < s->nspool; i++) {
        spool_file *f = &job->files[i];
        spool_new_id(f->id);
        bs_buf h;
        buf_init(&h);
        /* The routing decision goes above our Received field, where no sender can write
         * (route.h); decide trusts it. */
        buf_puts(&h, "Return-Path: <");
        buf_puts(&h, s->mail_from);
        buf_puts(&h, ">\r\n" ROUTE_TRACE_FIELD ": ");
        buf_puts(&h, s->spool[i].stream);
        buf_puts(&h, "\r\n");
        if (dsn_params_any(&s->mail_dsn) || dsn_params_any(&s->spool[i].dsn)) {
            buf_puts(&h, DSN_TRACE_FIELD ": ");
            dsn_params_format(&s->mail_dsn, &s->spool[i].dsn, &h);
            buf_puts(&h, "\r\n");
        }
        /* our Authentication-Results, like the route, above our Received field (auth.h) */
        if (ar.len)
            buf_append(&h, ar.data, ar.len);
        /* "Received: from HELO (IP) by HOST id ID for <RCPT>; DATE (envelope-from <FROM>)",
         * put together piece by piece: printf was a quarter of a small message's cost */
        const char *parts[] = {"Received: from ",
                               s->helo ? s->helo : "",
                               " (",
                               s->client_ip,
                               ") by ",
                               s->cf->hostname,
                               " id ",
                               f->id,
                               " for <",
                               s->spool[i].addr,
                               ">; ",
                               date,
                               " (envelope-from <",
                               s->mail_from,
                               ">)\r\n"};
        for (size_t k = 0; k < sizeof parts / sizeof *parts; k++)
            buf_puts(&h, parts[k]);
        f->header_len = h.len;
        f->header = buf_steal(&h);
    }
    buf_free(&ar);
    s->job = job;
    s->state = S_SPOOLING;
    if (s->h->spool(s->h->ctx, s, job) == 1) {
        s->flags |= SESS_BLOCKED;
        return;
    }
    sess_spool_done(s);
}

void sess_spool_done(sess *s)
{
    s->flags &= ~SESS_BLOCKED;
    int ok = s->job && s->job->err == 0;
    s->state = S_RCPT;
    complete(s, ok);
    spool_job_free(s->job);
    s->job = NULL;
}

/* ---- input ------------------------------------------------------------------------------- */

static void body_add(sess *s, const char *p, size_t n)
{
    if (n == 0)
        return;
    s->body_size += n;
    if (s->too_big)
        return;
    if (s->body_size > (size_t)s->cf->max_message_size) {
        s->too_big = 1;
        buf_free(&s->body);
        return;
    }
    if ((!s->nspool && !(s->facts_need & FACT_MESSAGE)) || s->spill_err)
        return;
    s->body_stored += n;
    if (s->spill_fd < 0) {
        buf_append(&s->body, p, n);
        if (s->body.len <= (size_t)s->cf->spill_size)
            return;
        /* large message: keep it in a file, so memory per connection stays bounded */
        s->spill_fd = spool_spill_open(s->cf->spool, s->spill_path, sizeof s->spill_path);
        if (s->spill_fd < 0 || spool_write_all(s->spill_fd, s->body.data, s->body.len) < 0)
            s->spill_err = errno ? errno : EIO;
        buf_free(&s->body);
        return;
    }
    if (spool_write_all(s->spill_fd, p, n) < 0)
        s->spill_err = errno ? errno : EIO;
}

/* Refuses the session for a protocol violation and closes it: the transaction, if any,
 * is dropped unspooled. */
static void refuse_close(sess *s, reply_id id)
{
    reply(s, id, s->cf->hostname);
    s->flags |= SESS_CLOSE;
    s->state = S_CLOSED;
}

/* A line end other than <CRLF> (or a <CR> that ends nothing): with Bare_Newline =
 * reject the session is refused and closed (returns -1); with normalize it is kept. */
static int bare_newline(sess *s, reply_id id)
{
    if (s->cf->bare_newline != BARE_NEWLINE_REJECT)
        return 0;
    refuse_close(s, id);
    return -1;
}

/* DATA: dot-unstuffing; only <CRLF>.<CRLF> ends the message (RFC 5321 4.1.1.4), so a
 * "." line next to a bare <LF> or <CR> can never end it and smuggle what follows out as
 * commands (CVE-2023-51764). With Bare_Newline = normalize a bare <LF> is stored as
 * <CRLF> and a bare <CR> as is; with reject either refuses the message (550, close). */
static size_t data_feed(sess *s, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        switch (s->dstate) {
        case D_MID: {
            const char *nl = memchr(p + i, '\n', n - i);
            size_t lim = nl ? (size_t)(nl - p) : n;
            const char *cr = memchr(p + i, '\r', lim - i);
            size_t j = cr ? (size_t)(cr - p) : lim;
            body_add(s, p + i, j - i);
            i = j;
            if (i == n)
                break;
            if (p[i++] == '\r') {
                s->dstate = D_CR;
                break;
            }
            if (bare_newline(s, R_BARE_LF) < 0)
                return i;
            body_add(s, "\r\n", 2);
            s->bol_crlf = 0;
            s->dstate = D_BOL;
            break;
        }
        case D_CR:
            if (p[i] == '\n') {
                i++;
                body_add(s, "\r\n", 2);
                s->bol_crlf = 1;
                s->dstate = D_BOL;
                break;
            }
            if (bare_newline(s, R_BARE_CR) < 0)
                return i;
            body_add(s, "\r", 1);
            s->dstate = D_MID;
            break;
        case D_BOL:
            if (p[i] == '.') {
                i++;
                s->dstate = D_DOT;
            } else {
                s->dstate = D_MID;
            }
            break;
        case D_DOT:
            if (p[i] == '\r') {
                i++;
                s->dstate = D_DOTCR;
            } else if (p[i] == '\n') {
                /* ".<LF>" is not the end of the data: a lone dot, kept */
                i++;
                if (bare_newline(s, R_BARE_LF) < 0)
                    return i;
                body_add(s, ".\r\n", 3);
                s->bol_crlf = 0;
                s->dstate = D_BOL;
            } else {
                s->dstate = D_MID; /* the stuffed dot is dropped */
            }
            break;
        case D_DOTCR:
            if (p[i] == '\n' && s->bol_crlf) {
                i++;
                finish_message(s);
                return i;
            }
            if (p[i] == '\n') {
                /* "<LF>.<CRLF>": a lone dot after a bare <LF>, kept (normalize; reject
                 * refused the bare <LF> already) */
                i++;
                body_add(s, ".\r\n", 3);
                s->bol_crlf = 1;
                s->dstate = D_BOL;
                break;
            }
            if (bare_newline(s, R_BARE_CR) < 0)
                return i;
            body_add(s, "\r", 1); /* the stuffed dot is dropped */
            s->dstate = D_MID;
            break;
        }
    }
    return i;
}

static size_t bdat_feed(sess *s, const char *p, size_t n)
{
    size_t k = n < s->bdat_left ? n : s->bdat_left;
    if (s->bdat_error == R_DONE)
        body_add(s, p, k);
    s->bdat_left -= k;
    if (s->bdat_left == 0)
        bdat_chunk_end(s);
    return k;
}

static size_t cmd_feed(sess *s, const char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) : n;
    if (!s->line_overflow) {
        if (s->line.len + take + 1 > MAX_LINE) {
            s->line_overflow = 1;
            buf_reset(&s->line);
        } else {
            buf_append(&s->line, p, take);
        }
    }
    if (!nl)
        return n;
    if (s->line_overflow) {
        s->line_overflow = 0;
        reply(s, R_LINE_LONG, NULL);
        return take + 1;
    }
    size_t len = s->line.len;
    int crlf = len && s->line.data[len - 1] == '\r';
    if (crlf)
        s->line.data[--len] = 0;
    /* a command line ends in <CRLF>; normalize takes a bare <LF> for one */
    if ((!crlf && bare_newline(s, R_BARE_LF) < 0) ||
        (memchr(s->line.data, '\r', len) && bare_newline(s, R_BARE_CR) < 0))
        return take + 1;
    dispatch(s, s->line.data, len);
    buf_reset(&s->line);
    return take + 1;
}

size_t sess_feed(sess *s, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && !(s->flags & (SESS_CLOSE | SESS_STARTTLS | SESS_BLOCKED | SESS_DELAY)) &&
           s->state != S_CLOSED) {
        switch (s->state) {
        case S_DATA:
            i += data_feed(s, p + i, n - i);
            break;
        case S_BDAT:
            i += bdat_feed(s, p + i, n - i);
            break;
        default: {
            i += cmd_feed(s, p + i, n - i);
            /* RFC 2920 3.1: DATA ends a pipelined group, the client waits for its reply.
             * Input already here after a refused DATA would run as commands (what a
             * client meant as message content): refuse it and close. */
            if (s->data_refused && i < n && s->state != S_CLOSED)
                refuse_close(s, R_SYNC);
            s->data_refused = 0;
            break;
        }
        }
    }
    return i;
}
