/* NAME
 *	ingest - read mail messages into Bouncy Sink message records
 * SYNOPSIS
 *	ingest [-c FILE] [-f] [-j N] [--spool DIR] [PATH...]
 * DESCRIPTION
 *	Reads messages from files, directories (every *.msg), standard input ("-", an
 *	mbox stream or one message) and the live spool (--spool DIR: each *.msg is
 *	claimed by renaming it into DIR/claimed/, leftovers there are emitted first;
 *	-f keeps watching with inotify). Writes one "message" record per message
 *	(bouncy-sink-records(5)): envelope, headers, the header block byte for byte,
 *	open and click URLs of the first HTML part, DKIM and SPF results. N worker
 *	threads (default: the number of CPUs); records come out in input order.
 *	No PATH and no --spool: standard input.
 * DIAGNOSTICS
 *	A bad message is a record with "error" plus a stderr line naming the input.
 *	Exit 0 when all input was read, 64 usage, 66 an input could not be opened,
 *	70 a message was read for longer than [Ingest] Max_Message_Time (or a bug),
 *	71 system error (memory, threads, signalfd, poll, inotify), 74 read or
 *	output error, 78 bad configuration. A spool file ingest crashed on (or timed
 *	out on) [Ingest] Quarantine_After times is quarantined (ingest.h).
 * SEE ALSO
 *	ingest(1), bouncy-sink-records(5)
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ingest.h"
#include "params.h"
#include "record.h"
#include "util.h"

static void help(FILE *fp)
{
    fprintf(fp,
            "usage: %s [-c FILE] [-f] [-j N] [--spool DIR] [PATH...]\n"
            "  -c FILE      configuration (consume-mail.ini format)\n"
            "  -f           follow the spool: claim and read new files until SIGTERM\n"
            "  -j N         worker threads (1-256; default: the number of cores)\n"
            "  --spool DIR  the spool to read (default: [Listen] Spool)\n"
            "  PATH         .msg files, directories of them, or - (an mbox or one message\n"
            "               on standard input; also when no PATH is given)\n"
            "  -h, --help   this help\n"
            "  --version    the version\n",
            bs_progname);
}

static void usage(void)
{
    help(stderr);
    exit(EX_USAGE);
}

int main(int argc, char **argv)
{
    bs_stage_init(argv[0]);
    const char *cfg_file = NULL, *spool = NULL;
    int follow = 0;
    long workers = sysconf(_SC_NPROCESSORS_ONLN);
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:fj:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            cfg_file = optarg;
            break;
        case 'f':
            follow = 1;
            break;
        case 'j':
            if (bs_parse_long(optarg, &workers) < 0 || workers < 1 || workers > 256) {
                bs_error("bad -j value (%s): expected 1 to 256 threads", optarg);
                usage();
            }
            break;
        case 's':
            spool = optarg;
            break;
        case 'h':
            help(stdout);
            return 0;
        case 'V':
            bs_print_version();
        default:
            usage();
        }
    }
    if (workers < 1)
        workers = 1;
    if (workers > 256)
        workers = 256;

    char *err = NULL;
    bs_config *cfg = cfg_open_or_exit(cfg_file);
    /* Records are several kilobytes: with stdio's default buffer (4 KiB) each one
     * takes two or three write(2)s. The pool flushes whenever nothing is in flight.
     * (glibc ignores the size unless the buffer is given.) */
    static char out_buf[1 << 20];
    setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
    ingest_opts o = {.cfg = cfg, .workers = (int)workers, .auth = 1, .out = stdout};
    if (ingest_read_config(cfg, &o) < 0)
        bs_fatal(EX_CONFIG, "%s", cfg_error(cfg));
    if (follow && !spool) {
        /* -f alone follows the listener's spool. */
        if (param_file(cfg, "Listen", "Spool", &spool) < 0)
            bs_fatal(EX_CONFIG, "%s", cfg_error(cfg));
    }
    if (follow) { /* SIGINT/SIGTERM end the watch cleanly (signalfd); threads inherit */
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
    }

    ingest_run *run = ingest_start(&o, &err);
    if (!run)
        bs_fatal(EX_CONFIG, "%s", err);
    int status = 0;
    for (int i = optind; i < argc && status >= 0; i++) {
        int st = ingest_path(run, argv[i]);
        status = st < 0 ? -1 : status ? status : st;
    }
    if (status >= 0 && spool) {
        int st = ingest_spool(run, spool, follow);
        status = st < 0 ? -1 : status ? status : st;
    }
    if (status >= 0 && optind == argc && !spool) {
        int st = ingest_path(run, "-");
        status = st < 0 ? -1 : status ? status : st;
    }
    if (ingest_finish(run) != 0 || status < 0) { /* the output error is reported */
        cfg_free(cfg);
        fclose(stdout);
        return EX_IOERR;
    }
    rec_close_output(stdout, "stdout");
    cfg_free(cfg);
    return status;
}
