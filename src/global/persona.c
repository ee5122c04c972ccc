/* persona.c — persona files: parser, condition engine, reply texts (persona.h). */
#include "persona.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "lines.h"

#define MAX_PARAMS 64
#define MAX_DEPTH 32  /* nesting of a condition */
#define MAX_TEXT 2000 /* octets of a reply text */
#define MAX_WINDOW (86400L * 30)

const char *const persona_stage_names[PST_COUNT] = {"connect", "ehlo", "mail", "rcpt", "data"};

const char *const persona_fact_names[PF_COUNT] = {
    [PF_SPF] = "spf",
    [PF_DKIM] = "dkim",
    [PF_DMARC] = "dmarc",
    [PF_DMARC_POLICY] = "dmarc_policy",
    [PF_DKIM_ALIGNED] = "dkim_aligned",
    [PF_SPF_ALIGNED] = "spf_aligned",
    [PF_PTR] = "ptr",
    [PF_FCRDNS] = "fcrdns",
    [PF_TLS] = "tls",
    [PF_FROM_COUNT] = "from_count",
    [PF_MESSAGE_ID] = "message_id",
    [PF_DATE] = "date",
    [PF_LIST_UNSUB] = "list_unsubscribe",
    [PF_LIST_UNSUB_POST] = "list_unsubscribe_post",
    [PF_SIZE] = "size",
    [PF_RCPTS] = "rcpts",
    [PF_BULK] = "bulk",
    [PF_IPREV] = "iprev",
    [PF_IP_MSGS] = "ip_msgs",
    [PF_IP_CONNS] = "ip_conns",
    [PF_DOMAIN_MSGS] = "domain_msgs",
};

/* The stage each fact is first known at. */
static const persona_stage fact_stage[PF_COUNT] = {
    [PF_SPF] = PST_MAIL,          [PF_DKIM] = PST_DATA,
    [PF_DMARC] = PST_DATA,        [PF_DMARC_POLICY] = PST_DATA,
    [PF_DKIM_ALIGNED] = PST_DATA, [PF_SPF_ALIGNED] = PST_DATA,
    [PF_PTR] = PST_CONNECT,       [PF_FCRDNS] = PST_CONNECT,
    [PF_TLS] = PST_EHLO,          [PF_FROM_COUNT] = PST_DATA,
    [PF_MESSAGE_ID] = PST_DATA,   [PF_DATE] = PST_DATA,
    [PF_LIST_UNSUB] = PST_DATA,   [PF_LIST_UNSUB_POST] = PST_DATA,
    [PF_SIZE] = PST_DATA,         [PF_RCPTS] = PST_RCPT,
    [PF_BULK] = PST_DATA,         [PF_IPREV] = PST_CONNECT,
    [PF_IP_MSGS] = PST_CONNECT,   [PF_IP_CONNS] = PST_CONNECT,
    [PF_DOMAIN_MSGS] = PST_DATA,
};

typedef enum { FT_RESULT, FT_POLICY, FT_IPREV, FT_BOOL, FT_COUNT, FT_RATE } fact_type;
static const fact_type fact_types[PF_COUNT] = {
    [PF_SPF] = FT_RESULT,        [PF_DKIM] = FT_RESULT,
    [PF_DMARC] = FT_RESULT,      [PF_DMARC_POLICY] = FT_POLICY,
    [PF_DKIM_ALIGNED] = FT_BOOL, [PF_SPF_ALIGNED] = FT_BOOL,
    [PF_PTR] = FT_BOOL,          [PF_FCRDNS] = FT_BOOL,
    [PF_TLS] = FT_BOOL,          [PF_FROM_COUNT] = FT_COUNT,
    [PF_MESSAGE_ID] = FT_BOOL,   [PF_DATE] = FT_BOOL,
    [PF_LIST_UNSUB] = FT_BOOL,   [PF_LIST_UNSUB_POST] = FT_BOOL,
    [PF_SIZE] = FT_COUNT,        [PF_RCPTS] = FT_COUNT,
    [PF_BULK] = FT_BOOL,         [PF_IPREV] = FT_IPREV,
    [PF_IP_MSGS] = FT_RATE,      [PF_IP_CONNS] = FT_RATE,
    [PF_DOMAIN_MSGS] = FT_RATE,
};

/* The words of a fact's vocabulary, by value. */
static const char *const result_words[] = {"none",      "pass",      "fail", "softfail", "neutral",
                                           "temperror", "permerror", "off",  NULL};
static const char *const policy_words[] = {"unknown", "none", "quarantine", "reject", NULL};
static const char *const bool_words[] = {"no", "yes", NULL};
static const char *const iprev_words[] = {"none", "pass", "fail", "permerror", "temperror", NULL};

static const char *const *fact_words(persona_fact f)
{
    switch (fact_types[f]) {
    case FT_RESULT:
        return result_words;
    case FT_POLICY:
        return policy_words;
    case FT_IPREV:
        return iprev_words;
    case FT_BOOL:
        return bool_words;
    default:
        return NULL;
    }
}

/* ---- the parser ---------------------------------------------------------------------- */

typedef struct {
    char name[32];
    long value;
} param;

typedef struct {
    const char *file;
    int line;
    char *err;
    const char *p; /* the condition being read */
    persona_stage stage;
    param params[MAX_PARAMS];
    size_t nparams;
    persona *pe;
} parser;

static int fail(parser *ps, const char *fmt, ...) BS_PRINTF(2, 3);
static int fail(parser *ps, const char *fmt, ...)
{
    if (ps->err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *why = xvasprintf(fmt, ap);
    va_end(ap);
    ps->err = xasprintf("%s:%d: %s", ps->file, ps->line, why);
    free(why);
    return -1;
}

static void skip_blanks(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

/* A word of [A-Za-z0-9_.-] at *p: its length (0: none). */
static size_t word_len(const char *p)
{
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_' || p[n] == '.' || p[n] == '-')
        n++;
    return n;
}

static int word_is(const char *p, size_t n, const char *w)
{
    return strlen(w) == n && strncmp(p, w, n) == 0;
}

/* A non-negative decimal number [p, p+n): 0 ok. */
static int number_of(const char *p, size_t n, long *out)
{
    if (n == 0 || n > 12)
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/* A duration "60", "60s", "10m", "24h", "1d" [p, p+n): seconds in 1..MAX_WINDOW. */
static int duration_of(const char *p, size_t n, long *out)
{
    long mult = 1;
    if (n > 1 && !isdigit((unsigned char)p[n - 1])) {
        switch (p[n - 1]) {
        case 's':
            mult = 1;
            break;
        case 'm':
            mult = 60;
            break;
        case 'h':
            mult = 3600;
            break;
        case 'd':
            mult = 86400;
            break;
        default:
            return -1;
        }
        n--;
    }
    long v;
    if (number_of(p, n, &v) < 0 || v <= 0 || v > MAX_WINDOW / mult)
        return -1;
    *out = v * mult;
    return 0;
}

static persona_cond *cond_new(persona_cond_kind k)
{
    persona_cond *c = xcalloc(1, sizeof *c);
    c->kind = k;
    return c;
}

static void cond_free(persona_cond *c)
{
    if (!c)
        return;
    cond_free(c->a);
    cond_free(c->b);
    free(c);
}

static persona_cond *parse_or(parser *ps, int depth);

/* A value after an operator: a number, $param, or words (a|b) of the fact's vocabulary. */
static int parse_value(parser *ps, persona_cond *c)
{
    const char *p = ps->p;
    const char *const *words = fact_words(c->fact);
    if (*p == '$') {
        p++;
        size_t n = word_len(p);
        for (size_t i = 0; i < ps->nparams; i++)
            if (word_is(p, n, ps->params[i].name)) {
                if (words)
                    return fail(ps, "%s takes a word, not a number", persona_fact_names[c->fact]);
                c->value = ps->params[i].value;
                ps->p = p + n;
                return 0;
            }
        return fail(ps, "unknown parameter $%.*s (a param line must come first)", (int)n, p);
    }
    if (!words) {
        size_t n = word_len(p);
        if (number_of(p, n, &c->value) < 0)
            return fail(ps, "%s takes a number", persona_fact_names[c->fact]);
        ps->p = p + n;
        return 0;
    }
    if (c->op != OP_EQ && c->op != OP_NE)
        return fail(ps, "%s takes = or !=", persona_fact_names[c->fact]);
    c->is_set = 1;
    for (;;) {
        size_t n = word_len(p);
        size_t k = 0;
        while (words[k] && !word_is(p, n, words[k]))
            k++;
        if (!words[k]) {
            bs_buf all;
            buf_init(&all);
            for (size_t i = 0; words[i]; i++)
                buf_printf(&all, "%s%s", i ? " " : "", words[i]);
            fail(ps, "%s cannot be '%.*s' (one of: %s)", persona_fact_names[c->fact], (int)n, p,
                 all.data);
            buf_free(&all);
            return -1;
        }
        c->value |= 1L << k;
        p += n;
        if (*p != '|')
            break;
        p++;
    }
    ps->p = p;
    return 0;
}

static persona_cond *parse_atom(parser *ps)
{
    const char *p = ps->p;
    size_t n = word_len(p);
    if (n == 0) {
        fail(ps, "condition expected at '%s'", *p ? p : "end of line");
        return NULL;
    }
    size_t f = 0;
    while (f < PF_COUNT && !word_is(p, n, persona_fact_names[f]))
        f++;
    if (f == PF_COUNT) {
        fail(ps, "unknown fact '%.*s'", (int)n, p);
        return NULL;
    }
    if (fact_stage[f] > ps->stage) {
        fail(ps, "fact %s is not known at stage %s (from %s on)", persona_fact_names[f],
             persona_stage_names[ps->stage], persona_stage_names[fact_stage[f]]);
        return NULL;
    }
    persona_cond *c = cond_new(PC_CMP);
    c->fact = (persona_fact)f;
    p += n;
    if (fact_types[f] == FT_RATE) {
        if (*p != '/') {
            fail(ps, "%s needs a window (%s/60s)", persona_fact_names[f], persona_fact_names[f]);
            goto bad;
        }
        p++;
        n = word_len(p);
        if (duration_of(p, n, &c->window) < 0) {
            fail(ps, "bad window '%.*s' (e.g. 60s, 10m, 24h, 1d; at most 30 days)", (int)n, p);
            goto bad;
        }
        p += n;
    }
    skip_blanks(&p);
    static const struct {
        const char *s;
        persona_op op;
    } ops[] = {{"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE},
               {"=", OP_EQ},  {"<", OP_LT},  {">", OP_GT}};
    size_t k = 0;
    while (k < sizeof ops / sizeof *ops && strncmp(p, ops[k].s, strlen(ops[k].s)) != 0)
        k++;
    if (k == sizeof ops / sizeof *ops) {
        if (fact_types[f] != FT_BOOL) {
            fail(ps, "%s needs an operator and a value", persona_fact_names[f]);
            goto bad;
        }
        c->op = OP_EQ; /* a yes/no fact alone: yes */
        c->is_set = 1;
        c->value = 1L << 1;
        ps->p = p;
        return c;
    }
    c->op = ops[k].op;
    p += strlen(ops[k].s);
    skip_blanks(&p);
    ps->p = p;
    if (parse_value(ps, c) < 0)
        goto bad;
    return c;
bad:
    cond_free(c);
    return NULL;
}

static int keyword(parser *ps, const char *w)
{
    size_t n = word_len(ps->p);
    if (!word_is(ps->p, n, w))
        return 0;
    ps->p += n;
    skip_blanks(&ps->p);
    return 1;
}

static persona_cond *parse_unary(parser *ps, int depth)
{
    if (depth > MAX_DEPTH) {
        fail(ps, "condition nested too deep");
        return NULL;
    }
    skip_blanks(&ps->p);
    if (keyword(ps, "not")) {
        persona_cond *a = parse_unary(ps, depth + 1);
        if (!a)
            return NULL;
        persona_cond *c = cond_new(PC_NOT);
        c->a = a;
        return c;
    }
    if (keyword(ps, "always"))
        return cond_new(PC_TRUE);
    if (*ps->p == '(') {
        ps->p++;
        persona_cond *c = parse_or(ps, depth + 1);
        if (!c)
            return NULL;
        skip_blanks(&ps->p);
        if (*ps->p != ')') {
            cond_free(c);
            fail(ps, "missing )");
            return NULL;
        }
        ps->p++;
        skip_blanks(&ps->p);
        return c;
    }
    persona_cond *c = parse_atom(ps);
    skip_blanks(&ps->p);
    return c;
}

static persona_cond *parse_binary(parser *ps, int depth, int is_or)
{
    persona_cond *a = is_or ? parse_binary(ps, depth, 0) : parse_unary(ps, depth);
    while (a && keyword(ps, is_or ? "or" : "and")) {
        persona_cond *b = is_or ? parse_binary(ps, depth, 0) : parse_unary(ps, depth);
        if (!b) {
            cond_free(a);
            return NULL;
        }
        persona_cond *c = cond_new(is_or ? PC_OR : PC_AND);
        c->a = a;
        c->b = b;
        a = c;
    }
    return a;
}

static persona_cond *parse_or(parser *ps, int depth)
{
    return parse_binary(ps, depth, 1);
}

/* The placeholders a reply text may hold. */
static const char *const placeholders[] = {"CLIENT_IP", "HELO",        "MAIL_FROM",   "MAIL_DOMAIN",
                                           "RCPT",      "RCPT_DOMAIN", "FROM_DOMAIN", "DKIM_DOMAIN",
                                           "PTR",       "HOSTNAME",    NULL};

static int placeholder_at(const char *p, size_t *len)
{
    if (*p != '<')
        return -1;
    size_t n = 1;
    while (isupper((unsigned char)p[n]) || p[n] == '_')
        n++;
    if (p[n] != '>' || n == 1)
        return -1;
    for (int i = 0; placeholders[i]; i++)
        if (strlen(placeholders[i]) == n - 1 && strncmp(p + 1, placeholders[i], n - 1) == 0) {
            *len = n + 1;
            return i;
        }
    *len = n + 1;
    return -2; /* an unknown <UPPER_CASE> word */
}

static int parse_reply(parser *ps, const char *p, persona_rule *r)
{
    skip_blanks(&p);
    size_t n = word_len(p);
    long code;
    if (number_of(p, n, &code) < 0 || n != 3 || code < 400 || code > 599)
        return fail(ps, "reply code must be 4xx or 5xx");
    r->code = (int)code;
    p += n;
    skip_blanks(&p);
    n = word_len(p);
    /* an enhanced status code (RFC 3463): class "." subject "." detail, class = code's */
    int a, b, c, used = 0;
    char tmp[16];
    if (n == 0 || n >= sizeof tmp)
        return fail(ps, "enhanced status code expected (e.g. 5.7.26)");
    memcpy(tmp, p, n);
    tmp[n] = 0;
    if (sscanf(tmp, "%1d.%3d.%3d%n", &a, &b, &c, &used) != 3 || (size_t)used != n ||
        strspn(tmp, "0123456789.") != n)
        return fail(ps, "bad enhanced status code '%s'", tmp);
    if (a != r->code / 100)
        return fail(ps, "enhanced status code %s does not agree with reply code %d", tmp, r->code);
    memcpy(r->enhanced, tmp, n + 1);
    p += n;
    skip_blanks(&p);
    if (!*p)
        return fail(ps, "reply text expected");
    size_t tl = strlen(p);
    while (tl && (p[tl - 1] == ' ' || p[tl - 1] == '\t'))
        tl--;
    if (tl > MAX_TEXT)
        return fail(ps, "reply text over %d octets", MAX_TEXT);
    for (size_t i = 0; i < tl; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch < ' ' || ch > '~')
            return fail(ps, "reply text must be printable ASCII");
        size_t pl;
        if (ch == '<' && placeholder_at(p + i, &pl) == -2)
            return fail(ps, "unknown placeholder %.*s", (int)pl, p + i);
    }
    r->text = xstrndup(p, tl);
    return 0;
}

static int parse_rule(parser *ps, const char *p)
{
    persona *pe = ps->pe;
    persona_rule r = {0};
    r.line = ps->line;
    size_t n = word_len(p);
    if (n == 0 || n > 64)
        return fail(ps, "rule name expected (letters, digits, _ . -; at most 64)");
    for (size_t i = 0; i < pe->nrules; i++)
        if (word_is(p, n, pe->rules[i].name))
            return fail(ps, "rule %.*s defined twice (line %d)", (int)n, p, pe->rules[i].line);
    const char *name = p;
    size_t name_len = n;
    p += n;
    skip_blanks(&p);
    n = word_len(p);
    size_t st = 0;
    while (st < PST_COUNT && !word_is(p, n, persona_stage_names[st]))
        st++;
    if (st == PST_COUNT)
        return fail(ps, "stage '%.*s' is not connect, ehlo, mail, rcpt or data", (int)n, p);
    r.stage = (persona_stage)st;
    ps->stage = r.stage;
    p += n;
    const char *arrow = strstr(p, "=>");
    if (!arrow)
        return fail(ps, "'=>' and a reply expected after the condition");
    char *cond_text = xstrndup(p, (size_t)(arrow - p));
    ps->p = cond_text;
    skip_blanks(&ps->p);
    if (!*ps->p) {
        free(cond_text);
        return fail(ps, "condition expected (or 'always')");
    }
    r.cond = parse_or(ps, 0);
    if (r.cond && *ps->p) {
        fail(ps, "unexpected '%s' in the condition", ps->p);
        cond_free(r.cond);
        r.cond = NULL;
    }
    free(cond_text);
    if (!r.cond)
        return -1;
    if (parse_reply(ps, arrow + 2, &r) < 0) {
        cond_free(r.cond);
        return -1;
    }
    r.name = xstrndup(name, name_len);
    pe->rules = xrealloc(pe->rules, (pe->nrules + 1) * sizeof *pe->rules);
    pe->rules[pe->nrules++] = r;
    return 0;
}

static int parse_line(parser *ps, const char *p)
{
    size_t n = word_len(p);
    const char *kw = p;
    p += n;
    skip_blanks(&p);
    if (word_is(kw, n, "rule"))
        return parse_rule(ps, p);
    if (word_is(kw, n, "param")) {
        size_t nl = word_len(p);
        if (nl == 0 || nl >= sizeof ps->params[0].name)
            return fail(ps, "param name expected (at most 31 characters)");
        for (size_t i = 0; i < ps->nparams; i++)
            if (word_is(p, nl, ps->params[i].name))
                return fail(ps, "param %.*s defined twice", (int)nl, p);
        if (ps->nparams == MAX_PARAMS)
            return fail(ps, "more than %d params", MAX_PARAMS);
        param *pa = &ps->params[ps->nparams];
        memcpy(pa->name, p, nl);
        pa->name[nl] = 0;
        p += nl;
        skip_blanks(&p);
        size_t vl = word_len(p);
        if (number_of(p, vl, &pa->value) < 0 || p[vl])
            return fail(ps, "param %s: a whole number expected", pa->name);
        ps->nparams++;
        return 0;
    }
    if (word_is(kw, n, "bulk")) {
        if (ps->pe->bulk_threshold)
            return fail(ps, "bulk given twice");
        size_t nl = word_len(p);
        long v;
        if (*p == '$') {
            nl = word_len(p + 1);
            size_t i = 0;
            while (i < ps->nparams && !word_is(p + 1, nl, ps->params[i].name))
                i++;
            if (i == ps->nparams)
                return fail(ps, "unknown parameter $%.*s", (int)nl, p + 1);
            v = ps->params[i].value;
            nl++;
        } else if (number_of(p, nl, &v) < 0) {
            return fail(ps, "bulk THRESHOLD WINDOW: a whole number expected");
        }
        if (v < 1)
            return fail(ps, "bulk threshold must be at least 1");
        p += nl;
        skip_blanks(&p);
        size_t wl = word_len(p);
        if (duration_of(p, wl, &ps->pe->bulk_window) < 0 || p[wl])
            return fail(ps, "bulk THRESHOLD WINDOW: bad window (e.g. 24h)");
        ps->pe->bulk_threshold = v;
        return 0;
    }
    return fail(ps, "'rule', 'param' or 'bulk' expected");
}

int persona_parse(const char *data, size_t len, const char *name, const char *file, persona *out,
                  char **err)
{
    memset(out, 0, sizeof *out);
    *err = NULL;
    parser *ps = xcalloc(1, sizeof *ps);
    ps->file = file;
    ps->pe = out;
    int rc = 0;
    size_t pos = 0;
    while (pos < len && rc == 0) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - data) : len;
        size_t l = end - pos;
        ps->line++;
        if (l && data[pos + l - 1] == '\r')
            l--;
        char *line = xstrndup(data + pos, l);
        pos = end + 1;
        if (strlen(line) != l) {
            rc = fail(ps, "NUL character");
        } else {
            const char *p = line;
            skip_blanks(&p);
            if (*p && *p != '#')
                rc = parse_line(ps, p);
        }
        free(line);
    }
    if (rc == 0 && out->nrules == 0) {
        ps->line = 0;
        rc = -1;
        ps->err = xasprintf("%s: no rules", file);
    }
    if (rc < 0) {
        *err = ps->err ? ps->err : xasprintf("%s: bad persona", file);
        persona_free(out);
    } else {
        out->name = xstrdup(name);
    }
    free(ps);
    return rc;
}

int persona_load(const char *path, persona *out, char **err)
{
    char *data;
    size_t len;
    memset(out, 0, sizeof *out);
    if (bs_read_file(path, (size_t)1 << 20, &data, &len) < 0) {
        *err = xasprintf("%s: %s", path, strerror(errno));
        return -1;
    }
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t bl = strlen(base);
    const char *suffix = ".persona";
    if (bl > strlen(suffix) && strcmp(base + bl - strlen(suffix), suffix) == 0)
        bl -= strlen(suffix);
    char *name = xstrndup(base, bl);
    int rc = persona_parse(data, len, name, path, out, err);
    free(name);
    free(data);
    return rc;
}

void persona_free(persona *p)
{
    for (size_t i = 0; i < p->nrules; i++) {
        free(p->rules[i].name);
        free(p->rules[i].text);
        cond_free(p->rules[i].cond);
    }
    free(p->rules);
    free(p->name);
    memset(p, 0, sizeof *p);
}

static void cond_rates(const persona_cond *c, void (*fn)(void *, persona_fact, long), void *ctx)
{
    if (!c)
        return;
    if (c->kind == PC_CMP && fact_types[c->fact] == FT_RATE)
        fn(ctx, c->fact, c->window);
    cond_rates(c->a, fn, ctx);
    cond_rates(c->b, fn, ctx);
}

void persona_rates(const persona *p, void (*fn)(void *ctx, persona_fact f, long window), void *ctx)
{
    if (p->bulk_threshold)
        fn(ctx, PF_DOMAIN_MSGS, p->bulk_window);
    for (size_t i = 0; i < p->nrules; i++)
        cond_rates(p->rules[i].cond, fn, ctx);
}

static unsigned long cond_facts(const persona_cond *c)
{
    if (!c)
        return 0;
    unsigned long bits = c->kind == PC_CMP ? 1UL << c->fact : 0;
    return bits | cond_facts(c->a) | cond_facts(c->b);
}

unsigned long persona_facts_used(const persona *p, persona_stage upto)
{
    unsigned long bits = 0;
    for (size_t i = 0; i < p->nrules; i++)
        if (p->rules[i].stage <= upto)
            bits |= cond_facts(p->rules[i].cond);
    return bits;
}

/* ---- the engine ------------------------------------------------------------------------ */

static long fact_value(const persona *p, const persona_cond *c, const persona_facts *f)
{
    if (c->fact == PF_BULK) {
        if (!p->bulk_threshold || !f->rate)
            return 0;
        return f->rate(f->rate_ctx, PF_DOMAIN_MSGS, p->bulk_window) >= p->bulk_threshold;
    }
    if (fact_types[c->fact] == FT_RATE)
        return f->rate ? f->rate(f->rate_ctx, c->fact, c->window) : 0;
    return f->v[c->fact];
}

static int cond_eval(const persona *p, const persona_cond *c, const persona_facts *f)
{
    switch (c->kind) {
    case PC_TRUE:
        return 1;
    case PC_NOT:
        return !cond_eval(p, c->a, f);
    case PC_AND:
        return cond_eval(p, c->a, f) && cond_eval(p, c->b, f);
    case PC_OR:
        return cond_eval(p, c->a, f) || cond_eval(p, c->b, f);
    case PC_CMP:
        break;
    }
    long v = fact_value(p, c, f);
    if (c->is_set) {
        int in = v >= 0 && v < 63 && (c->value >> v) & 1;
        return c->op == OP_EQ ? in : !in;
    }
    switch (c->op) {
    case OP_EQ:
        return v == c->value;
    case OP_NE:
        return v != c->value;
    case OP_LT:
        return v < c->value;
    case OP_LE:
        return v <= c->value;
    case OP_GT:
        return v > c->value;
    case OP_GE:
        return v >= c->value;
    }
    return 0;
}

const persona_rule *persona_match(const persona *p, persona_stage st, const persona_facts *f)
{
    for (size_t i = 0; i < p->nrules; i++)
        if (p->rules[i].stage == st && cond_eval(p, p->rules[i].cond, f))
            return &p->rules[i];
    return NULL;
}

static void put_value(bs_buf *out, const char *s)
{
    for (; s && *s; s++)
        buf_putc(out, *s == '\r' || *s == '\n' ? ' ' : *s);
}

void persona_fill(const persona_rule *r, const persona_vars *v, bs_buf *out)
{
    const char *mail_at = v->mail_from ? strrchr(v->mail_from, '@') : NULL;
    const char *rcpt_at = v->rcpt ? strrchr(v->rcpt, '@') : NULL;
    const char *values[] = {v->client_ip,   v->helo,
                            v->mail_from,   mail_at ? mail_at + 1 : "",
                            v->rcpt,        rcpt_at ? rcpt_at + 1 : "",
                            v->from_domain, v->dkim_domain,
                            v->ptr,         v->hostname};
    for (const char *p = r->text; *p;) {
        size_t len;
        int k = placeholder_at(p, &len);
        if (k >= 0) {
            put_value(out, values[k]);
            p += len;
        } else {
            buf_putc(out, *p++);
        }
    }
}
