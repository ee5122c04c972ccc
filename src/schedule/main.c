/* NAME
 *      schedule - hold the delayed actions of each plan in a durable store, emit them when due
 * SYNOPSIS
 *      schedule [-c FILE] [--store PATH] [--acks FIFO|none] [--drain]
 * DESCRIPTION
 *      Reads records (man/bouncy-sink-records.5) on standard input, between decide and
 *      act-http. A message record whose plan has delays (decide's [Timing]) has its
 *      delayed actions stored in an SQLite database in WAL mode ([Timing] Store), then
 *      goes on without them in plan.actions and with plan.scheduled (what, and when).
 *      When an action is due it is written as an "action" record (the message's fields,
 *      plan.actions holding that one action, and action.id "<message id>/<action>"),
 *      which act-http or act-smtp performs and report logs. report names every action it
 *      logged on the acks FIFO; only then is the action done. Claimed actions not yet
 *      acknowledged are emitted again after a restart or Claim_Timeout; report logs each
 *      once. Every other record passes through unchanged. A "schedule" record with the
 *      pending actions by type and the next due time is written when they change (at
 *      most once a second). Details and the claim/settle order: man/schedule.1.
 * DIAGNOSTICS
 *      schedule: error: store refused a write (STORE): database or disk is full (...); ...
 *      Exit 0 at end of input, 64 usage, 66 acks FIFO cannot be opened, 70 a bug,
 *      71 system error, 73 store cannot be created, 74 I/O error, 78 configuration.
 * SEE ALSO
 *      schedule(1), decide(1), report(1), bouncy-sink-records(5)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "record.h"
#include "sched.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: %s [-c FILE] [--store PATH] [--acks FIFO|none] [--drain] [-h] [--version]\n"
            "  -c FILE        configuration (consume-mail.ini format)\n"
            "  --store PATH   the SQLite store (default: [Timing] Store)\n"
            "  --acks FIFO    where report names the actions it logged (default: [Timing]\n"
            "                 Acks, else STORE.acks); none: an emitted action is done\n"
            "  --drain        at end of input, go on until no action is pending (replay)\n"
            "  -h, --help     this help\n"
            "  --version      the version\n",
            bs_progname);
}

int main(int argc, char **argv)
{
    bs_stage_init(argv[0]);
    static const struct option longopts[] = {
        {"store", required_argument, NULL, 's'}, {"acks", required_argument, NULL, 'a'},
        {"drain", no_argument, NULL, 'd'},       {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},     {NULL, 0, NULL, 0}};
    sched_options o = {0};
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            o.config = optarg;
            break;
        case 's':
            o.store = optarg;
            break;
        case 'a':
            o.acks = optarg;
            break;
        case 'd':
            o.drain = 1;
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
    return sched_run(&o);
}
