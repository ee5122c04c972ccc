/* NAME
 *	gen-corpus - write realistic, DKIM-signed ESP-style test messages
 * SYNOPSIS
 *	gen-corpus [-c FILE] [-n COUNT] [-f spool|mbox|eml] [-o PATH] [--seed N]
 *	    [--tracking-base URL] [--sink-domain DOMAIN] [--streams SPEC]
 *	    [--key PEM] [--key-file FILE] [--dns-txt FILE] [--dnsmasq FILE] [options]
 * DESCRIPTION
 *	Writes COUNT messages like those an email service provider sends (multipart
 *	text + HTML, quoted-printable/base64/8bit, open pixels and tracked links under
 *	the tracking base, X-MSFBL, List-Unsubscribe), addressed over the sink's
 *	routing streams and signed with an RSA-2048 DKIM key that it generates (or
 *	reads with --key). Output: spool files <16 hex>.msg with the listener's trace
 *	header, an mbox stream, or raw .eml files for SMTP injection; plus the key
 *	file for [Verify] DKIM_Key_File and DNS TXT forms of the public key.
 *	The same --seed (with the same --date and --key) gives the same output.
 * DIAGNOSTICS
 *	gen-corpus: error: what (where): why — on standard error (util.h). Exit 0,
 *	64 usage, 65 a --key that is not a PEM RSA key, 66 a key that cannot be read,
 *	70 a signing failure or a bug, 71 system error (memory), 73 an output that
 *	cannot be created, 74 write error, 78 configuration.
 * SEE ALSO
 *	gen-corpus(1), ingest(1), bouncy-sink-records(5)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "corpus.h"
#include "maildate.h"
#include "params.h"
#include "record.h"
#include "route.h"
#include "sign.h"
#include "util.h"

enum format { FMT_SPOOL, FMT_MBOX, FMT_EML };

typedef struct {
    const char *config;
    unsigned long count;
    enum format format;
    const char *out;
    int have_seed;
    uint64_t seed;
    const char *tracking_base, *unsub_base, *sink_domain, *streams_spec;
    const char *signals_prefix;
    double signals_percent;
    const char *domain, *selector, *mail_from;
    const char *key, *key_file, *dns_txt, *dnsmasq, *manifest;
    const char *client_ip, *helo, *receiver;
    int have_date;
    double date, interval;
    int crlf, trace, sign;
    const char *headers[16], *unsigned_headers[16]; /* --header, --unsigned-header */
    size_t nheaders, nunsigned;
    int no_one_click;
} options;

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: %s [-c FILE] [-n COUNT] [-f spool|mbox|eml] [-o PATH] [--seed N]\n"
            "    [--tracking-base URL] [--unsubscribe-base URL] [--sink-domain DOMAIN]\n"
            "    [--streams NAME=WEIGHT,...] [--signals-prefix P] [--signals-percent X]\n"
            "    [--domain D] [--selector S] [--mail-from ADDR] [--key PEM] [--key-file FILE]\n"
            "    [--dns-txt FILE] [--dnsmasq FILE] [--manifest FILE] [--client-ip IP]\n"
            "    [--helo NAME] [--receiver HOST] [--date TIME] [--interval SECONDS]\n"
            "    [--crlf] [--no-trace] [--no-sign] [--no-one-click] [--header 'NAME: VALUE']\n"
            "    [--unsigned-header 'NAME: VALUE'] [-h] [--version]\n"
            "  -c FILE                configuration ([Listen] Sink_Domains, Hostname)\n"
            "  -n COUNT               number of messages (default 100)\n"
            "  -f, --format FORMAT    spool (default), mbox or eml\n"
            "  -o PATH                output directory (spool, eml) or file (mbox)\n"
            "  --seed N               seed of the random choices (default: random)\n"
            "  --date TIME            date of the first message (default: the last is now)\n"
            "  --interval SECONDS     seconds between messages (default 1)\n"
            "  --tracking-base URL    base of pixels and tracked links\n"
            "  --unsubscribe-base URL base of the List-Unsubscribe URL\n"
            "  --sink-domain DOMAIN   recipients' domain (default: first Sink_Domains)\n"
            "  --streams SPEC         name=weight,... of recipient labels\n"
            "  --signals-prefix P     Signals local parts P+digits ...\n"
            "  --signals-percent X    ... for X percent of the messages (default 50)\n"
            "  --domain D             sender domain (From, DKIM d=; default sender.test)\n"
            "  --selector S           DKIM selector (default s1)\n"
            "  --mail-from ADDR       envelope sender (default bounces@D)\n"
            "  --key PEM              private key: read, or generated and saved there\n"
            "  --key-file FILE        write the key file for [Verify] DKIM_Key_File\n"
            "  --dns-txt FILE         write the DKIM TXT record in zone-file form\n"
            "  --dnsmasq FILE         write a dnsmasq txt-record= line\n"
            "  --manifest FILE        write one JSON object per message (expected URLs)\n"
            "  --client-ip IP         client address of the trace header\n"
            "  --helo NAME            HELO name of the trace header\n"
            "  --receiver HOST        receiving host of the trace header\n"
            "  --crlf                 CRLF line ends\n"
            "  --no-trace             no Return-Path and Received fields\n"
            "  --no-sign              no DKIM signature, no key\n"
            "  --no-one-click         no List-Unsubscribe-Post field\n"
            "  --header 'NAME: VALUE' add a header field, covered by the signature\n"
            "  --unsigned-header 'NAME: VALUE'\n"
            "                         add a header field above the signature, not covered\n"
            "  -h, --help             this help\n"
            "  --version              the version\n",
            bs_progname);
}

/* A usage error: the shared diagnostic (util.h), the usage, exit 64. */
static BS_NORETURN BS_PRINTF(1, 2) void usage_error(const char *fmt, ...)
{
    bs_buf b;
    buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    bs_error("%s", b.data);
    buf_free(&b);
    usage(stderr);
    exit(EX_USAGE);
}

static char *read_file(const char *path, char **err)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        *err = xasprintf("cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    bs_buf b;
    buf_init(&b);
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0)
        buf_append(&b, tmp, n);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        *err = xasprintf("cannot read %s: %s", path, strerror(errno));
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

/* Writes data to path through a temporary name and a rename. */
static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
    char *tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        bs_fatal(EX_CANTCREAT, "cannot create %s: %s", tmp, strerror(errno));
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            bs_fatal(EX_IOERR, "cannot write %s: %s", tmp, strerror(errno));
        }
        off += (size_t)w;
    }
    if (close(fd) < 0)
        bs_fatal(EX_IOERR, "cannot write %s: %s", tmp, strerror(errno));
    if (rename(tmp, path) < 0)
        bs_fatal(EX_CANTCREAT, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    free(tmp);
}

static void write_key_outputs(const options *o, const char *pub)
{
    if (o->key_file) {
        char *line =
            xasprintf("%s._domainkey.%s v=DKIM1; k=rsa; p=%s\n", o->selector, o->domain, pub);
        write_file(o->key_file, line, strlen(line), 0644);
        free(line);
    }
    /* TXT character-strings are at most 255 bytes: split the value. */
    char *value = xasprintf("v=DKIM1; k=rsa; p=%s", pub);
    size_t vlen = strlen(value);
    if (o->dns_txt) {
        bs_buf b;
        buf_init(&b);
        buf_printf(&b, "%s._domainkey.%s.\tIN\tTXT\t(", o->selector, o->domain);
        for (size_t i = 0; i < vlen; i += 250)
            buf_printf(&b, " \"%.*s\"", (int)(vlen - i < 250 ? vlen - i : 250), value + i);
        buf_puts(&b, " )\n");
        write_file(o->dns_txt, b.data, b.len, 0644);
        buf_free(&b);
    }
    if (o->dnsmasq) {
        bs_buf b;
        buf_init(&b);
        buf_printf(&b, "txt-record=%s._domainkey.%s", o->selector, o->domain);
        for (size_t i = 0; i < vlen; i += 250)
            buf_printf(&b, ",\"%.*s\"", (int)(vlen - i < 250 ? vlen - i : 250), value + i);
        buf_puts(&b, "\n");
        write_file(o->dnsmasq, b.data, b.len, 0644);
        buf_free(&b);
    }
    free(value);
}

/* The private key: read from --key when it exists, else generated (and saved to
 * --key when given). */
static char *load_or_make_key(const options *o)
{
    char *err = NULL, *pem = NULL;
    if (o->key && access(o->key, F_OK) == 0) {
        pem = read_file(o->key, &err);
        if (!pem)
            bs_fatal(EX_NOINPUT, "--key: %s", err);
        return pem;
    }
    pem = sign_generate_key(2048, &err);
    if (!pem)
        bs_fatal(EX_SOFTWARE, "%s", err);
    if (o->key)
        write_file(o->key, pem, strlen(pem), 0600);
    return pem;
}

static void put_line_ends(bs_buf *out, const char *p, size_t n, int crlf)
{
    if (crlf) {
        buf_append(out, p, n);
        return;
    }
    const char *end = p + n;
    while (p < end) {
        const char *cr = memchr(p, '\r', (size_t)(end - p));
        if (!cr) {
            buf_append(out, p, (size_t)(end - p));
            break;
        }
        buf_append(out, p, (size_t)(cr - p));
        if (!(cr + 1 < end && cr[1] == '\n'))
            buf_putc(out, '\r');
        p = cr + 1;
    }
}

/* mboxrd: a body line matching ^>*From gets one more '>'. */
static void put_mbox_quoted(FILE *fp, const char *p, size_t n)
{
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);
        const char *q = p;
        while (q < p + len && *q == '>')
            q++;
        if ((size_t)(p + len - q) >= 5 && memcmp(q, "From ", 5) == 0)
            fputc('>', fp);
        fwrite(p, 1, len, fp);
        p += len;
    }
}

static void parse_args(int argc, char **argv, options *o)
{
    enum {
        O_SEED = 256,
        O_NOONECLICK,
        O_TRACK,
        O_UNSUB,
        O_SINK,
        O_STREAMS,
        O_SIGP,
        O_SIGPCT,
        O_DOMAIN,
        O_SELECTOR,
        O_MAILFROM,
        O_KEY,
        O_KEYFILE,
        O_DNSTXT,
        O_DNSMASQ,
        O_MANIFEST,
        O_IP,
        O_HELO,
        O_RECEIVER,
        O_DATE,
        O_INTERVAL,
        O_CRLF,
        O_NOTRACE,
        O_NOSIGN,
        O_HEADER,
        O_UHEADER,
    };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"count", required_argument, NULL, 'n'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"seed", required_argument, NULL, O_SEED},
        {"tracking-base", required_argument, NULL, O_TRACK},
        {"unsubscribe-base", required_argument, NULL, O_UNSUB},
        {"sink-domain", required_argument, NULL, O_SINK},
        {"streams", required_argument, NULL, O_STREAMS},
        {"signals-prefix", required_argument, NULL, O_SIGP},
        {"signals-percent", required_argument, NULL, O_SIGPCT},
        {"domain", required_argument, NULL, O_DOMAIN},
        {"selector", required_argument, NULL, O_SELECTOR},
        {"mail-from", required_argument, NULL, O_MAILFROM},
        {"key", required_argument, NULL, O_KEY},
        {"key-file", required_argument, NULL, O_KEYFILE},
        {"dns-txt", required_argument, NULL, O_DNSTXT},
        {"dnsmasq", required_argument, NULL, O_DNSMASQ},
        {"manifest", required_argument, NULL, O_MANIFEST},
        {"client-ip", required_argument, NULL, O_IP},
        {"helo", required_argument, NULL, O_HELO},
        {"receiver", required_argument, NULL, O_RECEIVER},
        {"date", required_argument, NULL, O_DATE},
        {"interval", required_argument, NULL, O_INTERVAL},
        {"crlf", no_argument, NULL, O_CRLF},
        {"no-trace", no_argument, NULL, O_NOTRACE},
        {"no-one-click", no_argument, NULL, O_NOONECLICK},
        {"no-sign", no_argument, NULL, O_NOSIGN},
        {"header", required_argument, NULL, O_HEADER},
        {"unsigned-header", required_argument, NULL, O_UHEADER},
        {NULL, 0, NULL, 0},
    };
    int c;
    long l;
    while ((c = getopt_long(argc, argv, "c:n:f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o->config = optarg;
            break;
        case 'n':
            if (bs_parse_long(optarg, &l) < 0 || l < 0 || l > 100000000)
                usage_error("bad count: %s", optarg);
            o->count = (unsigned long)l;
            break;
        case 'f':
            if (strcmp(optarg, "spool") == 0)
                o->format = FMT_SPOOL;
            else if (strcmp(optarg, "mbox") == 0)
                o->format = FMT_MBOX;
            else if (strcmp(optarg, "eml") == 0)
                o->format = FMT_EML;
            else
                usage_error("bad format: %s (spool, mbox or eml)", optarg);
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'V':
            bs_print_version();
        case 'h':
            usage(stdout);
            exit(0);
        case O_SEED: {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 0);
            if (errno || end == optarg || *end || optarg[0] == '-')
                usage_error("bad seed: %s", optarg);
            o->seed = v;
            o->have_seed = 1;
            break;
        }
        case O_TRACK:
            o->tracking_base = optarg;
            break;
        case O_UNSUB:
            o->unsub_base = optarg;
            break;
        case O_SINK:
            o->sink_domain = optarg;
            break;
        case O_STREAMS:
            o->streams_spec = optarg;
            break;
        case O_SIGP:
            o->signals_prefix = optarg;
            break;
        case O_SIGPCT:
            if (bs_parse_double(optarg, &o->signals_percent) < 0 || o->signals_percent < 0 ||
                o->signals_percent > 100)
                usage_error("bad --signals-percent: %s (0 to 100)", optarg);
            break;
        case O_DOMAIN:
            o->domain = optarg;
            break;
        case O_SELECTOR:
            o->selector = optarg;
            break;
        case O_MAILFROM:
            o->mail_from = optarg;
            break;
        case O_KEY:
            o->key = optarg;
            break;
        case O_KEYFILE:
            o->key_file = optarg;
            break;
        case O_DNSTXT:
            o->dns_txt = optarg;
            break;
        case O_DNSMASQ:
            o->dnsmasq = optarg;
            break;
        case O_MANIFEST:
            o->manifest = optarg;
            break;
        case O_IP:
            o->client_ip = optarg;
            break;
        case O_HELO:
            o->helo = optarg;
            break;
        case O_RECEIVER:
            o->receiver = optarg;
            break;
        case O_DATE:
            if (bs_parse_time(optarg, &o->date) < 0)
                usage_error("bad --date: %s", optarg);
            o->have_date = 1;
            break;
        case O_INTERVAL:
            if (bs_parse_double(optarg, &o->interval) < 0 || o->interval < 0 || o->interval > 86400)
                usage_error("bad --interval: %s", optarg);
            break;
        case O_CRLF:
            o->crlf = 1;
            break;
        case O_NOTRACE:
            o->trace = 0;
            break;
        case O_HEADER:
        case O_UHEADER: {
            const char *colon = strchr(optarg, ':');
            if (!colon || colon == optarg || strpbrk(optarg, "\r\n"))
                usage_error("bad header field: %s (NAME: VALUE)", optarg);
            int u = c == O_UHEADER;
            size_t *n = u ? &o->nunsigned : &o->nheaders;
            if (*n == 16)
                usage_error("more than 16 header fields");
            (u ? o->unsigned_headers : o->headers)[(*n)++] = optarg;
            break;
        }
        case O_NOONECLICK:
            o->no_one_click = 1;
            break;
        case O_NOSIGN:
            o->sign = 0;
            break;
        default:
            usage(stderr);
            exit(EX_USAGE);
        }
    }
    if (optind < argc)
        usage_error("unexpected argument: %s", argv[optind]);
}

static char *strip_slash(const char *s)
{
    char *c = xstrdup(s);
    size_t n = strlen(c);
    while (n > 0 && c[n - 1] == '/')
        c[--n] = '\0';
    return c;
}

int main(int argc, char **argv)
{
    bs_stage_init(argv[0]);
    options o = {
        .count = 100,
        .format = FMT_SPOOL,
        .signals_percent = 50,
        .interval = 1,
        .trace = 1,
        .sign = 1,
        .selector = "s1",
        .domain = "sender.test",
        .streams_spec = "accept=10,oob=5,fbl=5,openclick=30,mixed=50",
        .tracking_base = "http://track.sender.test",
        .client_ip = "192.0.2.10",
    };
    parse_args(argc, argv, &o);
    if (o.format == FMT_EML)
        o.trace = 0;

    /* Configuration: only [Listen] Sink_Domains and Hostname are read. */
    char *err = NULL;
    bs_config *cfg = cfg_open_or_exit(o.config);
    char **sinks;
    size_t nsinks;
    const char *hostname;
    if (route_sink_domains(cfg, &sinks, &nsinks) < 0 ||
        cfg_string(cfg, "Listen", "Hostname", NULL, &hostname) < 0)
        bs_fatal(EX_CONFIG, "%s", cfg_error(cfg));
    char *sink_own = NULL;
    if (!o.sink_domain)
        o.sink_domain = sink_own = xstrdup(sinks[0]);
    route_sink_domains_free(sinks, nsinks);
    char hostbuf[256] = "";
    if (!o.receiver && hostname)
        o.receiver = hostname;
    if (!o.receiver) {
        if (gethostname(hostbuf, sizeof hostbuf - 1) < 0)
            hostbuf[0] = '\0';
        o.receiver = hostbuf[0] ? hostbuf : "localhost";
    }

    corpus_stream *streams;
    size_t nstreams;
    if (corpus_parse_streams(o.streams_spec, &streams, &nstreams, &err) < 0) {
        cfg_free(cfg);
        usage_error("--streams: %s", err);
    }
    if ((o.format == FMT_SPOOL || o.format == FMT_EML) && !o.out)
        usage_error("%s", "spool and eml output need -o DIR");
    if (o.format != FMT_MBOX) {
        if (mkdir(o.out, 0755) < 0 && errno != EEXIST)
            bs_fatal(EX_CANTCREAT, "cannot create %s: %s", o.out, strerror(errno));
    }
    char *default_key_file = NULL, *default_key = NULL;
    if (o.sign && o.format != FMT_MBOX) {
        if (!o.key_file)
            o.key_file = default_key_file = xasprintf("%s/dkim-keys.txt", o.out);
        if (!o.key)
            o.key = default_key = xasprintf("%s/dkim.key", o.out);
    }
    if (o.sign && !o.key && !o.key_file && !o.dns_txt && !o.dnsmasq)
        usage_error("%s", "mbox output with a new key needs --key, --key-file, --dns-txt "
                          "or --dnsmasq (else nothing could verify it)");

    char *mail_from_buf = NULL, *helo_buf = NULL;
    if (!o.mail_from)
        o.mail_from = mail_from_buf = xasprintf("bounces@%s", o.domain);
    if (!o.helo)
        o.helo = helo_buf = xasprintf("mta1.%s", o.domain);
    if (!o.have_seed)
        bs_random_bytes(&o.seed, sizeof o.seed);
    /* Without --date the last message is dated now: a signature time in the
     * future would not verify. */
    if (!o.have_date)
        o.date = bs_now() - (o.count ? (double)(o.count - 1) * o.interval : 0);
    char *tracking = strip_slash(o.tracking_base);
    char *unsub = strip_slash(o.unsub_base ? o.unsub_base : o.tracking_base);

    dkim_signer *signer = NULL;
    if (o.sign) {
        char *pem = load_or_make_key(&o);
        char *pub = sign_public_b64(pem, &err);
        if (!pub)
            bs_fatal(EX_DATAERR, "%s: %s", o.key ? o.key : "key", err);
        write_key_outputs(&o, pub);
        free(pub);
        signer = signer_new(pem, o.selector, o.domain, &err);
        if (!signer)
            bs_fatal(EX_SOFTWARE, "%s", err);
        free(pem);
    }

    FILE *manifest = NULL;
    if (o.manifest && !(manifest = fopen(o.manifest, "w")))
        bs_fatal(EX_CANTCREAT, "cannot create %s: %s", o.manifest, strerror(errno));
    FILE *mbox = NULL;
    if (o.format == FMT_MBOX) {
        mbox = o.out && strcmp(o.out, "-") != 0 ? fopen(o.out, "w") : stdout;
        if (!mbox)
            bs_fatal(EX_CANTCREAT, "cannot create %s: %s", o.out, strerror(errno));
    }

    corpus_opts co = {
        .tracking_base = tracking,
        .unsub_base = unsub,
        .sink_domain = o.sink_domain,
        .from_domain = o.domain,
        .no_one_click = o.no_one_click,
        .mail_from = o.mail_from,
        .streams = streams,
        .nstreams = nstreams,
        .signals_prefix = o.signals_prefix,
        .signals_percent = o.signals_percent,
        .seed = o.seed,
        .date = o.date,
        .interval = o.interval,
    };
    corpus_msg m;
    corpus_msg_init(&m);
    bs_buf whole, out;
    buf_init(&whole);
    buf_init(&out);
    for (unsigned long i = 0; i < o.count; i++) {
        corpus_make(&co, i, &m);
        if (o.nheaders) { /* extra fields at the top, signed when sign_headers names them */
            bs_buf top;
            buf_init(&top);
            for (size_t k = 0; k < o.nheaders; k++)
                buf_printf(&top, "%s\r\n", o.headers[k]);
            buf_append(&top, m.msg.data, m.msg.len);
            buf_reset(&m.msg);
            buf_append(&m.msg, top.data, top.len);
            buf_free(&top);
        }
        buf_reset(&whole);
        if (o.trace) {
            char date[48];
            mail_date((time_t)(m.date + 1), MAIL_DATE_DAY2, date, sizeof date);
            buf_printf(&whole, "Return-Path: <%s>\r\n", o.mail_from);
            buf_printf(&whole,
                       "Received: from %s (%s) by %s id %s for <%s>; %s (envelope-from <%s>)\r\n",
                       o.helo, o.client_ip, o.receiver, m.id, m.rcpt, date, o.mail_from);
        }
        for (size_t k = 0; k < o.nunsigned; k++) /* added after signing: not covered */
            buf_printf(&whole, "%s\r\n", o.unsigned_headers[k]);
        if (signer && signer_sign(signer, m.msg.data, m.msg.len, m.date, &whole, &err) < 0)
            bs_fatal(EX_SOFTWARE, "message %lu: %s", i + 1, err);
        buf_append(&whole, m.msg.data, m.msg.len);
        buf_reset(&out);
        put_line_ends(&out, whole.data, whole.len, o.crlf);

        char *path = NULL;
        if (o.format == FMT_MBOX) {
            time_t t = (time_t)m.date;
            struct tm tm;
            char when[64];
            gmtime_r(&t, &tm);
            strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
            fprintf(mbox, "From %s %s%s", o.mail_from, when, o.crlf ? "\r\n" : "\n");
            put_mbox_quoted(mbox, out.data, out.len);
            fputs(o.crlf ? "\r\n" : "\n", mbox);
        } else {
            path = xasprintf("%s/%s.%s", o.out, m.id, o.format == FMT_SPOOL ? "msg" : "eml");
            write_file(path, out.data, out.len, 0644);
        }
        if (manifest) {
            json_t *j = json_pack("{s:I,s:s,s:s*,s:s,s:s,s:s,s:O,s:O,s:s,s:s,s:s,s:b,s:b}", "index",
                                  (json_int_t)(i + 1), "id", m.id, "file", path, "rcpt", m.rcpt,
                                  "stream", m.stream, "mail_from", o.mail_from, "open", m.open,
                                  "click", m.click, "html_cte", m.html_cte, "text_cte", m.text_cte,
                                  "charset", m.charset, "signals", m.signals, "signed", o.sign);
            char *s = json_dumps(j, JSON_COMPACT);
            fprintf(manifest, "%s\n", s);
            free(s);
            json_decref(j);
        }
        free(path);
    }
    if (manifest)
        rec_close_output(manifest, o.manifest);
    if (mbox)
        rec_close_output(mbox, o.out && strcmp(o.out, "-") != 0 ? o.out : "stdout");

    corpus_msg_free(&m);
    buf_free(&whole);
    buf_free(&out);
    signer_free(signer);
    corpus_free_streams(streams, nstreams);
    free(tracking);
    free(unsub);
    free(mail_from_buf);
    free(helo_buf);
    free(default_key_file);
    free(default_key);
    free(sink_own);
    cfg_free(cfg);
    return 0;
}
