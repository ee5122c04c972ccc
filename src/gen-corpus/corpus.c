/* corpus.c — composition of realistic ESP-style test messages. See corpus.h.
 *
 * The shape follows what SparkPost-like senders emit (compare
 * data/reference/sparkpost-sample.msg): multipart/alternative text + HTML, an
 * X-MSFBL complaint token, List-Unsubscribe (mailto + URL) with one-click POST,
 * open pixels under <base>/q/<token> and tracked links under <base>/f/a/<token>,
 * mixed with links and images that are not tracking endpoints, an Outlook
 * conditional comment and a style block (whose URLs a reader must ignore), and
 * entity-encoded hrefs. Encodings vary per message: quoted-printable, base64 or
 * 8bit; UTF-8 or ISO-8859-1.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corpus.h"
#include "maildate.h"
#include "rng.h"

/* ---- deterministic randomness: a splitmix64 stream (rng.h), one per message ---- */

typedef uint64_t rng;

#define PICK(r, arr) ((arr)[bs_splitmix64_below((r), sizeof(arr) / sizeof((arr)[0]))])

static void rng_token(rng *r, char *out, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[bs_splitmix64(r) & 63];
    out[len] = '\0';
}

/* ---- content tables ---- */

static const char *const brands[] = {
    "Acme Outfitters",   "Northwind Travel",      "Blue Harbor Books", "Cedar & Pine Home",
    "Lumen Electronics", "Fjord Coffee Roasters", "Café Olé",          "Summit Fitness",
    "Maison Lévêque",    "Greenway Grocers",
};
static const char *const from_locals[] = {"news", "offers", "hello", "updates", "team"};
static const char *const subjects[] = {
    "Your weekly picks are here",
    "Last chance: 30% off everything ends tonight",
    "New arrivals we think you'll love",
    "Your November newsletter",
    "Don't miss out — members save more this week",
    "Événement spécial : soirée dégustation",
    "Hand-picked for you, {first}",
    "Your order of savings has shipped",
    "5 ideas for a cozy weekend",
    "Price drop on items in your wishlist",
    "Welcome to the club, {first}!",
    "Früh buchen und sparen",
    "Our biggest sale of the season starts now",
    "Behind the scenes: how we roast our beans",
    "Reminder: your points expire soon",
};
static const char *const first_names[] = {
    "alice", "bruno", "chloe", "dmitri", "emma",  "farid", "grace",   "hugo", "ines", "jonas",
    "kenji", "lena",  "mateo", "nora",   "oscar", "priya", "quentin", "rosa", "sven", "tara",
};
static const char *const last_names[] = {
    "martin", "schmidt", "garcia", "nguyen", "rossi", "kowalski", "smith",  "dubois",
    "tanaka", "silva",   "jensen", "okafor", "novak", "murphy",   "haddad",
};
static const char *const mixed_domains[] = {
    "", "not-gmail.com.", "not-yahoo.com.", "not-outlook.com.", "not-aol.com.",
};
static const char *const headlines[] = {
    "This week's favourites", "Fresh finds for the season", "Made for you",
    "Ideas worth trying",     "Straight from our café",
};
static const char *const paragraphs[] = {
    "We picked a few things we think you will like, from best sellers to new arrivals. "
    "Take a look before they are gone.",
    "Our team spent the month testing gear in the mountains, so you do not have to. "
    "Here is what made the cut — and what did not.",
    "Members get free shipping on every order over €25, plus early access to sales. "
    "Not a member yet? Joining takes a minute.",
    "Prefer to shop in person? Our stores in Zürich, Málaga and Kraków now open "
    "an hour earlier on Saturdays.",
    "Thanks for being with us. As always, reply to this email if there is anything "
    "we can do better.",
    "Naïve question of the week: what makes a crème brûlée crack just right? "
    "Our pastry chef explains.",
};
static const char *const link_texts[] = {
    "Shop the collection", "Read the full story", "See what's new",
    "Claim your offer",    "Browse best sellers", "Plan your trip",
};

/* ---- helpers ---- */

static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* RFC 2047 encoded-word(s), Q or B, for non-ASCII header text. */
static void put_encoded_words(bs_buf *b, const char *s, int use_b)
{
    if (use_b) {
        char *e = bs_base64_encode(s, strlen(s));
        buf_printf(b, "=?UTF-8?B?%s?=", e);
        free(e);
        return;
    }
    buf_puts(b, "=?UTF-8?Q?");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == ' ')
            buf_putc(b, '_');
        else if (*p >= 0x80 || *p == '=' || *p == '?' || *p == '_' || *p == '"' || *p < 0x20)
            buf_printf(b, "=%02X", *p);
        else
            buf_putc(b, (char)*p);
    }
    buf_puts(b, "?=");
}

static void put_header_text(bs_buf *b, const char *s, rng *r)
{
    if (is_ascii(s))
        buf_puts(b, s);
    else
        put_encoded_words(b, s, bs_splitmix64_below(r, 2));
}

/* Replaces "{first}" by the capitalised first name. */
static char *fill_subject(const char *tmpl, const char *first)
{
    bs_buf b;
    buf_init(&b);
    const char *p = strstr(tmpl, "{first}");
    if (!p) {
        buf_puts(&b, tmpl);
    } else {
        buf_append(&b, tmpl, (size_t)(p - tmpl));
        buf_putc(&b, (char)toupper((unsigned char)first[0]));
        buf_puts(&b, first + 1);
        buf_puts(&b, p + 7);
    }
    return buf_steal(&b);
}

/* UTF-8 to ISO-8859-1 ('?' for what Latin-1 lacks). */
static void to_latin1(bs_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        if (*p < 0x80) {
            buf_putc(out, (char)*p++);
        } else if ((*p & 0xE0) == 0xC0 && p + 1 < end) {
            unsigned cp = ((unsigned)(*p & 0x1F) << 6) | (p[1] & 0x3F);
            buf_putc(out, cp <= 0xFF ? (char)cp : '?');
            p += 2;
        } else {
            int len = (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 1;
            buf_putc(out, '?');
            p += len;
        }
    }
}

void qp_encode(bs_buf *out, const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p, *end = s + n;
    size_t col = 0;
    int line_start = 1;
    while (s < end) {
        unsigned char c = *s;
        if (c == '\r' && s + 1 < end && s[1] == '\n') {
            s++;
            continue;
        }
        if (c == '\n') {
            buf_puts(out, "\r\n");
            col = 0;
            line_start = 1;
            s++;
            continue;
        }
        char enc[4];
        size_t w;
        int at_eol = (s + 1 == end || s[1] == '\n' || s[1] == '\r');
        int need = c == '=' || c >= 0x7F || (c < 0x20 && c != '\t') ||
                   ((c == ' ' || c == '\t') && at_eol) ||
                   (line_start && c == 'F' && end - s >= 5 && memcmp(s, "From ", 5) == 0) ||
                   (line_start && c == '.');
        if (need) {
            snprintf(enc, sizeof enc, "=%02X", c);
            w = 3;
        } else {
            enc[0] = (char)c;
            enc[1] = '\0';
            w = 1;
        }
        /* Soft break keeps every line at most 76 characters, the '=' included. */
        if (col + w > 75 && !(at_eol && col + w <= 76)) {
            buf_puts(out, "=\r\n");
            col = 0;
            line_start = 1;
            continue; /* re-evaluate the character at the start of a line */
        }
        buf_append(out, enc, w);
        col += w;
        line_start = 0;
        s++;
    }
}

void b64_encode_lines(bs_buf *out, const void *p, size_t n)
{
    char *e = bs_base64_encode(p, n);
    size_t len = strlen(e);
    for (size_t i = 0; i < len; i += 76) {
        buf_append(out, e + i, len - i < 76 ? len - i : 76);
        buf_puts(out, "\r\n");
    }
    free(e);
}

/* Text (LF line ends) to CRLF. */
static void put_crlf(bs_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            buf_putc(out, '\r');
        buf_putc(out, s[i]);
    }
}

/* One MIME text part: headers and encoded body. */
static void put_part(bs_buf *out, const char *boundary, const char *type, const char *charset,
                     const char *cte, const bs_buf *content)
{
    buf_printf(out, "--%s\r\n", boundary);
    buf_printf(out, "Content-Type: %s; charset=%s\r\n", type,
               strcmp(charset, "UTF-8") == 0 ? "\"UTF-8\"" : charset);
    buf_printf(out, "Content-Transfer-Encoding: %s\r\n\r\n", cte);
    if (strcmp(cte, "quoted-printable") == 0) {
        qp_encode(out, content->data, content->len);
    } else if (strcmp(cte, "base64") == 0) {
        bs_buf canon;
        buf_init(&canon);
        put_crlf(&canon, content->data, content->len);
        b64_encode_lines(out, canon.data, canon.len);
        buf_free(&canon);
    } else {
        put_crlf(out, content->data, content->len);
    }
    if (out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
        buf_puts(out, "\r\n");
}

static void slug(char *out, size_t n, const char *s)
{
    size_t j = 0;
    for (; *s && j + 1 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c))
            out[j++] = (char)tolower(c);
        else if ((c == ' ' || c == '&') && j && out[j - 1] != '-')
            out[j++] = '-';
    }
    while (j && out[j - 1] == '-')
        j--;
    out[j] = '\0';
}

/* A tracked URL: <base><path><token>, SparkPost-like token. */
static char *tracked_url(rng *r, const char *base, const char *path)
{
    char a[23], b[49];
    rng_token(r, a, 22);
    rng_token(r, b, 24 + bs_splitmix64_below(r, 24));
    return xasprintf("%s%s%s~~/AAAAAQA~/%s", base, path, a, b);
}

/* ---- the message ---- */

void corpus_msg_init(corpus_msg *m)
{
    memset(m, 0, sizeof *m);
    buf_init(&m->msg);
}

void corpus_msg_free(corpus_msg *m)
{
    free(m->rcpt);
    free(m->stream);
    buf_free(&m->msg);
    json_decref(m->open);
    json_decref(m->click);
    corpus_msg_init(m);
}

static const corpus_stream *pick_stream(const corpus_opts *o, rng *r)
{
    double total = 0;
    for (size_t i = 0; i < o->nstreams; i++)
        total += o->streams[i].weight;
    double x = bs_splitmix64_uniform(r) * total;
    for (size_t i = 0; i < o->nstreams; i++) {
        if (x < o->streams[i].weight)
            return &o->streams[i];
        x -= o->streams[i].weight;
    }
    return &o->streams[o->nstreams - 1];
}

void corpus_make(const corpus_opts *o, unsigned long index, corpus_msg *m)
{
    corpus_msg_free(m);
    rng r = (o->seed ^ ((uint64_t)(index + 1) * 0xD1B54A32D192ED03ULL));
    bs_splitmix64(&r);

    snprintf(m->id, sizeof m->id, "%016llx", (unsigned long long)bs_splitmix64(&r));
    m->open = json_array();
    m->click = json_array();

    /* Recipient and stream. */
    const corpus_stream *st = pick_stream(o, &r);
    m->stream = xstrdup(st->name);
    const char *first = PICK(&r, first_names), *last = PICK(&r, last_names);
    bs_buf local;
    buf_init(&local);
    if (o->signals_prefix && bs_splitmix64_uniform(&r) * 100.0 < o->signals_percent) {
        buf_printf(&local, "%s+", o->signals_prefix);
        for (int i = 0; i < 20; i++)
            buf_putc(&local, (char)('0' + bs_splitmix64_below(&r, 10)));
        m->signals = 1;
    } else {
        buf_printf(&local, "%s.%s%u", first, last, (unsigned)bs_splitmix64_below(&r, 1000));
    }
    if (strcmp(st->name, "mixed") == 0)
        m->rcpt = xasprintf("%s@%s%s", local.data, PICK(&r, mixed_domains), o->sink_domain);
    else
        m->rcpt = xasprintf("%s@%s.%s", local.data, st->name, o->sink_domain);
    buf_free(&local);

    /* Sender identity and content choices. */
    const char *brand = PICK(&r, brands);
    char brand_slug[64];
    slug(brand_slug, sizeof brand_slug, brand);
    char *subject = fill_subject(PICK(&r, subjects), first);
    const char *headline = PICK(&r, headlines);
    unsigned npara = 2 + bs_splitmix64_below(&r, 2);
    const char *paras[3];
    for (unsigned i = 0; i < npara; i++)
        paras[i] = PICK(&r, paragraphs);
    unsigned nlinks = 1 + bs_splitmix64_below(&r, 4);
    unsigned npixels = 1 + (bs_splitmix64_below(&r, 3) == 0);
    unsigned x = bs_splitmix64_below(&r, 100);
    m->html_cte = x < 45 ? "quoted-printable" : x < 80 ? "base64" : "8bit";
    x = bs_splitmix64_below(&r, 100);
    m->text_cte = x < 50 ? "quoted-printable" : x < 70 ? "base64" : "8bit";
    m->charset = bs_splitmix64_below(&r, 10) == 0 ? "ISO-8859-1" : "UTF-8";
    m->date = (long)(o->date + (double)index * o->interval);

    /* Tokens and URLs. */
    char tok[33], hash[45];
    rng_token(&r, tok, 32);
    {
        unsigned char h[32];
        for (int i = 0; i < 32; i++)
            h[i] = (unsigned char)bs_splitmix64(&r);
        char *e = bs_base64_encode(h, sizeof h);
        snprintf(hash, sizeof hash, "%s", e);
        free(e);
    }

    /* ---- HTML ---- */
    bs_buf html, text;
    buf_init(&html);
    buf_init(&text);
    buf_printf(&html,
               "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
               "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=%s\">\n"
               "<title>",
               m->charset);
    buf_html_escape(&html, subject, 0);
    buf_puts(&html, "</title>\n<style type=\"text/css\">\n"
                    "  body { margin:0; padding:0; font-family: Helvetica, Arial, sans-serif; }\n"
                    "  .hero { background: url('https://cdn.example.com/img/hero-bg.png'); }\n"
                    "  /* <img src=\"https://cdn.example.com/not-an-image.png\"> */\n"
                    "</style>\n</head>\n<body>\n");
    {
        char *u = tracked_url(&r, o->tracking_base, "/q/");
        buf_printf(&html,
                   "<!--[if mso]><table role=\"presentation\"><tr><td>"
                   "<img src=\"%s\" width=\"1\" height=\"1\" alt=\"\"></td></tr></table>"
                   "<![endif]-->\n",
                   u);
        free(u);
    }
    if (npixels > 1) {
        char *u = tracked_url(&r, o->tracking_base, "/q/");
        buf_printf(&html,
                   "<div style=\"color:transparent;visibility:hidden;opacity:0;font-size:0px;"
                   "display:none!important;\"><img border=\"0\" width=\"1\" height=\"1\" "
                   "src=\"%s\"/></div>\n",
                   u);
        json_array_append_new(m->open, json_string(u));
        free(u);
    }
    {
        char *u = xasprintf("https://cdn.example.com/%s/logo.png", brand_slug);
        buf_printf(&html, "<img src=\"%s\" alt=\"", u);
        buf_html_escape(&html, brand, 0);
        buf_puts(&html, "\" width=\"120\">\n<h1>");
        json_array_append_new(m->open, json_string(u));
        free(u);
    }
    buf_html_escape(&html, headline, 0);
    buf_puts(&html, "</h1>\n");
    buf_printf(&text, "%s\n\n", headline);

    for (unsigned i = 0; i < nlinks; i++) {
        if (i < npara) {
            buf_puts(&html, "<p>");
            buf_html_escape(&html, paras[i], 0);
            buf_puts(&html, "</p>\n");
            buf_printf(&text, "%s\n\n", paras[i]);
        }
        char *u = tracked_url(&r, o->tracking_base, "/f/a/");
        const char *lt = PICK(&r, link_texts);
        if (i == 1) {
            /* A banner: tracked link with a query (entity-encoded &) around an image. */
            char *full = xasprintf("%s?utm_source=newsletter&utm_medium=email", u);
            char *img = xasprintf("https://cdn.example.com/%s/banner-%u.jpg", brand_slug,
                                  (unsigned)bs_splitmix64_below(&r, 9));
            buf_printf(&html,
                       "<a href=\"%s?utm_source=newsletter&amp;utm_medium=email\" "
                       "target=\"_blank\"><img src=\"%s\" alt=\"\" width=\"600\"></a>\n",
                       u, img);
            json_array_append_new(m->click, json_string(full));
            json_array_append_new(m->open, json_string(img));
            buf_printf(&text, "%s: %s\n\n", lt, full);
            free(full);
            free(img);
        } else {
            buf_printf(&html, "<p><a href=\"%s\" style=\"color:#0a66c2\">", u);
            buf_html_escape(&html, lt, 0);
            buf_puts(&html, "</a></p>\n");
            json_array_append_new(m->click, json_string(u));
            buf_printf(&text, "%s: %s\n\n", lt, u);
        }
        free(u);
    }
    for (unsigned i = nlinks; i < npara; i++) {
        buf_puts(&html, "<p>");
        buf_html_escape(&html, paras[i], 0);
        buf_puts(&html, "</p>\n");
        buf_printf(&text, "%s\n\n", paras[i]);
    }
    buf_printf(&html,
               "<p>Find a store near you: <a href=\"https://www.example.com/stores?city=Paris"
               "&amp;lang=fr\">our stores</a>.</p>\n"
               "<!-- footer v2: <a href=\"%s/f/a/commented-out-link\">old footer</a> -->\n",
               o->tracking_base);
    json_array_append_new(m->click,
                          json_string("https://www.example.com/stores?city=Paris&lang=fr"));
    char *unsub_url = xasprintf("%s/u/%s", o->unsub_base, tok);
    buf_printf(&html,
               "<p style=\"font-size:11px\"><a href=\"%s\">Unsubscribe</a> | "
               "<a href=\"mailto:help@%s\">Contact us</a></p>\n",
               unsub_url, o->from_domain);
    json_array_append_new(m->click, json_string(unsub_url));
    {
        char *mt = xasprintf("mailto:help@%s", o->from_domain);
        json_array_append_new(m->click, json_string(mt));
        free(mt);
    }
    {
        char *u = tracked_url(&r, o->tracking_base, "/q/");
        buf_printf(&html,
                   "<img border=\"0\" width=\"1\" height=\"1\" alt=\"\" src=\"%s\">\n"
                   "</body>\n</html>\n",
                   u);
        json_array_append_new(m->open, json_string(u));
        free(u);
    }
    buf_printf(&text, "Unsubscribe: %s\n", unsub_url);

    if (strcmp(m->charset, "ISO-8859-1") == 0) {
        bs_buf l;
        buf_init(&l);
        to_latin1(&l, html.data, html.len);
        buf_free(&html);
        html = l;
        buf_init(&l);
        to_latin1(&l, text.data, text.len);
        buf_free(&text);
        text = l;
    }

    /* ---- header ---- */
    bs_buf *b = &m->msg;
    char date[48];
    mail_date((time_t)m->date, MAIL_DATE_DAY2, date, sizeof date);
    char boundary[41];
    rng_token(&r, boundary + 4, 24);
    memcpy(boundary, "_--=", 4);
    for (char *p = boundary; *p; p++)
        if (*p == '-' && p > boundary + 3)
            *p = '.';
    {
        /* X-MSFBL: <hash>|<base64 JSON>, folded like the production sample. */
        char *rj = xasprintf("{\"r\":\"%s\",\"message_id\":\"%s\",\"tenant_id\":\"demo\","
                             "\"customer_id\":\"1\",\"subaccount_id\":\"%u\"}",
                             m->rcpt, m->id, (unsigned)bs_splitmix64_below(&r, 50));
        char *e = bs_base64_encode(rj, strlen(rj));
        buf_printf(b, "X-MSFBL: %s|", hash);
        size_t el = strlen(e), first_chunk = el < 20 ? el : 20;
        buf_append(b, e, first_chunk);
        for (size_t i = first_chunk; i < el; i += 64) {
            buf_puts(b, "\r\n\t");
            buf_append(b, e + i, el - i < 64 ? el - i : 64);
        }
        buf_puts(b, "\r\n");
        free(e);
        free(rj);
    }
    if (bs_splitmix64_below(&r, 3) == 0)
        buf_printf(b, "To: \"%c%s %c%s\" <%s>\r\n", toupper((unsigned char)first[0]), first + 1,
                   toupper((unsigned char)last[0]), last + 1, m->rcpt);
    else
        buf_printf(b, "To: %s\r\n", m->rcpt);
    buf_printf(b, "Message-ID: <%s.%08x@%s>\r\n", m->id, (unsigned)bs_splitmix64(&r),
               o->from_domain);
    buf_printf(b, "Date: %s\r\n", date);
    buf_printf(b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n", boundary);
    buf_puts(b, "MIME-Version: 1.0\r\n");
    buf_puts(b, "Subject: ");
    put_header_text(b, subject, &r);
    buf_puts(b, "\r\nFrom: ");
    if (is_ascii(brand)) {
        buf_putc(b, '"');
        buf_puts(b, brand);
        buf_putc(b, '"');
    } else {
        put_encoded_words(b, brand, 0);
    }
    buf_printf(b, " <%s@%s>\r\n", PICK(&r, from_locals), o->from_domain);
    buf_printf(b,
               "List-Unsubscribe: <mailto:unsubscribe@%s?subject=unsubscribe:%s>,\r\n"
               " <%s>\r\n",
               o->from_domain, tok, unsub_url);
    if (!o->no_one_click)
        buf_puts(b, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    buf_printf(b, "List-Id: <%s.%s>\r\n", brand_slug, o->from_domain);
    buf_puts(b, "\r\n");

    /* ---- body ---- */
    put_part(b, boundary, "text/plain", m->charset, m->text_cte, &text);
    put_part(b, boundary, "text/html", m->charset, m->html_cte, &html);
    buf_printf(b, "--%s--\r\n", boundary);

    free(unsub_url);
    free(subject);
    buf_free(&html);
    buf_free(&text);
}

/* ---- streams ---- */

void corpus_free_streams(corpus_stream *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s[i].name);
    free(s);
}

int corpus_parse_streams(const char *spec, corpus_stream **out, size_t *n, char **err)
{
    corpus_stream *s = NULL;
    size_t cnt = 0;
    double total = 0;
    char *copy = xstrdup(spec), *next = copy;
    *err = NULL;
    while (next) {
        char *item = next, *comma = strchr(next, ',');
        if (comma)
            *comma = '\0';
        next = comma ? comma + 1 : NULL;
        item = bs_trim(item);
        if (!*item)
            continue;
        char *eq = strchr(item, '=');
        double w = 1;
        if (eq) {
            *eq = '\0';
            if (bs_parse_double(eq + 1, &w) < 0 || w < 0 || w != w) {
                *err = xasprintf("bad weight for stream \"%s\": \"%s\"", bs_trim(item), eq + 1);
                break;
            }
        }
        char *name = bs_trim(item);
        size_t len = strlen(name);
        int okname = len > 0 && len < 64 && name[0] != '-' && name[len - 1] != '-';
        for (size_t i = 0; i < len && okname; i++)
            okname = isalnum((unsigned char)name[i]) || name[i] == '-';
        if (!okname) {
            *err = xasprintf("bad stream name \"%s\" (a DNS label, or \"mixed\")", name);
            break;
        }
        bs_lower(name);
        s = xrealloc(s, (cnt + 1) * sizeof *s);
        s[cnt].name = xstrdup(name);
        s[cnt].weight = w;
        cnt++;
        total += w;
    }
    free(copy);
    if (!*err && (cnt == 0 || !(total > 0)))
        *err = xstrdup("no stream with a positive weight");
    if (*err) {
        corpus_free_streams(s, cnt);
        return -1;
    }
    *out = s;
    *n = cnt;
    return 0;
}
