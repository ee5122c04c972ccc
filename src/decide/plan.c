/* plan.c — routing, gate, the draws of SPEC A4.4, and the plan's JSON text. */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "outcomes.h"
#include "override.h"
#include "record.h"
#include "route.h"
#include "timing.h"

/* ---- randomness -------------------------------------------------------------------- */

void rng_for_message(rng *r, uint64_t seed, const char *id, size_t idlen)
{
    uint64_t x = seed;
    uint64_t h = bs_fnv1a64(id, idlen, bs_splitmix64(&x));
    bs_rng_seed(r, h ^ bs_splitmix64(&x));
}

/* ---- fields ------------------------------------------------------------------------ */

static span str_span(const json_t *v)
{
    span s = {NULL, 0};
    if (json_is_string(v)) {
        s.p = json_string_value(v);
        s.n = json_string_length(v);
    }
    return s;
}

void msg_view_from_json(const json_t *rec, msg_view *v)
{
    memset(v, 0, sizeof *v);
    v->id = str_span(json_object_get(rec, "id"));
    v->rcpt = str_span(rec_get(rec, "envelope.rcpt"));
    v->to = str_span(rec_get(rec, "headers.to"));
    json_t *dkim = json_object_get(rec, "dkim");
    v->has_dkim = json_is_object(dkim);
    v->dkim_result = str_span(json_object_get(dkim, "result"));
    v->dkim_reason = str_span(json_object_get(dkim, "reason"));
    v->spf_result = str_span(rec_get(rec, "spf.result"));
    v->error = str_span(json_object_get(rec, "error"));
    v->list_unsubscribe = str_span(rec_get(rec, "headers.list_unsubscribe"));
    v->list_unsubscribe_post = str_span(rec_get(rec, "headers.list_unsubscribe_post"));
    v->outcome = str_span(rec_get(rec, "headers.x_bouncy_sink_outcome"));
    size_t hn;
    char *hb = rec_get_bytes(rec, "header_block", &hn);
    v->route = hb ? route_from_trace(hb, hn) : RT_FOREIGN;
    free(hb);
}

static int span_eq_ci(span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.p && s.n == n && strncasecmp(s.p, lit, n) == 0;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static span trim(span s)
{
    while (s.n && is_blank(*s.p)) {
        s.p++;
        s.n--;
    }
    while (s.n && is_blank(s.p[s.n - 1]))
        s.n--;
    return s;
}

span plan_first_address(span f)
{
    span out = {NULL, 0};
    if (!f.p)
        return out;
    int quoted = 0, comment = 0;
    size_t start = 0;
    for (size_t i = 0; i < f.n; i++) {
        char c = f.p[i];
        if (quoted) {
            if (c == '\\' && i + 1 < f.n)
                i++;
            else if (c == '"')
                quoted = 0;
            continue;
        }
        if (comment) {
            if (c == ')')
                comment--;
            continue;
        }
        if (c == '"') {
            quoted = 1;
        } else if (c == '(') {
            comment++;
        } else if (c == '<') {
            const char *close = memchr(f.p + i + 1, '>', f.n - i - 1);
            out.p = f.p + i + 1;
            out.n = close ? (size_t)(close - out.p) : f.n - i - 1;
            return trim(out);
        } else if (c == ',') {
            out.p = f.p + start;
            out.n = i - start;
            out = trim(out);
            if (out.n)
                return out;
            start = i + 1; /* an empty list element */
        }
    }
    out.p = f.p + start;
    out.n = f.n - start;
    out = trim(out);
    if (!out.n)
        out.p = NULL;
    return out;
}

static const char *last_at(const char *p, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (p[i] == '@')
            return p + i;
    return NULL;
}

/* decide's streams are the first labels of route.h, in the same order. */
_Static_assert(STREAM_MIXED == (int)RT_MIXED && STREAM_ACCEPT == (int)RT_ACCEPT &&
                   STREAM_OOB == (int)RT_OOB && STREAM_FBL == (int)RT_FBL &&
                   STREAM_OPENCLICK == (int)RT_OPENCLICK && STREAM_UNSUB == (int)RT_UNSUB &&
                   STREAM_OOTO == (int)RT_OOTO && STREAM_COUNT == (int)RT_PLAN_COUNT,
               "enum stream follows enum bs_route");

enum stream plan_route(const decide_model *m, const char *addr, size_t n)
{
    enum bs_route r =
        route_address((const char *const *)m->sink_domains, m->n_sink_domains, addr, n);
    return (enum stream)route_plan_stream(r);
}

/* ---- output ------------------------------------------------------------------------ */

void json_quote(bs_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_reserve(out, n + 2);
    buf_putc(out, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(out, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"':
            buf_puts(out, "\\\"");
            break;
        case '\\':
            buf_puts(out, "\\\\");
            break;
        case '\n':
            buf_puts(out, "\\n");
            break;
        case '\r':
            buf_puts(out, "\\r");
            break;
        case '\t':
            buf_puts(out, "\\t");
            break;
        default: {
            char e[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            buf_puts(out, e);
        }
        }
    }
    buf_append(out, s + run, n - run);
    buf_putc(out, '"');
}

/* ---- the plan ---------------------------------------------------------------------- */

typedef struct {
    const char *act[8];
    int n;
} actions;

static void add(actions *a, const char *name)
{
    a->act[a->n++] = name;
}

/* SPEC A4.4: open; with p=OpenAgain|Open open again; independently with p=Click|Open
 * click, and nested in that with p=ClickAgain|Click click again. */
static void open_branch(const model_day *d, rng *r, actions *a)
{
    add(a, "open");
    if (bs_rng_uniform(r) < d->open_again_given_open)
        add(a, "open_again");
    if (bs_rng_uniform(r) < d->click_given_open) {
        add(a, "click");
        if (bs_rng_uniform(r) < d->click_again_given_click)
            add(a, "click_again");
    }
}

/* plan.delays (issue 17): seconds from delivery per action, drawn from a stream of its
 * own (so the actions drawn above are the same with or without [Timing]); an action that
 * follows another (timing_after) adds its draw to that one's delay. */
static void put_delays(const timing_conf *t, uint64_t seed, const msg_view *v, const actions *a,
                       bs_buf *out)
{
    rng r;
    rng_for_message(&r, seed ^ 0x74696d696e67ULL /* "timing" */, v->id.p ? v->id.p : "", v->id.n);
    double at[TA_COUNT] = {0};
    buf_puts(out, ",\"delays\":{");
    for (int i = 0; i < a->n; i++) {
        enum timing_action ta = timing_action_find(a->act[i]);
        double d = 0;
        if (ta != TA_COUNT) {
            d = timing_draw(&t->dist[ta], &r);
            if (timing_after[ta] != TA_COUNT)
                d += at[timing_after[ta]];
            at[ta] = d;
        }
        if (i)
            buf_putc(out, ',');
        buf_printf(out, "\"%s\":%.3f", a->act[i], d);
    }
    buf_putc(out, '}');
}

static int one_click(const msg_view *v)
{
    return v->list_unsubscribe_post.p && v->list_unsubscribe.p;
}

void plan_make(const decide_model *m, const model_day *d, uint64_t seed, const msg_view *v,
               bs_buf *out)
{
    span addr = plan_first_address(v->rcpt);
    if (!addr.p)
        addr = plan_first_address(v->to);
    /* listen's decision when the record carries it (route.h), else the same function */
    enum stream stream = v->route != RT_FOREIGN ? (enum stream)route_plan_stream(v->route)
                         : addr.p               ? plan_route(m, addr.p, addr.n)
                                                : STREAM_MIXED;
    /* Sender-chosen outcomes (override.h). The recipient's +bs- tag: listen applied it
     * already when the record carries its route; a replayed message without one gets it
     * here. Else a signed X-Bouncy-Sink-Outcome field (the gate below still applies). */
    const char *override = NULL;
    bs_override ov;
    const char *ov_why;
    int tagged = addr.p ? override_from_address(addr.p, addr.n, &ov, &ov_why) : 0;
    if (tagged > 0 && ov.kind == OV_ACTION && v->route == RT_FOREIGN) {
        stream = (enum stream)ov.route;
        override = "tag";
    } else if (tagged == 0 && v->outcome.p && span_eq_ci(v->dkim_result, "pass")) {
        span o = trim(v->outcome);
        if (override_parse(o.p, o.n, &ov, &ov_why) == 0 && ov.kind == OV_ACTION) {
            stream = (enum stream)ov.route;
            override = "header";
        }
    }

    rng r;
    rng_for_message(&r, seed, v->id.p ? v->id.p : "", v->id.n);
    const char *ua = m->user_agents[bs_rng_below(&r, m->n_user_agents)];

    /* Signals traffic: local part before '+' is the prefix, last character a digit. */
    int signals = 0, digit = 0, allowed = 1;
    if (m->signals_prefix && addr.p) {
        const char *at = last_at(addr.p, addr.n);
        size_t ln = at ? (size_t)(at - addr.p) : 0;
        const char *plus = ln ? memchr(addr.p, '+', ln) : NULL;
        size_t alpha = plus ? (size_t)(plus - addr.p) : ln;
        size_t pn = strlen(m->signals_prefix);
        if (ln && alpha == pn && memcmp(addr.p, m->signals_prefix, pn) == 0 &&
            addr.p[ln - 1] >= '0' && addr.p[ln - 1] <= '9') {
            signals = 1;
            digit = addr.p[ln - 1] - '0';
            allowed = (m->digit_days[digit] >> d->mday) & 1;
        }
    }

    /* The gate (SPEC A3). */
    bs_buf skip;
    buf_init(&skip);
    bs_skip skip_code = BS_SKIP_NONE;
    if (v->error.p) {
        skip_code = BS_SKIP_INPUT_ERROR;
        if (!(v->error.n && v->error.p[0] == '!'))
            buf_putc(&skip, '!');
        buf_append(&skip, v->error.p, v->error.n);
    } else if (!span_eq_ci(v->dkim_result, "pass")) {
        skip_code = BS_SKIP_DKIM_FAIL;
        buf_puts(&skip, "!DKIM fail: ");
        if (v->dkim_reason.p && v->dkim_reason.n)
            buf_append(&skip, v->dkim_reason.p, v->dkim_reason.n);
        else if (v->dkim_result.p && v->dkim_result.n)
            buf_append(&skip, v->dkim_result.p, v->dkim_result.n);
        else
            buf_puts(&skip, v->has_dkim ? "no result" : "not checked");
    } else if ((m->spf_required & (1u << stream)) && v->spf_result.p &&
               !span_eq_ci(v->spf_result, "pass") && !span_eq_ci(v->spf_result, "off")) {
        skip_code = BS_SKIP_SPF_FAIL;
        buf_puts(&skip, "!SPF fail: ");
        buf_append(&skip, v->spf_result.p, v->spf_result.n);
    }

    actions a = {{0}, 0};
    if (!skip.len) {
        switch (stream) {
        case STREAM_ACCEPT:
            break;
        case STREAM_OOB:
            add(&a, "oob");
            break;
        case STREAM_FBL:
            add(&a, "fbl");
            break;
        case STREAM_OPENCLICK:
            open_branch(d, &r, &a);
            break;
        case STREAM_OOTO:
            add(&a, "ooto");
            break;
        case STREAM_UNSUB:
            if (one_click(v))
                add(&a, "unsubscribe");
            else {
                skip_code = BS_SKIP_NO_ONE_CLICK;
                buf_puts(&skip, "!No one-click unsubscribe (List-Unsubscribe with "
                                "List-Unsubscribe-Post)");
            }
            break;
        case STREAM_MIXED:
        default:
            if (bs_rng_uniform(&r) < d->oob) {
                add(&a, "oob");
            } else if (bs_rng_uniform(&r) < d->fbl) {
                add(&a, "fbl");
            } else {
                if (bs_rng_uniform(&r) < d->open && allowed)
                    open_branch(d, &r, &a);
                if (one_click(v) && bs_rng_uniform(&r) < d->unsubscribe)
                    add(&a, "unsubscribe");
                /* Drawn last, and only when configured, so that plans made without
                 * OOTO_percent are the same as before it existed. */
                if (d->ooto > 0 && bs_rng_uniform(&r) < d->ooto)
                    add(&a, "ooto");
            }
            break;
        }
    }

    buf_puts(out, "{\"stream\":\"");
    buf_puts(out, route_labels[stream]);
    buf_puts(out, "\",\"actions\":[");
    for (int i = 0; i < a.n; i++) {
        if (i)
            buf_putc(out, ',');
        buf_putc(out, '"');
        buf_puts(out, a.act[i]);
        buf_putc(out, '"');
    }
    buf_puts(out, "],\"user_agent\":");
    json_quote(out, ua, strlen(ua));
    if (override)
        buf_printf(out, ",\"override\":{\"source\":\"%s\",\"directive\":\"%s\"}", override,
                   ov.text);
    if (skip.len) {
        buf_puts(out, ",\"skip\":");
        json_quote(out, skip.data, skip.len);
        buf_printf(out, ",\"skip_code\":\"%s\"", bs_skip_name(skip_code));
    }
    if (signals)
        buf_printf(out, ",\"signals\":{\"digit\":%d,\"allowed\":%s}", digit,
                   allowed ? "true" : "false");
    if (m->timing.enabled && a.n)
        put_delays(&m->timing, seed, v, &a, out);
    buf_putc(out, '}');
    buf_free(&skip);
}
