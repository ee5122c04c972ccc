/* web.h — the report's HTTP endpoints (libmicrohttpd, its own thread).
 *
 *   GET /                  HTML page: chart, counter tables, model parameters (self-contained)
 *   GET /json              {"startedRunning": "...", "<counter>": <int>, ...}
 *   GET /json/ts-messages  [{"time": "2026-11-24T17:57:00+00:00", "messages": 3}, ...]
 *   GET /json/params       the latest params record ({} before the first)
 *   GET /metrics           Prometheus text format 0.0.4
 * HEAD is answered like GET without a body; other methods get 405 with `Allow: GET, HEAD`;
 * other paths 404.
 */
#ifndef BS_REPORT_WEB_H
#define BS_REPORT_WEB_H

#include "stats.h"
#include "util.h"

typedef struct rp_web rp_web;

/* Binds host:port (IPv4, IPv6 or a name) and starts serving. NULL on failure with *err
 * (caller frees). */
rp_web *web_start(const char *host, int port, rp_stats *st, char **err);
void web_stop(rp_web *w);

/* The routing itself, without a server (for tests): fills status, content type
 * (static) and body; takes the stats lock. */
void web_route(rp_stats *st, const char *method, const char *url, int *status, const char **ctype,
               bs_buf *body);

/* The page (caller holds the stats lock). */
void web_page(rp_stats *st, bs_buf *out);
/* HTML escaping of & < > " ' */
void web_escape(bs_buf *out, const char *s);

#endif
