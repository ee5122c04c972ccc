/* NAME
 *	bs-config - read a value from the Bouncy Sink configuration file
 * SYNOPSIS
 *	bs-config -c FILE [SECTION KEY [DEFAULT]]
 * DESCRIPTION
 *	Loads FILE with the same INI reader as every other tool (so a file that
 *	bs-config accepts, the tools accept syntactically) and prints the value of
 *	KEY in SECTION, or DEFAULT when it is absent. Without SECTION and KEY it
 *	only checks the file. Used by the shell pipelines in pipelines/.
 * DIAGNOSTICS
 *	Exit 0 when the value (or default) was printed or the file is fine, 1 when
 *	the key is absent and no default was given, 64 on usage error, 78 when the
 *	file cannot be read or parsed (FILE:LINE: why).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

static void usage(void)
{
    fprintf(stderr, "usage: %s -c FILE [SECTION KEY [DEFAULT]]\n", bs_progname);
    exit(EX_USAGE);
}

int main(int argc, char **argv)
{
    bs_set_progname(argv[0]);
    const char *path = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "c:h")) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        default:
            usage();
        }
    }
    int rest = argc - optind;
    if (!path || (rest != 0 && rest != 2 && rest != 3))
        usage();
    bs_config *cfg = cfg_open_or_exit(path);
    int status = 0;
    if (rest >= 2) {
        const char *v = cfg_get(cfg, argv[optind], argv[optind + 1]);
        if (!v && rest == 3)
            v = argv[optind + 2];
        if (v)
            printf("%s\n", v);
        else
            status = 1;
    }
    cfg_free(cfg);
    if (fflush(stdout) != 0)
        bs_fatal(EX_IOERR, "write error (stdout)");
    return status;
}
