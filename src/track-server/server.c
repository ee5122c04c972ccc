/* server.c — track-server's request handling on libevent's evhttp (single thread). */
#include "server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util.h"

/* GIF89a 1x1 transparent. */
static const unsigned char pixel_gif[] = {
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

typedef struct {
    int status;
    const char *reason;
    const char *ctype;
    char *location; /* owned */
    const void *body;
    size_t len;
    char *owned_body;
} reply;

typedef struct delayed {
    struct evhttp_request *req;
    struct evhttp_connection *conn;
    struct event *timer;
    reply r;
    struct delayed *prev, *next;
} delayed;

static struct {
    const ts_options *opt;
    struct event_base *base;
    json_t *paths, *agents, *methods, *statuses;
    json_int_t total, connections;
    json_t *live; /* connections seen and still open, keyed by address */
    delayed *pending;
} S;

int ts_parse_rule(const char *arg, int is_status, ts_rule *out)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || arg[0] != '/')
        return -1;
    memset(out, 0, sizeof *out);
    if (is_status) {
        long code;
        if (bs_parse_long(eq + 1, &code) < 0 || code < 100 || code > 599)
            return -1;
        out->status = (int)code;
    } else {
        if (!eq[1])
            return -1;
        out->url = xstrdup(eq + 1);
    }
    out->prefix = xstrndup(arg, (size_t)(eq - arg));
    return 0;
}

static void count(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (v) {
        json_integer_set(v, json_integer_value(v) + 1);
        return;
    }
    if ((long)json_object_size(obj) >= S.opt->max_keys)
        key = "(other)";
    v = json_object_get(obj, key);
    if (v)
        json_integer_set(v, json_integer_value(v) + 1);
    else
        json_object_set_new(obj, key, json_integer(1));
}

static const char *method_name(enum evhttp_cmd_type t)
{
    switch (t) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    default:
        return "OTHER";
    }
}

/* Tabs and line breaks would break the log's columns. */
static void log_field(FILE *fp, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        fputc(c == '\t' || c == '\n' || c == '\r' ? ' ' : c, fp);
    }
}

static void log_request(struct evhttp_request *req, const char *method, const char *body,
                        size_t blen)
{
    FILE *fp = S.opt->log;
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *fields[] = {
        method,
        evhttp_request_get_uri(req),
        evhttp_find_header(h, "User-Agent"),
        evhttp_find_header(h, "Accept"),
        evhttp_find_header(h, "Accept-Language"),
        evhttp_find_header(h, "Content-Type"),
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *f = fields[i] ? fields[i] : "-";
        log_field(fp, f, strlen(f));
        fputc('\t', fp);
    }
    if (body && blen)
        log_field(fp, body, blen);
    else
        fputc('-', fp);
    fputc('\n', fp);
    fflush(fp);
}

static void send_reply(struct evhttp_request *req, reply *r)
{
    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
    evhttp_add_header(oh, "Server", S.opt->server_name);
    if (r->ctype)
        evhttp_add_header(oh, "Content-Type", r->ctype);
    if (r->location)
        evhttp_add_header(oh, "Location", r->location);
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    if (r->len)
        evbuffer_add(out, r->body, r->len);
    evhttp_send_reply(req, r->status, r->reason, NULL);
    free(r->location);
    free(r->owned_body);
}

static void delayed_unlink(delayed *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        S.pending = d->next;
    if (d->next)
        d->next->prev = d->prev;
}

static void delayed_fire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    delayed *d = arg;
    delayed_unlink(d);
    send_reply(d->req, &d->r);
    event_free(d->timer);
    free(d);
}

static void conn_key(const struct evhttp_connection *conn, char *key, size_t n)
{
    snprintf(key, n, "%p", (const void *)conn);
}

/* A connection closed: forget it, and if the client went away during a delay (evhttp
 * frees the request), drop our answer. */
static void conn_closed(struct evhttp_connection *conn, void *arg)
{
    (void)arg;
    char key[32];
    conn_key(conn, key, sizeof key);
    json_object_del(S.live, key);
    for (delayed *d = S.pending, *next; d; d = next) {
        next = d->next;
        if (d->conn != conn)
            continue;
        delayed_unlink(d);
        event_free(d->timer);
        free(d->r.location);
        free(d->r.owned_body);
        free(d);
    }
}

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 302:
        return "Found";
    case 404:
        return "Not Found";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static int has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* Fills r for the request; table-like chain of route checks. */
static void route(const char *method, const char *path, reply *r)
{
    static const char ok_text[] = "ok\n";
    static const char page[] = "<!doctype html><title>landing</title><p>Thanks for clicking.\n";
    memset(r, 0, sizeof *r);
    r->status = 200;
    r->ctype = "text/plain";
    r->body = ok_text;
    r->len = sizeof ok_text - 1;
    for (size_t i = 0; i < S.opt->nstatus; i++)
        if (has_prefix(path, S.opt->status_rules[i].prefix)) {
            r->status = S.opt->status_rules[i].status;
            return;
        }
    for (size_t i = 0; i < S.opt->nredirect; i++)
        if (has_prefix(path, S.opt->redirect_rules[i].prefix)) {
            r->status = 302;
            r->location = xstrdup(S.opt->redirect_rules[i].url);
            return;
        }
    if (strcmp(method, "POST") == 0)
        return;
    long n;
    if (has_prefix(path, "/redirect/") && bs_parse_long(path + 10, &n) == 0 && n >= 0) {
        if (n > 0) {
            r->status = 302;
            r->location = xasprintf("/redirect/%ld", n - 1);
        }
        return;
    }
    if (has_prefix(path, "/big/") && bs_parse_long(path + 5, &n) == 0 && n >= 0 &&
        n <= (64L << 20)) {
        r->owned_body = xmalloc((size_t)n + 1);
        memset(r->owned_body, 'x', (size_t)n);
        r->body = r->owned_body;
        r->len = (size_t)n;
        return;
    }
    if (has_prefix(path, "/q/")) {
        r->ctype = "image/gif";
        r->body = pixel_gif;
        r->len = sizeof pixel_gif;
        return;
    }
    if (has_prefix(path, "/f/")) {
        if (S.opt->landing) {
            r->status = 302;
            r->location = xstrdup(S.opt->landing);
            r->len = 0;
        } else {
            r->ctype = "text/html";
            r->body = page;
            r->len = sizeof page - 1;
        }
    }
}

static void serve_stats(struct evhttp_request *req)
{
    json_t *j = json_pack("{s:I,s:I,s:O,s:O,s:O,s:O}", "requests", S.total, "connections",
                          S.connections, "methods", S.methods, "statuses", S.statuses, "paths",
                          S.paths, "user_agents", S.agents);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
    evhttp_add_header(oh, "Server", S.opt->server_name);
    evhttp_add_header(oh, "Content-Type", "application/json");
    evbuffer_add(evhttp_request_get_output_buffer(req), text, strlen(text));
    evbuffer_add(evhttp_request_get_output_buffer(req), "\n", 1);
    free(text);
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void handle(struct evhttp_request *req, void *arg)
{
    (void)arg;
    const char *method = method_name(evhttp_request_get_command(req));
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!path || !*path)
        path = "/";
    if (strcmp(path, "/_stats") == 0) {
        serve_stats(req);
        return;
    }
    S.total++;
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    char key[32];
    conn_key(conn, key, sizeof key);
    if (!json_object_get(S.live, key)) { /* first request on this connection */
        S.connections++;
        json_object_set_new(S.live, key, json_true());
        evhttp_connection_set_closecb(conn, conn_closed, NULL);
    }
    count(S.methods, method);
    count(S.paths, path);
    const char *ua = evhttp_find_header(evhttp_request_get_input_headers(req), "User-Agent");
    count(S.agents, ua ? ua : "-");
    if (S.opt->log) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t blen = evbuffer_get_length(in);
        const char *body = blen ? (const char *)evbuffer_pullup(in, (ev_ssize_t)blen) : NULL;
        log_request(req, method, body, blen);
    }
    reply r;
    route(method, path, &r);
    r.reason = reason_of(r.status);
    char code[8];
    snprintf(code, sizeof code, "%d", r.status);
    count(S.statuses, code);
    if (S.opt->delay_ms <= 0) {
        send_reply(req, &r);
        return;
    }
    delayed *d = xcalloc(1, sizeof *d);
    d->req = req;
    d->conn = conn;
    d->r = r;
    d->timer = evtimer_new(S.base, delayed_fire, d);
    d->next = S.pending;
    if (S.pending)
        S.pending->prev = d;
    S.pending = d;
    struct timeval tv = {S.opt->delay_ms / 1000, (S.opt->delay_ms % 1000) * 1000};
    evtimer_add(d->timer, &tv);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    (void)arg;
    event_base_loopexit(S.base, NULL);
}

int ts_run(const char *host, int port, const ts_options *opt)
{
    S.opt = opt;
    S.paths = json_object();
    S.agents = json_object();
    S.methods = json_object();
    S.statuses = json_object();
    S.live = json_object();
    S.base = event_base_new();
    if (!S.base)
        bs_fatal(EX_OSERR, "event_base_new failed");
    struct evhttp *http = evhttp_new(S.base);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                         EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS);
    evhttp_set_max_body_size(http, 1 << 20);
    evhttp_set_gencb(http, handle, NULL);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)port);
    if (!bs) {
        bs_error("cannot listen (%s:%d): address in use or not available", host, port);
        evhttp_free(http);
        event_base_free(S.base);
        json_decref(S.paths);
        json_decref(S.agents);
        json_decref(S.methods);
        json_decref(S.statuses);
        json_decref(S.live);
        return EX_UNAVAILABLE;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    evutil_socket_t fd = evhttp_bound_socket_get_fd(bs);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    if (strchr(host, ':'))
        printf("[%s]:%d\n", host, port);
    else
        printf("%s:%d\n", host, port);
    fflush(stdout);
    struct event *sigint = evsignal_new(S.base, SIGINT, on_signal, NULL);
    struct event *sigterm = evsignal_new(S.base, SIGTERM, on_signal, NULL);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    event_base_dispatch(S.base);
    event_free(sigint);
    event_free(sigterm);
    while (S.pending) {
        delayed *d = S.pending;
        delayed_unlink(d);
        event_free(d->timer);
        free(d->r.location);
        free(d->r.owned_body);
        free(d);
    }
    evhttp_free(http);
    event_base_free(S.base);
    json_decref(S.paths);
    json_decref(S.agents);
    json_decref(S.methods);
    json_decref(S.statuses);
    json_decref(S.live);
    return 0;
}
