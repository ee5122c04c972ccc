/* mkreport.c — ARF and DSN report construction (see mkreport.h). */
#include "mkreport.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "domain.h"
#include "maildate.h"
#include "outcomes.h"
#include "util.h"

/* ---- a filled reply line ("550 5.1.1 text") ------------------------------------- */

int mk_reply_parse(const char *line, int *code, char *enh, size_t enhsz)
{
    const char *p = line;
    if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
        !isdigit((unsigned char)p[2]) || p[3] != ' ')
        return -1;
    *code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    p += 4;
    /* class.subject.detail, RFC 3463: 1 digit, 1-3 digits, 1-3 digits */
    size_t n = strcspn(p, " \r\n");
    if (n < 5 || n >= enhsz || p[0] != line[0] || p[1] != '.')
        return -1;
    int dots = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (p[i + 1] == '.')
                return -1; /* empty component */
            dots++;
        } else if (!isdigit((unsigned char)p[i])) {
            return -1;
        }
    }
    if (dots != 2 || p[n - 1] == '.')
        return -1;
    memcpy(enh, p, n);
    enh[n] = 0;
    return 0;
}

/* ---- small helpers ---------------------------------------------------------------- */

char *mk_addr_part(const char *field)
{
    if (!field)
        return NULL;
    const char *lt = strchr(field, '<');
    const char *s = field, *e;
    if (lt && (e = strchr(lt, '>'))) {
        s = lt + 1;
    } else {
        e = field + strlen(field);
    }
    while (s < e && isspace((unsigned char)*s))
        s++;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    /* first address of a list */
    const char *comma = memchr(s, ',', (size_t)(e - s));
    if (comma && !lt)
        e = comma;
    while (e > s && isspace((unsigned char)e[-1]))
        e--;
    if (e == s)
        return NULL;
    char *a = xstrndup(s, (size_t)(e - s));
    if (!strchr(a, '@') || strpbrk(a, " \t\r\n<>")) {
        free(a);
        return NULL;
    }
    return a;
}

mk_rp_kind mk_return_path(const char *field, char **addr)
{
    *addr = NULL;
    if (!field)
        return MK_RP_NONE;
    const char *s = field, *e = field + strlen(field);
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if (e - s >= 2 && *s == '<' && e[-1] == '>') {
        s++;
        e--;
    }
    if (s == e)
        return MK_RP_NONE;
    if (!bs_mailbox_valid(s, (size_t)(e - s)))
        return MK_RP_INVALID;
    *addr = xstrndup(s, (size_t)(e - s));
    return MK_RP_OK;
}

char *mk_printable(const char *s, size_t max)
{
    bs_buf b;
    buf_init(&b);
    size_t n = strlen(s);
    for (size_t i = 0; i < n && i < max; i++)
        buf_putc(&b, s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
    if (n > max)
        buf_puts(&b, "...");
    return buf_steal(&b);
}

char *mk_addr_domain(const char *addr)
{
    const char *at = addr ? strrchr(addr, '@') : NULL;
    if (!at || !at[1])
        return NULL;
    char *d = xstrdup(at + 1);
    size_t n = strlen(d);
    while (n && (d[n - 1] == '>' || d[n - 1] == '.' || isspace((unsigned char)d[n - 1])))
        d[--n] = 0;
    bs_lower(d);
    if (!*d) {
        free(d);
        return NULL;
    }
    return d;
}

static void new_boundary(char *out, size_t n)
{
    char hex[33];
    bs_random_hex(hex, 16);
    snprintf(out, n, "=_bs_%s", hex);
}

static void message_id(bs_buf *b, const mk_opts *opt, double now)
{
    char hex[17];
    bs_random_hex(hex, 8);
    buf_printf(b, "Message-ID: <%s.%lld@%s>\r\n", hex, (long long)now, opt->hostname);
}

static void put_header_lines(bs_buf *b, const mk_orig *o);

/* The original header block as a text/rfc822-headers part. */
static void put_original_headers(bs_buf *b, const mk_orig *o, const char *description)
{
    int eightbit = 0;
    for (size_t i = 0; i < o->header_len; i++)
        if ((unsigned char)o->header_block[i] >= 0x80)
            eightbit = 1;
    buf_printf(b, "Content-Type: text/rfc822-headers%s\r\n", eightbit ? "; charset=utf-8" : "");
    if (eightbit)
        buf_puts(b, "Content-Transfer-Encoding: 8bit\r\n");
    buf_printf(b, "Content-Description: %s\r\n\r\n", description);
    put_header_lines(b, o);
}

/* The header block's lines, CRLF-terminated, bytes otherwise untouched. */
static void put_header_lines(bs_buf *b, const mk_orig *o)
{
    const char *p = o->header_block, *end = p + o->header_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            buf_append(b, p, (size_t)(end - p));
            buf_puts(b, "\r\n");
            break;
        }
        if (nl > p && nl[-1] == '\r')
            buf_append(b, p, (size_t)(nl + 1 - p));
        else {
            buf_append(b, p, (size_t)(nl - p));
            buf_puts(b, "\r\n");
        }
        p = nl + 1;
    }
}

/* Appends value as printable ASCII (anything else becomes '?'), at most 900 octets. */
static void put_value(bs_buf *b, const char *value)
{
    size_t n = 0;
    for (const char *p = value ? value : ""; *p && n < 900; p++, n++)
        buf_putc(b, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
}

/* As put_value, but UTF-8 characters are kept (RFC 6531/6532 addresses, SMTPUTF8 mail):
 * the report then carries them as its embedded 8-bit header block does. */
static void put_value_utf8(bs_buf *b, const char *value)
{
    const char *p = value ? value : "";
    size_t n = strlen(p), done = 0;
    while (*p && done < 900) {
        size_t q = bs_utf8_seq(p, n);
        if (q >= 2) {
            buf_append(b, p, q);
        } else {
            q = 1;
            buf_putc(b, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
        }
        p += q;
        n -= q;
        done += q;
    }
}

static void put_field(bs_buf *b, const char *name, const char *value)
{
    buf_printf(b, "%s: ", name);
    put_value(b, value);
    buf_puts(b, "\r\n");
}

/* ---- ARF ------------------------------------------------------------------------- */

char *mk_arf(const mk_opts *opt, const mk_orig *o, const char *to, double now, size_t *len)
{
    char boundary[64], date[64], arrival[64];
    new_boundary(boundary, sizeof boundary);
    mail_date((time_t)now, MAIL_DATE_UTC, date, sizeof date);
    mail_date((time_t)o->arrival, MAIL_DATE_UTC, arrival, sizeof arrival);
    char *from_addr = mk_addr_part(o->from_header);
    char *reported = mk_addr_domain(from_addr ? from_addr : o->mail_from);
    const char *ip = o->client_ip && *o->client_ip ? o->client_ip : NULL;

    bs_buf b;
    buf_init(&b);
    put_field(&b, "From", opt->report_from);
    put_field(&b, "To", to);
    buf_printf(&b, "Date: %s\r\n", date);
    message_id(&b, opt, now);
    buf_printf(&b, "Subject: Email Feedback Report for IP %s\r\n", ip ? ip : "unknown");
    buf_puts(&b, "MIME-Version: 1.0\r\n");
    buf_puts(&b, "Auto-Submitted: auto-generated\r\n");
    buf_printf(&b,
               "Content-Type: multipart/report; report-type=feedback-report;\r\n"
               "\tboundary=\"%s\"\r\n\r\n",
               boundary);
    buf_puts(&b, "This is a multi-part message in MIME format.\r\n\r\n");

    buf_printf(&b, "--%s\r\n", boundary);
    buf_puts(&b, "Content-Type: text/plain; charset=us-ascii\r\n"
                 "Content-Transfer-Encoding: 7bit\r\n\r\n");
    buf_printf(&b,
               "This is an email abuse report for an email message received from IP %s\r\n"
               "on %s.\r\n"
               "The recipient marked it as spam. For more information about this format\r\n"
               "please see RFC 5965.\r\n\r\n",
               ip ? ip : "(unknown)", arrival);

    buf_printf(&b, "--%s\r\n", boundary);
    buf_puts(&b, "Content-Type: message/feedback-report\r\n\r\n");
    buf_puts(&b, "Feedback-Type: abuse\r\n");
    buf_puts(&b, "User-Agent: Bouncy-Sink/" ACT_SMTP_VERSION "\r\n");
    buf_puts(&b, "Version: 1\r\n");
    buf_puts(&b, "Original-Mail-From: <");
    put_value_utf8(&b, o->mail_from);
    buf_puts(&b, ">\r\nOriginal-Rcpt-To: <");
    put_value_utf8(&b, o->rcpt);
    buf_puts(&b, ">\r\n");
    buf_printf(&b, "Arrival-Date: %s\r\n", arrival);
    if (ip)
        put_field(&b, "Source-IP", ip);
    if (reported)
        put_field(&b, "Reported-Domain", reported);
    buf_puts(&b, "\r\n");

    buf_printf(&b, "--%s\r\n", boundary);
    put_original_headers(&b, o, "Headers of the reported message");
    buf_printf(&b, "\r\n--%s--\r\n", boundary);
    free(from_addr);
    free(reported);
    *len = b.len;
    return buf_steal(&b);
}

/* ---- DSN ------------------------------------------------------------------------- */

/* The returned content (RFC 3461 RET): the whole message as message/rfc822 when the
 * record carries its body, else its header block as text/rfc822-headers. */
static void put_returned(bs_buf *b, const mk_orig *o, int delivered)
{
    if (!o->body) {
        put_original_headers(
            b, o, delivered ? "Delivered Message Headers" : "Undelivered Message Headers");
        return;
    }
    int eightbit = 0;
    for (size_t i = 0; i < o->header_len && !eightbit; i++)
        eightbit = (unsigned char)o->header_block[i] >= 0x80;
    for (size_t i = 0; i < o->body_len && !eightbit; i++)
        eightbit = (unsigned char)o->body[i] >= 0x80;
    buf_puts(b, "Content-Type: message/rfc822\r\n");
    if (eightbit)
        buf_puts(b, "Content-Transfer-Encoding: 8bit\r\n");
    buf_printf(b, "Content-Description: %s\r\n\r\n",
               delivered ? "Delivered Message" : "Undelivered Message");
    put_header_lines(b, o);
    buf_puts(b, "\r\n");
    const char *p = o->body, *end = o->body + o->body_len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        buf_append(b, p, n);
        buf_puts(b, "\r\n");
        p = nl ? nl + 1 : end;
    }
}

static char *dsn_build(const mk_opts *opt, const mk_orig *o, const char *reply, int delivered,
                       double now, size_t *len)
{
    char boundary[64], date[64], arrival[64], enh[16];
    int code = 550;
    new_boundary(boundary, sizeof boundary);
    mail_date((time_t)now, MAIL_DATE_UTC, date, sizeof date);
    mail_date((time_t)o->arrival, MAIL_DATE_UTC, arrival, sizeof arrival);
    if (delivered) {
        reply = "250 2.0.0 Ok";
        memcpy(enh, "2.0.0", 6);
    } else if (mk_reply_parse(reply, &code, enh, sizeof enh) < 0 || code < 500) {
        reply = "550 5.1.1 User unknown";
        code = 550;
        memcpy(enh, "5.1.1", 6);
    }
    char *rcpt_domain = mk_addr_domain(o->rcpt);
    const char *remote = rcpt_domain ? rcpt_domain : opt->hostname;

    bs_buf b;
    buf_init(&b);
    buf_printf(&b, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", opt->hostname);
    put_field(&b, "To", o->mail_from);
    buf_printf(&b, "Date: %s\r\n", date);
    message_id(&b, opt, now);
    buf_puts(&b, delivered ? "Subject: Successful Mail Delivery Report\r\n"
                           : "Subject: Undelivered Mail Returned to Sender\r\n");
    buf_puts(&b, "MIME-Version: 1.0\r\n");
    buf_puts(&b, "Auto-Submitted: auto-replied\r\n");
    buf_printf(&b,
               "Content-Type: multipart/report; report-type=delivery-status;\r\n"
               "\tboundary=\"%s\"\r\n\r\n",
               boundary);
    buf_puts(&b, "This is a MIME-encapsulated message.\r\n\r\n");

    buf_printf(&b, "--%s\r\n", boundary);
    buf_puts(&b, "Content-Description: Notification\r\n"
                 "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
    if (delivered)
        buf_printf(&b,
                   "This is the mail system at host %s.\r\n\r\n"
                   "Your message was successfully delivered to the destination(s)\r\n"
                   "listed below.\r\n\r\n",
                   opt->hostname);
    else
        buf_printf(&b,
                   "This is the mail system at host %s.\r\n\r\n"
                   "I'm sorry to have to inform you that your message could not\r\n"
                   "be delivered to one or more recipients.\r\n\r\n",
                   opt->hostname);
    put_field(&b, "Recipient", o->rcpt);
    put_field(&b, "Reason", reply);
    buf_puts(&b, "\r\n");

    buf_printf(&b, "--%s\r\n", boundary);
    buf_puts(&b, "Content-Description: Delivery report\r\n"
                 "Content-Type: message/delivery-status\r\n\r\n");
    buf_printf(&b, "Reporting-MTA: dns; %s\r\n", opt->hostname);
    if (o->envid && *o->envid) /* RFC 3461 section 6.3: the ENVID as given (printable) */
        put_field(&b, "Original-Envelope-Id", o->envid);
    buf_printf(&b, "Arrival-Date: %s\r\n\r\n", arrival);
    if (o->orcpt && strchr(o->orcpt, ';')) {
        const char *semi = strchr(o->orcpt, ';');
        buf_printf(&b, "Original-Recipient: %.*s; ", (int)(semi - o->orcpt), o->orcpt);
        put_value(&b, semi + 1);
        buf_puts(&b, "\r\n");
    }
    buf_puts(&b, "Final-Recipient: rfc822; ");
    put_value(&b, o->rcpt);
    buf_puts(&b, "\r\n");
    buf_puts(&b, delivered ? "Action: delivered\r\n" : "Action: failed\r\n");
    buf_printf(&b, "Status: %s\r\n", enh);
    buf_printf(&b, "Remote-MTA: dns; %s\r\n", remote);
    buf_puts(&b, "Diagnostic-Code: smtp; ");
    put_value(&b, reply);
    buf_puts(&b, "\r\n");
    buf_printf(&b, "Last-Attempt-Date: %s\r\n\r\n", date);

    buf_printf(&b, "--%s\r\n", boundary);
    put_returned(&b, o, delivered);
    buf_printf(&b, "\r\n--%s--\r\n", boundary);
    free(rcpt_domain);
    *len = b.len;
    return buf_steal(&b);
}

char *mk_dsn(const mk_opts *opt, const mk_orig *o, const char *reply, double now, size_t *len)
{
    return dsn_build(opt, o, reply, 0, now, len);
}

char *mk_dsn_delivered(const mk_opts *opt, const mk_orig *o, double now, size_t *len)
{
    return dsn_build(opt, o, NULL, 1, now, len);
}

/* ---- out-of-office auto-replies (RFC 3834) -------------------------------------- */

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

char *mk_header_get(const char *block, size_t len, const char *name)
{
    if (!block)
        return NULL;
    size_t nlen = strlen(name);
    const char *p = block, *end = block + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if ((size_t)(le - p) > nlen && strncasecmp(p, name, nlen) == 0) {
            const char *q = p + nlen;
            while (q < le && is_wsp(*q))
                q++;
            if (q < le && *q == ':') {
                bs_buf v;
                buf_init(&v);
                q++;
                for (;;) {
                    const char *ve = le;
                    if (ve > q && ve[-1] == '\r')
                        ve--;
                    buf_append(&v, q, (size_t)(ve - q));
                    /* a continuation line starts with white space */
                    if (!nl || nl + 1 >= end || !is_wsp(nl[1]))
                        break;
                    q = nl + 1;
                    nl = memchr(q, '\n', (size_t)(end - q));
                    le = nl ? nl : end;
                    buf_putc(&v, ' ');
                    while (q < le && is_wsp(*q))
                        q++;
                }
                char *out = bs_trim(v.data ? v.data : (char *)"");
                char *r = xstrdup(out);
                buf_free(&v);
                return r;
            }
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return NULL;
}

/* RFC 3834 section 2: who must not get an automatic response. The rule for mailing
 * lists (List-Id and friends) is deliberately not applied: the sink plays the recipients
 * of ESP mail, and every such message carries List-Unsubscribe, so the rule would
 * suppress every auto-reply the sender is meant to see. */
int mk_ooto_refusal(const char *mail_from, const char *header_block, size_t header_len,
                    const char **status, char **why)
{
    char *rp = mk_addr_part(mail_from);
    if (!rp) {
        *status = bs_smtp_status_name(BS_SMTP_MISSING_RETURN_PATH);
        *why = xstrdup("envelope sender is empty (RFC 3834: never reply to the null sender)");
        return 1;
    }
    const char *at = strrchr(rp, '@');
    size_t ln = (size_t)(at - rp);
    static const char md[] = "MAILER-DAEMON";
    int system = (ln == sizeof md - 1 && strncasecmp(rp, md, ln) == 0) ||
                 (ln > 6 && strncasecmp(rp, "owner-", 6) == 0) ||
                 (ln > 8 && strncasecmp(at - 8, "-request", 8) == 0);
    if (system) {
        *status = bs_smtp_status_name(BS_SMTP_SYSTEM_SENDER);
        *why = xasprintf("envelope sender %s is a mail system or list address (RFC 3834 "
                         "section 2)",
                         rp);
        free(rp);
        return 1;
    }
    free(rp);
    char *as = mk_header_get(header_block, header_len, "Auto-Submitted");
    if (as) {
        /* the keyword is the value up to a parameter or comment */
        size_t kn = strcspn(as, " \t;(");
        if (!(kn == 2 && strncasecmp(as, "no", 2) == 0)) {
            *status = bs_smtp_status_name(BS_SMTP_AUTO_SUBMITTED);
            *why = xasprintf("original is auto-submitted (Auto-Submitted: %.*s)", (int)kn, as);
            free(as);
            return 1;
        }
        free(as);
    }
    return 0;
}

static int all_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80 || (unsigned char)*s < 0x20)
            return 0;
    return 1;
}

/* Length of the UTF-8 sequence starting at p (1 for a stray byte). */
static size_t utf8_len(const unsigned char *p)
{
    size_t n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 1;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 1;
    return n;
}

char *mk_ooto_subject_field(const char *subject)
{
    static const char prefix[] = "Out of Office: ";
    bs_buf b;
    buf_init(&b);
    char *full = xasprintf("%s%s", prefix, subject ? subject : "");
    if (all_ascii(full)) {
        buf_puts(&b, "Subject: ");
        put_value(&b, full); /* at most 900 octets: within the line limit */
        buf_puts(&b, "\r\n");
        free(full);
        return buf_steal(&b);
    }
    /* RFC 2047 B encoded-words of whole characters, each at most 75 octets
     * (=?UTF-8?B? + 52 base64 characters + ?= = 64), one per folded line. */
    buf_puts(&b, "Subject:");
    const unsigned char *p = (const unsigned char *)full;
    size_t total = 0;
    while (*p && total < 900) {
        size_t n = 0;
        while (p[n]) {
            size_t c = utf8_len(p + n);
            if (n + c > 39) /* 52 base64 characters: lines stay under 76 */
                break;
            n += c;
        }
        if (n == 0)
            n = 1;
        char *enc = bs_base64_encode(p, n);
        buf_printf(&b, "%s=?UTF-8?B?%s?=", total ? "\r\n " : " ", enc);
        free(enc);
        p += n;
        total += n;
    }
    buf_puts(&b, "\r\n");
    free(full);
    return buf_steal(&b);
}

/* A message id: <...> with printable ASCII and no blanks; else NULL. */
static const char *good_msgid(const char *id)
{
    if (!id || id[0] != '<' || !strchr(id, '>') || strlen(id) > 900)
        return NULL;
    for (const char *p = id; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return NULL;
    return id;
}

/* Appends "References: <refs...> <id>" folded between ids (RFC 5322 section 3.6.4);
 * tokens that are not message ids are left out. */
static void put_references(bs_buf *b, const char *refs, const char *id)
{
    buf_puts(b, "References:");
    size_t col = 11, count = 0;
    const char *p = refs ? refs : "";
    for (int pass = 0; pass < 2; pass++, p = id ? id : "") {
        while (*p) {
            p += strspn(p, " \t\r\n");
            size_t n = strcspn(p, " \t\r\n");
            if (!n)
                break;
            char *tok = xstrndup(p, n);
            if (good_msgid(tok) && n < 900) {
                if (count && col + 1 + n > 76) {
                    buf_puts(b, "\r\n");
                    col = 0;
                }
                buf_putc(b, ' ');
                buf_puts(b, tok);
                col += 1 + n;
                count++;
            }
            free(tok);
            p += n;
        }
    }
    buf_puts(b, "\r\n");
}

char *mk_ooto(const mk_opts *opt, const mk_orig *o, const mk_ooto_ref *ref, double now, double back,
              size_t *len)
{
    static const char *const wday[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};
    static const char *const month[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
    char date[64], until[64];
    mail_date((time_t)now, MAIL_DATE_UTC, date, sizeof date);
    time_t bt = (time_t)back;
    struct tm tm;
    gmtime_r(&bt, &tm);
    snprintf(until, sizeof until, "%s, %d %s %04d", wday[tm.tm_wday], tm.tm_mday, month[tm.tm_mon],
             tm.tm_year + 1900);
    const char *id = good_msgid(ref->message_id);

    bs_buf b;
    buf_init(&b);
    put_field(&b, "From", o->rcpt);
    put_field(&b, "To", o->mail_from);
    buf_printf(&b, "Date: %s\r\n", date);
    message_id(&b, opt, now);
    char *subject = mk_ooto_subject_field(ref->subject);
    buf_puts(&b, subject);
    free(subject);
    if (id)
        buf_printf(&b, "In-Reply-To: %s\r\n", id);
    if (id || ref->references)
        put_references(&b, ref->references, id);
    buf_puts(&b, "Auto-Submitted: auto-replied\r\n");
    buf_puts(&b, "MIME-Version: 1.0\r\n");
    buf_puts(&b, "Content-Type: text/plain; charset=us-ascii\r\n"
                 "Content-Transfer-Encoding: 7bit\r\n\r\n");
    buf_puts(&b, "Hello,\r\n\r\n");
    buf_printf(&b,
               "Thank you for your message. I am out of the office until %s,\r\n"
               "with limited access to email. I will read your message when I am back.\r\n\r\n"
               "For urgent matters, please contact the office directly.\r\n\r\n"
               "Kind regards,\r\n",
               until);
    put_value(&b, o->rcpt);
    buf_puts(&b, "\r\n\r\n-- \r\nThis is an automatic reply (RFC 3834); replies to it are not "
                 "read.\r\n");
    *len = b.len;
    return buf_steal(&b);
}
