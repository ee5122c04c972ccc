/* NAME
 *	report - the last stage of Bouncy Sink: log file, counters, web report, settling
 * SYNOPSIS
 *	report [-c FILE] [--once] [--until-eof] [--progress TOTAL] [--start TIME
 *	       [--tick SECONDS]] [--spool DIR] [--log FILE] [--input PATH]... [--acks FIFO]
 * DESCRIPTION
 *	report reads finished records from standard input and from every --input (FIFOs
 *	are reopened when their writer goes away), writes one line per record to the
 *	consume-mail log ([Sink] Logfile, rotated daily), keeps the counters of the old
 *	web report and a messages-per-minute series (saved to [Report] State_File at
 *	least every second), keeps each record's timeline in an SQLite history
 *	([Report] History), serves them on [Report] Address (/, /json,
 *	/json/ts-messages, /json/params, /json/messages, /json/outcomes, /chart.js,
 *	/metrics), and deletes or keeps each spooled
 *	file once its line is written — only files of the spool's claimed directory
 *	([Listen] Spool or --spool, + /claimed): a record naming any other path gets a
 *	`!Settle refused` line and nothing is touched. With --once it reads its inputs to their end,
 *	prints the /json document and exits, without server, state file or history. With
 *	--until-eof a live report ends when its standard input ends (the sink's drain).
 *	An "action" record (schedule's, issue 17) is logged once per action id, and the id
 *	is written to --acks FIFO (schedule's; see acks.h).
 * DIAGNOSTICS
 *	report: error: what (where): why — on standard error. Exit 0, 64 usage, 66 input
 *	missing, 69 address cannot be bound, 70 a bug, 71 system error (memory,
 *	signalfd, poll, threads), 73 log cannot be created, 74 log write error,
 *	75 another report writes the log, 78 configuration.
 * SEE ALSO
 *	report(1), bouncy-sink-records(5)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "record.h"
#include "run.h"
#include "util.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: report [-c FILE] [--once] [--until-eof] [--progress TOTAL] "
                 "[--start TIME [--tick SECONDS]] [--spool DIR] [--log FILE] [--input PATH]... "
                 "[--acks FIFO]\n"
                 "  -c FILE        configuration (consume-mail.ini format)\n"
                 "  --once         read the inputs to their end, print /json, exit\n"
                 "  --until-eof    live mode: stop when standard input ends, after taking\n"
                 "                 what the other inputs hold\n"
                 "  --progress N   a progress line on stderr every second (N expected; 0 unknown)\n"
                 "  --start TIME   a running clock started at TIME (ISO-8601 or epoch seconds;\n"
                 "                 --now is a deprecated alias)\n"
                 "  --tick SECONDS with --start: frozen clock, advanced by SECONDS per record "
                 "(tests)\n"
                 "  --spool DIR    the spool whose DIR/claimed/ files are settled "
                 "([Listen] Spool)\n"
                 "  --log FILE     write the log to FILE instead of [Sink] Logfile\n"
                 "  --input PATH   also read records from PATH (FIFO or file); repeatable\n"
                 "  -h, --help     this help\n"
                 "  --version      the version\n");
}

int main(int argc, char **argv)
{
    bs_stage_init(argv[0]);
    const char *cfg_file = NULL, *now_arg = NULL, *tick_arg = NULL, *spool_arg = NULL,
               *log_arg = NULL;
    const char *acks_arg = NULL;
    int once = 0, until_eof = 0;
    char **input_paths = xcalloc((size_t)argc + 1, sizeof *input_paths);
    size_t n_inputs = 0;
    enum {
        OPT_ONCE = 256,
        OPT_NOW,
        OPT_TICK,
        OPT_INPUT,
        OPT_UNTIL_EOF,
        OPT_PROGRESS,
        OPT_SPOOL,
        OPT_ACKS,
        OPT_LOG
    };
    long progress_total = -1;
    static const struct option longopts[] = {
        {"once", no_argument, NULL, OPT_ONCE},
        {"until-eof", no_argument, NULL, OPT_UNTIL_EOF},
        {"progress", required_argument, NULL, OPT_PROGRESS},
        {"start", required_argument, NULL, OPT_NOW},
        /* The old spelling, kept as a deprecated alias: --now is a fixed instant in decide. */
        {"now", required_argument, NULL, OPT_NOW},
        {"tick", required_argument, NULL, OPT_TICK},
        {"input", required_argument, NULL, OPT_INPUT},
        {"spool", required_argument, NULL, OPT_SPOOL},
        {"acks", required_argument, NULL, OPT_ACKS},
        {"log", required_argument, NULL, OPT_LOG},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            cfg_file = optarg;
            break;
        case 'V':
            bs_print_version();
        case 'h':
            usage(stdout);
            free(input_paths);
            return 0;
        case OPT_ONCE:
            once = 1;
            break;
        case OPT_UNTIL_EOF:
            until_eof = 1;
            break;
        case OPT_PROGRESS:
            if (bs_parse_long(optarg, &progress_total) != 0 || progress_total < 0) {
                bs_error("bad --progress '%s' (a count >= 0)", optarg);
                usage(stderr);
                free(input_paths);
                return EX_USAGE;
            }
            break;
        case OPT_NOW:
            now_arg = optarg;
            break;
        case OPT_TICK:
            tick_arg = optarg;
            break;
        case OPT_INPUT:
            input_paths[n_inputs++] = optarg;
            break;
        case OPT_ACKS:
            acks_arg = optarg;
            break;
        case OPT_LOG:
            if (!*optarg) {
                bs_error("bad --log '' (a file)");
                usage(stderr);
                free(input_paths);
                return EX_USAGE;
            }
            log_arg = optarg;
            break;
        case OPT_SPOOL:
            if (!*optarg) {
                bs_error("bad --spool '' (a directory)");
                usage(stderr);
                free(input_paths);
                return EX_USAGE;
            }
            spool_arg = optarg;
            break;
        default:
            usage(stderr);
            free(input_paths);
            return EX_USAGE;
        }
    }
    if (optind < argc || (tick_arg && !now_arg)) {
        if (optind < argc)
            bs_error("unexpected argument '%s'", argv[optind]);
        else
            bs_error("--tick needs --start");
        usage(stderr);
        free(input_paths);
        return EX_USAGE;
    }

    rp_options o = {.config = cfg_file,
                    .once = once,
                    .until_eof = until_eof,
                    .progress_total = progress_total,
                    .spool = spool_arg,
                    .acks = acks_arg,
                    .log = log_arg,
                    .inputs = (const char *const *)input_paths,
                    .n_inputs = n_inputs};
    if (now_arg) {
        if (bs_parse_time(now_arg, &o.now) != 0) {
            bs_error("bad --start '%s' (ISO-8601 time or epoch seconds)", now_arg);
            free(input_paths);
            return EX_USAGE;
        }
        o.have_now = 1;
        if (tick_arg) {
            if (bs_parse_double(tick_arg, &o.tick) != 0 || o.tick < 0) {
                bs_error("bad --tick '%s' (seconds >= 0)", tick_arg);
                free(input_paths);
                return EX_USAGE;
            }
            o.have_tick = 1;
        }
    }
    int rc = report_run(&o);
    free(input_paths);
    return rc;
}
