/* web.h — the report's HTTP endpoints (libmicrohttpd, its own thread).
 *
 *   GET /                  HTML page: chart, counter tables, model parameters (self-contained)
 *   GET /json              {"startedRunning": "...", "<counter>": <int>, ...}
 *   GET /json/ts-messages  [{"time": "2026-11-24T17:57:00+00:00", "messages": 3}, ...]
 *   GET /json/params       the latest params record ({} before the first)
 *   GET /metrics           Prometheus text format 0.0.4
 *   GET /json/messages?rcpt=&from=&message_id=&spool_id=&msfbl=&limit=&before=
 *                          records of the history, newest first, each with its timeline
 *   GET /json/outcomes?range=1h|6h|24h|7d|30d
 *                          per-outcome series, observed vs configured shares, reply codes
 *   GET /chart.js          [Report] Chart_JS (Debian's libjs-chart.js), 404 when missing
 * The two history endpoints answer 503 when no history is kept, 400 on a bad parameter.
 * HEAD is answered like GET without a body; other methods get 405 with `Allow: GET, HEAD`;
 * other paths 404.
 *
 * Hostile clients: a request (from the connection's start, or from the end of the
 * previous request on it) must be complete, answer sent, within request_timeout seconds
 * — a watchdog thread shuts down connections past their deadline, so a client
 * trickling header lines cannot hold a connection longer; each client address has at
 * most per_address connections (MHD's per-IP limit). A request whose Host is neither
 * the report's own address (the configured host or the address the connection reached)
 * nor one of allowed_hosts gets 421, a malformed Host 400 (DNS rebinding).
 * Access-Control-Allow-Origin is sent, on JSON answers, only when cors_origin is set.
 */
#ifndef BS_REPORT_WEB_H
#define BS_REPORT_WEB_H

#include "history.h"
#include "stats.h"
#include "util.h"

typedef struct rp_web rp_web;

#define WEB_MAX_CONNECTIONS 512u /* at once, all clients together */

typedef struct {
    const char *host; /* [Report] Address */
    int port;
    unsigned request_timeout;         /* seconds: [Report] Request_Timeout */
    unsigned per_address;             /* [Report] Max_Connections_Per_Address */
    const char *const *allowed_hosts; /* [Report] Allowed_Hosts (names, IPs or "*") */
    size_t n_allowed_hosts;
    const char *cors_origin; /* [Report] CORS_Origin, or NULL: no CORS header */
    const char *chart_js;    /* [Report] Chart_JS: read once at start */
    rp_hist_reader *history; /* NULL: no history kept */
} rp_web_conf;

/* Binds host:port (IPv4, IPv6 or a name) and starts serving. NULL on failure with *err
 * (caller frees). The strings of conf must outlive the server. */
rp_web *web_start(const rp_web_conf *conf, rp_stats *st, char **err);
void web_stop(rp_web *w);

/* The routing itself, without a server (for tests): fills status, content type
 * (static) and body; takes the stats lock. */
void web_route(rp_stats *st, const char *method, const char *url, int *status, const char **ctype,
               bs_buf *body);

/* The host of a Host header value (`name`, `name:port`, `a.b.c.d:port`, `[v6]:port`),
 * lower-cased, without brackets or a trailing dot, into out (n bytes). 0, or -1 when the
 * value is malformed (characters outside a host name or IP literal, a bad port, empty,
 * too long). */
int web_host_parse(const char *value, char *out, size_t n);
/* A configured name (Allowed_Hosts, the Address host): a host name, an IP literal (an
 * IPv6 one bare or in brackets), lower-cased; 0, or -1 when it is none of these. */
int web_name_parse(const char *name, char *out, size_t n);
/* Whether a CORS_Origin value is acceptable: `*`, `null`, or scheme://host[:port] with
 * scheme http or https. */
int web_origin_valid(const char *origin);

/* The page (caller holds the stats lock). */
void web_page(rp_stats *st, bs_buf *out);

/* The history endpoints without a server (for tests): url is the path, args the query
 * parameters as n key/value pairs (a value may be NULL). Returns 0 when url is not one of
 * them; else fills status, content type and body and returns 1. */
int web_history_route(rp_hist_reader *h, rp_stats *st, const char *url, const char *const *keys,
                      const char *const *values, size_t n, int *status, const char **ctype,
                      bs_buf *body);

#endif
