/* NAME
 *   act-smtp - send the ARF complaints, DSN bounces and out-of-office replies of Bouncy Sink
 *   plans over SMTP
 * SYNOPSIS
 *   act-smtp [-c FILE] [--dry-run] < records > records
 * DESCRIPTION
 *   Reads records on stdin. For each message record whose plan.actions holds fbl, oob or
 *   ooto, looks up the MX of the Return-Path domain, applies the backscatter guard
 *   ([RP_MX_domain_allowlist], *.e.sparkpost.com), builds an RFC 5965 feedback report,
 *   an RFC 3464 delivery status notification embedding the original header block byte for
 *   byte, or an RFC 3834 out-of-office auto-reply (refused for auto-submitted originals
 *   and system senders), and delivers it with libcurl (several at once, 4xx retried with
 *   back-off). The
 *   outcome is added as "smtp"; every record is written to stdout, in input order.
 *   --dry-run builds the reports but sends nothing (status dry_run).
 * DIAGNOSTICS
 *   Problems on stderr as `act-smtp: error: what (where): why`; failed deliveries as
 *   warnings naming the message id, the server and its reply. Exit 0, 64 usage,
 *   70 a bug, 71 system error (memory, libcurl initialisation), 74 I/O error,
 *   78 configuration.
 * SEE ALSO
 *   act-smtp(1), bouncy-sink-records(5), decide(1), report(1)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "act.h"
#include "config.h"
#include "record.h"
#include "util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: %s [-c FILE] [--dry-run] < records > records\n"
            "  -c FILE     configuration file (consume-mail.ini format)\n"
            "  --dry-run   no network at all (no DNS, no SMTP): every report that would be\n"
            "              sent is recorded as would-send\n"
            "  -h, --help  this help\n"
            "  --version   the version\n",
            bs_progname);
}

int main(int argc, char **argv)
{
    bs_stage_init(argv[0]);
    const char *conf_path = NULL;
    int dry_run = 0;
    static const struct option longopts[] = {{"dry-run", no_argument, NULL, 'n'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"version", no_argument, NULL, 'V'},
                                             {NULL, 0, NULL, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            conf_path = optarg;
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
        usage(stderr);
        return EX_USAGE;
    }

    char *err = NULL;
    bs_config *cfg = cfg_open_or_exit(conf_path);
    act_conf conf;
    int code;
    if (act_conf_load(&conf, cfg, dry_run, &err, &code) < 0)
        bs_fatal(code, "%s", err);

    dl_engine *dl = dl_new(&conf.dl);
    act_queue *q = act_queue_new(&conf, dl);
    /* Records are ~4 KB: with stdio's 4 KB buffer nearly every one was a write(2) of its
     * own. Output is flushed before every wait (the poll in dl_run; reads of stdin do not
     * block), so a larger buffer holds no record while act-smtp sleeps. */
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    rec_in *in = rec_in_new(STDIN_FILENO, "stdin");
    int fl = fcntl(STDIN_FILENO, F_GETFL);
    if (fl < 0 || fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK) < 0)
        rec_in_flush_before_wait(in, stdout); /* reads may block: flush before each */

    int eof = 0, read_error = 0;
    for (;;) {
        /* take in what is there, up to the queue bound */
        while (!eof && !act_queue_full(q)) {
            json_t *rec;
            const char *line;
            size_t len;
            jc_want want[ACT_NWANT] = ACT_WANT_INIT;
            int r = rec_in_next_pass(in, &rec, &line, &len, want, ACT_NWANT);
            if (r == 1 && line && !act_line_has_work(want)) {
                /* nothing to do: passed on as it came, without a parse */
                if (act_queue_pass_line(q, line, len, stdout) < 0)
                    bs_fatal(EX_IOERR, "cannot write (stdout): %s", strerror(errno));
                continue;
            }
            if (r == 1 && line) {
                /* canonical: built without jansson's lexer, written back by splicing */
                act_queue_push_line(q, jc_build(line, len), line, len, want);
                continue;
            }
            if (r == 1) {
                act_queue_push(q, rec);
                continue;
            }
            if (r == 0 || r == -1) {
                eof = 1;
                read_error = r == -1;
            }
            break;
        }
        if (act_queue_flush(q, stdout) < 0)
            bs_fatal(EX_IOERR, "cannot write (stdout): %s", strerror(errno));
        if (eof && act_queue_len(q) == 0 && dl_pending(dl) == 0)
            break;
        if (fflush(stdout) != 0)
            bs_fatal(EX_IOERR, "cannot write (stdout): %s", strerror(errno));
        int watch = !eof && !act_queue_full(q) && !rec_in_has_line(in);
        int wait = rec_in_has_line(in) && !act_queue_full(q) ? 0 : 1000;
        struct pollfd fds[1 + MX_MAX_FDS];
        int n = 0;
        if (watch)
            fds[n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        int n_mx = mx_fds(conf.mx, fds + n, &wait);
        dl_run(dl, fds, n + n_mx, wait);
        mx_process(conf.mx, fds + n, n_mx); /* answers, and time-outs */
    }
    if (fl >= 0)
        fcntl(STDIN_FILENO, F_SETFL, fl);
    rec_in_free(in);
    act_queue_free(q);
    dl_free(dl);
    act_conf_free(&conf);
    cfg_free(cfg);
    free(err);
    rec_close_output(stdout, "stdout");
    return read_error ? EX_IOERR : 0;
}
