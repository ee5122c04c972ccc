/* NAME
 *      decide - add a plan (actions drawn from the statistical model) to every message record
 * SYNOPSIS
 *      decide [-c FILE] [--seed N] [--now TIME]
 * DESCRIPTION
 *      Reads records (man/bouncy-sink-records.5) on standard input and writes them to
 *      standard output. A message record gets a "plan": its stream (routing by the first
 *      label of the recipient domain under a sink domain), the actions to perform (open,
 *      open_again, click, click_again, unsubscribe, ooto, oob, fbl) drawn from the [Sink] model
 *      of consume-mail.ini, a User-Agent, and "skip" when the DKIM/SPF gate stops it.
 *      Every other record passes through unchanged. A "params" record with the model in
 *      force is written at start and whenever the configuration file changes (checked at
 *      most once a second, and on SIGHUP); a bad reload keeps the last good model.
 *      With a seed (--seed or [Decide] Seed) the output is reproducible.
 * DIAGNOSTICS
 *      decide: error: malformed record (stdin:LINE): why
 *      decide: fatal: FILE:LINE: [Section] Key: why      (exit 78)
 *      Exit 0 at end of input, 64 usage, 70 a bug, 71 system error (memory, poll),
 *      74 output error, 78 configuration.
 * SEE ALSO
 *      decide(1), bouncy-sink-records(5)
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "record.h"
#include "run.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: %s [-c FILE] [--seed N] [--now TIME]\n"
            "  -c FILE      configuration (consume-mail.ini format)\n"
            "  --seed N     reproducible draws (overrides [Decide] Seed)\n"
            "  --now TIME   a fixed instant: the clock stands at TIME (ISO-8601 or epoch)\n"
            "  -h, --help   this help\n"
            "  --version    the version\n",
            bs_progname);
}

int main(int argc, char **argv)
{
    bs_stage_init(argv[0]);
    static const struct option longopts[] = {{"seed", required_argument, NULL, 's'},
                                             {"now", required_argument, NULL, 'n'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    decide_options o = {0};
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.config = optarg;
            break;
        case 's': {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (optarg[0] < '0' || optarg[0] > '9' || errno || *end) {
                bs_error("bad --seed '%s': expected a whole number 0-%llu", optarg,
                         (unsigned long long)UINT64_MAX);
                usage(stderr);
                return EX_USAGE;
            }
            o.have_seed = 1;
            o.seed = (uint64_t)v;
            break;
        }
        case 'n': {
            double t;
            if (bs_parse_time(optarg, &t) < 0) {
                bs_error("bad --now '%s': expected e.g. 2026-11-24T12:00:00Z or seconds", optarg);
                usage(stderr);
                return EX_USAGE;
            }
            bs_time_set_override(t);
            o.now = t;
            o.have_now = 1;
            break;
        }
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

    return decide_run(&o);
}
