/* NAME
 *	bs-config - read a value from the Bouncy Sink configuration file, check it
 * SYNOPSIS
 *	bs-config -c FILE [SECTION KEY [DEFAULT]]
 *	bs-config -c FILE --default SECTION KEY
 *	bs-config -c FILE --check
 *	bs-config --list
 * DESCRIPTION
 *	Loads FILE with the same INI reader as every other tool (so a file that
 *	bs-config accepts, the tools accept syntactically) and prints the value of
 *	KEY in SECTION, or DEFAULT when it is not set (absent, or an empty value).
 *	With --default the DEFAULT is the one of the table of settings (the
 *	programs' own), so that scripts need not repeat it.
 *	Without SECTION and KEY it only checks that the file parses. --check also
 *	warns about every unknown section and key (FILE:LINE and the nearest known
 *	name), from the table of settings in src/global/params.c, and parses every
 *	known value as its type (number, list without empty items, yes/no, ...);
 *	the programs do not warn about names, so that a file is judged once (by
 *	pipelines/sink.sh at start and before every reload), not once per program.
 *	--list prints that table: section, key, default and description,
 *	tab-separated.
 * DIAGNOSTICS
 *	Exit 0 when the value (or default) was printed or the file is fine, 1 when
 *	the key is not set and no default was given, or when --check found unknown
 *	names (warnings), 64 on usage error, 70 a bug, 71 system error (memory),
 *	74 standard output cannot be written, 78 when the file cannot be read or
 *	parsed, or --check found a bad value (FILE:LINE: why).
 * SEE ALSO
 *	bs-config(1), bouncy-sink.ini(5)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "params.h"
#include "util.h"

static void help(FILE *fp)
{
    fprintf(fp,
            "usage: %s -c FILE [SECTION KEY [DEFAULT]]\n"
            "       %s -c FILE --default SECTION KEY\n"
            "       %s -c FILE --check\n"
            "       %s --list\n"
            "  -c FILE      the configuration file\n"
            "  SECTION KEY  print the value (a path resolved), or DEFAULT when not set\n"
            "  --default    ... or the default of the table of settings\n"
            "  --check      warn about unknown sections and keys, check every value\n"
            "  --list       print the table of settings (section, key, default, description)\n"
            "  -h, --help   this help\n"
            "  --version    the version\n",
            bs_progname, bs_progname, bs_progname, bs_progname);
}

static void usage(void)
{
    help(stderr);
    exit(EX_USAGE);
}

static void warn_line(void *ctx, const char *text)
{
    (void)ctx;
    bs_warn("%s", text);
}

static void list(void)
{
    for (size_t i = 0; i < bs_nparams; i++)
        printf("%s\t%s\t%s\t%s\n", bs_params[i].section, bs_params[i].key,
               bs_params[i].def ? bs_params[i].def : "", bs_params[i].doc);
}

int main(int argc, char **argv)
{
    bs_set_progname(argv[0]);
    const char *path = NULL;
    int check = 0, do_list = 0, table_default = 0;
    enum { O_CHECK = 256, O_LIST, O_DEFAULT };
    static const struct option longopts[] = {
        {"check", no_argument, NULL, O_CHECK}, {"default", no_argument, NULL, O_DEFAULT},
        {"list", no_argument, NULL, O_LIST},   {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},   {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case O_CHECK:
            check = 1;
            break;
        case O_LIST:
            do_list = 1;
            break;
        case O_DEFAULT:
            table_default = 1;
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
    int rest = argc - optind;
    if (do_list) {
        if (path || check || rest || table_default)
            usage();
        list();
    } else {
        if (!path || (rest != 0 && rest != 2 && rest != 3) || (check && rest) ||
            (table_default && rest != 2))
            usage();
    }
    int status = 0;
    if (path) {
        bs_config *cfg = cfg_open_or_exit(path);
        if (check && params_check(cfg, warn_line, NULL) > 0)
            status = 1;
        if (check && params_check_values(cfg) < 0) {
            bs_error("%s", cfg_error(cfg));
            status = EX_CONFIG;
        }
        if (rest >= 2) {
            const char *section = argv[optind], *key = argv[optind + 1];
            const bs_param *p = params_find(section, key);
            int is_path = p && (p->type == P_PATH || p->type == P_DATA);
            /* A path is printed as the programs use it: resolved (bouncy-sink.ini(5)
             * "Paths"). */
            const char *v = cfg_get(cfg, section, key);
            if (v && is_path)
                param_file(cfg, section, key, &v);
            if (!v && rest == 3)
                v = argv[optind + 2];
            if (!v && table_default) {
                if (!p)
                    bs_fatal(EX_USAGE, "[%s] %s: not a known setting (bs-config --list)", section,
                             key);
                if (is_path)
                    param_file(cfg, section, key, &v);
                else
                    v = p->def;
            }
            if (v)
                printf("%s\n", v);
            else
                status = 1;
        }
        cfg_free(cfg);
    }
    if (fflush(stdout) != 0)
        bs_fatal(EX_IOERR, "write error (stdout)");
    return status;
}
