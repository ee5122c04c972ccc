/* act.c — act-smtp settings and per-record work (see act.h). */
#include "act.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain.h"
#include "outcomes.h"
#include "params.h"
#include "record.h"
#include "util.h"

/* Used when the default reply table is not there (e.g. run from another directory). */
static const char builtin_replies[] =
    "random_bounce:550 5.1.1 <<RCPT_USER>@<RCPT_DOMAIN>>: Recipient address rejected: User "
    "unknown\n"
    "random_bounce:550 5.1.1 The email account that you tried to reach does not exist.\n"
    "random_bounce:552 5.2.2 <<RCPT_USER>@<RCPT_DOMAIN>>: Mailbox full\n"
    "random_bounce:550 5.7.1 Message rejected as spam by Content Filtering.\n"
    "random_bounce:554 5.7.1 <<RCPT_USER>@<RCPT_DOMAIN>>: Relay access denied\n";

static int cfg_err(bs_config *cfg, char **err, int *exit_code)
{
    *err = xstrdup(cfg_error(cfg));
    *exit_code = EX_CONFIG;
    return -1;
}

int act_conf_load(act_conf *c, bs_config *cfg, int dry_run, char **err, int *exit_code)
{
    memset(c, 0, sizeof *c);
    c->dry_run = dry_run;
    const char *s;
    long l;
    double d;
    int b;

    if (cfg_string(cfg, "Listen", "Hostname", NULL, &s) < 0)
        return cfg_err(cfg, err, exit_code);
    if (!s || !*s) {
        char h[256];
        if (gethostname(h, sizeof h) < 0 || !h[0])
            snprintf(h, sizeof h, "localhost");
        h[sizeof h - 1] = 0;
        c->hostname_own = xstrdup(h);
        s = c->hostname_own;
    }
    c->hostname = s;
    if (cfg_string(cfg, "Smtp", "From", NULL, &s) < 0)
        return cfg_err(cfg, err, exit_code);
    if (s && (!strchr(s, '@') || strpbrk(s, " <>\t"))) {
        cfg_fail(cfg, "Smtp", "From", "'%s' is not an address (local@domain)", s);
        return cfg_err(cfg, err, exit_code);
    }
    if (!s)
        s = c->from_own = xasprintf("postmaster@%s", c->hostname);
    c->report_from = s;
    if (cfg_string(cfg, "Smtp", "Helo", c->hostname, &s) < 0)
        return cfg_err(cfg, err, exit_code);
    c->dl.helo = s;
    if (cfg_hostport(cfg, "Smtp", "Relay", NULL, &c->relay_host, &c->relay_port) < 0)
        return cfg_err(cfg, err, exit_code);
    if (param_long(cfg, "Smtp", "Port", 1, 65535, &l) < 0)
        return cfg_err(cfg, err, exit_code);
    c->port = (int)l;
    if (param_double_range(cfg, "Smtp", "Timeout", 0.1, 3600, &d) < 0)
        return cfg_err(cfg, err, exit_code);
    c->dl.timeout = d;
    if (param_long(cfg, "Smtp", "Max_In_Flight", 1, 1000, &l) < 0)
        return cfg_err(cfg, err, exit_code);
    c->dl.max_in_flight = (int)l;
    if (param_double_range(cfg, "Smtp", "Retry_Max_Seconds", 0, 86400, &d) < 0)
        return cfg_err(cfg, err, exit_code);
    c->dl.retry_max = d;
    if (param_double_range(cfg, "Smtp", "Idle_Close", 0, 3600, &d) < 0)
        return cfg_err(cfg, err, exit_code);
    c->dl.idle_close = d;
    if (param_bool(cfg, "Smtp", "TLS_Verify", &b) < 0)
        return cfg_err(cfg, err, exit_code);
    c->dl.tls_verify = b;
    if (param_long(cfg, "Smtp", "Queue_Size", 1, 1000000, &c->queue_size) < 0)
        return cfg_err(cfg, err, exit_code);

    const char *ns_host;
    int ns_port;
    if (cfg_hostport(cfg, "Smtp", "Resolver", NULL, &ns_host, &ns_port) < 0)
        return cfg_err(cfg, err, exit_code);
    const char *const *ov;
    size_t n_ov;
    if (cfg_list(cfg, "Smtp", "MX_Override", &ov, &n_ov) < 0)
        return cfg_err(cfg, err, exit_code);
    char *why = NULL;
    c->mx = mx_new(ov, n_ov, ns_host, ns_port, (int)c->dl.timeout, &why);
    if (c->mx && dry_run)
        mx_set_offline(c->mx);
    if (!c->mx) {
        const char *key = why && strstr(why, "IPv4") ? "Resolver" : "MX_Override";
        cfg_fail(cfg, "Smtp", key, "%s", why);
        free(why);
        return cfg_err(cfg, err, exit_code);
    }

    /* allow-list: copied, since the config's section view is reused by later calls */
    const char *const *keys, *const *vals;
    size_t n = cfg_section(cfg, "RP_MX_domain_allowlist", &keys, &vals);
    char **mx = xcalloc(n + 1, sizeof *mx), **fbl = xcalloc(n + 1, sizeof *fbl);
    for (size_t i = 0; i < n; i++) {
        mx[i] = xstrdup(keys[i]);
        fbl[i] = xstrdup(vals[i]);
    }
    c->allow.mx = (const char *const *)mx;
    c->allow.fbl = (const char *const *)fbl;
    c->allow.n = n;
    /* the values become recipients, the keys are compared with MX host names */
    for (size_t i = 0; i < n; i++) {
        size_t kn = strlen(keys[i]);
        while (kn && keys[i][kn - 1] == '.')
            kn--;
        if (!bs_hostname_valid(keys[i], kn)) {
            cfg_fail(cfg, "RP_MX_domain_allowlist", keys[i], "'%s' is not a host name", keys[i]);
            return cfg_err(cfg, err, exit_code);
        }
        if (!bs_mailbox_valid(vals[i], strlen(vals[i]))) {
            cfg_fail(cfg, "RP_MX_domain_allowlist", keys[i],
                     "'%s' is not one address (local@domain)", vals[i]);
            return cfg_err(cfg, err, exit_code);
        }
    }

    const char *table;
    if (param_file(cfg, "Listen", "InBand_Replies_File", &table) < 0)
        return cfg_err(cfg, err, exit_code);
    /* The table is read as listen reads it: a bad line is an error naming FILE:LINE. */
    int rc;
    if (!cfg_get(cfg, "Listen", "InBand_Replies_File") && access(table, F_OK) != 0)
        rc = replies_parse(builtin_replies, sizeof builtin_replies - 1, "(built-in replies)",
                           &c->replies, &why);
    else
        rc = replies_load(table, &c->replies, &why);
    if (rc == 0 && replies_retain_class(&c->replies, 5) == 0) {
        why = xasprintf("%s has no 5xx replies (random_bounce:5xx 5.x.x text)", table);
        rc = -1;
    }
    if (rc < 0) {
        cfg_fail(cfg, "Listen", "InBand_Replies_File", "%s", why);
        free(why);
        return cfg_err(cfg, err, exit_code);
    }
    uint64_t seed;
    bs_random_bytes(&seed, sizeof seed);
    bs_rng_seed(&c->rng, seed);
    return 0;
}

void act_conf_free(act_conf *c)
{
    for (size_t i = 0; i < c->allow.n; i++) {
        free((char *)c->allow.mx[i]);
        free((char *)c->allow.fbl[i]);
    }
    free((void *)c->allow.mx);
    free((void *)c->allow.fbl);
    mx_free(c->mx);
    replies_free(&c->replies);
    free(c->hostname_own);
    free(c->from_own);
}

/* ---- the ordered queue ---------------------------------------------------------------- */

typedef struct item {
    json_t *rec; /* NULL for a line passed through */
    char *line;  /* its copy (a canonical record, no newline); with rec: the line to splice
                    the outcome into (rec had no "smtp") */
    size_t len;
    int waiting; /* deliveries not finished */
    struct item *next;
} item;

struct act_queue {
    act_conf *c;
    dl_engine *dl;
    item *head, *tail;
    size_t len;
    bs_buf out_buf; /* rec_write_spliced's buffer */
};

/* One oob, fbl or ooto action of a record, from its MX lookup to its delivery. */
typedef struct {
    act_queue *q;
    item *it;
    char kind[12];   /* "oob", "fbl", "ooto" or "delivered" */
    char *rp, *rcpt; /* Return-Path and original recipient addresses */
    char *hb;        /* the original header block, NULL when absent */
    size_t hlen;
    char *body; /* RET=FULL: the body ingest kept (return_body), else NULL */
    char *cfbl; /* fbl: the RFC 9477 CFBL-Address ingest found aligned, else NULL */
    size_t body_len;
} act_ctx;

static void ctx_free(act_ctx *ctx)
{
    free(ctx->rp);
    free(ctx->rcpt);
    free(ctx->hb);
    free(ctx->body);
    free(ctx->cfbl);
    free(ctx);
}

act_queue *act_queue_new(act_conf *c, dl_engine *dl)
{
    act_queue *q = xcalloc(1, sizeof *q);
    q->c = c;
    q->dl = dl;
    buf_init(&q->out_buf);
    return q;
}

void act_queue_free(act_queue *q)
{
    while (q->head) {
        item *it = q->head;
        q->head = it->next;
        json_decref(it->rec);
        free(it->line);
        free(it);
    }
    buf_free(&q->out_buf);
    free(q);
}

int act_queue_full(const act_queue *q)
{
    return q->len >= (size_t)q->c->queue_size;
}

size_t act_queue_len(const act_queue *q)
{
    return q->len;
}

/* LINE with REC's "smtp" member (the only one act-smtp adds, last in jansson's order)
 * before the closing brace: byte for byte what rec_write(out, rec) prints. */
static int write_spliced(act_queue *q, FILE *out, const char *line, size_t len, const json_t *rec)
{
    const json_t *smtp = json_object_get(rec, "smtp");
    if (!smtp)
        return rec_write_line(out, line, len);
    return rec_write_spliced(out, line, len - 1, "smtp", smtp, &q->out_buf);
}

int act_queue_flush(act_queue *q, FILE *out)
{
    while (q->head && q->head->waiting == 0) {
        item *it = q->head;
        int rc = it->rec && !it->line ? rec_write(out, it->rec)
                 : it->rec            ? write_spliced(q, out, it->line, it->len, it->rec)
                                      : rec_write_line(out, it->line, it->len);
        q->head = it->next;
        if (!q->head)
            q->tail = NULL;
        q->len--;
        json_decref(it->rec);
        free(it->line);
        free(it);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* "oob" -> "OOB" (dst holds 12 bytes) */
static void upper_kind(char *dst, const char *kind)
{
    size_t i = 0;
    for (; kind[i] && i < 11; i++)
        dst[i] = (char)(kind[i] - 'a' + 'A');
    dst[i] = 0;
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

/* JSON strings must be UTF-8: server replies are not guaranteed to be. */
static void set_text(json_t *o, const char *k, const char *v)
{
    if (!v)
        return;
    if (bs_utf8_valid(v, strlen(v))) {
        set_str(o, k, v);
        return;
    }
    char *c = xstrdup(v);
    for (char *p = c; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    set_str(o, k, c);
    free(c);
}

static void delivered(void *arg, const dl_result *r)
{
    act_ctx *ctx = arg;
    json_t *o = json_object_get(json_object_get(ctx->it->rec, "smtp"), ctx->kind);
    char up[12];
    upper_kind(up, ctx->kind);
    json_object_set_new(o, "attempts", json_integer(r->attempts));
    if (r->ok) {
        set_str(o, "status", bs_smtp_status_name(BS_SMTP_SENT));
        set_text(o, "reply", r->reply);
    } else {
        set_str(o, "status", bs_smtp_status_name(BS_SMTP_SMTP_ERROR));
        if (r->reply && *r->reply)
            set_text(o, "reply", r->reply);
        char *e = xasprintf("!%s endpoint returned error: %s", up, r->error);
        set_text(o, "error", e);
        bs_warn("message %s: %s to %s via %s: %s (%d attempt%s)", bs_show(rec_id(ctx->it->rec)), up,
                bs_show(json_string_value(json_object_get(o, "to"))),
                bs_show(json_string_value(json_object_get(o, "mx"))), r->error, r->attempts,
                r->attempts == 1 ? "" : "s");
        free(e);
    }
    ctx->it->waiting--;
    ctx_free(ctx);
}

static double arrival_time(const json_t *rec)
{
    double t;
    const char *s = rec_str(rec, "envelope.received");
    if (s && bs_parse_time(s, &t) == 0)
        return t;
    s = rec_str(rec, "ts");
    if (s && bs_parse_time(s, &t) == 0)
        return t;
    return bs_now();
}

/* The out-of-office reply's return date: 2 to 14 days after now. */
static double ooto_back(double now)
{
    uint32_t r;
    bs_random_bytes(&r, sizeof r);
    return now + (2 + r % 13) * 86400.0;
}

static void set_outcome(json_t *o, const char *status, const char *err)
{
    set_str(o, "status", status);
    set_text(o, "error", err);
}

static void routed(void *arg, mx_status st, const char *mx, const char *why);

/* RFC 3461 NOTIFY of the record: does it name word? Without NOTIFY, FAILURE (and DELAY)
 * are what an MTA sends (section 4.1), SUCCESS and NEVER are not. */
static int dsn_wanted(const json_t *rec, const char *word)
{
    json_t *notify = rec_get(rec, "dsn.notify");
    if (!json_is_array(notify))
        return strcmp(word, "FAILURE") == 0 || strcmp(word, "DELAY") == 0;
    size_t i;
    json_t *w;
    json_array_foreach(notify, i, w)
    {
        if (json_is_string(w) && strcmp(json_string_value(w), word) == 0)
            return 1;
    }
    return 0;
}

/* One oob, fbl or ooto action: the checks that need no DNS, then the MX lookup of the
 * Return-Path domain; routed() goes on when the answer is in. oob (DSN) and ooto (RFC 3834
 * auto-reply) go to the Return-Path address at its MX with MAIL FROM:<>; fbl goes to the
 * allow-list's FBL address. The record is held (it->waiting) until its actions are done. */
static void do_action(act_queue *q, item *it, const char *kind)
{
    json_t *rec = it->rec;
    json_t *o = json_object();
    json_object_set_new(rec_obj(rec, "smtp"), kind, o);
    act_ctx *ctx = xcalloc(1, sizeof *ctx);
    ctx->q = q;
    ctx->it = it;
    snprintf(ctx->kind, sizeof ctx->kind, "%s", kind);
    const char *mail_from = rec_str(rec, "envelope.mail_from");
    mk_rp_kind rp_kind = mk_return_path(mail_from, &ctx->rp);
    ctx->rcpt = mk_addr_part(rec_str(rec, "envelope.rcpt"));
    if (!ctx->rcpt)
        ctx->rcpt = mk_addr_part(rec_str(rec, "headers.to"));
    ctx->hb = rec_get_bytes(rec, "header_block", &ctx->hlen);
    if (!ctx->hb)
        ctx->hlen = 0;
    const char *ret = rec_str(rec, "dsn.ret");
    if (ret && strcmp(ret, "FULL") == 0 && strcmp(kind, "fbl") != 0 && strcmp(kind, "ooto") != 0)
        ctx->body = rec_get_bytes(rec, "return_body", &ctx->body_len);

    /* RFC 3461 NOTIFY: a failure DSN only when asked for (or when NOTIFY was not given) */
    if (strcmp(kind, "oob") == 0 && !dsn_wanted(rec, "FAILURE")) {
        set_outcome(o, bs_smtp_status_name(BS_SMTP_NOT_REQUESTED),
                    dsn_wanted(rec, "NEVER")
                        ? "!OOB not sent, the sender asked for no DSN (NOTIFY=NEVER)"
                        : "!OOB not sent, the sender asked for no failure DSN (NOTIFY without "
                          "FAILURE)");
        ctx_free(ctx);
        return;
    }

    /* The Return-Path becomes a recipient (OOB, OOTO) and names the domain whose MX is
     * asked: it must be exactly one mailbox before any DNS or SMTP. */
    if (rp_kind == MK_RP_INVALID) {
        char up[12];
        upper_kind(up, kind);
        char *shown = mk_printable(mail_from, 256);
        char *err = xasprintf("!%s not sent, Return-Path %s invalid", up, shown);
        set_outcome(o, bs_smtp_status_name(BS_SMTP_INVALID_RETURN_PATH), err);
        free(err);
        free(shown);
        ctx_free(ctx);
        return;
    }
    if (strcmp(kind, "ooto") == 0) {
        const char *status = NULL;
        char *refusal = NULL;
        if (mk_ooto_refusal(ctx->rp, ctx->hb, ctx->hlen, &status, &refusal)) {
            char *err = xasprintf("!OOTO not sent, %s", refusal);
            set_outcome(o, status, err);
            free(err);
            free(refusal);
            ctx_free(ctx);
            return;
        }
    }
    /* RFC 9477: a complaint goes to an aligned CFBL-Address (checked by ingest, cfbl.h), at
     * the MX of its domain, through the same allow-list guard */
    const char *cfbl = rec_str(rec, "cfbl.address");
    if (strcmp(kind, "fbl") == 0 && cfbl && json_is_true(rec_get(rec, "cfbl.aligned")) &&
        bs_mailbox_valid(cfbl, strlen(cfbl)))
        ctx->cfbl = xstrdup(cfbl);
    char *domain = ctx->rp ? mk_addr_domain(ctx->rp) : NULL;
    if (domain && ctx->cfbl) {
        free(domain);
        domain = mk_addr_domain(ctx->cfbl);
    }
    if (!domain) {
        set_outcome(o, bs_smtp_status_name(BS_SMTP_MISSING_RETURN_PATH), "!Missing Return-Path:");
        ctx_free(ctx);
        return;
    }
    if (!ctx->rcpt) {
        set_outcome(o, bs_smtp_status_name(BS_SMTP_MISSING_TO), "!Missing To:");
        ctx_free(ctx);
        free(domain);
        return;
    }
    it->waiting++;
    mx_resolve(q->c->mx, domain, routed, ctx);
    free(domain);
}

/* The MX is known: the backscatter guard, the report, the hand-over to the delivery engine
 * (which then holds the record until delivered() runs). */
/* A 5xx reply of the table, filled for this message, as "550 5.1.1 text" (caller frees). */
static char *dsn_reply(act_conf *c, const char *mail_from, const char *rcpt, const char *client_ip)
{
    const inband_reply *rep = &c->replies.v[replies_pick(&c->replies, &c->rng, 0, NULL)];
    const char *at = rcpt ? strrchr(rcpt, '@') : NULL;
    char *user = at ? xstrndup(rcpt, (size_t)(at - rcpt)) : NULL;
    reply_vars vars = {.rcpt_user = at ? user : rcpt,
                       .rcpt_domain = at ? at + 1 : NULL,
                       .client_ip = client_ip && *client_ip ? client_ip : NULL,
                       .orig = mail_from};
    bs_buf b;
    buf_init(&b);
    buf_printf(&b, "%d %s ", rep->code, rep->enhanced);
    replies_fill(rep, &vars, &c->rng, &b);
    free(user);
    return buf_steal(&b);
}

static void routed(void *arg, mx_status st, const char *mx, const char *why)
{
    act_ctx *ctx = arg;
    act_conf *c = ctx->q->c;
    json_t *rec = ctx->it->rec;
    json_t *o = json_object_get(json_object_get(rec, "smtp"), ctx->kind);
    const char *kind = ctx->kind;
    int oob = strcmp(kind, "oob") == 0, ooto = strcmp(kind, "ooto") == 0;
    int delivered_dsn = strcmp(kind, "delivered") == 0;
    oob = oob || delivered_dsn; /* both DSNs: to the Return-Path, MAIL FROM:<> */
    char up[12];
    upper_kind(up, kind);
    const char *rp = ctx->rp, *rcpt = ctx->rcpt, *hb = ctx->hb;
    size_t hlen = ctx->hlen;
    char *fbl_to = NULL, *err = NULL;
    const char *status = NULL, *reason = NULL;

    switch (st) {
    case MX_NONE:
        status = bs_smtp_status_name(BS_SMTP_NO_MX);
        err =
            ctx->cfbl
                ? xasprintf("!%s not sent, CFBL-Address %s does not have a valid MX", up, ctx->cfbl)
                : xasprintf("!%s not sent, Return-Path %s does not have a valid MX", up, rp);
        reason = why;
        goto done;
    case MX_TEMPFAIL:
        status = bs_smtp_status_name(BS_SMTP_SMTP_ERROR);
        err = xasprintf("!%s not sent, MX lookup failed: %s", up, why);
        goto done;
    case MX_OFFLINE:
        /* --dry-run makes no DNS query: without the MX the allow-list cannot be applied,
         * so the record says what was not checked. */
        status = bs_smtp_status_name(BS_SMTP_DRY_RUN);
        reason = why;
        goto done;
    case MX_FOUND:
        break;
    }
    set_str(o, "mx", mx);
    fbl_to = mx_fbl_address(&c->allow, mx);
    if (!fbl_to) {
        status = bs_smtp_status_name(BS_SMTP_RETURN_PATH_NOT_SPARKPOST);
        err = ctx->cfbl ? xasprintf("!%s not sent, CFBL-Address %s: MX not recognized as SparkPost",
                                    up, ctx->cfbl)
                        : xasprintf("!%s not sent, Return-Path not recognized as SparkPost", up);
        goto done;
    }
    if (ctx->cfbl) { /* the guard passed: the complaint goes to the CFBL-Address */
        free(fbl_to);
        fbl_to = xstrdup(ctx->cfbl);
        json_object_set_new(o, "cfbl", json_true());
    }
    const char *to = oob || ooto ? rp : fbl_to;
    /* Every recipient is one mailbox: the Return-Path and the allow-list values were
     * checked already, the e.sparkpost.com address is made of a checked label; this keeps
     * it so whatever the source. */
    if (!bs_mailbox_valid(to, strlen(to))) {
        status = bs_smtp_status_name(BS_SMTP_INVALID_RETURN_PATH);
        char *shown = mk_printable(to, 256);
        err = xasprintf("!%s not sent, recipient %s invalid", up, shown);
        free(shown);
        goto done;
    }
    set_str(o, "from", oob || ooto ? rcpt : c->report_from);
    set_str(o, "to", to);

    mk_orig orig = {.mail_from = rp,
                    .rcpt = rcpt,
                    .client_ip = rec_str(rec, "envelope.client_ip"),
                    .from_header = rec_str(rec, "headers.from"),
                    .arrival = arrival_time(rec)};
    orig.header_block = hb ? hb : "";
    orig.header_len = hlen;
    orig.envid = rec_str(rec, "dsn.envid");
    orig.orcpt = rec_str(rec, "dsn.orcpt");
    orig.body = ctx->body;
    orig.body_len = ctx->body_len;
    mk_opts mo = {.hostname = c->hostname, .report_from = c->report_from};
    size_t len;
    char *payload;
    if (delivered_dsn) {
        payload = mk_dsn_delivered(&mo, &orig, bs_now(), &len);
    } else if (oob) {
        char *reply = dsn_reply(c, rp, rcpt, orig.client_ip);
        payload = mk_dsn(&mo, &orig, reply, bs_now(), &len);
        free(reply);
    } else if (ooto) {
        /* Subject and Message-ID only as ingest recorded them: from the instance the DKIM
         * signature covers, absent when it covers none (never from the header block). */
        char *refs = mk_header_get(hb, hlen, "References");
        mk_ooto_ref ref = {.subject = rec_str(rec, "headers.subject"),
                           .message_id = rec_str(rec, "headers.message_id"),
                           .references = refs};
        double now = bs_now();
        payload = mk_ooto(&mo, &orig, &ref, now, ooto_back(now), &len);
        free(refs);
    } else {
        payload = mk_arf(&mo, &orig, fbl_to, bs_now(), &len);
    }
    if (c->relay_host) {
        char *relay = xasprintf("%s:%d", c->relay_host, c->relay_port);
        set_text(o, "relay", relay);
        free(relay);
    }
    if (c->dry_run) {
        status = bs_smtp_status_name(BS_SMTP_DRY_RUN);
        free(payload);
        goto done;
    }
    /* the hold on the record passes to the delivery */
    dl_submit(ctx->q->dl, c->relay_host ? c->relay_host : mx,
              c->relay_host ? c->relay_port : c->port, oob || ooto ? "" : c->report_from, to,
              payload, len, delivered, ctx);
    free(fbl_to);
    return;

done:
    set_outcome(o, status, err);
    set_text(o, "reason", reason);
    free(fbl_to);
    free(err);
    ctx->it->waiting--;
    ctx_free(ctx);
}

int act_line_has_work(const jc_want *want)
{
    /* a scheduled action (issue 17) always takes the full parse */
    if (jc_is_string(want[0].val, "action"))
        return 1;
    return jc_is_string(want[0].val, "message") &&
           (jc_array_has_string(want[1].val, "oob") || jc_array_has_string(want[1].val, "fbl") ||
            jc_array_has_string(want[1].val, "ooto"));
}

int act_queue_pass_line(act_queue *q, const char *line, size_t len, FILE *out)
{
    if (!q->head)
        return rec_write_line(out, line, len);
    item *it = xcalloc(1, sizeof *it);
    it->line = xmalloc(len);
    memcpy(it->line, line, len);
    it->len = len;
    q->tail->next = it;
    q->tail = it;
    q->len++;
    return 0;
}

static void push(act_queue *q, json_t *rec, const char *line, size_t len);

void act_queue_push(act_queue *q, json_t *rec)
{
    push(q, rec, NULL, 0);
}

void act_queue_push_line(act_queue *q, json_t *rec, const char *line, size_t len,
                         const jc_want *want)
{
    if (want[2].val.p) /* "smtp" there already: its place in the record is not the end */
        line = NULL;
    push(q, rec, line, len);
}

static void push(act_queue *q, json_t *rec, const char *line, size_t len)
{
    item *it = xcalloc(1, sizeof *it);
    it->rec = rec;
    if (line) {
        it->line = xmalloc(len);
        memcpy(it->line, line, len);
        it->len = len;
    }
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->len++;
    const char *kind = rec_kind(rec);
    if (!kind || (strcmp(kind, "message") != 0 && strcmp(kind, "action") != 0))
        return; /* an action record: one action of a message that schedule held */
    json_t *actions = rec_get(rec, "plan.actions");
    if (!json_is_array(actions))
        return;
    int want_oob = 0, want_fbl = 0, want_ooto = 0, want_delivered = 0;
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a)
    {
        const char *s = json_string_value(a);
        if (s && strcmp(s, "oob") == 0)
            want_oob = 1;
        else if (s && strcmp(s, "fbl") == 0)
            want_fbl = 1;
        else if (s && strcmp(s, "ooto") == 0)
            want_ooto = 1;
    }
    /* RFC 3461 NOTIFY=SUCCESS: a delivered DSN for a message the sink accepted and planned
     * for (the gate passed: plan.skip absent) and does not bounce */
    const json_t *plan = rec_get(rec, "plan");
    if (!want_oob && dsn_wanted(rec, "SUCCESS") && !json_object_get(plan, "skip") &&
        !json_object_get(rec, "error"))
        want_delivered = 1;
    /* hold the record while its own actions are set up */
    it->waiting++;
    if (want_oob)
        do_action(q, it, "oob");
    if (want_fbl)
        do_action(q, it, "fbl");
    if (want_ooto)
        do_action(q, it, "ooto");
    if (want_delivered)
        do_action(q, it, "delivered");
    it->waiting--;
}
