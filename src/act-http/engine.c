/* engine.c — act-http's work: tracking probes, opens, clicks and one-click unsubscribes
 * of message records, all on one libcurl multi handle.
 *
 * A held record is a job. Its life: (1) every base URL that is neither allowlisted nor
 * in the probe cache gets a probe (one per base at a time, others wait on the cache
 * entry); (2) when its verdicts are known, the URLs become tasks in action order
 * (open, open_again, click, click_again, unsubscribe); (3) the tasks of one action run
 * at once, the next action starts when they are all done; (4) the record is written.
 * Transfers wait in a queue per host (probes first) for a free slot under Max_In_Flight
 * and under the host's own limit (Max_Connections_Per_Host, by default [Sink] Max_Threads);
 * hosts with work and room take turns. A transfer is handed to libcurl only when it may
 * run, so its time-out clock does not run while it waits (libcurl's own per-host queue,
 * CURLMOPT_MAX_HOST_CONNECTIONS, is set too but only binds redirects to another host).
 * Easy handles are reused, and the multi handle's connection cache keeps connections alive
 * across messages. The loop is epoll driven by curl's socket and timer callbacks
 * (curl_multi_socket_action); the caller's input fd joins the same epoll set.
 */
#include "engine.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "outcomes.h"
#include "params.h"
#include "record.h"
#include "urls.h"
#include "util.h"

#define DEFAULT_UA                                                                                 \
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "                                \
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
#define UNSUB_BODY "List-Unsubscribe=One-Click"
#define MAX_REDIRECTS 4

/* The actions act-http performs, in the order SPEC A4.4 gives them. */
enum { PH_OPEN, PH_OPEN_AGAIN, PH_CLICK, PH_CLICK_AGAIN, PH_UNSUB, NPHASES };
typedef enum { HDR_IMAGE, HDR_PAGE, HDR_PROBE, HDR_UNSUB, NHDRS } header_set;
static const struct {
    const char *action;  /* plan.actions entry and http.<key> */
    const char *urls;    /* record path of the URL list, NULL for unsubscribe */
    const char *counter; /* not_tracking key */
    header_set headers;
    int list; /* index of the URL list in job.lists */
} phases[NPHASES] = {
    {"open", "urls.open", "open", HDR_IMAGE, 0},
    {"open_again", "urls.open", "open", HDR_IMAGE, 0},
    {"click", "urls.click", "click", HDR_PAGE, 1},
    {"click_again", "urls.click", "click", HDR_PAGE, 1},
    {"unsubscribe", NULL, NULL, HDR_UNSUB, -1},
};

/* What a mail client sends (after the User-Agent). No Accept-Encoding: bodies are
 * discarded, and every custom header costs libcurl time on each request. */
static const char *const header_text[NHDRS][4] = {
    [HDR_IMAGE] = {"Accept: image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8",
                   "Accept-Language: en-US,en;q=0.9", NULL},
    [HDR_PAGE] = {"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
                  "image/avif,image/webp,*/*;q=0.8",
                  "Accept-Language: en-US,en;q=0.9", NULL},
    [HDR_PROBE] = {"Accept: */*", NULL},
    [HDR_UNSUB] = {"Accept: */*", "Accept-Language: en-US,en;q=0.9",
                   "Content-Type: application/x-www-form-urlencoded", NULL},
};

typedef struct job job;

typedef struct {
    char *base;
    probe_state verdict; /* PROBE_PENDING until known, then YES or NO */
    char *why;           /* for NO from a refused or failed probe */
} job_base;

typedef struct {
    const char *url;  /* borrowed from the record */
    const char *host; /* borrowed: its host_key, NULL to take it from url */
    size_t slot;      /* its outcome: job.slots[slot] */
    int phase;
} task;

/* An entry of http.<action> (the object http.unsubscribe for PH_UNSUB), written when the
 * job is done in the member order the record has always had: url, error, error_code,
 * dry_run, status (members absent when not set). */
typedef struct {
    const char *url;        /* borrowed, or own; NULL when none */
    char *own;              /* the url when the outcome owns it */
    char *error;            /* owned, NULL when none */
    const char *error_code; /* static */
    long status;
    int phase;
    unsigned char has_status, dry_run;
} outcome;

/* A URL of a list, parsed once. */
typedef enum { URL_OTHER, URL_ALLOWLISTED, URL_PROBED } url_kind;
typedef struct {
    const char *url; /* borrowed from the record, NULL when not a string */
    url_kind kind;
    char *base; /* for URL_PROBED */
    char *host; /* host_key of its host, NULL when none */
} url_info;

struct job {
    json_t *rec;     /* the record (NULL when it came as a line) */
    char *line;      /* the canonical record line it came as, when spliced (else NULL) */
    size_t len;      /* up to its closing brace, excluded */
    size_t cap;      /* bytes allocated at line */
    char *strs;      /* the line's strings read here, unescaped (NULL with rec) */
    const char *ua;  /* borrowed: plan.user_agent, NULL when none */
    const char *lu;  /* borrowed: headers.list_unsubscribe, NULL when none */
    const char *lup; /* borrowed: headers.list_unsubscribe_post, NULL when none */
    /* the "http" member, written when the job is done (job_write_http) */
    outcome *slots; /* in phase order */
    size_t nslots;
    long not_tracking[2]; /* open, click */
    char **errors;        /* without duplicates, in order */
    size_t nerrors;
    struct curl_slist *hdrs[NHDRS]; /* borrowed: the engine's header lists for ua, once looked up */
    int want[NPHASES];
    job_base *bases;
    size_t nbases;
    url_info *lists[2]; /* urls.open and urls.click, parsed */
    size_t nlist[2];
    size_t waiting; /* bases still PENDING */
    task *tasks;
    size_t ntasks, next_task;
    size_t outstanding; /* tasks of the current phase not finished */
};

typedef enum { MODE_NONE, MODE_PROBE, MODE_GET, MODE_POST } xfer_mode;

typedef struct xfer {
    CURL *easy;
    act_engine *eng;
    job *job; /* a fetch, or NULL for a probe */
    task *task;
    probe_entry *probe;
    char *probe_url;
    struct host_slot *host; /* whose limit the transfer counts against */
    size_t body;
    int server_match;
    char refused[200];
    char errbuf[CURL_ERROR_SIZE];
    /* what the easy handle is set up for (setup_easy changes only what differs) */
    xfer_mode mode;
    struct curl_slist *headers; /* CURLOPT_HTTPHEADER, NULL when not set */
    struct curl_slist *own;     /* a list built for this transfer alone (UA_MAX reached) */
    struct xfer *next;
} xfer;

/* A transfer waiting in its host's queue: what start_queued hands to a pooled xfer. */
typedef struct qent {
    job *job; /* a fetch, or NULL for a probe */
    task *task;
    probe_entry *probe;
    char *probe_url;
    struct host_slot *host;
    struct qent *next;
} qent;

/* A host's transfers: those waiting for a slot, and how many run. A slot exists while it
 * has either; a slot with waiting transfers and room is on the ready list. */
typedef struct host_slot {
    char *name; /* lower case, no port, no root dot */
    long in_flight;
    qent *head, *tail; /* waiting, FIFO (probes at the front) */
    int ready;         /* on the engine's ready list */
    struct host_slot *next_ready;
    struct host_slot *hnext; /* hash chain */
} host_slot;

#define HOST_BUCKETS 256

/* A request's header list: User-Agent first, then its set's headers. The user agent goes
 * in the list rather than CURLOPT_USERAGENT, which libcurl would format anew into a
 * header on every request; the lists are built once per user agent and set (at most
 * UA_MAX kept; past that a transfer builds and owns its own). */
typedef struct ua_headers {
    header_set hs;
    char *ua;
    struct curl_slist *list;
    struct ua_headers *next;
} ua_headers;
#define LINE_SPARES 64             /* kept at most, */
#define LINE_SPARE_MAX (64 * 1024) /* each of at most this size */
#define QENT_SPARES 4096
#define UA_BUCKETS 64
#define UA_MAX 1024

/* A connection socket that open_socket made and close_socket will close. It stays in the
 * epoll set while its connection is kept alive between transfers, so that a reused
 * connection costs no epoll_ctl (libcurl says CURL_POLL_REMOVE after every transfer and
 * CURL_POLL_IN again on the next); an event while libcurl wants none takes it out. */
typedef struct {
    unsigned char own;    /* made by open_socket, not yet closed by close_socket */
    unsigned char want;   /* libcurl wants events (not CURL_POLL_REMOVE) */
    unsigned char in_set; /* in the epoll set, with events */
    uint32_t events;
} sock_state;

struct act_engine {
    act_config ac;
    FILE *out;
    CURLM *multi;
    struct ua_headers *ua_headers[UA_BUCKETS]; /* header lists by set and user agent */
    size_t n_ua_headers;
    probe_cache *cache;
    host_slot *hosts[HOST_BUCKETS];
    host_slot *ready_head, *ready_tail; /* hosts whose next transfer may start */
    xfer *free_list;                    /* finished, with an easy handle to reuse */
    size_t nfree;
    qent *free_qents; /* queue entries to reuse (at most QENT_SPARES) */
    size_t nfree_qents;
    long in_flight;
    size_t jobs;
    int epfd;          /* curl's sockets (CURLMOPT_SOCKETFUNCTION) and the input */
    int in_watched;    /* input fd currently in epfd, or -1 */
    sock_state *socks; /* by descriptor: the sockets open_socket made (socket_cb) */
    size_t nsocks;
    double deadline; /* curl's timer (monotonic seconds), < 0 when none */
    double next_prune;
    bs_buf obuf; /* the "http" member's text (job_finish) */
    /* Line buffers of finished jobs, kept for the next records: a record line is a few KB,
     * and a fresh malloc of that size after the many small frees of a finished job made
     * glibc consolidate its fast bins every time (at most LINE_SPARES * LINE_SPARE_MAX). */
    struct {
        char *p;
        size_t cap;
    } spare[LINE_SPARES];
    size_t nspare;
    engine_stats st;
};

/* ---- configuration ---- */

int act_config_load(bs_config *cfg, act_config *ac)
{
    memset(ac, 0, sizeof *ac);
    const char *const *exc, *const *only;
    size_t nexc, nonly;
    long threads;
    if (cfg_list(cfg, "Sink", "Tracking_Domains_Allowlist", &ac->allow, &ac->nallow) < 0 ||
        param_double_range(cfg, "Sink", "Open_Click_Timeout", 0.001, 86400, &ac->timeout) < 0 ||
        param_long(cfg, "Http", "Max_In_Flight", 1, 100000, &ac->max_in_flight) < 0 ||
        /* the operator's existing thread limit protects their endpoint unless the new key
         * says otherwise */
        cfg_long(cfg, "Sink", "Max_Threads", 0, 1, 100000, &threads) < 0 ||
        cfg_long(cfg, "Http", "Max_Connections_Per_Host", threads, 0, 100000, &ac->max_per_host) <
            0 ||
        param_long(cfg, "Http", "Max_Pending_Records", 1, 10000000, &ac->max_pending) < 0 ||
        param_double_range(cfg, "Http", "Probe_Cache_Seconds", 0, 1e9, &ac->probe_cache_seconds) <
            0 ||
        param_double_range(cfg, "Http", "Probe_Failure_Cache_Seconds", 0, 1e9,
                           &ac->probe_fail_seconds) < 0 ||
        param_long(cfg, "Http", "Max_Body_Bytes", 0, (long)1 << 40, &ac->max_body) < 0 ||
        param_bool(cfg, "Http", "Allow_Private_Addresses", &ac->allow_private) < 0 ||
        param_bool(cfg, "Http", "Allow_Insecure_Unsubscribe", &ac->allow_insecure_unsub) < 0 ||
        param_file(cfg, "Http", "CA_File", &ac->ca_file) < 0 ||
        param_string(cfg, "Http", "Probe_Path", &ac->probe_path) < 0 ||
        param_string(cfg, "Http", "Probe_Server", &ac->server_header) < 0 ||
        cfg_list(cfg, "Http", "Private_Address_Exceptions", &exc, &nexc) < 0 ||
        cfg_list(cfg, "Http", "Allowed_Networks", &only, &nonly) < 0)
        return -1;
    if (ac->probe_cache_seconds < ac->probe_fail_seconds)
        ac->probe_fail_seconds = ac->probe_cache_seconds;
    if (ac->probe_path[0] != '/')
        return cfg_fail(cfg, "Http", "Probe_Path", "'%s' does not start with /", ac->probe_path);
    if (ac->ca_file && !*ac->ca_file)
        ac->ca_file = NULL;
    const char *why;
    for (size_t i = 0; i < nexc; i++)
        if (guard_exceptions_add(&ac->exceptions, exc[i], &why) < 0) {
            act_config_free(ac);
            return cfg_fail(cfg, "Http", "Private_Address_Exceptions",
                            "'%s' is not an address or CIDR range: %s", exc[i], why);
        }
    for (size_t i = 0; i < nonly; i++)
        if (guard_exceptions_add(&ac->only, only[i], &why) < 0) {
            act_config_free(ac);
            return cfg_fail(cfg, "Http", "Allowed_Networks",
                            "'%s' is not an address or CIDR range: %s", only[i], why);
        }
    return 0;
}

void act_config_free(act_config *ac)
{
    guard_exceptions_free(ac->exceptions);
    guard_exceptions_free(ac->only);
    ac->exceptions = ac->only = NULL;
}

/* ---- output ---- */

static void emit(act_engine *e, json_t *rec)
{
    if (rec_write(e->out, rec) < 0)
        bs_fatal(EX_IOERR, "write error (stdout): %s", strerror(errno));
    json_decref(rec);
}

/* Adds TEXT (owned; freed when the job has it already) to the job's errors. */
static void add_error_own(job *j, char *text)
{
    for (size_t i = 0; i < j->nerrors; i++)
        if (strcmp(j->errors[i], text) == 0) {
            free(text);
            return;
        }
    j->errors = xrealloc(j->errors, (j->nerrors + 1) * sizeof *j->errors);
    j->errors[j->nerrors++] = text;
}

static void add_error(job *j, const char *text)
{
    add_error_own(j, xstrdup(text));
}

/* A + B + C as one new string (what xasprintf("%s%s%s") gives, without the formatter). */
static char *concat3(const char *a, const char *b, const char *c)
{
    size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
    char *s = xmalloc(na + nb + nc + 1);
    memcpy(s, a, na);
    memcpy(s + na, b, nb);
    memcpy(s + na + nb, c, nc + 1);
    return s;
}

/* A new outcome of phase PH for URL (borrowed, NULL for none): its index in j->slots. */
static size_t add_slot(job *j, const char *url, int ph)
{
    j->slots[j->nslots] = (outcome){.url = url, .phase = ph};
    return j->nslots++;
}

/* Appends ,"KEY":S (no comma when *FIRST) to B; nothing when S is not UTF-8, as jansson's
 * json_string refuses such a string and the member was never set. */
static void put_string_member(bs_buf *b, int *first, const char *key, const char *s)
{
    size_t mark = b->len;
    buf_puts(b, *first ? "\"" : ",\"");
    buf_puts(b, key);
    buf_puts(b, "\":");
    if (jc_dump_string(b, s, strlen(s)) < 0) {
        b->len = mark;
        b->data[mark] = 0;
        return;
    }
    *first = 0;
}

static void put_outcome(bs_buf *b, const outcome *o)
{
    int first = 1;
    buf_putc(b, '{');
    if (o->url)
        put_string_member(b, &first, "url", o->url);
    if (o->error)
        put_string_member(b, &first, "error", o->error);
    if (o->error_code)
        put_string_member(b, &first, "error_code", o->error_code);
    if (o->dry_run) {
        buf_puts(b, first ? "\"dry_run\":true" : ",\"dry_run\":true");
        first = 0;
    }
    if (o->has_status) {
        buf_puts(b, first ? "\"status\":" : ",\"status\":");
        jc_dump_int(b, o->status);
    }
    buf_putc(b, '}');
}

/* The job's "http" object as jc_dump prints it: the actions' outcomes in action order,
 * then not_tracking and errors. */
static void job_write_http(const job *j, bs_buf *b)
{
    buf_putc(b, '{');
    size_t k = 0;
    for (int ph = 0; ph < NPHASES; ph++) {
        if (!j->want[ph])
            continue;
        buf_putc(b, '"');
        buf_puts(b, phases[ph].action);
        buf_puts(b, "\":");
        if (ph == PH_UNSUB) {
            while (k < j->nslots && j->slots[k].phase != PH_UNSUB)
                k++;
            if (k < j->nslots)
                put_outcome(b, &j->slots[k++]);
            else
                buf_puts(b, "{}");
        } else {
            buf_putc(b, '[');
            for (int first = 1; k < j->nslots && j->slots[k].phase == ph; k++, first = 0) {
                if (!first)
                    buf_putc(b, ',');
                put_outcome(b, &j->slots[k]);
            }
            buf_putc(b, ']');
        }
        buf_putc(b, ',');
    }
    buf_puts(b, "\"not_tracking\":{\"open\":");
    jc_dump_int(b, j->not_tracking[0]);
    buf_puts(b, ",\"click\":");
    jc_dump_int(b, j->not_tracking[1]);
    buf_puts(b, "},\"errors\":[");
    int first = 1;
    for (size_t i = 0; i < j->nerrors; i++) {
        size_t mark = b->len;
        if (!first)
            buf_putc(b, ',');
        if (jc_dump_string(b, j->errors[i], strlen(j->errors[i])) < 0) {
            b->len = mark; /* not UTF-8: jansson's array never held it */
            b->data[mark] = 0;
            continue;
        }
        first = 0;
    }
    buf_puts(b, "]}");
}

/* A buffer of at least n bytes for a record line (*cap: its size). */
static char *line_take(act_engine *e, size_t n, size_t *cap)
{
    if (e->nspare > 0) {
        e->nspare--;
        char *p = e->spare[e->nspare].p;
        *cap = e->spare[e->nspare].cap;
        if (*cap >= n)
            return p;
        free(p);
    }
    *cap = n < 4096 ? 4096 : n;
    return xmalloc(*cap);
}

static void line_put(act_engine *e, char *p, size_t cap)
{
    if (p && e->nspare < LINE_SPARES && cap <= LINE_SPARE_MAX) {
        e->spare[e->nspare].p = p;
        e->spare[e->nspare].cap = cap;
        e->nspare++;
    } else {
        free(p);
    }
}

static void job_free(act_engine *e, job *j)
{
    for (size_t i = 0; i < j->nbases; i++) {
        free(j->bases[i].base);
        free(j->bases[i].why);
    }
    free(j->bases);
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < j->nlist[l]; i++) {
            free(j->lists[l][i].base);
            free(j->lists[l][i].host);
        }
        free(j->lists[l]);
    }
    free(j->tasks);
    for (size_t i = 0; i < j->nslots; i++) {
        free(j->slots[i].own);
        free(j->slots[i].error);
    }
    free(j->slots);
    for (size_t i = 0; i < j->nerrors; i++)
        free(j->errors[i]);
    free(j->errors);
    free(j->strs);
    json_decref(j->rec);
    line_put(e, j->line, j->cap);
    free(j);
}

static void job_finish(act_engine *e, job *j)
{
    e->jobs--;
    bs_buf *b = &e->obuf;
    buf_reset(b);
    if (j->line) {
        /* The line with "http" added as its last member: the bytes rec_write would print
         * for the whole record (the line is canonical and had no "http"). */
        rec_splice_begin(b, "http");
        job_write_http(j, b);
        errno = 0;
        if (rec_splice_end(e->out, j->line, j->len, b) < 0)
            bs_fatal(EX_IOERR, "write error (stdout): %s", strerror(errno));
        job_free(e, j);
        return;
    }
    /* The record's "http" member (set where it was, else last): the tree of that text. */
    json_t *rec = j->rec;
    j->rec = NULL;
    job_write_http(j, b);
    json_object_set_new(rec, "http", jc_build(b->data, b->len));
    job_free(e, j);
    emit(e, rec);
}

/* ---- transfers ---- */

static sock_state *sock_at(act_engine *e, int fd)
{
    if ((size_t)fd >= e->nsocks) {
        size_t n = e->nsocks ? e->nsocks : 64;
        while (n <= (size_t)fd)
            n *= 2;
        e->socks = xrealloc(e->socks, n * sizeof *e->socks);
        memset(e->socks + e->nsocks, 0, (n - e->nsocks) * sizeof *e->socks);
        e->nsocks = n;
    }
    return &e->socks[fd];
}

static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
    xfer *x = clientp;
    const act_config *ac = &x->eng->ac;
    if (purpose != CURLSOCKTYPE_IPCXN)
        return CURL_SOCKET_BAD;
    if (ac->only && !guard_exceptions_match(ac->only, &addr->addr)) {
        char text[64];
        guard_addr_text(&addr->addr, text, sizeof text);
        snprintf(x->refused, sizeof x->refused, "%s is outside [Http] Allowed_Networks", text);
        return CURL_SOCKET_BAD;
    }
    if (guard_check(&addr->addr, ac->allow_private, ac->exceptions, x->refused, sizeof x->refused))
        return CURL_SOCKET_BAD;
    int s = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (s >= 0)
        *sock_at(x->eng, s) = (sock_state){.own = 1};
    return s;
}

/* CURLOPT_CLOSESOCKETFUNCTION (its data is the engine: a connection may outlive the
 * transfer that opened it). Closing takes the socket out of the epoll set. */
static int close_socket(void *clientp, curl_socket_t s)
{
    act_engine *e = clientp;
    if (s >= 0 && (size_t)s < e->nsocks)
        e->socks[s] = (sock_state){0};
    return close(s);
}

static size_t discard_body(char *p, size_t size, size_t n, void *userp)
{
    (void)p;
    xfer *x = userp;
    x->body += size * n;
    if (x->eng->ac.max_body >= 0 && x->body > (size_t)x->eng->ac.max_body)
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    return size * n;
}

static size_t probe_header(char *p, size_t size, size_t n, void *userp)
{
    xfer *x = userp;
    size_t len = size * n;
    if (len > 7 && strncasecmp(p, "Server:", 7) == 0) {
        char *v = xstrndup(p + 7, len - 7);
        x->server_match = bs_strcaseeq(bs_trim(v), x->eng->ac.server_header);
        free(v);
    } else if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        x->server_match = 0; /* a new response (after 1xx) starts */
    }
    return len;
}

/* ---- per-host queues ---- */

static int host_has_room(const act_engine *e, const host_slot *h)
{
    return e->ac.max_per_host <= 0 || h->in_flight < e->ac.max_per_host;
}

static void ready_push(act_engine *e, host_slot *h, int front)
{
    if (h->ready || !h->head || !host_has_room(e, h))
        return;
    h->ready = 1;
    h->next_ready = NULL;
    if (front) {
        h->next_ready = e->ready_head;
        e->ready_head = h;
        if (!e->ready_tail)
            e->ready_tail = h;
    } else {
        if (e->ready_tail)
            e->ready_tail->next_ready = h;
        else
            e->ready_head = h;
        e->ready_tail = h;
    }
}

static unsigned host_bucket(const char *name)
{
    return (unsigned)(bs_fnv1a64(name, strlen(name), 0) % HOST_BUCKETS);
}

/* A host name as the per-host queues key it (in place): lower case, no root dot. */
static void host_key(char *name)
{
    bs_lower(name);
    for (size_t n = strlen(name); n && name[n - 1] == '.';) /* one host, with or without */
        name[--n] = 0;
}

/* The slot of host KEY (host_key form) or, when KEY is NULL, of the URL's host (created
 * when needed). */
static host_slot *host_get(act_engine *e, const char *url, const char *key)
{
    char *name = NULL;
    if (!key) {
        char *base = NULL;
        if (url_base(url, &base, &name) < 0 || !name) {
            free(name);
            name = xstrdup(""); /* not fetchable anyway: libcurl will say why */
        }
        free(base);
        host_key(name);
        key = name;
    }
    unsigned b = host_bucket(key);
    for (host_slot *h = e->hosts[b]; h; h = h->hnext)
        if (strcmp(h->name, key) == 0) {
            free(name);
            return h;
        }
    host_slot *h = xcalloc(1, sizeof *h);
    h->name = name ? name : xstrdup(key);
    h->hnext = e->hosts[b];
    e->hosts[b] = h;
    return h;
}

/* Frees a slot that has nothing waiting and nothing running. */
static void host_release(act_engine *e, host_slot *h)
{
    if (h->in_flight > 0 || h->head || h->ready)
        return;
    for (host_slot **pp = &e->hosts[host_bucket(h->name)]; *pp; pp = &(*pp)->hnext)
        if (*pp == h) {
            *pp = h->hnext;
            break;
        }
    free(h->name);
    free(h);
}

static qent *qent_new(act_engine *e)
{
    qent *q = e->free_qents;
    if (q) {
        e->free_qents = q->next;
        e->nfree_qents--;
        *q = (qent){0};
        return q;
    }
    return xcalloc(1, sizeof *q);
}

static void enqueue(act_engine *e, qent *x, const char *url, const char *key, int front)
{
    host_slot *h = host_get(e, url, key);
    x->host = h;
    x->next = NULL;
    if (front) {
        x->next = h->head;
        h->head = x;
        if (!h->tail)
            h->tail = x;
    } else {
        if (h->tail)
            h->tail->next = x;
        else
            h->head = x;
        h->tail = x;
    }
    ready_push(e, h, front);
}

/* The next transfer allowed to start, taken off its host's queue; NULL when none. */
static qent *dequeue(act_engine *e)
{
    host_slot *h = e->ready_head;
    if (!h)
        return NULL;
    e->ready_head = h->next_ready;
    if (!e->ready_head)
        e->ready_tail = NULL;
    h->ready = 0;
    qent *x = h->head;
    h->head = x->next;
    if (!h->head)
        h->tail = NULL;
    h->in_flight++;
    ready_push(e, h, 0); /* its turn again later, if it still has room and work */
    return x;
}

/* A transfer of h finished. */
static void host_done(act_engine *e, host_slot *h)
{
    h->in_flight--;
    ready_push(e, h, 0);
    host_release(e, h);
}

static xfer *xfer_new(act_engine *e)
{
    xfer *x = xcalloc(1, sizeof *x);
    x->eng = e;
    return x;
}

/* The options a pooled handle keeps for all its transfers, set once when it is made. */
static void init_easy(act_engine *e, xfer *x)
{
    CURL *c = x->easy;
    long ms = (long)(e->ac.timeout * 1000 + 0.5);
    curl_easy_setopt(c, CURLOPT_PRIVATE, x);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, e);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* no proxy from the environment */
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)e->ac.max_body);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
    if (e->ac.ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, e->ac.ca_file);
    x->mode = MODE_NONE;
    x->headers = x->own = NULL;
}

static struct curl_slist *build_headers(header_set hs, const char *ua)
{
    char *h = xasprintf("User-Agent: %s", ua);
    struct curl_slist *list = curl_slist_append(NULL, h);
    free(h);
    for (int i = 0; list && header_text[hs][i]; i++)
        list = curl_slist_append(list, header_text[hs][i]);
    if (!list)
        bs_fatal(EX_OSERR, "curl_slist_append: out of memory");
    return list;
}

/* The header list of set HS with user agent UA: the engine's, or when UA_MAX lists are
 * kept already, one that *OWN holds (freed by the caller when done). */
static struct curl_slist *headers_for(act_engine *e, header_set hs, const char *ua,
                                      struct curl_slist **own)
{
    unsigned b = (unsigned)(bs_fnv1a64(ua, strlen(ua), (uint64_t)hs) % UA_BUCKETS);
    for (ua_headers *u = e->ua_headers[b]; u; u = u->next)
        if (u->hs == hs && strcmp(u->ua, ua) == 0)
            return u->list;
    struct curl_slist *list = build_headers(hs, ua);
    if (e->n_ua_headers >= UA_MAX)
        return *own = list;
    ua_headers *u = xcalloc(1, sizeof *u);
    u->hs = hs;
    u->ua = xstrdup(ua);
    u->list = list;
    u->next = e->ua_headers[b];
    e->ua_headers[b] = u;
    e->n_ua_headers++;
    return list;
}

/* The options of this transfer: its URL, and what differs from the handle's last
 * transfer (the kind of request, the header set, the user agent). */
static void setup_easy(act_engine *e, xfer *x)
{
    CURL *c = x->easy;
    const char *url, *ua = DEFAULT_UA;
    header_set hs;
    xfer_mode mode;
    if (x->job) {
        url = x->task->url;
        if (x->job->ua && *x->job->ua)
            ua = x->job->ua;
        hs = phases[x->task->phase].headers;
        mode = x->task->phase == PH_UNSUB ? MODE_POST : MODE_GET;
    } else {
        url = x->probe_url;
        hs = HDR_PROBE;
        mode = MODE_PROBE;
    }
    x->body = 0;
    x->server_match = 0;
    x->refused[0] = 0;
    x->errbuf[0] = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    struct curl_slist *own = NULL, *headers = x->job ? x->job->hdrs[hs] : NULL;
    if (!headers) {
        headers = headers_for(e, hs, ua, &own);
        if (x->job && !own) /* the engine's: kept for the job's other fetches */
            x->job->hdrs[hs] = headers;
    }
    if (headers != x->headers) {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        x->headers = headers;
    }
    curl_slist_free_all(x->own); /* the last transfer's, no longer in use */
    x->own = own;
    if (mode != x->mode) {
        /* probes read the Server header and follow no redirect; fetches follow up to
         * MAX_REDIRECTS; the unsubscribe is a POST */
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, mode == MODE_PROBE ? 0L : 1L);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, mode == MODE_PROBE ? probe_header : NULL);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, mode == MODE_PROBE ? (void *)x : NULL);
        if (mode == MODE_POST) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, UNSUB_BODY);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(UNSUB_BODY));
        } else {
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        }
        x->mode = mode;
    }
}

static void start_queued(act_engine *e)
{
    qent *q;
    while (e->in_flight < e->ac.max_in_flight && (q = dequeue(e)) != NULL) {
        /* Move the request into a pooled transfer that owns a reusable easy handle. */
        xfer *x = e->free_list;
        if (x) {
            e->free_list = x->next;
            e->nfree--;
        } else {
            x = xfer_new(e);
            x->easy = curl_easy_init();
            if (!x->easy)
                bs_fatal(EX_OSERR, "curl_easy_init failed");
            init_easy(e, x);
        }
        x->job = q->job;
        x->task = q->task;
        x->probe = q->probe;
        x->probe_url = q->probe_url;
        x->host = q->host;
        if (e->nfree_qents < QENT_SPARES) {
            q->next = e->free_qents;
            e->free_qents = q;
            e->nfree_qents++;
        } else {
            free(q);
        }
        setup_easy(e, x);
        CURLMcode mc = curl_multi_add_handle(e->multi, x->easy);
        if (mc != CURLM_OK)
            bs_panic("curl_multi_add_handle: %s", curl_multi_strerror(mc));
        e->in_flight++;
        if (x->job)
            e->st.fetches++;
        else
            e->st.probes++;
    }
}

static void queue_task(act_engine *e, job *j, task *t)
{
    qent *q = qent_new(e);
    q->job = j;
    q->task = t;
    enqueue(e, q, t->url, t->host, 0);
}

/* ---- jobs ---- */

static void job_advance(act_engine *e, job *j);

/* Starts the next phase that has tasks, or finishes the job. */
static void job_advance(act_engine *e, job *j)
{
    if (j->outstanding > 0)
        return;
    if (j->next_task >= j->ntasks) {
        job_finish(e, j);
        return;
    }
    int ph = j->tasks[j->next_task].phase;
    while (j->next_task < j->ntasks && j->tasks[j->next_task].phase == ph) {
        queue_task(e, j, &j->tasks[j->next_task++]);
        j->outstanding++;
    }
}

static job_base *find_base(job *j, const char *base)
{
    for (size_t i = 0; i < j->nbases; i++)
        if (strcmp(j->bases[i].base, base) == 0)
            return &j->bases[i];
    return NULL;
}

/* job_plan makes room for all its tasks and outcomes first (job_reserve). */
static void add_task(job *j, const char *url, const char *host, size_t slot, int phase)
{
    j->tasks[j->ntasks++] = (task){url, host, slot, phase};
}

static void job_reserve(job *j)
{
    size_t n = 0;
    for (int ph = 0; ph < NPHASES; ph++)
        if (j->want[ph])
            n += ph == PH_UNSUB ? 1 : j->nlist[phases[ph].list];
    if (n) {
        j->tasks = xmalloc(n * sizeof *j->tasks);
        j->slots = xmalloc(n * sizeof *j->slots);
    }
}

static void plan_unsubscribe(act_engine *e, job *j)
{
    const char *lu = j->lu, *lup = j->lup;
    size_t k = add_slot(j, NULL, PH_UNSUB);
    outcome *slot = &j->slots[k];
    char *uri = unsub_uri(lu, e->ac.allow_insecure_unsub);
    const char *why = NULL;
    if (!lu)
        why = "no List-Unsubscribe header";
    else if (!unsub_one_click(lup))
        why = "no List-Unsubscribe-Post: List-Unsubscribe=One-Click";
    else if (!uri) {
        char *plain = unsub_uri(lu, 1);
        why = plain ? "only an http URI, RFC 8058 requires https"
                    : "no https URI in List-Unsubscribe";
        if (plain)
            slot->url = slot->own = plain;
    }
    if (why) {
        slot->error = xstrdup(why);
        slot->error_code = bs_http_error_name(BS_HTTP_NOT_ATTEMPTED);
        char *text = xasprintf("!Unsubscribe not sent: %s", why);
        add_error(j, text);
        free(text);
        free(uri);
        return;
    }
    slot->url = slot->own = uri;
    if (e->ac.dry_run)
        slot->dry_run = 1;
    else
        add_task(j, uri, NULL, k, PH_UNSUB);
}

/* All verdicts are known: turn the URLs into outcome slots and tasks. */
static void job_plan(act_engine *e, job *j)
{
    job_reserve(j);
    for (int ph = 0; ph < NPHASES; ph++) {
        if (!j->want[ph])
            continue;
        if (ph == PH_UNSUB) {
            plan_unsubscribe(e, j);
            continue;
        }
        int l = phases[ph].list;
        for (size_t i = 0; i < j->nlist[l]; i++) {
            const url_info *ui = &j->lists[l][i];
            const char *url = ui->url;
            int tracked = 0;
            if (ui->kind == URL_ALLOWLISTED || (ui->kind == URL_PROBED && e->ac.dry_run)) {
                tracked = 1;
            } else if (ui->kind == URL_PROBED) {
                job_base *jb = find_base(j, ui->base);
                if (jb && jb->verdict == PROBE_YES) {
                    tracked = 1;
                } else {
                    add_error_own(j, concat3("!Tracking domain ", ui->base, " blocked"));
                    if (jb && jb->why)
                        add_error_own(j, concat3("!", jb->why, ""));
                }
            }
            if (!tracked) {
                j->not_tracking[l]++; /* phases[ph].counter */
                continue;
            }
            size_t k = add_slot(j, url, ph);
            if (e->ac.dry_run)
                j->slots[k].dry_run = 1;
            else
                add_task(j, url, ui->host, k, ph);
        }
    }
    job_advance(e, j);
}

static void job_base_resolved(act_engine *e, job *j, const char *base, probe_state v,
                              const char *why)
{
    job_base *jb = find_base(j, base);
    if (!jb || jb->verdict != PROBE_PENDING)
        return;
    jb->verdict = v;
    jb->why = why ? xstrdup(why) : NULL;
    if (--j->waiting == 0)
        job_plan(e, j);
}

static void need_base(act_engine *e, job *j, const char *base, double now)
{
    if (find_base(j, base))
        return;
    j->bases = xrealloc(j->bases, (j->nbases + 1) * sizeof *j->bases);
    job_base *jb = &j->bases[j->nbases++];
    jb->base = xstrdup(base);
    jb->why = NULL;
    probe_entry *pe = probe_cache_get(e->cache, base, now);
    switch (pe->state) {
    case PROBE_YES:
    case PROBE_NO:
        jb->verdict = pe->state;
        jb->why = pe->why ? xstrdup(pe->why) : NULL;
        return;
    case PROBE_UNKNOWN: {
        pe->state = PROBE_PENDING;
        qent *q = qent_new(e);
        q->probe = pe;
        q->probe_url = xasprintf("%s%s", base, e->ac.probe_path);
        enqueue(e, q, q->probe_url, NULL, 1);
        break;
    }
    case PROBE_PENDING:
        break;
    }
    jb->verdict = PROBE_PENDING;
    probe_entry_wait(pe, j);
    j->waiting++;
}

static int has_action(const json_t *actions, const char *name)
{
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a) if (json_is_string(a) &&
                                          strcmp(json_string_value(a), name) == 0) return 1;
    return 0;
}

int engine_pass_line(act_engine *e, const char *line, size_t len, const jc_want *want)
{
    /* a scheduled action (issue 17) always takes the full parse */
    if (jc_is_string(want[ENGINE_W_KIND].val, "action"))
        return 0;
    if (jc_is_string(want[ENGINE_W_KIND].val, "message"))
        for (int ph = 0; ph < NPHASES; ph++)
            if (jc_array_has_string(want[ENGINE_W_ACTIONS].val, phases[ph].action))
                return 0;
    e->st.records++;
    e->st.passed_through++;
    if (rec_write_line(e->out, line, len) < 0)
        bs_fatal(EX_IOERR, "write error (stdout): %s", strerror(errno));
    return 1;
}

static void job_start(act_engine *e, job *j);

void engine_submit(act_engine *e, json_t *rec)
{
    e->st.records++;
    const char *kind = rec_kind(rec);
    json_t *actions = rec_get(rec, "plan.actions");
    int want[NPHASES] = {0}, any = 0;
    /* a message, or one of its actions that schedule held until it was due */
    if (kind && (strcmp(kind, "message") == 0 || strcmp(kind, "action") == 0) &&
        json_is_array(actions))
        for (int ph = 0; ph < NPHASES; ph++)
            any |= want[ph] = has_action(actions, phases[ph].action);
    if (!any) {
        e->st.passed_through++;
        emit(e, rec);
        return;
    }
    job *j = xcalloc(1, sizeof *j);
    j->rec = rec;
    memcpy(j->want, want, sizeof want);
    j->ua = rec_str(rec, "plan.user_agent");
    j->lu = rec_str(rec, "headers.list_unsubscribe");
    j->lup = rec_str(rec, "headers.list_unsubscribe_post");
    for (int l = 0; l < 2; l++) {
        int used = 0;
        for (int ph = 0; ph < NPHASES; ph++)
            used |= want[ph] && phases[ph].list == l;
        json_t *urls = used ? rec_get(rec, l == 0 ? "urls.open" : "urls.click") : NULL;
        if (!json_is_array(urls) || json_array_size(urls) == 0)
            continue;
        j->nlist[l] = json_array_size(urls);
        j->lists[l] = xcalloc(j->nlist[l], sizeof(url_info));
        for (size_t i = 0; i < j->nlist[l]; i++)
            j->lists[l][i].url = json_string_value(json_array_get(urls, i));
    }
    job_start(e, j);
}

_Static_assert(ENGINE_NWANT <= JC_MAX_WANT, "jc_record_scan takes at most JC_MAX_WANT members");

/* The string VAL (raw text from the line) unescaped at *AT, which moves past it and its
 * NUL; NULL when VAL is absent or not a string (as rec_str reads it). */
static const char *line_string(jc_span val, char **at)
{
    if (!val.p || val.n < 2 || val.p[0] != '"')
        return NULL;
    char *s = *at;
    size_t n = jc_unescape(val.p + 1, val.n - 2, s);
    s[n] = 0;
    *at = s + n + 1;
    return s;
}

int engine_submit_line(act_engine *e, const char *line, size_t len, const jc_want *want)
{
    if (want[ENGINE_W_HTTP].val.p || len < 2 || line[len - 1] != '}' ||
        !jc_is_string(want[ENGINE_W_KIND].val, "message"))
        return 0;
    int wants[NPHASES] = {0}, any = 0;
    for (int ph = 0; ph < NPHASES; ph++)
        any |= wants[ph] = jc_array_has_string(want[ENGINE_W_ACTIONS].val, phases[ph].action);
    if (!any) /* engine_pass_line passes these on */
        return engine_pass_line(e, line, len, want);
    e->st.records++;
    /* What the engine reads of the record, from the line's values without a parse: the
     * actions, plan.user_agent, the URL lists and the unsubscribe headers, the strings
     * unescaped into one allocation (never longer than their raw text). A value of another
     * type than the engine reads is left out, as rec_str would ignore it. */
    job *j = xcalloc(1, sizeof *j);
    memcpy(j->want, wants, sizeof wants);
    jc_span lists[2] = {want[ENGINE_W_OPEN].val, want[ENGINE_W_CLICK].val};
    size_t room = want[ENGINE_W_UA].val.n + want[ENGINE_W_LU].val.n + want[ENGINE_W_LUP].val.n;
    int used[2] = {0, 0};
    for (int ph = 0; ph < NPHASES; ph++)
        if (wants[ph] && phases[ph].list >= 0)
            used[phases[ph].list] = 1;
    for (int l = 0; l < 2; l++)
        if (used[l])
            room += lists[l].n;
    char *at = j->strs = xmalloc(room + 1);
    j->ua = line_string(want[ENGINE_W_UA].val, &at);
    j->lu = line_string(want[ENGINE_W_LU].val, &at);
    j->lup = line_string(want[ENGINE_W_LUP].val, &at);
    for (int l = 0; l < 2; l++) {
        if (!used[l])
            continue;
        const char *pos = NULL;
        jc_span el;
        size_t n = 0, room_n = 0;
        url_info *ui = NULL;
        while (jc_array_next(lists[l], &pos, &el)) {
            if (n == room_n) {
                room_n = room_n ? 2 * room_n : 8;
                ui = xrealloc(ui, room_n * sizeof *ui);
            }
            ui[n++] = (url_info){.url = line_string(el, &at)};
        }
        j->nlist[l] = n;
        j->lists[l] = ui;
    }
    size_t cap;
    j->line = line_take(e, len - 1, &cap);
    memcpy(j->line, line, len - 1);
    j->len = len - 1;
    j->cap = cap;
    job_start(e, j);
    return 1;
}

/* A new job (its inputs set): probes what needs a probe, then plans when nothing waits. */
static void job_start(act_engine *e, job *j)
{
    e->jobs++;
    double now = bs_now();
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < j->nlist[l]; i++) {
            url_info *ui = &j->lists[l][i];
            char *base, *host;
            if (!ui->url || url_base(ui->url, &base, &host) < 0)
                continue;
            if (url_allowlisted(host, base, e->ac.allow, e->ac.nallow)) {
                ui->kind = URL_ALLOWLISTED;
                free(base);
            } else {
                ui->kind = URL_PROBED;
                ui->base = base;
                if (!e->ac.dry_run)
                    need_base(e, j, base, now);
            }
            if (host) /* its queue's key, for the fetch */
                host_key(host);
            ui->host = host;
        }
    }
    if (j->waiting == 0)
        job_plan(e, j);
}

static void probe_done(act_engine *e, xfer *x, CURLcode rc)
{
    probe_entry *pe = x->probe;
    double now = bs_now();
    probe_state v;
    char *why = NULL;
    double ttl = e->ac.probe_cache_seconds;
    if (rc == CURLE_OK) {
        v = x->server_match ? PROBE_YES : PROBE_NO;
    } else {
        v = PROBE_NO;
        ttl = e->ac.probe_fail_seconds;
        if (x->refused[0])
            why = xasprintf("Fetch refused: %s", x->refused);
    }
    probe_entry_set(pe, v, now + ttl, why);
    /* Waking a waiter may finish its job; take the list first. */
    void **w = pe->waiters;
    size_t n = pe->nwaiters;
    pe->waiters = NULL;
    pe->nwaiters = pe->capwaiters = 0;
    for (size_t i = 0; i < n; i++)
        job_base_resolved(e, w[i], pe->base, v, why);
    free(w);
    free(why);
}

/* The outcome code of a failed fetch (outcomes.h), from curl's result, not its text. */
static bs_http_error fetch_error_code(xfer *x, CURLcode rc)
{
    long os_errno = 0;
    if (x->refused[0])
        return BS_HTTP_POLICY_REFUSED;
    switch (rc) {
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        return BS_HTTP_TOO_LARGE;
    case CURLE_TOO_MANY_REDIRECTS:
        return BS_HTTP_TOO_MANY_REDIRECTS;
    case CURLE_OPERATION_TIMEDOUT:
        return BS_HTTP_TIMEOUT;
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &os_errno);
        return os_errno == ECONNREFUSED ? BS_HTTP_CONNECTION_REFUSED : BS_HTTP_TRANSPORT;
    default:
        return BS_HTTP_TRANSPORT;
    }
}

static void fetch_done(act_engine *e, xfer *x, CURLcode rc)
{
    job *j = x->job;
    outcome *slot = &j->slots[x->task->slot];
    if (rc == CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        slot->status = code;
        slot->has_status = 1;
    } else {
        char *text;
        bs_http_error code = fetch_error_code(x, rc);
        if (x->refused[0]) {
            e->st.refused++;
            text = xasprintf("Fetch refused: %s", x->refused);
            char *bang = xasprintf("!%s", text);
            add_error(j, bang);
            free(bang);
        } else if (rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED) {
            text = xasprintf("body larger than %ld bytes", e->ac.max_body);
        } else if (rc == CURLE_TOO_MANY_REDIRECTS) {
            text = xasprintf("too many redirects (more than %d)", MAX_REDIRECTS);
        } else {
            text = xasprintf("%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
        }
        slot->error_code = bs_http_error_name(code);
        if (x->task->phase == PH_UNSUB && !x->refused[0]) {
            /* The log line must show a failed unsubscribe, whatever else the record has. */
            char *bang = xasprintf("!Unsubscribe failed: %s", text);
            add_error(j, bang);
            free(bang);
        }
        free(slot->error);
        slot->error = text;
    }
    j->outstanding--;
    job_advance(e, j);
}

static void process_done(act_engine *e)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode rc = m->data.result;
        curl_multi_remove_handle(e->multi, x->easy);
        e->in_flight--;
        host_done(e, x->host);
        x->host = NULL;
        if (x->job)
            fetch_done(e, x, rc);
        else
            probe_done(e, x, rc);
        free(x->probe_url);
        x->probe_url = NULL;
        x->job = NULL;
        x->task = NULL;
        x->probe = NULL;
        if (e->nfree < (size_t)e->ac.max_in_flight) {
            x->next = e->free_list;
            e->free_list = x;
            e->nfree++;
        } else {
            curl_easy_cleanup(x->easy);
            curl_slist_free_all(x->own);
            free(x);
        }
    }
}

/* The epoll events for libcurl's CURL_POLL_IN/OUT. */
static uint32_t poll_events(int what)
{
    return ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
}

/* Puts socket s in the epoll set with events: MOD when in_set says it is there, else ADD;
 * the other one when the kernel disagrees (a descriptor number reused after a close that
 * took it out, or one never added). */
static void watch(act_engine *e, curl_socket_t s, uint32_t events, int in_set)
{
    struct epoll_event ev = {.events = events, .data.fd = s};
    int op = in_set ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(e->epfd, op, s, &ev) < 0 &&
        epoll_ctl(e->epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) < 0)
        bs_fatal(EX_OSERR, "epoll_ctl (socket %d): %s", (int)s, strerror(errno));
}

/* CURLMOPT_SOCKETFUNCTION: mirror curl's interest in a socket into epoll. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    act_engine *e = userp;
    sock_state *ss = s >= 0 && (size_t)s < e->nsocks && e->socks[s].own ? &e->socks[s] : NULL;
    if (ss) { /* a connection socket of ours: kept in the set while it is open */
        if (what == CURL_POLL_REMOVE) {
            ss->want = 0;
            return 0;
        }
        uint32_t events = poll_events(what);
        ss->want = 1;
        if (ss->in_set && ss->events == events)
            return 0;
        watch(e, s, events, ss->in_set);
        ss->in_set = 1;
        ss->events = events;
        return 0;
    }
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(e->epfd, EPOLL_CTL_DEL, s, NULL);
        curl_multi_assign(e->multi, s, NULL);
        return 0;
    }
    /* socketp marks a socket already in the epoll set (curl_multi_assign). */
    watch(e, s, poll_events(what), socketp != NULL);
    if (!socketp)
        curl_multi_assign(e->multi, s, e);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: when curl wants to be called without socket activity. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    act_engine *e = userp;
    e->deadline = timeout_ms < 0 ? -1 : bs_monotonic() + (double)timeout_ms / 1000;
    return 0;
}

/* Keeps the input fd in the epoll set only while the caller wants to hear about it.
 * Returns -1 when the fd cannot be polled (a regular file: always readable). */
static int watch_input(act_engine *e, int in_fd)
{
    if (e->in_watched == in_fd)
        return 0;
    if (e->in_watched >= 0) {
        epoll_ctl(e->epfd, EPOLL_CTL_DEL, e->in_watched, NULL);
        e->in_watched = -1;
    }
    if (in_fd < 0)
        return 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = in_fd};
    if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, in_fd, &ev) < 0)
        return -1;
    e->in_watched = in_fd;
    return 0;
}

void engine_step(act_engine *e, int in_fd, int timeout_ms)
{
    int running;
    start_queued(e);
    double now = bs_monotonic();
    int wait = timeout_ms;
    if (e->deadline >= 0) {
        double left = (e->deadline - now) * 1000;
        if (left < wait)
            wait = left <= 0 ? 0 : (int)left + 1;
    }
    if (watch_input(e, in_fd) < 0)
        wait = 0;
    struct epoll_event evs[128];
    int n = epoll_wait(e->epfd, evs, 128, wait);
    if (n < 0 && errno != EINTR)
        bs_fatal(EX_OSERR, "epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        if (fd == e->in_watched)
            continue; /* the caller reads it */
        if ((size_t)fd < e->nsocks && e->socks[fd].own && !e->socks[fd].want) {
            /* an idle kept-alive connection (the server closed it, or sent something):
             * libcurl looks at it when it reuses it; out of the set until then */
            if (e->socks[fd].in_set)
                epoll_ctl(e->epfd, EPOLL_CTL_DEL, fd, NULL);
            e->socks[fd].in_set = 0;
            continue;
        }
        int flags = ((evs[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                    ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                    ((evs[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
        curl_multi_socket_action(e->multi, fd, flags, &running);
    }
    if (e->deadline >= 0 && bs_monotonic() >= e->deadline) {
        e->deadline = -1;
        curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    process_done(e);
    start_queued(e);
    double wall = bs_now();
    if (wall >= e->next_prune) {
        probe_cache_prune(e->cache, wall);
        e->next_prune = wall + 60;
    }
}

size_t engine_pending(const act_engine *e)
{
    return e->jobs;
}

engine_stats engine_get_stats(const act_engine *e)
{
    return e->st;
}

act_engine *engine_new(const act_config *ac, FILE *out)
{
    static int curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            bs_fatal(EX_OSERR, "curl_global_init failed");
        curl_ready = 1;
    }
    act_engine *e = xcalloc(1, sizeof *e);
    e->ac = *ac;
    e->out = out;
    e->multi = curl_multi_init();
    if (!e->multi)
        bs_fatal(EX_OSERR, "curl_multi_init failed");
    curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)(ac->max_in_flight * 2));
    if (ac->max_per_host > 0)
        curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, ac->max_per_host);
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0)
        bs_fatal(EX_OSERR, "epoll_create1: %s", strerror(errno));
    e->in_watched = -1;
    e->deadline = -1;
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    e->cache = probe_cache_new();
    buf_init(&e->obuf);
    e->next_prune = bs_now() + 60;
    return e;
}

void engine_free(act_engine *e)
{
    if (!e)
        return;
    while (e->free_list) {
        xfer *x = e->free_list;
        e->free_list = x->next;
        curl_easy_cleanup(x->easy);
        curl_slist_free_all(x->own);
        free(x);
    }
    for (size_t b = 0; b < HOST_BUCKETS; b++)
        while (e->hosts[b]) { /* only when stopped with work left */
            host_slot *h = e->hosts[b];
            e->hosts[b] = h->hnext;
            while (h->head) {
                qent *x = h->head;
                h->head = x->next;
                free(x->probe_url);
                free(x);
            }
            free(h->name);
            free(h);
        }
    while (e->free_qents) {
        qent *q = e->free_qents;
        e->free_qents = q->next;
        free(q);
    }
    curl_multi_cleanup(e->multi);
    close(e->epfd);
    free(e->socks);
    for (size_t b = 0; b < UA_BUCKETS; b++)
        while (e->ua_headers[b]) {
            ua_headers *u = e->ua_headers[b];
            e->ua_headers[b] = u->next;
            curl_slist_free_all(u->list);
            free(u->ua);
            free(u);
        }
    probe_cache_free(e->cache);
    buf_free(&e->obuf);
    while (e->nspare > 0)
        free(e->spare[--e->nspare].p);
    free(e);
}
