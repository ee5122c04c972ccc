/* NAME
 *      track-server - a tracking-endpoint simulator (open pixels, clicks, unsubscribes)
 * SYNOPSIS
 *      track-server [-c FILE] [-l HOST:PORT] [--log FILE] [--delay-ms N] [--landing URL]
 *                   [--server NAME] [--status PREFIX=CODE]... [--redirect PREFIX=URL]...
 * DESCRIPTION
 *      An HTTP/1.1 keep-alive server (libevent evhttp, one thread) that answers like a
 *      SparkPost tracking domain: every answer carries "Server: msys-http"; /q/... is a
 *      1x1 GIF, /f/... a click (302 to the landing URL or 200), /redirect/N a chain of N
 *      redirects, POST is accepted (one-click unsubscribe). It counts requests per path,
 *      method, status and User-Agent and serves the counts at GET /_stats. It prints the
 *      address it listens on (port 0: one picked by the system) on standard output.
 *      Used by the tests, the demo and the act-http bench. See man/track-server.1.
 * DIAGNOSTICS
 *      track-server: error: what (where): why — on standard error. Exit 0 after SIGINT
 *      or SIGTERM, 64 usage, 69 the address cannot be bound, 70 a bug, 71 system error
 *      (memory, the event loop), 73 the log cannot be opened, 74 the log cannot be
 *      written, 78 configuration.
 * SEE ALSO
 *      track-server(1)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "params.h"
#include "record.h"
#include "server.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: %s [-c FILE] [-l HOST:PORT] [--log FILE] [--delay-ms N] [--landing URL]\n"
            "          [--server NAME] [--status PREFIX=CODE]... [--redirect PREFIX=URL]...\n"
            "  -c FILE               configuration ([Track_Server])\n"
            "  -l HOST:PORT          address to listen on ([Track_Server] Address)\n"
            "  --log FILE            one line per request\n"
            "  --delay-ms N          milliseconds before each answer ([Track_Server] Delay_Ms)\n"
            "  --landing URL         where clicks are redirected ([Track_Server] Landing)\n"
            "  --server NAME         Server header ([Track_Server] Server)\n"
            "  --status PREFIX=CODE  answer CODE for paths starting with PREFIX\n"
            "  --redirect PREFIX=URL redirect paths starting with PREFIX to URL\n"
            "  -h, --help            this help\n"
            "  --version             the version\n",
            bs_progname);
}

/* HOST:PORT or [V6]:PORT. */
static int parse_listen(const char *arg, char **host, int *port)
{
    const char *colon;
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close || close[1] != ':')
            return -1;
        *host = xstrndup(arg + 1, (size_t)(close - arg - 1));
        colon = close + 1;
    } else {
        colon = strrchr(arg, ':');
        if (!colon || colon == arg)
            return -1;
        *host = xstrndup(arg, (size_t)(colon - arg));
    }
    long p;
    if (bs_parse_long(colon + 1, &p) < 0 || p < 0 || p > 65535) {
        free(*host);
        return -1;
    }
    *port = (int)p;
    return 0;
}

int main(int argc, char **argv)
{
    bs_stage_init(argv[0]);
    enum { O_LOG = 256, O_DELAY, O_LANDING, O_SERVER, O_STATUS, O_REDIRECT };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"log", required_argument, NULL, O_LOG},
        {"delay-ms", required_argument, NULL, O_DELAY},
        {"landing", required_argument, NULL, O_LANDING},
        {"server", required_argument, NULL, O_SERVER},
        {"status", required_argument, NULL, O_STATUS},
        {"redirect", required_argument, NULL, O_REDIRECT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    ts_options opt = {.server_name = NULL, .max_keys = 100000};
    const char *cfg_file = NULL, *listen = NULL, *log_path = NULL;
    long delay = -1;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:l:h", longopts, NULL)) != -1) {
        ts_rule rule;
        switch (ch) {
        case 'c':
            cfg_file = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case O_LOG:
            log_path = optarg;
            break;
        case O_DELAY:
            if (bs_parse_long(optarg, &delay) < 0 || delay < 0 || delay > 3600000) {
                bs_error("bad --delay-ms '%s'", optarg);
                usage(stderr);
                return EX_USAGE;
            }
            break;
        case O_LANDING:
            opt.landing = optarg;
            break;
        case O_SERVER:
            opt.server_name = optarg;
            break;
        case O_STATUS:
        case O_REDIRECT:
            if (ts_parse_rule(optarg, ch == O_STATUS, &rule) < 0) {
                bs_error("bad --%s '%s' (want /PREFIX=%s)", ch == O_STATUS ? "status" : "redirect",
                         optarg, ch == O_STATUS ? "CODE" : "URL");
                usage(stderr);
                return EX_USAGE;
            }
            if (ch == O_STATUS) {
                opt.status_rules = xrealloc(opt.status_rules, (opt.nstatus + 1) * sizeof rule);
                opt.status_rules[opt.nstatus++] = rule;
            } else {
                opt.redirect_rules =
                    xrealloc(opt.redirect_rules, (opt.nredirect + 1) * sizeof rule);
                opt.redirect_rules[opt.nredirect++] = rule;
            }
            break;
        case 'V':
            bs_print_version();
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (optind != argc) {
        bs_error("unexpected argument '%s'", argv[optind]);
        usage(stderr);
        return EX_USAGE;
    }

    /* The config file supplies defaults ([Track_Server]); the command line wins. */
    bs_config *cfg = cfg_open_or_exit(cfg_file);
    const char *c_listen, *c_landing, *c_server;
    long c_delay;
    if (param_string(cfg, "Track_Server", "Address", &c_listen) < 0 ||
        cfg_string(cfg, "Track_Server", "Landing", NULL, &c_landing) < 0 ||
        param_string(cfg, "Track_Server", "Server", &c_server) < 0 ||
        param_long(cfg, "Track_Server", "Delay_Ms", 0, 3600000, &c_delay) < 0)
        bs_fatal(EX_CONFIG, "%s", cfg_error(cfg));
    if (!listen)
        listen = c_listen;
    if (!opt.landing && c_landing && *c_landing)
        opt.landing = c_landing;
    if (!opt.server_name)
        opt.server_name = c_server;
    opt.delay_ms = delay >= 0 ? delay : c_delay;

    char *host = NULL;
    int port, rc;
    if (parse_listen(listen, &host, &port) < 0) {
        bs_error("bad listen address '%s' (want HOST:PORT or [V6]:PORT)", listen);
        usage(stderr);
        rc = EX_USAGE;
        goto out;
    }
    if (log_path) {
        opt.log = fopen(log_path, "a");
        if (!opt.log)
            bs_fatal(EX_CANTCREAT, "cannot open log (%s): %m", log_path);
    }
    rc = ts_run(host, port, &opt);
    if (opt.log && fclose(opt.log) != 0)
        bs_fatal(EX_IOERR, "write error (%s): %m", log_path);
out:
    for (size_t i = 0; i < opt.nstatus; i++)
        free(opt.status_rules[i].prefix);
    for (size_t i = 0; i < opt.nredirect; i++) {
        free(opt.redirect_rules[i].prefix);
        free(opt.redirect_rules[i].url);
    }
    free(opt.status_rules);
    free(opt.redirect_rules);
    free(host);
    cfg_free(cfg);
    return rc;
}
