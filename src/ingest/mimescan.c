/* mimescan.c — limits on a message's MIME structure (see mimescan.h). */
#include "mimescan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "params.h"
#include "util.h"

/* A default of the table of settings ([Ingest] in src/global/params.c). */
static size_t table_size(const char *key)
{
    size_t v;
    if (bs_parse_size(param_default("Ingest", key), &v) < 0)
        bs_panic("[Ingest] %s: the table's default is not a size", key);
    return v;
}

void msg_limits_default(msg_limits *l)
{
    l->max_header = table_size("Max_Header_Size");
    l->max_parts = table_size("Max_MIME_Parts");
    l->max_depth = table_size("Max_MIME_Depth");
    l->max_fields = table_size("Max_Header_Fields");
    l->max_decoded = table_size("Max_Decoded_Size");
}

/* ---- the declared boundaries: a set of byte strings pointing into the message ---- */

typedef struct {
    const char *p;
    size_t n;
} span;

typedef struct {
    span *slot; /* open addressing; p == NULL: empty */
    size_t cap, count, max;
    int crude; /* a declaration we cannot decode: every "--" line is a boundary */
} bset;

static uint64_t span_hash(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    return h;
}

static int bset_has(const bset *s, const char *p, size_t n)
{
    if (!s->count)
        return 0;
    for (size_t i = span_hash(p, n) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        const span *e = &s->slot[i];
        if (!e->p)
            return 0;
        if (e->n == n && memcmp(e->p, p, n) == 0)
            return 1;
    }
}

static void bset_add(bset *s, const char *p, size_t n)
{
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--; /* GMime allows blanks after the boundary on the line: match without them */
    if (!n || s->crude || bset_has(s, p, n))
        return;
    if (s->count == s->max) { /* more declarations than parts allowed: stop telling them apart */
        s->crude = 1;
        return;
    }
    if (2 * (s->count + 1) > s->cap) {
        bset bigger = *s;
        bigger.cap = s->cap ? 2 * s->cap : 64;
        bigger.slot = xcalloc(bigger.cap, sizeof *bigger.slot);
        bigger.count = 0;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i].p)
                bset_add(&bigger, s->slot[i].p, s->slot[i].n);
        free(s->slot);
        *s = bigger;
    }
    size_t i = span_hash(p, n) & (s->cap - 1);
    while (s->slot[i].p)
        i = (i + 1) & (s->cap - 1);
    s->slot[i] = (span){p, n};
    s->count++;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

#define MAX_VALUE 4096 /* a longer boundary value: every "--" line counts */

/* One "boundary" found at p[i]: records its value(s). Returns where to look for the next
 * (after the value: GMime reads parameters only after a ';', which ends a value, so a
 * "boundary" inside a value is not one; skipping it keeps the pass linear). */
static size_t declaration(bset *s, const char *p, size_t n, size_t i)
{
    i += 8;
    while (i < n && is_blank(p[i]))
        i++;
    if (i < n && p[i] == '*') { /* RFC 2231: boundary*=, boundary*0= ... */
        s->crude = 1;
        return n;
    }
    if (i >= n || p[i] != '=')
        return i;
    i++;
    while (i < n && is_blank(p[i]))
        i++;
    if (i >= n)
        return n;
    const char *v = p + i;
    size_t len, next;
    if (*v == '"') {
        size_t room = n - i - 1 < MAX_VALUE ? n - i - 1 : MAX_VALUE;
        const char *end = memchr(v + 1, '"', room);
        if (!end || memchr(v + 1, '\\', (size_t)(end - v - 1))) {
            s->crude = 1; /* unterminated, too long or escaped: GMime's reading may differ */
            return n;
        }
        v++;
        len = (size_t)(end - v);
        next = i + len + 2;
    } else {
        len = 0;
        while (i + len < n && len <= MAX_VALUE && v[len] != ';' && !is_blank(v[len]))
            len++;
        if (len > MAX_VALUE) {
            s->crude = 1;
            return n;
        }
        next = i + len;
    }
    for (size_t k = 0; k + 1 < len; k++)
        if (v[k] == '=' && v[k + 1] == '?') { /* an RFC 2047 word, decoded in loose mode */
            s->crude = 1;
            return n;
        }
    bset_add(s, v, len);
    /* A token parser may stop at the first tspecial: that reading is a boundary too. */
    size_t cut = 0;
    while (cut < len && !strchr("()<>@,:\"/[]?=", v[cut]))
        cut++;
    if (cut < len)
        bset_add(s, v, cut);
    return next;
}

static void collect_boundaries(bset *s, const char *p, size_t n)
{
    for (size_t i = 0; i + 8 <= n && !s->crude;) {
        if ((p[i] | 0x20) == 'b' && strncasecmp(p + i, "boundary", 8) == 0)
            i = declaration(s, p, n, i);
        else
            i++;
    }
}

/* ---- the pass over the lines ---- */

static int starts_ci(const char *line, size_t len, const char *word)
{
    size_t w = strlen(word);
    return len >= w && strncasecmp(line, word, w) == 0;
}

static int has_ci(const char *line, size_t len, const char *word)
{
    size_t w = strlen(word);
    for (size_t i = 0; i + w <= len; i++)
        if (strncasecmp(line + i, word, w) == 0)
            return 1;
    return 0;
}

/* A Content-Type field line (blanks allowed before the colon). */
static int is_content_type(const char *line, size_t len)
{
    if (!len || (line[0] | 0x20) != 'c' || !starts_ci(line, len, "content-type"))
        return 0;
    size_t i = 12;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i < len && line[i] == ':';
}

/* Line length without its end of line and trailing blanks. */
static size_t trimmed_len(const char *line, size_t len)
{
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' ' ||
                   line[len - 1] == '\t'))
        len--;
    return len;
}

enum { NOT_BOUNDARY, BOUNDARY, END_BOUNDARY };

static int boundary_kind(const bset *s, const char *line, size_t len)
{
    if (len < 2 || line[0] != '-' || line[1] != '-')
        return NOT_BOUNDARY;
    if (s->crude)
        return BOUNDARY;
    size_t t = trimmed_len(line, len);
    if (t < 2)
        return NOT_BOUNDARY;
    if (bset_has(s, line + 2, t - 2))
        return BOUNDARY;
    if (t >= 4 && line[t - 1] == '-' && line[t - 2] == '-' && bset_has(s, line + 2, t - 4))
        return END_BOUNDARY;
    return NOT_BOUNDARY;
}

static char *over(size_t limit, const char *what, const char *key)
{
    return xasprintf("%s over the limit of %zu ([Ingest] %s)", what, limit, key);
}

char *mime_prescan(const char *p, size_t n, size_t top_fields, const msg_limits *l)
{
    if (top_fields > l->max_fields)
        return over(l->max_fields, "header fields", "Max_Header_Fields");

    /* First the cheap bounds: every line a header field, every "--" line a boundary, every
     * Content-Type an attached message, every run of non-empty lines one header section.
     * Ordinary mail is within them and needs nothing more. */
    size_t lines = 0, dashes = 0, types = 0, run = 0, longest = 0;
    for (size_t pos = 0; pos < n;) {
        const char *line = p + pos;
        const char *nl = memchr(line, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - line) + 1 : n - pos;
        pos += len;
        lines++;
        if (len >= 2 && line[0] == '-' && line[1] == '-')
            dashes++;
        else if (is_content_type(line, len))
            types++;
        if (trimmed_len(line, len) == 0 && (len == 1 || (len == 2 && line[0] == '\r')))
            run = 0;
        else if ((run += len) > longest)
            longest = run;
    }
    if (lines + top_fields <= l->max_fields && dashes + types + 1 <= l->max_parts &&
        longest <= l->max_header)
        return NULL;

    /* Then closer bounds: boundary lines of declared boundaries only; header fields and
     * attached messages counted in the header sections only (the message's MIME fields,
     * after a boundary line, after the header of an attached message). */
    bset b = {0};
    b.max = 2 * l->max_parts + 16;
    collect_boundaries(&b, p, n);
    char *why = NULL;
    size_t parts = 1, fields = top_fields, section = 0;
    int in_header = 1, first = 1, in_type = 0, attached = 0;
    for (size_t pos = 0; pos < n && !why;) {
        const char *line = p + pos;
        const char *nl = memchr(line, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - line) + 1 : n - pos;
        pos += len;
        int kind = boundary_kind(&b, line, len);
        if (kind != NOT_BOUNDARY) {
            in_header = kind == BOUNDARY; /* a part's header follows */
            first = in_type = attached = 0;
            section = 0;
            if (kind == BOUNDARY && ++parts > l->max_parts)
                why = over(l->max_parts, "MIME parts", "Max_MIME_Parts");
            continue;
        }
        if (!in_header)
            continue;
        if (len == 1 || (len == 2 && line[0] == '\r')) { /* end of a header section */
            in_header = attached; /* an attached message: its own header follows */
            if (attached && ++parts > l->max_parts)
                why = over(l->max_parts, "MIME parts", "Max_MIME_Parts");
            first = in_type = attached = 0;
            section = 0;
            continue;
        }
        if ((section += len) > l->max_header) {
            why = xasprintf("a MIME part's header section longer than %zu bytes ([Ingest] "
                            "Max_Header_Size)",
                            l->max_header);
            break;
        }
        if (line[0] != ' ' && line[0] != '\t') {
            in_type = is_content_type(line, len);
            if (!first && ++fields > l->max_fields)
                why = over(l->max_fields, "header fields", "Max_Header_Fields");
        }
        if (in_type && has_ci(line, len, "message/"))
            attached = 1;
    }
    free(b.slot);
    return why;
}
