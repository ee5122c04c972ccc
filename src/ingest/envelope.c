/* envelope.c — envelope fields from Return-Path and the first Received field. */
#include "envelope.h"

#include <arpa/inet.h>
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

void envelope_clear(ing_envelope *env)
{
    free(env->mail_from);
    free(env->rcpt);
    free(env->client_ip);
    free(env->helo);
    free(env->received);
    free(env->envelope_from);
    memset(env, 0, sizeof *env);
}

/* Tokens of a Received value: words and (nested) comments; ";" ends the clause list. */
enum tok_kind { TOK_END, TOK_WORD, TOK_COMMENT, TOK_SEMI };
typedef struct {
    const char *p;
} lexer;

static enum tok_kind next_token(lexer *lx, const char **start, size_t *len)
{
    const char *p = lx->p;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    *start = p;
    *len = 0;
    if (!*p) {
        lx->p = p;
        return TOK_END;
    }
    if (*p == ';') {
        lx->p = p + 1;
        *len = 1;
        return TOK_SEMI;
    }
    if (*p == '(') {
        int depth = 0;
        const char *q = p;
        for (; *q; q++) {
            if (*q == '\\' && q[1]) {
                q++;
                continue;
            }
            if (*q == '(')
                depth++;
            else if (*q == ')' && --depth == 0) {
                q++;
                break;
            }
        }
        *start = p + 1;
        *len = (size_t)(q - p) - (depth == 0 ? 2 : 1);
        lx->p = q;
        return TOK_COMMENT;
    }
    const char *q = p;
    int in_angle = 0;
    while (*q && (in_angle || (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n' && *q != '(' &&
                               *q != ';'))) {
        if (*q == '<')
            in_angle = 1;
        else if (*q == '>')
            in_angle = 0;
        q++;
    }
    *len = (size_t)(q - p);
    lx->p = q;
    return TOK_WORD;
}

static int word_is(const char *w, size_t n, const char *kw)
{
    return strlen(kw) == n && strncasecmp(w, kw, n) == 0;
}

/* An IP address inside a comment: "[1.2.3.4]", "1.2.3.4", "host [IPv6:::1]", ... */
static char *ip_in_comment(const char *c, size_t n)
{
    char *copy = xstrndup(c, n);
    char *result = NULL;
    for (char *p = copy; *p && !result;) {
        while (*p && strchr(" \t\r\n[]()=,", *p))
            p++;
        char *e = p;
        while (*e && !strchr(" \t\r\n[]()=,", *e))
            e++;
        char save = *e;
        *e = 0;
        const char *cand = p;
        if (strncasecmp(cand, "IPv6:", 5) == 0)
            cand += 5;
        unsigned char addr[16];
        if (*cand && (inet_pton(AF_INET, cand, addr) == 1 || inet_pton(AF_INET6, cand, addr) == 1))
            result = xstrdup(cand);
        *e = save;
        p = e;
    }
    free(copy);
    return result;
}

char *envelope_parse_path(const char *value)
{
    if (!value)
        return NULL;
    const char *lt = strchr(value, '<');
    if (lt) {
        const char *gt = strchr(lt + 1, '>');
        if (!gt)
            return NULL;
        char *inner = xstrndup(lt + 1, (size_t)(gt - lt - 1));
        char *t = text_trimmed(inner);
        free(inner);
        /* A source route "@a,@b:user@host" keeps only the mailbox. */
        char *colon = t[0] == '@' ? strchr(t, ':') : NULL;
        if (colon) {
            char *m = xstrdup(colon + 1);
            free(t);
            t = m;
        }
        return t;
    }
    char *t = text_trimmed(value);
    if (!*t || strchr(t, ' ') || strchr(t, '\t')) {
        free(t);
        return NULL;
    }
    return t;
}

static char *iso_date(const char *text)
{
    GDateTime *dt = g_mime_utils_header_decode_date(text);
    if (!dt)
        return NULL;
    GDateTime *utc = g_date_time_to_utc(dt);
    g_date_time_unref(dt);
    if (!utc)
        return NULL;
    gchar *s = g_date_time_format(utc, "%Y-%m-%dT%H:%M:%SZ");
    g_date_time_unref(utc);
    char *r = s ? xstrdup(s) : NULL;
    g_free(s);
    return r;
}

static void set_once(char **field, char *value)
{
    if (!value)
        return;
    if (*field)
        free(value);
    else
        *field = value;
}

/* "(envelope-from <x>)" anywhere in the field gives the sender. */
static void envelope_from_comment(const char *w, size_t n, ing_envelope *env)
{
    const char *kw = "envelope-from";
    size_t kl = strlen(kw);
    const char *c = w;
    while (c < w + n && (*c == ' ' || *c == '\t'))
        c++;
    if ((size_t)(w + n - c) > kl && strncasecmp(c, kw, kl) == 0) {
        char *rest = xstrndup(c + kl, (size_t)(w + n - c - kl));
        set_once(&env->envelope_from, envelope_parse_path(rest));
        free(rest);
    }
}

void envelope_parse_received(const char *value, ing_envelope *env)
{
    if (!value)
        return;
    lexer lx = {value};
    const char *w;
    size_t n;
    enum tok_kind k;
    const char *pending = NULL; /* clause keyword awaiting its word */
    int after_from = 0;         /* the next comment belongs to the "from" clause */
    while ((k = next_token(&lx, &w, &n)) != TOK_END && k != TOK_SEMI) {
        if (k == TOK_COMMENT) {
            envelope_from_comment(w, n, env);
            if (after_from && !env->client_ip)
                env->client_ip = ip_in_comment(w, n);
            after_from = 0;
            continue;
        }
        if (pending) {
            if (strcmp(pending, "from") == 0) {
                set_once(&env->helo, xstrndup(w, n));
                after_from = 1;
            } else if (strcmp(pending, "for") == 0) {
                char *word = xstrndup(w, n);
                set_once(&env->rcpt, envelope_parse_path(word));
                free(word);
                after_from = 0;
            } else {
                after_from = 0;
            }
            pending = NULL;
            continue;
        }
        after_from = 0;
        if (word_is(w, n, "from"))
            pending = "from";
        else if (word_is(w, n, "for"))
            pending = "for";
        else if (word_is(w, n, "by") || word_is(w, n, "id") || word_is(w, n, "with") ||
                 word_is(w, n, "via"))
            pending = "other";
    }
    if (k != TOK_SEMI)
        return;
    /* Date: the rest, with comments (envelope-from) taken out. */
    bs_buf date;
    buf_init(&date);
    while ((k = next_token(&lx, &w, &n)) != TOK_END) {
        if (k == TOK_COMMENT) {
            envelope_from_comment(w, n, env);
            continue;
        }
        if (date.len)
            buf_putc(&date, ' ');
        buf_append(&date, w, n);
    }
    if (date.len)
        set_once(&env->received, iso_date(date.data));
    buf_free(&date);
}

void envelope_to_json(const ing_envelope *env, json_t *rec)
{
    json_t *e = json_object();
    const struct {
        const char *key;
        const char *value;
    } fields[] = {
        {"mail_from", env->mail_from}, {"rcpt", env->rcpt},         {"client_ip", env->client_ip},
        {"helo", env->helo},           {"received", env->received},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (!fields[i].value)
            continue;
        char *v = text_utf8_repair(fields[i].value, strlen(fields[i].value), NULL);
        /* valid UTF-8 without NUL (text_utf8_repair of a C string): no second check */
        json_object_set_new(e, fields[i].key, json_stringn_nocheck(v, strlen(v)));
        free(v);
    }
    json_object_set_new(rec, "envelope", e);
}
