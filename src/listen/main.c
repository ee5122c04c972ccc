/* NAME
 *      listen - the Bouncy Sink SMTP receiver
 * SYNOPSIS
 *      listen [-c FILE] [--records PATH]
 * DESCRIPTION
 *      An ESMTP server (PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES, CHUNKING,
 *      STARTTLS) for the sink domains of [Listen] Sink_Domains. Recipients are routed by
 *      the first label of their domain: accept/oob/fbl/openclick/unsub are spooled as
 *      <16 hex>.msg in [Listen] Spool; inband gets an in-band reply from the reply table;
 *      the mixed stream is split between in-band replies, a blackhole and the spool.
 *      Shaping: greylist (and Greylist_percent of the mixed stream) answers a new
 *      (IP, sender, rcpt) triple 451 4.7.1 until retried after Greylist_Delay; per-IP
 *      throttles (Throttle_*, tight for the throttle subdomain) answer 421/451; slow
 *      (and Slow_percent of connections) delays replies by Slow_Delay on a timer.
 *      Every in-band reply, blackholed recipient and shaping event (greylist, throttle,
 *      slow) is written as an NDJSON record to
 *      stdout, or to PATH / [Listen] Records. SIGTERM or SIGINT: stop accepting, finish
 *      open transactions (up to [Listen] Shutdown_Timeout), exit 0.
 * DIAGNOSTICS
 *      listen: error: what (where): why — on standard error; refused clients and
 *      commands are SMTP replies and records, not diagnostics. Exit 0 after SIGTERM
 *      or SIGINT, 64 usage, 69 an address cannot be bound, 70 a bug, 71 system error
 *      (sockets, threads, memory), 73 the spool cannot be created, 74 standard output
 *      cannot be written (--version), 78 configuration (also the reply table and TLS
 *      files).
 * SEE ALSO
 *      listen(1), bouncy-sink-records(5)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "conf.h"
#include "config.h"
#include "record.h"
#include "records.h"
#include "replies.h"
#include "server.h"
#include "spool.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: %s [-c FILE] [--records PATH]\n"
            "  -c FILE          configuration (consume-mail.ini format; default: defaults)\n"
            "  --records PATH   write inband/blackhole records to PATH (a FIFO or file)\n"
            "                   instead of stdout\n"
            "  -h, --help       this help\n"
            "  --version        the version\n",
            bs_progname);
}

int main(int argc, char **argv)
{
    bs_stage_init(argv[0]);
    const char *config = NULL, *records = NULL;
    static const struct option opts[] = {{"records", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {"version", no_argument, NULL, 'V'},
                                         {NULL, 0, NULL, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config = optarg;
            break;
        case 'r':
            records = optarg;
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
        usage(stderr);
        return EX_USAGE;
    }

    char *err = NULL;
    bs_config *cfg = cfg_open_or_exit(config);
    lconf cf;
    if (lconf_load(cfg, &cf) < 0)
        bs_fatal(EX_CONFIG, "%s", cfg_error(cfg));
    cfg_free(cfg);
    if (records) {
        free(cf.records);
        cf.records = xstrdup(records);
    }
    reply_table replies;
    if (replies_load(cf.replies_file, &replies, &err) < 0)
        bs_fatal(EX_CONFIG, "in-band reply table: %s", err);
    if (spool_prepare(cf.spool) < 0)
        bs_fatal(EX_CANTCREAT, "cannot create the spool directory (%s): %m", cf.spool);
    if (cf.fsync == SPOOL_FSYNC_FS && spool_syncfs_open(cf.spool) < 0)
        bs_fatal(EX_CANTCREAT, "cannot open the spool directory (%s): %m", cf.spool);

    /* one descriptor per connection: raise the soft limit as far as allowed */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (long)rl.rlim_cur < cf.max_connections + 64)
        bs_warn("open files limit %ld is below Max_Connections %ld", (long)rl.rlim_cur,
                cf.max_connections);

    rqueue *rq = rq_start(cf.records, (size_t)cf.records_queue);
    int rc = server_run(&cf, &replies, rq);
    rq_stop(rq, 5.0);
    replies_free(&replies);
    lconf_free(&cf);
    return rc;
}
