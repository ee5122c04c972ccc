/* replies.c — loading, checking, picking and filling in-band replies (see replies.h). */
#include "replies.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"

static const char *const placeholders[] = {"RCPT_USER",  "RCPT_DOMAIN", "SENDER_IPADDRESS",
                                           "ORIG",       "HEXDUMP",     "OTHER_IPADDRESS",
                                           "OTHER_USER", "RCPT_SERVER", NULL};

#define MAX_TEXT 900

/* Length of an enhanced status code class.subject.detail at p (0 if none). */
static size_t enhanced_len(const char *p, const char *end)
{
    const char *q = p;
    int parts = 0;
    for (;;) {
        const char *start = q;
        while (q < end && isdigit((unsigned char)*q) && q - start < 3)
            q++;
        if (q == start)
            return 0;
        parts++;
        if (parts == 3)
            break;
        if (q >= end || *q != '.')
            return 0;
        q++;
    }
    if (q - p >= 16 || (p[1] != '.'))
        return 0;
    return (size_t)(q - p);
}

static int check_text(const char *t, size_t n, const char **why)
{
    if (n == 0) {
        *why = "empty reply text";
        return -1;
    }
    if (n > MAX_TEXT) {
        *why = "reply text longer than 900 characters";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c < 0x20 || c >= 0x7f) {
            *why = "reply text has a control or non-ASCII character";
            return -1;
        }
        if (c == '<') {
            size_t j = i + 1;
            while (j < n && (isupper((unsigned char)t[j]) || t[j] == '_'))
                j++;
            if (j < n && t[j] == '>' && j > i + 1) {
                int known = 0;
                for (int k = 0; placeholders[k]; k++)
                    if (strlen(placeholders[k]) == j - i - 1 &&
                        memcmp(placeholders[k], t + i + 1, j - i - 1) == 0)
                        known = 1;
                if (!known) {
                    *why = "unknown placeholder";
                    return -1;
                }
            }
        }
    }
    return 0;
}

static int parse_line(const char *p, size_t n, inband_reply *rep, const char **why)
{
    static const char prefix[] = "random_bounce:";
    const char *end = p + n;
    if (n < sizeof prefix - 1 || memcmp(p, prefix, sizeof prefix - 1) != 0) {
        *why = "does not start with 'random_bounce:'";
        return -1;
    }
    p += sizeof prefix - 1;
    if (end - p < 4 || !isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
        !isdigit((unsigned char)p[2]) || p[3] != ' ') {
        *why = "no three-digit reply code followed by a blank";
        return -1;
    }
    int code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    if (code < 400 || code > 599) {
        *why = "reply code is not 4xx or 5xx";
        return -1;
    }
    p += 4;
    size_t el = enhanced_len(p, end);
    if (el == 0 || p + el >= end || p[el] != ' ') {
        *why = "no enhanced status code (class.subject.detail) followed by a blank";
        return -1;
    }
    if (p[0] != '2' && p[0] != '4' && p[0] != '5') {
        /* the class need not match the code: real servers say "550 4.2.2" */
        *why = "enhanced status class is not 2, 4 or 5";
        return -1;
    }
    memcpy(rep->enhanced, p, el);
    rep->enhanced[el] = 0;
    p += el + 1;
    if (check_text(p, (size_t)(end - p), why) < 0)
        return -1;
    rep->code = code;
    rep->text = xstrndup(p, (size_t)(end - p));
    return 0;
}

int replies_parse(const char *data, size_t len, const char *name, reply_table *t, char **err)
{
    t->v = NULL;
    t->n = 0;
    size_t cap = 0;
    bs_lines lines;
    bs_lines_init(&lines, data, len);
    const char *p;
    size_t n;
    while (bs_lines_next(&lines, &p, &n)) {
        const char *why = NULL;
        if (memchr(p, 0, n)) {
            why = "NUL byte";
        } else if (n == 0 || p[0] == '#') {
            /* blank or comment */
        } else {
            if (t->n == cap) {
                cap = cap ? 2 * cap : 64;
                t->v = xrealloc(t->v, cap * sizeof *t->v);
            }
            if (parse_line(p, n, &t->v[t->n], &why) == 0)
                t->n++;
        }
        if (why) {
            *err = xasprintf("%s:%lu: %s", name, lines.lineno, why);
            replies_free(t);
            return -1;
        }
    }
    if (t->n == 0) {
        *err = xasprintf("%s: no replies in the table", name);
        replies_free(t);
        return -1;
    }
    return 0;
}

int replies_load(const char *path, reply_table *t, char **err)
{
    char *data;
    size_t len;
    if (bs_read_file(path, (size_t)64 << 20, &data, &len) < 0) {
        *err = xasprintf("%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = replies_parse(data, len, path, t, err);
    free(data);
    return rc;
}

void replies_free(reply_table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].text);
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

size_t replies_retain_class(reply_table *t, int cls)
{
    size_t kept = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->v[i].code / 100 == cls && t->v[i].enhanced[0] - '0' == cls)
            t->v[kept++] = t->v[i];
        else
            free(t->v[i].text);
    }
    t->n = kept;
    return kept;
}

typedef int (*match_fn)(const inband_reply *, int, const char *);
static int m_exact(const inband_reply *r, int code, const char *enh)
{
    return r->code == code && strcmp(r->enhanced, enh) == 0;
}
static int m_code(const inband_reply *r, int code, const char *enh)
{
    (void)enh;
    return r->code == code;
}
static int m_class(const inband_reply *r, int code, const char *enh)
{
    (void)enh;
    return r->code / 100 == code / 100;
}

/* Reservoir-free pick: count matches, then take the k-th. */
static int pick_by(const reply_table *t, bs_rng *r, match_fn m, int code, const char *enh,
                   size_t *out)
{
    size_t count = 0;
    for (size_t i = 0; i < t->n; i++)
        count += (size_t)m(&t->v[i], code, enh);
    if (!count)
        return 0;
    size_t k = (size_t)bs_rng_below_mod(r, count);
    for (size_t i = 0; i < t->n; i++)
        if (m(&t->v[i], code, enh) && k-- == 0) {
            *out = i;
            return 1;
        }
    return 0;
}

size_t replies_pick(const reply_table *t, bs_rng *r, int code, const char *enhanced)
{
    size_t i;
    if (code) {
        if (enhanced && *enhanced && pick_by(t, r, m_exact, code, enhanced, &i))
            return i;
        if (pick_by(t, r, m_code, code, NULL, &i))
            return i;
        if (pick_by(t, r, m_class, code, NULL, &i))
            return i;
    }
    return (size_t)bs_rng_below_mod(r, t->n);
}

int replies_code_of(const char *local, int *code, char *enh, size_t enhsize)
{
    const char *p = local;
    if (!(p[0] == '4' || p[0] == '5') || !isdigit((unsigned char)p[1]) ||
        !isdigit((unsigned char)p[2]))
        return 0;
    *code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    enh[0] = 0;
    p += 3;
    if (!*p)
        return 1;
    if (*p != '-' && *p != '_' && *p != '.')
        return 0;
    p++;
    size_t l = strlen(p);
    size_t el = enhanced_len(p, p + l);
    if (el == 0 || el != l || el >= enhsize || p[0] - '0' != *code / 100)
        return 0;
    memcpy(enh, p, el + 1);
    return 1;
}

static const char *const users[] = {"postmaster", "mailer-daemon", "abuse",      "jsmith", "admin",
                                    "support",    "noreply",       "mary.jones", "info",   "root"};
static const char *const servers[] = {"mx1",  "mx2",     "mail", "smtp",
                                      "mta5", "inbound", "mx-b", "relay3"};

/* A value given, or the default when NULL. */
static const char *or_default(const char *v, const char *def)
{
    return v ? v : def;
}

/* Appends a value; CR and LF become blanks, so that a reply stays one line. */
static void put_value(bs_buf *out, const char *v)
{
    for (; *v; v++)
        buf_putc(out, *v == '\r' || *v == '\n' ? ' ' : *v);
}

static void fill_one(const char *ph, size_t n, const reply_vars *v, bs_rng *r, bs_buf *out)
{
#define IS(s) (n == sizeof(s) - 1 && memcmp(ph, s, n) == 0)
    const char *domain = or_default(v->rcpt_domain, "example.test");
    if (IS("RCPT_USER")) {
        put_value(out, or_default(v->rcpt_user, "user"));
    } else if (IS("RCPT_DOMAIN")) {
        put_value(out, domain);
    } else if (IS("SENDER_IPADDRESS")) {
        put_value(out, or_default(v->client_ip, "192.0.2.1"));
    } else if (IS("ORIG")) {
        put_value(out, or_default(v->orig, ""));
    } else if (IS("HEXDUMP")) {
        char hex[17];
        bs_rng_hex(r, hex, 6 + bs_rng_below_mod(r, 3), 1);
        buf_puts(out, hex);
    } else if (IS("OTHER_IPADDRESS")) {
        /* documentation ranges (RFC 5737): never a real host */
        static const char *const nets[] = {"192.0.2", "198.51.100", "203.0.113"};
        buf_printf(out, "%s.%u", nets[bs_rng_below_mod(r, 3)],
                   (unsigned)(1 + bs_rng_below_mod(r, 254)));
    } else if (IS("OTHER_USER")) {
        buf_puts(out, users[bs_rng_below_mod(r, sizeof users / sizeof *users)]);
    } else if (IS("RCPT_SERVER")) {
        buf_puts(out, servers[bs_rng_below_mod(r, sizeof servers / sizeof *servers)]);
        buf_putc(out, '.');
        put_value(out, domain);
    } else {
        buf_putc(out, '<');
        buf_append(out, ph, n);
        buf_putc(out, '>');
    }
#undef IS
}

void replies_fill(const inband_reply *rep, const reply_vars *vars, bs_rng *r, bs_buf *out)
{
    const char *p = rep->text;
    while (*p) {
        const char *lt = strchr(p, '<');
        if (!lt) {
            buf_puts(out, p);
            break;
        }
        buf_append(out, p, (size_t)(lt - p));
        const char *q = lt + 1;
        while (isupper((unsigned char)*q) || *q == '_')
            q++;
        if (*q == '>' && q > lt + 1) {
            fill_one(lt + 1, (size_t)(q - lt - 1), vars, r, out);
            p = q + 1;
        } else {
            buf_putc(out, '<');
            p = lt + 1;
        }
    }
}

void replies_format(int code, const char *enhanced, const char *text, size_t textlen, bs_buf *out)
{
    /* "550-5.1.1 " prefix; a reply line is at most 512 octets with CRLF. */
    size_t prefix = 4 + (enhanced && *enhanced ? strlen(enhanced) + 1 : 0);
    size_t room = 510 - prefix;
    const char *p = text, *end = text + textlen;
    for (;;) {
        size_t n = (size_t)(end - p);
        int last = 1;
        if (n > room) {
            n = room;
            for (size_t k = room; k > room / 2; k--)
                if (p[k] == ' ') {
                    n = k;
                    break;
                }
            const char *rest = p + n;
            while (rest < end && *rest == ' ')
                rest++;
            last = rest >= end;
        }
        buf_printf(out, "%03d%c", code, last ? ' ' : '-');
        if (enhanced && *enhanced)
            buf_printf(out, "%s ", enhanced);
        buf_append(out, p, n);
        buf_puts(out, "\r\n");
        if (last)
            break;
        p += n;
        while (p < end && *p == ' ')
            p++;
    }
}
