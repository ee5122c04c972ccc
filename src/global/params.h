/* params.h — every setting of the configuration file, once: section, key, default and a
 * one-line description (the mail-specific floor between src/lib and the programs).
 *
 * bs-config reads it to warn about unknown sections and keys (with the nearest known
 * name) and to list the settings; tests/bs-config checks that it and
 * man/bouncy-sink.ini.5 list the same keys with the same defaults. The programs read
 * their values through the param_* getters below, which take the default from this
 * table, so that no default is written twice (a computed default, e.g. listen's Threads,
 * stays at its call through config.h); a test compares every program's behaviour with an
 * all-empty file against no file at all.
 */
#ifndef BS_PARAMS_H
#define BS_PARAMS_H

#include <stddef.h>

#include "config.h"

/* What bs-config --check parses a value as; the ranges and the meaning are checked by
 * the programs that read it. */
typedef enum {
    P_STRING,
    P_LIST,     /* comma list, no empty item */
    P_NUMLIST,  /* comma list of numbers */
    P_NUMBER,   /* a decimal number */
    P_INTEGER,  /* a whole number */
    P_BOOL,     /* yes/no, on/off, true/false, 1/0 */
    P_FSYNC,    /* as P_BOOL, or syncfs ([Listen] Fsync: param_fsync) */
    P_HOSTPORT, /* host:port or [v6]:port */
    P_SIZE,     /* bytes: a whole number, suffix K, M or G allowed (1024-based) */
    P_PATH,     /* a file or directory: a relative value is relative to the file's directory,
                   a relative default to the working directory */
    P_DATA,     /* shipped data: as P_PATH, but the default is a file of the data directory */
} bs_param_type;

typedef struct {
    const char *section; /* as documented (lookups ignore case) */
    const char *key;
    bs_param_type type;
    const char *def; /* the default as bouncy-sink.ini(5) shows it; NULL: none or computed */
    const char *doc; /* one line; a computed default is described here */
} bs_param;

typedef struct {
    const char *name;
    int any_key;         /* free-form keys (e.g. [RP_MX_domain_allowlist] mx host = fbl address) */
    const char *readers; /* the programs that read it */
} bs_param_section;

extern const bs_param bs_params[];
extern const size_t bs_nparams;
extern const bs_param_section bs_param_sections[];
extern const size_t bs_nparam_sections;

const bs_param *params_find(const char *section, const char *key);
const bs_param_section *params_find_section(const char *section);

/* Case-insensitive Levenshtein distance of two names. */
size_t params_distance(const char *a, const char *b);

/* One call of warn per unknown section (keys in it are not named again) and per unknown
 * key of a known section, in file order, as `FILE:LINE: [Section] Key: unknown key (did
 * you mean Known_Key?)`. Returns the number of warnings. */
size_t params_check(const bs_config *cfg, void (*warn)(void *ctx, const char *text), void *ctx);

/* Parses the value of every known key that is set as its type; on the first bad one
 * returns -1 with the message in cfg_error(cfg). 0 when all parse. */
int params_check_values(bs_config *cfg);

/* The default of a setting as the table has it (NULL: none, or computed by the program).
 * A setting missing from the table is a bug: bs_panic. */
const char *param_default(const char *section, const char *key);
/* A fresh array of the items of a list setting's default (each and the array freed by the
 * caller); returns their number, 0 when the table gives none. */
size_t param_default_list(const char *section, const char *key, char ***out);

/* The config.h getters with the table's default (a default the table lacks or that does
 * not parse as the type is a bug: bs_panic). Same returns and messages as config.h. */
int param_string(bs_config *cfg, const char *section, const char *key, const char **out);
int param_long(bs_config *cfg, const char *section, const char *key, long min, long max, long *out);
int param_double_range(bs_config *cfg, const char *section, const char *key, double min, double max,
                       double *out);
int param_bool(bs_config *cfg, const char *section, const char *key, int *out);
/* A P_FSYNC setting: *out = 0 (no), 1 (yes) or 2 (syncfs). */
int param_fsync(bs_config *cfg, const char *section, const char *key, int *out);
/* A P_PATH or P_DATA setting as the programs use it (bouncy-sink.ini(5) "Paths"): a set
 * value resolved against the configuration file's directory (cfg_resolve); when not set,
 * a P_DATA default is params_data_file() of it, a P_PATH default is returned as it is. */
int param_file(bs_config *cfg, const char *section, const char *key, const char **out);

/* The directory of the shipped data (the in-band reply table, the user agents): the
 * environment's BS_DATA_DIR when set; else DIR/../share/bouncy-sink/data when the program
 * runs from an installed DIR/; else, for a program of the build tree, its data/reference;
 * else the compiled-in $(PREFIX)/share/bouncy-sink/data. The string is static. */
const char *params_data_dir(void);
/* params_data_dir()/name, owned by cfg. */
const char *params_data_file(bs_config *cfg, const char *name);

/* A P_SIZE setting (1024-based K, M, G suffixes), min <= bytes <= max. */
int param_size(bs_config *cfg, const char *section, const char *key, size_t min, size_t max,
               size_t *out);
int param_hostport(bs_config *cfg, const char *section, const char *key, const char **host,
                   int *port);

#endif
