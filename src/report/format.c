/* format.c — records to log lines and counter updates. */
#include "format.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "outcomes.h"
#include "record.h"

/* The ordered list of action items of one line. */
typedef struct {
    char **item;
    size_t n, cap;
    int has_error; /* an item is, or contains a code that is, an application error */
} items;

static void items_add(items *it, char *s) /* takes s */
{
    if (s[0] == '!')
        it->has_error = 1;
    for (size_t i = 0; i < it->n; i++)
        if (s[0] == '!' && strcmp(it->item[i], s) == 0) { /* same error twice: once */
            free(s);
            return;
        }
    if (it->n == it->cap) {
        it->cap = it->cap ? it->cap * 2 : 8;
        it->item = xrealloc(it->item, it->cap * sizeof *it->item);
    }
    it->item[it->n++] = s;
}

/* An error text always starts with `!`. */
static char *bang(const char *s)
{
    return s[0] == '!' ? xstrdup(s) : xasprintf("!%s", s);
}

/* The length of a Unicode line separator at p (U+0085 NEL, U+2028, U+2029 in UTF-8),
 * which some readers split lines on, or 0. */
static size_t line_separator(const unsigned char *p)
{
    if (p[0] == 0xc2 && p[1] == 0x85)
        return 2;
    if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
        return 3;
    return 0;
}

/* Record text on the line: control characters (CR, LF, TAB...) as spaces, Unicode line
 * separators as \u0085 \u2028 \u2029, so a record is one line for any reader. In the
 * file, To and From fields (field != 0) also `\` as `\\` and `,` as `\x2c`, so that a
 * line always splits into the same fields and each field reads back as it was (but for
 * control characters). */
static void put_text(bs_buf *b, const char *s, int field)
{
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        size_t n = line_separator(p);
        if (n) {
            buf_puts(b, n == 2 ? "\\u0085" : p[2] == 0xa8 ? "\\u2028" : "\\u2029");
            p += n - 1;
        } else if (*p < 0x20 || *p == 0x7f) {
            buf_putc(b, ' ');
        } else if (field && *p == '\\') {
            buf_puts(b, "\\\\");
        } else if (field && *p == ',') {
            buf_puts(b, "\\x2c");
        } else {
            buf_putc(b, (char)*p);
        }
    }
}

static void put_clean(bs_buf *b, const char *s)
{
    put_text(b, s, 0);
}

static void put_field(bs_buf *b, const char *s)
{
    put_text(b, s, 1);
}

void fmt_put_bounded(bs_buf *b, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) {
        put_clean(b, s);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--; /* not inside a UTF-8 sequence */
    char *head = xstrndup(s, max);
    put_clean(b, head);
    free(head);
    buf_printf(b, "...(%zu bytes)", n);
}

char *fmt_diag(const char *s)
{
    bs_buf b;
    buf_init(&b);
    size_t n = strlen(s), i;
    for (i = 0; i < n && i < FMT_DIAG_MAX; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x7f)
            buf_printf(&b, "\\x%02x", c);
        else if (c == '\\')
            buf_puts(&b, "\\\\");
        else
            buf_putc(&b, (char)c);
    }
    if (i < n)
        buf_printf(&b, "...(%zu bytes)", n);
    return buf_steal(&b);
}

static const char *str_or(const char *a, const char *b)
{
    return a ? a : b;
}

static void put_head(bs_buf *line, const char *file, const char *to, const char *from)
{
    put_field(line, file);
    buf_putc(line, ',');
    put_field(line, to);
    buf_putc(line, ',');
    put_field(line, from);
    buf_putc(line, ',');
}

static void put_items(bs_buf *line, items *it, fmt_result *res)
{
    char prev = 0;
    for (size_t i = 0; i < it->n; i++) {
        const char *s = it->item[i];
        if (i > 0 && !(s[0] == '_' && prev == '_'))
            buf_putc(line, ',');
        put_clean(line, s);
        prev = s[0];
        free(it->item[i]);
    }
    free(it->item);
    if (it->has_error)
        res->has_error = 1;
    memset(it, 0, sizeof *it);
}

char *fmt_log_time(double t, char *buf, size_t n)
{
    time_t secs = (time_t)floor(t);
    int ms = (int)((t - (double)secs) * 1000.0);
    if (ms > 999)
        ms = 999;
    if (ms < 0)
        ms = 0;
    struct tm tm;
    localtime_r(&secs, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, n, "%s,%03d", base, ms);
    return buf;
}

/* ---- message records ---- */

typedef struct {
    const char *action; /* as in plan.actions */
    const char *log;    /* log item prefix */
    const char *urls;   /* urls.<key> the action fetches */
} http_action;

static const http_action http_actions[] = {
    {"open", "_Open:", "open"},
    {"open_again", "_OpenAgain:", "open"},
    {"click", "_Click:", "click"},
    {"click_again", "_ClickAgain:", "click"},
};

static const http_action *find_http_action(const char *name)
{
    for (size_t i = 0; i < sizeof http_actions / sizeof http_actions[0]; i++)
        if (strcmp(http_actions[i].action, name) == 0)
            return &http_actions[i];
    return NULL;
}

/* A failed fetch refused by address policy or by the server: from its error_code, or, in
 * a record written before error_code existed, from its text (outcomes.h). */
static int is_refusal(const json_t *e, const char *err)
{
    const json_t *code = json_object_get(e, "error_code");
    bs_http_error c = json_is_string(code) ? bs_http_error_parse(json_string_value(code))
                                           : bs_http_error_from_text(err);
    return bs_http_error_is_refusal(c);
}

/* One fetched URL as a log code: 200, `<status> <url>`, or `!<error> <url>`.
 * Returns 1 when the code is an application error. */
static int put_code(bs_buf *b, const json_t *e, rp_stats *st)
{
    const char *url = str_or(json_string_value(json_object_get(e, "url")), "");
    const char *sep = *url ? " " : "";
    json_t *status = json_object_get(e, "status");
    const char *err = json_string_value(json_object_get(e, "error"));
    if (json_is_integer(status)) {
        long long code = json_integer_value(status);
        if (code == 200)
            buf_puts(b, "200");
        else
            buf_printf(b, "%lld%s%s", code, sep, url);
        if (code >= 400)
            stats_add(st, "http_errors", 1);
        return 0;
    }
    if (err) {
        buf_printf(b, "!%s%s%s", err[0] == '!' ? err + 1 : err, sep, url);
        stats_add(st, "http_errors", 1);
        if (is_refusal(e, err))
            stats_add(st, "http_refused", 1);
        return 1;
    }
    if (json_is_true(json_object_get(e, "dry_run"))) {
        buf_printf(b, "dry_run%s%s", sep, url);
        return 0;
    }
    buf_printf(b, "!no outcome%s%s", sep, url);
    return 1;
}

static int array_empty(const json_t *a)
{
    return !json_is_array(a) || json_array_size(a) == 0;
}

static void do_http_action(const json_t *rec, const http_action *ha, rp_stats *st, items *it)
{
    const json_t *http = json_object_get(rec, "http");
    const json_t *urls = rec_get(rec, "urls");
    const json_t *want = json_object_get(urls, ha->urls);
    if (!json_is_true(json_object_get(rec, "html")) && array_empty(want)) {
        items_add(it, xstrdup("!No HTML body found"));
        return;
    }
    const json_t *done = json_object_get(http, ha->action);
    if (!json_is_array(done) && !array_empty(want)) {
        items_add(it, xasprintf("!%s not performed (no act-http outcome)", ha->log + 1));
        return;
    }
    bs_buf b;
    buf_init(&b);
    buf_puts(&b, ha->log);
    size_t i;
    const json_t *e;
    json_array_foreach(done, i, e)
    {
        if (i)
            buf_putc(&b, ',');
        if (put_code(&b, e, st))
            it->has_error = 1;
    }
    items_add(it, buf_steal(&b));
    stats_add(st, ha->action, 1);
}

static void do_unsubscribe(const json_t *rec, rp_stats *st, items *it)
{
    const json_t *http = json_object_get(rec, "http");
    const json_t *u = json_object_get(http, "unsubscribe");
    if (!json_is_object(u)) {
        stats_add(st, "unsubscribe_error", 1);
        if (array_empty(json_object_get(http, "errors")))
            items_add(it, xstrdup("!Unsubscribe not performed (no act-http outcome)"));
        return;
    }
    json_t *status = json_object_get(u, "status");
    long long code = json_integer_value(status);
    if (!json_is_integer(status) && !json_is_true(json_object_get(u, "dry_run")) &&
        !array_empty(json_object_get(http, "errors"))) {
        /* Not attempted (no usable List-Unsubscribe): act-http's http.errors says why. */
        stats_add(st, "unsubscribe_error", 1);
        return;
    }
    bs_buf b;
    buf_init(&b);
    buf_puts(&b, "_Unsubscribe:");
    if (put_code(&b, u, st))
        it->has_error = 1;
    items_add(it, buf_steal(&b));
    if (json_is_integer(status) && code >= 200 && code < 300)
        stats_add(st, "unsubscribe", 1);
    else if (!json_is_true(json_object_get(u, "dry_run")))
        stats_add(st, "unsubscribe_error", 1);
}

/* oob, fbl, ooto and delivered (RFC 3461 NOTIFY=SUCCESS) outcomes from act-smtp. */
static void do_smtp(const json_t *rec, const char *kind, rp_stats *st, items *it)
{
    const char *up = strcmp(kind, "oob") == 0         ? "OOB"
                     : strcmp(kind, "fbl") == 0       ? "FBL"
                     : strcmp(kind, "delivered") == 0 ? "DELIVERED DSN"
                                                      : "OOTO";
    const json_t *o = rec_get(rec, "smtp");
    o = json_object_get(o, kind);
    if (!json_is_object(o)) {
        items_add(it, xasprintf("!%s not performed (no act-smtp outcome)", up));
        return;
    }
    const char *status = str_or(json_string_value(json_object_get(o, "status")), "unknown");
    const char *from = str_or(json_string_value(json_object_get(o, "from")), "");
    const char *to = str_or(json_string_value(json_object_get(o, "to")), "");
    const char *mx = str_or(json_string_value(json_object_get(o, "mx")), "");
    const char *err = json_string_value(json_object_get(o, "error"));
    char *name = xasprintf("%s_%s", kind, status);
    stats_add(st, name, 1);
    free(name);
    int sent = strcmp(status, bs_smtp_status_name(BS_SMTP_SENT)) == 0;
    int dry = strcmp(status, bs_smtp_status_name(BS_SMTP_DRY_RUN)) == 0;
    if (sent && strcmp(kind, "fbl") == 0 && json_is_true(json_object_get(o, "cfbl")))
        stats_add(st, "fbl_cfbl", 1); /* RFC 9477: to the message's CFBL-Address */
    if (sent || dry) {
        const char *verb = sent ? "sent" : "dry run";
        if (strcmp(kind, "oob") == 0)
            items_add(it, xasprintf("OOB %s,from %s to %s via %s", verb, from, to, mx));
        else
            items_add(it, xasprintf("%s %s,to %s via %s", up, verb, to, mx));
    } else if (err && *err) {
        items_add(it, bang(err));
    } else {
        items_add(it, xasprintf("!%s not sent: %s", up, status));
    }
}

static void count_result(rp_stats *st, const json_t *rec, const char *what)
{
    const char *r = rec_str(rec, what[0] == 'd' ? "dkim.result" : "spf.result");
    if (!r || !*r)
        return;
    char name[80]; /* stats_add keeps at most 64 bytes of a name */
    snprintf(name, sizeof name, "%s_%s", what, r);
    stats_add(st, name, 1);
}

/* The results of the planned actions that were performed, in order. */
static void do_actions(const json_t *rec, const json_t *actions, rp_stats *st, items *it)
{
    size_t i;
    const json_t *a;
    json_array_foreach(actions, i, a)
    {
        const char *name = json_string_value(a);
        const http_action *ha;
        if (!name)
            continue;
        if ((ha = find_http_action(name)))
            do_http_action(rec, ha, st, it);
        else if (strcmp(name, "unsubscribe") == 0)
            do_unsubscribe(rec, st, it);
        else if (strcmp(name, "oob") == 0 || strcmp(name, "fbl") == 0 || strcmp(name, "ooto") == 0)
            do_smtp(rec, name, st, it);
        else {
            char *cname = xasprintf("action_%s", name);
            stats_add(st, cname, 1);
            free(cname);
            items_add(it, xasprintf("_%s", name));
        }
    }
}

/* Issue 17: what schedule holds for later, `Scheduled open +19800.000s
 * 2026-12-06T18:40:01.123Z click +19845.500s ...` (delay from delivery in model
 * seconds, due time in real time), or that the store was full. */
static void do_scheduled(const json_t *plan, rp_stats *st, items *it)
{
    const json_t *scheduled = json_object_get(plan, "scheduled");
    if (!array_empty(scheduled)) {
        bs_buf b;
        buf_init(&b);
        buf_puts(&b, "Scheduled");
        size_t i;
        const json_t *a;
        json_array_foreach(scheduled, i, a)
        {
            const char *name = json_string_value(json_object_get(a, "action"));
            const char *due = json_string_value(json_object_get(a, "due"));
            buf_printf(&b, " %s +%.3fs %s", name ? name : "?",
                       json_number_value(json_object_get(a, "delay")), due ? due : "?");
        }
        stats_add(st, "actions_scheduled", (long long)json_array_size(scheduled));
        items_add(it, buf_steal(&b));
    }
    if (json_is_true(json_object_get(plan, "schedule_full"))) {
        items_add(it, xstrdup("Schedule full: actions done at once"));
        stats_add(st, "schedule_overflow", 1);
    }
}

static void do_message(const json_t *rec, rp_stats *st, double now, bs_buf *line, fmt_result *res)
{
    const char *file = rec_str(rec, "source.name");
    if (!file)
        file = rec_id(rec);
    const char *to = rec_str(rec, "headers.to");
    if (!to)
        to = rec_str(rec, "envelope.rcpt");
    put_head(line, file, to, rec_str(rec, "headers.from"));

    stats_message(st, now);
    count_result(st, rec, "dkim");
    count_result(st, rec, "spf");

    items it = {0};
    const char *error = json_string_value(json_object_get(rec, "error"));
    if (error) {
        items_add(&it, bang(error));
        stats_add(st, "error_messages", 1);
    }
    const json_t *plan = json_object_get(rec, "plan");
    const char *skip = json_string_value(json_object_get(plan, "skip"));
    /* issue 18: the stream a +bs- tag or a signed X-Bouncy-Sink-Outcome field chose */
    const char *ov_src = json_string_value(rec_get(plan, "override.source"));
    const char *ov_dir = json_string_value(rec_get(plan, "override.directive"));
    if (ov_src && ov_dir) {
        items_add(&it, xasprintf("Override %s %s",
                                 strcmp(ov_src, "header") == 0 ? "X-Bouncy-Sink-Outcome:" : "+bs-",
                                 ov_dir));
        stats_add(st, "override_stream", 1);
    }
    const json_t *skip_code = json_object_get(plan, "skip_code");
    bs_skip gate = json_is_string(skip_code) ? bs_skip_parse(json_string_value(skip_code))
                                             : bs_skip_from_text(skip); /* an old record */
    const char *dkim = rec_str(rec, "dkim.result");
    if (gate == BS_SKIP_DKIM_FAIL || (dkim && strcmp(dkim, "pass") != 0))
        stats_add(st, "fail_dkim", 1);
    if (gate == BS_SKIP_SPF_FAIL)
        stats_add(st, "fail_spf", 1);
    if (!json_is_object(plan)) {
        if (!error)
            items_add(&it, xstrdup("!No plan in record (decide did not see it)"));
    } else if (skip) {
        items_add(&it, bang(skip));
    } else {
        /* Signals traffic: the old tool logged the day-of-month gate's inputs. */
        const json_t *sig = json_object_get(plan, "signals");
        if (json_is_integer(json_object_get(sig, "digit"))) {
            time_t secs = (time_t)now;
            struct tm tm;
            localtime_r(&secs, &tm);
            items_add(&it, xasprintf("currentDay=%d,finalDigit=%lld", tm.tm_mday,
                                     (long long)json_integer_value(json_object_get(sig, "digit"))));
        }
        const json_t *actions = json_object_get(plan, "actions");
        const json_t *scheduled = json_object_get(plan, "scheduled");
        if (array_empty(actions) && array_empty(scheduled)) {
            items_add(&it, xstrdup("Accept"));
            stats_add(st, "accept", 1);
        }
        do_actions(rec, actions, st, &it);
        do_scheduled(plan, st, &it);
    }
    if (json_is_object(json_object_get(rec_get(rec, "smtp"), "delivered")))
        do_smtp(rec, "delivered", st, &it);
    const json_t *http = json_object_get(rec, "http");
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(http, "errors"), i, e) if (json_is_string(e))
        items_add(&it, bang(json_string_value(e)));
    const json_t *nt = json_object_get(http, "not_tracking");
    long long n_open = json_integer_value(json_object_get(nt, "open"));
    long long n_click = json_integer_value(json_object_get(nt, "click"));
    if (n_open > 0)
        stats_add(st, "open_url_not_sparkpost", n_open);
    if (n_click > 0)
        stats_add(st, "click_url_not_sparkpost", n_click);

    put_items(line, &it, res);
    const char *xbs = rec_str(rec, "headers.x_bouncy_sink");
    res->store_done = xbs && strcasestr(xbs, "store-done") != NULL;
}

/* Issue 17: an action schedule held until it was due, `Action open <id>/open +19800.000s
 * due 2026-12-06T18:40:01.123Z,_Open:200` (the first item names it: report reads its
 * log back at start to log every action once). */
static void do_action(const json_t *rec, rp_stats *st, bs_buf *line, fmt_result *res)
{
    const char *file = rec_str(rec, "source.name");
    if (!file)
        file = rec_id(rec);
    const char *to = rec_str(rec, "headers.to");
    if (!to)
        to = rec_str(rec, "envelope.rcpt");
    put_head(line, file, to, rec_str(rec, "headers.from"));
    const char *aid = rec_str(rec, "action.id");
    const char *name = rec_str(rec, "action.name");
    const char *due = rec_str(rec, "action.due");
    items it = {0};
    items_add(&it, xasprintf("Action %s %s +%.3fs due %s", name ? name : "?", aid ? aid : "?",
                             json_number_value(rec_get(rec, "action.delay")), due ? due : "?"));
    stats_add(st, "actions_done", 1);
    do_actions(rec, json_object_get(json_object_get(rec, "plan"), "actions"), st, &it);
    const json_t *http = json_object_get(rec, "http");
    size_t i;
    const json_t *e;
    json_array_foreach(json_object_get(http, "errors"), i, e) if (json_is_string(e))
        items_add(&it, bang(json_string_value(e)));
    put_items(line, &it, res);
}

/* ---- other kinds ---- */

static void do_params(const json_t *rec, rp_stats *st, bs_buf *line, fmt_result *res)
{
    const char *source = str_or(rec_str(rec, "source"), "?");
    const char *reason = str_or(rec_str(rec, "reason"), "?");
    const char *error = rec_str(rec, "error");
    if (error) {
        res->level = "WARNING";
        buf_puts(line, "** Parameters not changed (");
        put_clean(line, reason);
        buf_puts(line, ", ");
        put_clean(line, source);
        buf_puts(line, "),");
        char *e = bang(error);
        put_clean(line, e);
        free(e);
        res->has_error = 1;
        return;
    }
    stats_set_params(st, rec);
    char *p = json_dumps(json_object_get(rec, "params"),
                         JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(12));
    buf_puts(line, "** Parameters (");
    put_clean(line, reason);
    buf_puts(line, ", ");
    put_clean(line, source);
    buf_puts(line, "): ");
    put_clean(line, p ? p : "{}");
    free(p);
}

static void do_inband(const json_t *rec, rp_stats *st, bs_buf *line)
{
    put_head(line, rec_id(rec), rec_str(rec, "envelope.rcpt"), rec_str(rec, "envelope.mail_from"));
    const json_t *reply = json_object_get(rec, "reply");
    long long code = json_integer_value(json_object_get(reply, "code"));
    const char *enh = json_string_value(json_object_get(reply, "enhanced"));
    const char *text = str_or(json_string_value(json_object_get(reply, "text")), "");
    buf_printf(line, "InBand %lld", code);
    if (enh && *enh && strncmp(text, enh, strlen(enh)) != 0) {
        buf_putc(line, ' ');
        put_clean(line, enh);
    }
    if (*text) {
        buf_putc(line, ' ');
        put_clean(line, text);
    }
    stats_add(st,
              code >= 400 && code < 500   ? "inband_4xx"
              : code >= 500 && code < 600 ? "inband_5xx"
                                          : "inband_other",
              1);
    /* issue 18: a reply or deferral the sender chose with a +bs- tag */
    const json_t *ov = json_object_get(rec, "override");
    const char *ov_kind = json_string_value(json_object_get(ov, "kind"));
    const char *ov_dir = json_string_value(json_object_get(ov, "directive"));
    if (ov_kind && ov_dir) {
        buf_puts(line, ",Override +bs-");
        put_clean(line, ov_dir);
        stats_add(st, strcmp(ov_kind, "defer") == 0 ? "override_defer" : "override_reply", 1);
    }
}

/* ` <code> <enhanced> <text>` of a reply object (the enhanced code only when the text
 * does not already start with it). */
static void put_reply(bs_buf *line, const json_t *reply)
{
    if (!json_is_object(reply))
        return;
    json_t *code = json_object_get(reply, "code");
    const char *enh = json_string_value(json_object_get(reply, "enhanced"));
    const char *text = str_or(json_string_value(json_object_get(reply, "text")), "");
    if (json_is_integer(code))
        buf_printf(line, " %lld", json_integer_value(code));
    if (enh && *enh && strncmp(text, enh, strlen(enh)) != 0) {
        buf_putc(line, ' ');
        put_clean(line, enh);
    }
    if (*text) {
        buf_putc(line, ' ');
        put_clean(line, text);
    }
}

static void put_envelope_head(bs_buf *line, const json_t *rec)
{
    put_head(line, rec_id(rec), rec_str(rec, "envelope.rcpt"), rec_str(rec, "envelope.mail_from"));
}

/* listen's greylisting: `Greylist 451 4.7.1 <text>` (deferred) or `Greylist passed`. */
static void do_greylist(const json_t *rec, rp_stats *st, bs_buf *line)
{
    put_envelope_head(line, rec);
    const char *outcome = str_or(rec_str(rec, "outcome"), "");
    if (strcmp(outcome, "passed") == 0) {
        buf_puts(line, "Greylist passed");
        stats_add(st, "greylist_passed", 1);
        return;
    }
    buf_puts(line, "Greylist");
    put_reply(line, json_object_get(rec, "reply"));
    if (strcmp(outcome, "deferred") == 0) {
        stats_add(st, "greylist_deferred", 1);
    } else {
        buf_puts(line, " (outcome ");
        put_clean(line, *outcome ? outcome : "missing");
        buf_putc(line, ')');
        stats_add(st, "greylist_other", 1);
    }
}

/* listen's throttling: `Throttle <limit> 451 4.7.1 <text> (client <ip>)`. */
static void do_throttle(const json_t *rec, rp_stats *st, bs_buf *line)
{
    put_envelope_head(line, rec);
    const char *limit = str_or(rec_str(rec, "limit"), "unknown");
    buf_puts(line, "Throttle ");
    put_clean(line, limit);
    put_reply(line, json_object_get(rec, "reply"));
    const char *ip = rec_str(rec, "client_ip");
    if (!ip)
        ip = rec_str(rec, "envelope.client_ip");
    if (ip) {
        buf_puts(line, " (client ");
        put_clean(line, ip);
        buf_putc(line, ')');
    }
    char *name = xasprintf("throttle_%s", limit);
    stats_add(st, name, 1);
    free(name);
}

/* listen's provider personas: `Persona <persona> <rule> <stage> 550 5.7.26 <text> (client
 * <ip>)`; counted as persona_replies and persona_<persona>_<rule>. */
static void do_persona(const json_t *rec, rp_stats *st, bs_buf *line)
{
    put_envelope_head(line, rec);
    const char *persona = str_or(rec_str(rec, "persona"), "unknown");
    const char *rule = str_or(rec_str(rec, "rule"), "unknown");
    buf_puts(line, "Persona ");
    put_clean(line, persona);
    buf_putc(line, ' ');
    put_clean(line, rule);
    buf_putc(line, ' ');
    put_clean(line, str_or(rec_str(rec, "stage"), "unknown"));
    put_reply(line, json_object_get(rec, "reply"));
    const char *ip = rec_str(rec, "envelope.client_ip");
    if (ip) {
        buf_puts(line, " (client ");
        put_clean(line, ip);
        buf_putc(line, ')');
    }
    stats_add(st, "persona_replies", 1);
    char *name = xasprintf("persona_%s_%s", persona, rule);
    stats_add(st, name, 1);
    free(name);
}

/* listen's slow replies: `Slow <stage> <delay>ms`. */
static void do_slow(const json_t *rec, rp_stats *st, bs_buf *line)
{
    put_envelope_head(line, rec);
    buf_puts(line, "Slow ");
    put_clean(line, str_or(rec_str(rec, "stage"), "unknown"));
    json_t *ms = json_object_get(rec, "delay_ms");
    if (json_is_number(ms))
        buf_printf(line, " %.0fms", json_number_value(ms));
    stats_add(st, "slow_replies", 1);
}

static void do_invalid(const json_t *rec, rp_stats *st, bs_buf *line, fmt_result *res)
{
    res->level = "ERROR";
    const char *name = rec_str(rec, "source.name");
    long long lineno = json_integer_value(rec_get(rec, "source.line"));
    if (name) {
        put_field(line, name);
        buf_printf(line, ":%lld", lineno);
    } else {
        put_field(line, rec_id(rec));
    }
    buf_puts(line, ",,,!Invalid record: ");
    put_clean(line, str_or(rec_str(rec, "error"), "(no reason given)"));
    res->has_error = 1;
    stats_add(st, "invalid_records", 1);
}

/* ingest's poison-message rule: `<spool file>,,,!Quarantined: <why> (moved to <path>)`. */
static void do_quarantine(const json_t *rec, rp_stats *st, bs_buf *line, fmt_result *res)
{
    res->level = "ERROR";
    put_head(line, str_or(rec_str(rec, "source.name"), rec_id(rec)), NULL, NULL);
    buf_puts(line, "!Quarantined: ");
    put_clean(line, str_or(rec_str(rec, "error"), "(no reason given)"));
    const char *path = rec_str(rec, "path");
    if (path) {
        buf_puts(line, " (moved to ");
        put_clean(line, path);
        buf_putc(line, ')');
    }
    res->has_error = 1;
    stats_add(st, "quarantined", 1);
}

void fmt_record(const json_t *rec, rp_stats *st, double now, bs_buf *line, fmt_result *res)
{
    memset(res, 0, sizeof *res);
    res->level = "INFO";
    res->settle = rec_str(rec, "settle");
    const char *kind = rec_kind(rec);
    if (!kind)
        kind = "invalid";
    if (strcmp(kind, "message") == 0) {
        do_message(rec, st, now, line, res);
    } else if (strcmp(kind, "action") == 0) {
        do_action(rec, st, line, res);
        res->settle = NULL; /* the message's line settled its file */
    } else if (strcmp(kind, "schedule") == 0) {
        stats_set_schedule(st, rec); /* schedule's state, for /json, /metrics, the page */
        res->no_line = 1;
    } else if (strcmp(kind, "params") == 0) {
        do_params(rec, st, line, res);
    } else if (strcmp(kind, "inband") == 0) {
        do_inband(rec, st, line);
    } else if (strcmp(kind, "blackhole") == 0) {
        put_head(line, rec_id(rec), rec_str(rec, "envelope.rcpt"),
                 rec_str(rec, "envelope.mail_from"));
        buf_puts(line, "Blackhole");
        stats_add(st, "blackhole", 1);
    } else if (strcmp(kind, "invalid") == 0) {
        do_invalid(rec, st, line, res);
    } else if (strcmp(kind, "greylist") == 0) {
        do_greylist(rec, st, line);
    } else if (strcmp(kind, "throttle") == 0) {
        do_throttle(rec, st, line);
    } else if (strcmp(kind, "slow") == 0) {
        do_slow(rec, st, line);
    } else if (strcmp(kind, "persona") == 0) {
        do_persona(rec, st, line);
    } else if (strcmp(kind, "quarantine") == 0) {
        do_quarantine(rec, st, line, res);
    } else {
        put_head(line, rec_id(rec), rec_str(rec, "envelope.rcpt"),
                 rec_str(rec, "envelope.mail_from"));
        buf_puts(line, "Record ");
        put_clean(line, kind);
        char *name = xasprintf("records_%s", kind);
        stats_add(st, name, 1);
        free(name);
    }
}
