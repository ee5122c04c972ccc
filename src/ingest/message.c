/* message.c — the message reader (see message.h). */
#include "message.h"

#include <gmime/gmime.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth_signed.h"
#include "dsn.h"
#include "html.h"
#include "outcomes.h"
#include "override.h"
#include "record.h"
#include "text.h"
#include "util.h"

/* A header field of the message: its name, its raw value (after the colon, folds and
 * line end included) and the whole field. Pointers into the message. */
typedef struct {
    const char *name, *raw, *field;
    size_t name_len, raw_len, field_len;
} hfield;

struct msg_reader {
    msg_limits lim;
    GMimeParserOptions *options;
    html_extractor *html;
    bs_buf errors;            /* problems found in the current message, "; "-joined */
    unsigned warned;          /* bit set of GMime warnings already reported */
    bs_read_error error_code; /* the first problem's code (outcomes.h) */
    hfield *fields;           /* the top-level header fields of the current message */
    size_t nfields, cap_fields;
    /* The message as handed to GMime (see mime_view), the memory stream over it and the
     * parser: made once, set to each message (no stream or parser object per message,
     * no copy of the bytes into the stream). */
    GByteArray *mime;
    GMimeStream *mime_stream;
    GMimeParser *parser;
    bs_buf html_text; /* the HTML part, transfer-decoded (see decode_content) */
};

/* The header fields recorded under "headers", by record key. */
static const struct {
    const char *key, *field;
} wanted_headers[] = {
    {"to", "To"},
    {"from", "From"},
    {"subject", "Subject"},
    {"date", "Date"},
    {"message_id", "Message-ID"},
    {"x_msfbl", "X-MSFBL"},
    {"list_unsubscribe", "List-Unsubscribe"},
    {"list_unsubscribe_post", "List-Unsubscribe-Post"},
    {"x_bouncy_sink", "X-Bouncy-Sink"},
    {"x_bouncy_sink_outcome", OVERRIDE_FIELD},
};

/* GMime parser issues that make the message count as broken, and how we say so.
 * The others (duplicated header, 8-bit header, bad RFC 2047 word, bad parameter...)
 * are everyday sloppiness that does not lose content. */
static const struct {
    GMimeParserWarning code;
    bs_read_error error_code;
    const char *text;
} broken_mime[] = {
    {GMIME_WARN_TRUNCATED_MESSAGE, BS_READ_TRUNCATED,
     "truncated message (MIME part or multipart not closed)"},
    {GMIME_WARN_MALFORMED_MULTIPART, BS_READ_BROKEN_MIME, "broken MIME: multipart without parts"},
    {GMIME_WARN_MALFORMED_MESSAGE, BS_READ_BROKEN_MIME, "broken MIME: malformed message"},
    {GMIME_CRIT_INVALID_HEADER_NAME, BS_READ_BROKEN_MIME,
     "broken MIME: a part header line that is not a header field"},
    {GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY, BS_READ_BROKEN_MIME,
     "broken MIME: multipart without boundary"},
    {GMIME_CRIT_NESTING_OVERFLOW, BS_READ_BROKEN_MIME, "broken MIME: nesting too deep"},
    {GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT, BS_READ_BROKEN_MIME,
     "broken MIME: part without headers or content"},
};

/* One problem: its text joins the error, the first one's code is the error_code. */
static void add_error(msg_reader *r, bs_read_error code, const char *text)
{
    if (r->errors.len)
        buf_puts(&r->errors, "; ");
    else
        r->error_code = code;
    buf_puts(&r->errors, text);
}

static void on_parser_warning(gint64 offset, GMimeParserWarning code, const gchar *item,
                              gpointer data)
{
    (void)offset;
    (void)item;
    msg_reader *r = data;
    for (size_t i = 0; i < sizeof broken_mime / sizeof broken_mime[0]; i++) {
        if (broken_mime[i].code != code)
            continue;
        if (r->warned & (1u << i))
            return;
        r->warned |= 1u << i;
        add_error(r, broken_mime[i].error_code, broken_mime[i].text);
    }
}

void msgr_global_init(void)
{
    g_mime_init();
    html_global_init();
}

msg_reader *msgr_new(const msg_limits *lim)
{
    msg_reader *r = xcalloc(1, sizeof *r);
    if (lim)
        r->lim = *lim;
    else
        msg_limits_default(&r->lim);
    r->options = g_mime_parser_options_new();
    g_mime_parser_options_set_rfc2047_compliance_mode(r->options, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_warning_callback(r->options, on_parser_warning, r);
    r->html = html_new();
    buf_init(&r->errors);
    r->mime = g_byte_array_new();
    r->mime_stream = g_mime_stream_mem_new_with_byte_array(r->mime);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(r->mime_stream), FALSE);
    r->parser = g_mime_parser_new();
    buf_init(&r->html_text);
    return r;
}

void msgr_free(msg_reader *r)
{
    if (!r)
        return;
    g_mime_parser_options_free(r->options);
    html_free(r->html);
    buf_free(&r->errors);
    g_object_unref(r->parser);
    g_object_unref(r->mime_stream);
    g_byte_array_free(r->mime, TRUE);
    buf_free(&r->html_text);
    free(r->fields);
    free(r);
}

/* A header field line starts with ftext (printable ASCII but ':'), then ':' (obsolete
 * syntax allows blanks before it). */
static int is_field_line(const char *p, const char *e)
{
    const char *s = p;
    while (p < e && (unsigned char)*p > 32 && (unsigned char)*p < 127 && *p != ':')
        p++;
    if (p == s)
        return 0;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p < e && *p == ':';
}

long msg_header_length(const char *msg, size_t len, size_t max, size_t *body, int *terminated)
{
    size_t pos = 0;
    *terminated = 0;
    while (pos < len) {
        if (pos >= max)
            return -1;
        /* At the start of a line: an empty line ends the header section. */
        if (msg[pos] == '\n' || (msg[pos] == '\r' && pos + 1 < len && msg[pos + 1] == '\n')) {
            *body = pos + (msg[pos] == '\n' ? 1 : 2);
            *terminated = 1;
            return (long)pos;
        }
        const char *nl = memchr(msg + pos, '\n', len - pos);
        if (!nl)
            break;
        pos = (size_t)(nl - msg) + 1;
    }
    if (len > max)
        return -1;
    *body = len;
    return (long)len;
}

static void set_text(json_t *obj, const char *key, const char *value)
{
    /* text_trimmed's bounds, without its copy */
    while (*value == ' ' || *value == '\t' || *value == '\r' || *value == '\n')
        value++;
    size_t n = strlen(value);
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\t' || value[n - 1] == '\r' ||
                 value[n - 1] == '\n'))
        n--;
    char *v = text_utf8_repair(value, n, NULL);
    /* valid UTF-8 without NUL (text_utf8_repair of a C string): no second check */
    json_object_set_new(obj, key, json_stringn_nocheck(v, strlen(v)));
    free(v);
}

/* The first non-attachment text/html part, depth first; message/rfc822 parts (attached
 * messages) are not entered. */
static GMimePart *find_html(GMimeObject *o, int depth)
{
    if (!o || depth > 64)
        return NULL;
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++) {
            GMimePart *p = find_html(g_mime_multipart_get_part(mp, i), depth + 1);
            if (p)
                return p;
        }
        return NULL;
    }
    if (!GMIME_IS_PART(o))
        return NULL;
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    if (!ct || !g_mime_content_type_is_type(ct, "text", "html"))
        return NULL;
    GMimeContentDisposition *cd = g_mime_object_get_content_disposition(o);
    if (cd && g_mime_content_disposition_is_attachment(cd))
        return NULL;
    return GMIME_PART(o);
}

static int is_utf8_name(const char *cs)
{
    return !g_ascii_strcasecmp(cs, "utf-8") || !g_ascii_strcasecmp(cs, "utf8") ||
           !g_ascii_strcasecmp(cs, "us-ascii") || !g_ascii_strcasecmp(cs, "ascii");
}

/* What g_mime_data_wrapper_write_to_stream() writes for content in base64,
 * quoted-printable or no transfer encoding, into r->html_text: the same GMime decoder
 * (g_mime_encoding_step over the content read in the same 4 KiB blocks, then
 * g_mime_encoding_flush, as its basic filter does), without the filter and memory
 * stream objects. Returns 0, 1 when the result grew over [Ingest] Max_Decoded_Size
 * (decoding stops there), or -1 for other encodings (uuencode has its own filter
 * logic): the caller then takes GMime's way. */
static int decode_content(msg_reader *r, GMimeDataWrapper *content)
{
    GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding(content);
    int decode =
        enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
    if (!decode && enc != GMIME_CONTENT_ENCODING_DEFAULT && enc != GMIME_CONTENT_ENCODING_7BIT &&
        enc != GMIME_CONTENT_ENCODING_8BIT && enc != GMIME_CONTENT_ENCODING_BINARY)
        return -1;
    buf_reset(&r->html_text);
    GMimeStream *src = g_mime_data_wrapper_get_stream(content);
    if (!src || g_mime_stream_reset(src) == -1)
        return 0; /* GMime writes nothing either */
    GMimeEncoding state;
    if (decode)
        g_mime_encoding_init_decode(&state, enc);
    char block[4096];
    while (!g_mime_stream_eos(src)) {
        ssize_t n = g_mime_stream_read(src, block, sizeof block);
        if (n <= 0)
            break; /* end, or an error: GMime stops too, then flushes its filter */
        if (r->html_text.len > r->lim.max_decoded)
            return 1;
        if (!decode) {
            buf_append(&r->html_text, block, (size_t)n);
            continue;
        }
        bs_buf *b = &r->html_text;
        buf_reserve(b, g_mime_encoding_outlen(&state, (size_t)n));
        b->len += g_mime_encoding_step(&state, block, (size_t)n, b->data + b->len);
    }
    if (decode) {
        bs_buf *b = &r->html_text;
        buf_reserve(b, g_mime_encoding_outlen(&state, 0));
        b->len += g_mime_encoding_flush(&state, block, 0, b->data + b->len);
        b->data[b->len] = '\0';
    }
    return r->html_text.len > r->lim.max_decoded;
}

/* Transfer-decodes and converts the part to UTF-8, then extracts its URLs. Returns 0,
 * or -1 (no URLs) when the decoded part is over [Ingest] Max_Decoded_Size. */
static int html_part_urls(msg_reader *r, GMimePart *part, json_t *open, json_t *click)
{
    GMimeDataWrapper *content = g_mime_part_get_content(part);
    if (!content)
        return 0;
    const char *charset = g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
    /* No charset conversion (the common case): decode in place of GMime's streams. */
    int decoded = (!charset || is_utf8_name(charset)) ? decode_content(r, content) : -1;
    if (decoded > 0)
        return -1;
    if (decoded == 0) {
        if (r->html_text.len)
            html_urls(r->html, r->html_text.data, r->html_text.len, charset ? "UTF-8" : NULL, open,
                      click);
        return 0;
    }
    /* Conversion from an 8-bit charset at most triples the size: refuse before. */
    GMimeStream *src = g_mime_data_wrapper_get_stream(content);
    gint64 encoded = src ? g_mime_stream_length(src) : 0;
    if (encoded > 0 && (guint64)encoded / 3 > r->lim.max_decoded)
        return -1;
    const char *encoding = NULL;
    GMimeStream *mem = g_mime_stream_mem_new();
    GMimeStream *out = mem;
    if (charset && is_utf8_name(charset)) {
        encoding = "UTF-8";
    } else if (charset) {
        GMimeFilter *f = g_mime_filter_charset_new(charset, "UTF-8");
        if (f) {
            out = g_mime_stream_filter_new(mem);
            g_mime_stream_filter_add(GMIME_STREAM_FILTER(out), f);
            g_object_unref(f);
            encoding = "UTF-8";
        } /* unknown charset: let the parser detect it */
    }
    g_mime_data_wrapper_write_to_stream(content, out);
    g_mime_stream_flush(out);
    GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
    int status = bytes && bytes->len > r->lim.max_decoded ? -1 : 0;
    if (status == 0 && bytes && bytes->len)
        html_urls(r->html, (const char *)bytes->data, bytes->len, encoding, open, click);
    if (out != mem)
        g_object_unref(out);
    g_object_unref(mem);
    return status;
}

/* rec.urls = {"open": open, "click": click}, taking both (json_pack("{s:o, s:o}") without
 * its format parser). */
static void set_urls(json_t *rec, json_t *open, json_t *click)
{
    json_t *urls = json_object();
    json_object_set_new(urls, "open", open);
    json_object_set_new(urls, "click", click);
    json_object_set_new(rec, "urls", urls);
}

/* Counts the entities of the tree GMime built (up to one over the limit) and its depth
 * (up to one over the limit: deeper branches are not entered). */
static void tree_size(const msg_limits *lim, GMimeObject *o, size_t depth, size_t *parts,
                      size_t *deepest)
{
    if (!o || *parts > lim->max_parts)
        return;
    ++*parts;
    if (depth > *deepest)
        *deepest = depth;
    if (depth > lim->max_depth)
        return;
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++)
            tree_size(lim, g_mime_multipart_get_part(mp, i), depth + 1, parts, deepest);
    } else if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        if (m)
            tree_size(lim, g_mime_message_get_mime_part(m), depth + 1, parts, deepest);
    }
}

/* Splits the header section into fields. A line that is neither a field nor a fold is
 * reported (GMime would have cut the header there) and skipped. */
static void scan_fields(msg_reader *r, const char *h, size_t hlen)
{
    r->nfields = 0;
    size_t pos = 0;
    hfield *cur = NULL;
    int bad_line = 0;
    while (pos < hlen) {
        const char *line = h + pos;
        const char *nl = memchr(line, '\n', hlen - pos);
        size_t next = nl ? (size_t)(nl - h) + 1 : hlen;
        if (*line == ' ' || *line == '\t') {
            if (cur) {
                cur->raw_len = (size_t)(h + next - cur->raw);
                cur->field_len = (size_t)(h + next - cur->field);
            }
        } else if (is_field_line(line, h + next)) {
            if (r->nfields == r->cap_fields) {
                r->cap_fields = r->cap_fields ? 2 * r->cap_fields : 32;
                r->fields = xrealloc(r->fields, r->cap_fields * sizeof *r->fields);
            }
            cur = &r->fields[r->nfields++];
            const char *colon = memchr(line, ':', next - pos);
            size_t nlen = (size_t)(colon - line);
            while (nlen && (line[nlen - 1] == ' ' || line[nlen - 1] == '\t'))
                nlen--;
            cur->name = line;
            cur->name_len = nlen;
            cur->raw = colon + 1;
            cur->raw_len = (size_t)(h + next - cur->raw);
            cur->field = line;
            cur->field_len = next - pos;
        } else {
            cur = NULL;
            bad_line = 1;
        }
        pos = next;
    }
    if (bad_line)
        add_error(r, BS_READ_BROKEN_HEADER, "broken header: a line that is not a header field");
}

static const hfield *find_field(const msg_reader *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nfields; i++)
        if (r->fields[i].name_len == n && strncasecmp(r->fields[i].name, name, n) == 0)
            return &r->fields[i];
    return NULL;
}

/* True when GMime's header text decoder would return s unchanged: printable ASCII
 * and tabs only, and no "=?" that could start an RFC 2047 encoded word. Most values
 * are such, and the decoder costs several thousand instructions per call. */
static int is_plain_text(const char *s)
{
    /* Eight bytes at a time while none is a control character, DEL or 8-bit (outside
     * 0x20..0x7E) or '=' (which might start "=?"); from such a word on, byte by byte. */
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    for (size_t n = strlen(s); n >= 8; n -= 8, s += 8) {
        uint64_t w, eq;
        memcpy(&w, s, 8);
        eq = w ^ (ones * '=');
        /* < 0x20 (borrow), >= 0x7F (the carry of + 1), >= 0x80, or a zero byte of eq */
        if (((w - ones * 0x20) | (w + ones) | w | ((eq - ones) & ~eq)) & highs)
            break;
    }
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c > 0x7E || (c == '=' && s[1] == '?'))
            return 0;
    }
    return 1;
}

/* The decoded value of field f (unfolded, RFC 2047 words and 8-bit text decoded by
 * GMime). Caller frees. */
static char *field_text(msg_reader *r, const hfield *f)
{
    char *raw = xstrndup(f->raw, f->raw_len);
    char *unfolded = g_mime_utils_header_unfold(raw);
    free(raw);
    if (unfolded && is_plain_text(unfolded)) { /* nothing to decode */
        char *v = xstrdup(unfolded);
        g_free(unfolded);
        return v;
    }
    char *decoded = g_mime_utils_header_decode_text(r->options, unfolded ? unfolded : "");
    g_free(unfolded);
    char *v = xstrdup(decoded ? decoded : "");
    g_free(decoded);
    return v;
}

/* The decoded value of the first field called name, or NULL. Caller frees. */
static char *field_value(msg_reader *r, const char *name)
{
    const hfield *f = find_field(r, name);
    return f ? field_text(r, f) : NULL;
}

static void read_envelope(msg_reader *r, ing_envelope *env)
{
    char *rp = field_value(r, "Return-Path");
    if (rp)
        env->mail_from = envelope_parse_path(rp);
    free(rp);
    char *received = field_value(r, "Received");
    envelope_parse_received(received, env);
    free(received);
    if (!env->mail_from && env->envelope_from)
        env->mail_from = xstrdup(env->envelope_from);
}

/* What GMime needs to see: the MIME fields of the top-level header and the body. The
 * other fields are read by us (scan_fields); not handing them to GMime saves it
 * building and freeing an object for each (a fifth of the time of a message). The MIME
 * fields are the Content-* ones: a part's type, encoding and disposition come from them
 * only, and GMime's part parser does nothing with MIME-Version but keep it (8 K
 * instructions a message). */
static void mime_view(msg_reader *r, const char *msg, size_t len, size_t hlen, size_t body)
{
    g_byte_array_set_size(r->mime, 0);
    for (size_t i = 0; i < r->nfields; i++) {
        const hfield *f = &r->fields[i];
        if (f->name_len > 8 && strncasecmp(f->name, "Content-", 8) == 0)
            g_byte_array_append(r->mime, (const guint8 *)f->field, (guint)f->field_len);
    }
    if (r->mime->len == 0) { /* none: the defaults, said by a header that is not empty */
        static const char defaults[] = "MIME-Version: 1.0\n";
        g_byte_array_append(r->mime, (const guint8 *)defaults, sizeof defaults - 1);
    }
    if (body > (size_t)hlen) /* empty line and body */
        g_byte_array_append(r->mime, (const guint8 *)msg + hlen, (guint)(len - hlen));
}

/* The top-level entity alone (its MIME fields and body) of the bytes mime_view set up:
 * a GMimeMessage would add an object per address list and header list for nothing
 * (3 % of a message). The parser and the stream are those of the reader, set to the new
 * bytes as new ones would be. */
static GMimeObject *parse_mime(msg_reader *r)
{
    g_mime_stream_mem_set_byte_array(GMIME_STREAM_MEM(r->mime_stream), r->mime);
    g_mime_parser_init_with_stream(r->parser, r->mime_stream);
    return g_mime_parser_construct_part(r->parser, r->options);
}

int msgr_read(msg_reader *r, const char *msg, size_t len, json_t *rec, ing_envelope *env,
              char **error)
{
    buf_reset(&r->errors);
    r->warned = 0;
    r->error_code = BS_READ_OK;
    *error = NULL;
    int status = -1;
    json_object_set_new(rec, "size", json_integer((json_int_t)len));

    size_t body = 0;
    int terminated = 0;
    long hlen = len ? msg_header_length(msg, len, r->lim.max_header, &body, &terminated) : 0;
    if (len == 0) {
        add_error(r, BS_READ_EMPTY, "empty message");
    } else if (hlen < 0) {
        char *e = xasprintf("header section longer than %zu bytes", r->lim.max_header);
        add_error(r, BS_READ_HEADER_TOO_LARGE, e);
        free(e);
    } else if (memchr(msg, '\0', (size_t)hlen)) {
        add_error(r, BS_READ_BINARY_HEADER, "binary data (NUL byte) in the header section");
    } else if (hlen == 0 || !is_field_line(msg, msg + hlen)) {
        add_error(r, BS_READ_NO_HEADER, "no header section (the first line is not a header field)");
    } else {
        status = 0;
    }
    if (status < 0)
        goto done;

    /* 8-bit header text is everyday sloppiness, not an error: the values are decoded
     * (invalid UTF-8 replaced), the block is kept byte for byte as header_block_b64. */
    int header_utf8 = bs_utf8_valid(msg, (size_t)hlen);
    if (!terminated && msg[len - 1] != '\n')
        add_error(r, BS_READ_TRUNCATED, "truncated message (ends inside the header section)");

    scan_fields(r, msg, (size_t)hlen);
    read_envelope(r, env);
    envelope_to_json(env, rec);
    /* listen's DSN and SMTPUTF8 parameters (dsn.h), trusted as its route trace is */
    dsn_params dsn = {0};
    const char *dsn_why;
    if (dsn_from_trace(msg, (size_t)hlen, &dsn, &dsn_why) > 0) {
        dsn_params_json(&dsn, rec);
        /* RET=FULL: the body for act-smtp's DSN, when within the bound (else headers only) */
        if (dsn.ret == DSN_RET_FULL && body >= (size_t)hlen && body <= len &&
            len - body <= DSN_RETURN_MAX)
            rec_set_bytes(rec, "return_body", msg + body, len - body);
    }
    dsn_params_clear(&dsn);
    json_t *headers = json_object();
    for (size_t i = 0; i < sizeof wanted_headers / sizeof wanted_headers[0]; i++) {
        char *v = field_value(r, wanted_headers[i].field);
        if (v)
            set_text(headers, wanted_headers[i].key, v);
        free(v);
    }
    json_object_set_new(rec, "headers", headers);
    if (header_utf8) /* as rec_set_bytes, without checking the text twice more */
        json_object_set_new(rec, "header_block", json_stringn_nocheck(msg, (size_t)hlen));
    else
        rec_set_bytes(rec, "header_block", msg, (size_t)hlen);

    /* The MIME structure is bounded before GMime builds it (mimescan.h), and checked
     * exactly on what it built. Over a limit, the message is unreadable. */
    mime_view(r, msg, len, (size_t)hlen, body);
    char *why = mime_prescan((const char *)r->mime->data, r->mime->len, r->nfields, &r->lim);
    if (why) {
        add_error(r, BS_READ_OVER_LIMIT, why);
        free(why);
        status = -1;
        goto done;
    }
    GMimeObject *m = parse_mime(r);
    if (!m) {
        add_error(r, BS_READ_BROKEN_MIME, "broken MIME: no message could be parsed");
        goto done;
    }
    size_t parts = 0, depth = 0;
    tree_size(&r->lim, m, 1, &parts, &depth);
    if (parts > r->lim.max_parts || depth > r->lim.max_depth) {
        why = parts > r->lim.max_parts
                  ? xasprintf("MIME parts over the limit of %zu ([Ingest] Max_MIME_Parts)",
                              r->lim.max_parts)
                  : xasprintf("MIME nesting deeper than %zu ([Ingest] Max_MIME_Depth)",
                              r->lim.max_depth);
        add_error(r, BS_READ_OVER_LIMIT, why);
        free(why);
        g_object_unref(m);
        status = -1;
        goto done;
    }

    json_t *open = json_array(), *click = json_array();
    GMimePart *html = find_html(m, 0);
    if (html && html_part_urls(r, html, open, click) < 0) {
        char *e = xasprintf("HTML part larger than %zu bytes once decoded ([Ingest] "
                            "Max_Decoded_Size)",
                            r->lim.max_decoded);
        add_error(r, BS_READ_OVER_LIMIT, e);
        free(e);
        json_array_clear(open);
        json_array_clear(click);
        status = -1;
    }
    set_urls(rec, open, click);
    json_object_set_new(rec, "html", json_boolean(html != NULL));
    g_object_unref(m);

done:
    if (r->errors.len)
        *error = xstrdup(r->errors.data);
    return status;
}

/* ---- what the passing DKIM signature covers (auth_signed.h) ---- */

/* RFC 5322 §3.6: fields a message has at most once, among those recorded; a second
 * instance (e.g. a From prepended to a signed message) fails the gate. */
static const char *const once_only[] = {"From", "To", "Subject", "Date", "Message-ID"};

/* Recorded header fields that steer no action and so need no signature: X-Bouncy-Sink
 * only tells report whether to keep the spool file. */
static int needs_signature(const char *field)
{
    return strcasecmp(field, "X-Bouncy-Sink") != 0;
}

/* The URLs of the message cut after `cut` bytes (the signed part of its body), in place
 * of those of the whole message. Problems of the cut message (a multipart left open) are
 * expected and not reported. */
static void signed_urls(msg_reader *r, const char *msg, size_t cut, size_t hlen, size_t body,
                        json_t *rec)
{
    unsigned warned = r->warned;
    size_t errors = r->errors.len;
    bs_read_error error_code = r->error_code;
    mime_view(r, msg, cut, hlen, body);
    GMimeObject *m = parse_mime(r); /* as msgr_read */
    json_t *open = json_array(), *click = json_array();
    GMimePart *html = m ? find_html(m, 0) : NULL;
    if (html)
        html_part_urls(r, html, open, click);
    set_urls(rec, open, click);
    json_object_set_new(rec, "html", json_boolean(html != NULL));
    if (m)
        g_object_unref(m);
    r->warned = warned;
    r->error_code = error_code;
    r->errors.len = errors;
    if (r->errors.data)
        r->errors.data[errors] = '\0';
}

void msgr_apply_signed(msg_reader *r, const char *msg, size_t len, const sig_cover *c, json_t *rec)
{
    json_t *dkim = json_object_get(rec, "dkim");
    json_t *headers = json_object_get(rec, "headers");
    if (!c->pass || !json_is_object(dkim) || !json_is_object(headers))
        return;
    for (size_t k = 0; k < sizeof once_only / sizeof *once_only; k++) {
        size_t name_len = strlen(once_only[k]), count = 0;
        for (size_t i = 0; i < r->nfields; i++)
            count += r->fields[i].name_len == name_len &&
                     strncasecmp(r->fields[i].name, once_only[k], name_len) == 0;
        if (count > 1) {
            char *why = xasprintf("duplicate %s header field", once_only[k]);
            json_object_set_new(dkim, "result", json_string("fail"));
            json_object_set_new(dkim, "reason", json_string(why));
            free(why);
            return; /* no action: the rest does not matter */
        }
    }

    /* Each recorded field from the bottom-most instance the signature covers. */
    const char **names = xmalloc((r->nfields + 1) * sizeof *names);
    size_t *lens = xmalloc((r->nfields + 1) * sizeof *lens);
    unsigned char *covered = xmalloc(r->nfields + 1);
    for (size_t i = 0; i < r->nfields; i++) {
        names[i] = r->fields[i].name;
        lens[i] = r->fields[i].name_len;
    }
    sig_cover_fields(c->h, names, lens, r->nfields, covered);
    json_t *unsigned_fields = json_array();
    for (size_t k = 0; k < sizeof wanted_headers / sizeof wanted_headers[0]; k++) {
        const char *field = wanted_headers[k].field;
        if (!needs_signature(field))
            continue;
        size_t name_len = strlen(field);
        const hfield *first = NULL, *chosen = NULL;
        for (size_t i = 0; i < r->nfields; i++) {
            if (lens[i] != name_len || strncasecmp(names[i], field, name_len) != 0)
                continue;
            if (!first)
                first = &r->fields[i];
            if (covered[i])
                chosen = &r->fields[i];
        }
        if (!first)
            continue;
        if (!chosen) {
            json_object_del(headers, wanted_headers[k].key);
            json_array_append_new(unsigned_fields, json_string(field));
        } else if (chosen != first) { /* msgr_read took the first instance */
            char *v = field_text(r, chosen);
            set_text(headers, wanted_headers[k].key, v);
            free(v);
        }
    }
    if (json_array_size(unsigned_fields))
        json_object_set_new(dkim, "unsigned_headers", unsigned_fields);
    else
        json_decref(unsigned_fields);
    free(names);
    free(lens);
    free(covered);

    /* URLs only from the body octets the signature covers (l=). */
    size_t body = 0;
    int terminated = 0, complete = 1;
    long hlen = msg_header_length(msg, len, r->lim.max_header, &body, &terminated);
    if (hlen < 0)
        return;
    size_t prefix = sig_body_prefix(msg + body, len - body, c->relaxed_body, c->l, &complete);
    if (complete)
        return;
    json_object_set_new(dkim, "unsigned_body", json_true());
    signed_urls(r, msg, body + prefix, (size_t)hlen, body, rec);
}

const char *msgr_error_code(const msg_reader *r)
{
    return bs_read_error_name(r->error_code);
}
