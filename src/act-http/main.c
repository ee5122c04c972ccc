/* NAME
 *      act-http - perform the opens, clicks and one-click unsubscribes of message records
 * SYNOPSIS
 *      act-http [-c FILE] [--dry-run]
 * DESCRIPTION
 *      Reads Bouncy Sink records on standard input. For each message whose plan asks for
 *      open, open_again, click, click_again or unsubscribe, fetches the tracked URLs
 *      (SPEC A5) over HTTP(S) with libcurl's multi interface, many transfers at once, and
 *      writes the record with an "http" object of outcomes. Only tracking endpoints are
 *      fetched (allowlisted, or the base URL answers /f/a with Server: msys-http); no
 *      connection is made to loopback, private, link-local and other internal addresses.
 *      Every other record is copied through at once. A record is written when its work
 *      is done, so the output order may differ from the input order.
 *      See man/act-http.1.
 * DIAGNOSTICS
 *      act-http: error: what (where): why — on standard error; failed fetches are data
 *      (http.*[].error and error_code), not diagnostics. Exit 0, 64 usage, 70 a bug,
 *      71 system error (memory, epoll, libcurl initialisation), 74 I/O error,
 *      78 configuration.
 * SEE ALSO
 *      act-http(1), bouncy-sink-records(5), bouncy-sink(7)
 */
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "record.h"
#include "util.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: %s [-c FILE] [--dry-run]\n"
            "  -c FILE     configuration file (consume-mail.ini format)\n"
            "  --dry-run   no network: record every URL that would be fetched\n"
            "  -h, --help  this help\n"
            "  --version   the version\n",
            bs_progname);
}

int main(int argc, char **argv)
{
    bs_stage_init(argv[0]);
    /* Each finished job frees a few KB at the top of the heap and the next burst of records
     * takes it again: with glibc's default 128 KB trim threshold that was a brk(2) shrink and
     * grow and fresh page faults over and over (bench/act-http.sh: 1,200-1,700 brk and
     * ~10,000 page faults per 30,000 fetches). Freed memory is reused all the same. */
    mallopt(M_TRIM_THRESHOLD, 4 << 20);
    mallopt(M_TOP_PAD, 1 << 20);
    const char *cfg_file = NULL;
    int dry_run = 0;
    static const struct option longopts[] = {
        {"dry-run", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            cfg_file = optarg;
            break;
        case 'n':
            dry_run = 1;
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

    bs_config *cfg = cfg_open_or_exit(cfg_file);
    act_config ac;
    if (act_config_load(cfg, &ac) < 0)
        bs_fatal(EX_CONFIG, "%s", cfg_error(cfg));
    ac.dry_run = dry_run;

    /* Records are a few KB: with stdio's 4 KB buffer nearly every one was a write(2) of its
     * own. The loop flushes before it waits, so a larger buffer delays no record. */
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    act_engine *eng = engine_new(&ac, stdout);
    /* Input is read without blocking, in the same loop as the transfers. */
    int in_fd = STDIN_FILENO;
    int fl = fcntl(in_fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK))
        fcntl(in_fd, F_SETFL, fl | O_NONBLOCK);
    rec_in *in = rec_in_new(in_fd, "stdin");
    rec_in_flush_before_wait(in, stdout);

    int eof = 0, status = 0;
    for (;;) {
        int would_block = 0, burst = 0;
        /* A bounded burst, so a long run of input never starves transfers in flight. */
        while (!eof && engine_pending(eng) < (size_t)ac.max_pending && burst++ < 256) {
            json_t *rec;
            const char *line;
            size_t len;
            jc_want want[ENGINE_NWANT] = ENGINE_WANT_INIT;
            int r = rec_in_next_pass(in, &rec, &line, &len, want, ENGINE_NWANT);
            if (r == 1 && line) {
                /* a record with no HTTP work passes on as it came, without a parse */
                if (!engine_pass_line(eng, line, len, want) &&
                    !engine_submit_line(eng, line, len, want))
                    engine_submit(eng, rec_parse_line(line, len, "stdin", 0, NULL));
            } else if (r == 1) {
                engine_submit(eng, rec);
            } else if (r == 2) {
                would_block = 1;
                break;
            } else {
                eof = 1;
                if (r < 0)
                    status = EX_IOERR;
            }
        }
        if (eof && engine_pending(eng) == 0)
            break;
        fflush(stdout);
        /* Wait for input only when it can be taken and none is buffered; do not wait at
         * all when the burst ended with input still to take. */
        int more = !eof && !would_block && engine_pending(eng) < (size_t)ac.max_pending;
        int watch = !eof && would_block && engine_pending(eng) < (size_t)ac.max_pending;
        engine_step(eng, watch ? in_fd : -1, more ? 0 : 1000);
    }

    if (fl >= 0 && !(fl & O_NONBLOCK))
        fcntl(in_fd, F_SETFL, fl);
    rec_in_free(in);
    engine_free(eng);
    act_config_free(&ac);
    cfg_free(cfg);
    rec_close_output(stdout, "stdout");
    return status;
}
