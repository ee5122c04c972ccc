/* server.h — track-server: a tracking-endpoint simulator on libevent's evhttp.
 *
 * Routes (first match wins; the table is in server.c):
 *   GET  /_stats          counts as JSON (not counted itself)
 *   any  <status prefix>  the configured status (--status PREFIX=CODE)
 *   any  <redirect prefix> 302 to the configured URL (--redirect PREFIX=URL)
 *   GET  /redirect/N      302 to /redirect/N-1; /redirect/0 answers 200
 *   GET  /big/N           200 with a body of N bytes
 *   GET  /q/...           200 with a 1x1 GIF (an open pixel)
 *   GET  /f/...           302 to the landing URL, or 200 with a short page (a click)
 *   POST any              200 (one-click unsubscribe); the body is logged
 *   any  other            200 "ok"
 * Every answer carries "Server: <name>" (msys-http unless told otherwise).
 */
#ifndef TRACK_SERVER_H
#define TRACK_SERVER_H

#include <stdio.h>

typedef struct {
    char *prefix;
    int status; /* for --status */
    char *url;  /* for --redirect */
} ts_rule;

typedef struct {
    const char *server_name; /* Server header */
    const char *landing;     /* Location for /f/..., NULL: answer 200 */
    long delay_ms;           /* delay before every answer */
    FILE *log;               /* request log or NULL */
    ts_rule *status_rules;
    size_t nstatus;
    ts_rule *redirect_rules;
    size_t nredirect;
    long max_keys; /* distinct paths / user agents counted (others: "(other)") */
} ts_options;

/* Parses PREFIX=VALUE into a rule; -1 when malformed. */
int ts_parse_rule(const char *arg, int is_status, ts_rule *out);

/* Runs the server on host:port until SIGINT/SIGTERM; prints "host:port" (with the port
 * actually bound) on stdout once listening. Returns an exit code. */
int ts_run(const char *host, int port, const ts_options *opt);

#endif
