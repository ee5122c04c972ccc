/* util.c — diagnostics, allocation, buffers, strings, time, randomness. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

const char *bs_progname = "bouncy-sink";

#ifndef BS_VERSION
#define BS_VERSION "0.4"
#endif
const char bs_version[] = BS_VERSION;

void bs_print_version(void)
{
    printf("%s (Bouncy Sink) %s\n", bs_progname, bs_version);
    if (fflush(stdout) != 0)
        exit(EX_IOERR);
    exit(0);
}

void bs_set_progname(const char *argv0)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    bs_progname = slash ? slash + 1 : (argv0 ? argv0 : bs_progname);
}

/* Length of the UTF-8 sequence at s[0, n) that a terminal may print as it is: 0 for a
 * byte that is not the start of a valid sequence, and for C1 controls (U+0080-U+009F). */
static size_t printable_utf8(const unsigned char *s, size_t n)
{
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    if (!len || len > n || !bs_utf8_valid((const char *)s, len))
        return 0;
    if (s[0] == 0xC2 && s[1] < 0xA0)
        return 0; /* C1 control */
    return len;
}

size_t bs_escape(char *out, size_t size, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    if (!size)
        return 0;
    while (i < n) {
        size_t len = p[i] >= 0x20 && p[i] < 0x7f ? 1
                     : p[i] >= 0x80              ? printable_utf8(p + i, n - i)
                                                 : 0;
        if (len) {
            if (o + len >= size)
                break;
            memcpy(out + o, p + i, len);
            o += len;
            i += len;
            continue;
        }
        if (o + 4 >= size)
            break;
        out[o++] = '\\';
        out[o++] = 'x';
        out[o++] = hex[p[i] >> 4];
        out[o++] = hex[p[i] & 15];
        i++;
    }
    out[o] = '\0';
    return i;
}

const char *bs_show(const char *s)
{
    static __thread char ring[8][BS_SHOW_MAX * 4 + 32];
    static __thread unsigned next;
    char *out = ring[next++ % 8];
    if (!s)
        return "(none)";
    size_t n = strlen(s);
    size_t used = bs_escape(out, BS_SHOW_MAX * 4 + 1, s, n < BS_SHOW_MAX ? n : BS_SHOW_MAX);
    if (used < n) {
        size_t o = strlen(out);
        snprintf(out + o, sizeof ring[0] - o, "...(%zu bytes)", n);
    }
    return out;
}

/* Every diagnostic is one line of printable text: whatever its arguments hold (record
 * ids, addresses, server replies, parser messages quoting their input), control
 * characters and bytes that are not UTF-8 are escaped as \xHH, and it is cut at 4 KB. No
 * heap: it also reports running out of memory. */
static void vmsg(const char *severity, const char *fmt, va_list ap)
{
    char text[4096], safe[4096 + 32];
    int len = vsnprintf(text, sizeof text, fmt, ap);
    size_t have = len < 0 ? 0 : (size_t)len < sizeof text ? (size_t)len : sizeof text - 1;
    size_t used = bs_escape(safe, sizeof safe - 32, text, have);
    if (len > 0 && used < (size_t)len) {
        size_t o = strlen(safe);
        snprintf(safe + o, sizeof safe - o, "...(%d bytes)", len);
    }
    if (severity)
        fprintf(stderr, "%s: %s: %s\n", bs_progname, severity, safe);
    else
        fprintf(stderr, "%s: %s\n", bs_progname, safe);
}

void bs_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg(NULL, fmt, ap);
    va_end(ap);
}

void bs_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("warning", fmt, ap);
    va_end(ap);
}

void bs_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("error", fmt, ap);
    va_end(ap);
}

void bs_fatal(int exit_code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("fatal", fmt, ap);
    va_end(ap);
    exit(exit_code);
}

void bs_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmsg("panic", fmt, ap);
    va_end(ap);
    exit(EX_SOFTWARE);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        bs_fatal(EX_OSERR, "out of memory (%zu bytes)", n);
    return p;
}

void *xcalloc(size_t nmemb, size_t n)
{
    void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);
    if (!p)
        bs_fatal(EX_OSERR, "out of memory (%zu x %zu bytes)", nmemb, n);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        bs_fatal(EX_OSERR, "out of memory (%zu bytes)", n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
    bs_buf b;
    buf_init(&b);
    buf_vprintf(&b, fmt, ap);
    return buf_steal(&b);
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

void buf_init(bs_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_free(bs_buf *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reset(bs_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

void buf_reserve(bs_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_vprintf(bs_buf *b, const char *fmt, va_list ap)
{
    /* Into the room the buffer has (one pass, usually), or measured and again. */
    va_list again;
    va_copy(again, ap);
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    if (n < 0)
        bs_panic("bad printf format: %s", fmt);
    if ((size_t)n >= room) {
        buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    b->len += (size_t)n;
}

void buf_printf(bs_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_html_escape(bs_buf *b, const char *s, unsigned flags)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        case '\'':
            if (flags & BS_HTML_APOS) {
                buf_puts(b, "&#39;");
                break;
            }
            /* fall through */
        default:
            buf_putc(b, *s);
        }
    }
}

char *buf_steal(bs_buf *b)
{
    if (!b->data)
        buf_reserve(b, 0), b->data[0] = 0;
    char *p = b->data;
    buf_init(b);
    return p;
}

char *bs_trim(char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

int bs_strcaseeq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
    return *a == *b;
}

int bs_has_suffix_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && bs_strcaseeq(s + n - m, suffix);
}

void bs_lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

int bs_parse_double(const char *s, double *out)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v))
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return -1;
    *out = v;
    return 0;
}

int bs_parse_long(const char *s, long *out)
{
    char *end;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return -1;
    *out = v;
    return 0;
}

int bs_parse_size(const char *s, size_t *out)
{
    char *copy = xstrdup(s), *t = bs_trim(copy);
    size_t n = strlen(t);
    unsigned long long mult = 1;
    if (n && strchr("kKmMgG", t[n - 1])) {
        char c = t[n - 1];
        mult = (c == 'k' || c == 'K')   ? 1ULL << 10
               : (c == 'm' || c == 'M') ? 1ULL << 20
                                        : 1ULL << 30;
        t[--n] = 0;
    }
    long num;
    int bad = bs_parse_long(t, &num) < 0 || num < 0 ||
              (unsigned long long)num > (unsigned long long)SIZE_MAX / mult;
    free(copy);
    if (bad)
        return -1;
    *out = (size_t)((unsigned long long)num * mult);
    return 0;
}

size_t bs_utf8_seq(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    if (n == 0 || s[0] == 0)
        return 0;
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    if ((c & 0xE0) == 0xC0)
        len = 2, min = 0x80, c &= 0x1F;
    else if ((c & 0xF0) == 0xE0)
        len = 3, min = 0x800, c &= 0x0F;
    else if ((c & 0xF8) == 0xF0)
        len = 4, min = 0x10000, c &= 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return len;
}

int bs_utf8_valid(const char *p, size_t n)
{
    /* Eight bytes at a time while they are ASCII without NUL (most text); a word boundary
     * there is a character boundary. Elsewhere one byte or sequence, then words again:
     * text with a few accented letters stays on the fast path between them. */
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
    while (i < n) {
        for (; i + 8 <= n; i += 8) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if ((w & highs) || ((w - ones) & ~w & highs))
                break;
        }
        if (i >= n)
            break;
        unsigned char c = (unsigned char)p[i];
        if (c && c < 0x80) {
            i++;
            continue;
        }
        size_t len = bs_utf8_seq(p + i, n - i);
        if (!len)
            return 0;
        i += len;
    }
    return 1;
}

char *bs_base64_encode(const void *p, size_t n)
{
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
    return out;
}

int bs_base64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen)
{
    if (n % 4)
        return -1;
    unsigned char *o = xmalloc(3 * (n / 4) + 1);
    int m = n ? EVP_DecodeBlock(o, (const unsigned char *)s, (int)n) : 0;
    if (m < 0) {
        free(o);
        return -1;
    }
    /* EVP_DecodeBlock counts padding bytes as data: take them off. */
    if (n >= 1 && s[n - 1] == '=')
        m--;
    if (n >= 2 && s[n - 2] == '=')
        m--;
    o[m] = 0;
    *out = o;
    *outlen = (size_t)m;
    return 0;
}

static int time_overridden;
static double time_override_base, time_override_real;

double bs_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    double real = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
    if (time_overridden)
        return time_override_base + (real - time_override_real);
    return real;
}

double bs_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bs_time_set_override(double epoch)
{
    time_overridden = 0;
    time_override_real = bs_now();
    time_override_base = epoch;
    time_overridden = 1;
}

int bs_parse_time(const char *s, double *out)
{
    double num;
    if (bs_parse_double(s, &num) == 0) {
        *out = num;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *p = strptime(s, "%Y-%m-%d", &tm);
    if (!p)
        return -1;
    int utc = 0;
    double frac = 0;
    if (*p == 'T' || *p == ' ') {
        p = strptime(p + 1, "%H:%M:%S", &tm);
        if (!p)
            return -1;
        if (*p == '.' || *p == ',') {
            char *end;
            frac = strtod(p, &end);
            if (*p == ',')
                return -1;
            p = end;
        }
    }
    long offset = 0;
    if (*p == 'Z') {
        utc = 1;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        unsigned hh, mm;
        if (sscanf(p + 1, "%2u:%2u", &hh, &mm) != 2)
            return -1;
        offset = sign * (long)(hh * 3600 + mm * 60);
        utc = 1;
        p += 6;
    }
    if (*p)
        return -1;
    time_t t;
    if (utc) {
        t = timegm(&tm) - offset;
    } else {
        tm.tm_isdst = -1;
        t = mktime(&tm);
    }
    *out = (double)t + frac;
    return 0;
}

char *bs_iso8601(double t, char *buf, size_t n)
{
    time_t secs = (time_t)floor(t);
    int ms = (int)((t - (double)secs) * 1000.0);
    if (ms > 999)
        ms = 999;
    struct tm tm;
    gmtime_r(&secs, &tm);
    int year = tm.tm_year + 1900;
    if (n >= 25 && year >= 1000 && year <= 9999) {
        /* the digits put in place: strftime and snprintf were most of a record's cost in
         * listen (a record per blackholed recipient) */
        int v[] = {year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms};
        static const char shape[] = "0000-00-00T00:00:00.000Z";
        memcpy(buf, shape, sizeof shape);
        static const unsigned char end[] = {3, 6, 9, 12, 15, 18, 22}; /* last digit of each */
        for (int i = 0; i < 7; i++)
            for (int k = end[i], x = v[i]; x; k--, x /= 10)
                buf[k] = (char)('0' + x % 10);
        return buf;
    }
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, n, "%s.%03dZ", base, ms);
    return buf;
}

void bs_random_bytes(void *p, size_t n)
{
    unsigned char *c = p;
    while (n) {
        ssize_t r = getrandom(c, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            bs_fatal(EX_OSERR, "getrandom: %s", strerror(errno));
        }
        c += r;
        n -= (size_t)r;
    }
}

unsigned bs_random_below(unsigned n)
{
    uint32_t v;
    bs_random_bytes(&v, sizeof v);
    return n ? v % n : 0;
}

void bs_hex(char *out, const void *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = 0;
}

void bs_random_hex(char *out, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw)
        bs_panic("bs_random_hex: %zu bytes is too many", nbytes);
    bs_random_bytes(raw, nbytes);
    bs_hex(out, raw, nbytes);
}

uint64_t bs_fnv1a64(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *c = p;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
