/* config.h — the one configuration file, in the consume-mail.ini format.
 *
 * Parsed with inih, fed line by line by lines.h (LF, CRLF and CR line ends alike).
 * Section and key names are case-insensitive; values are trimmed. A value continued on
 * following indented lines is joined with "\n" (comma lists treat newlines as
 * separators). A key given twice in a section is an error, as are a NUL byte anywhere
 * and lines longer than inih's limit (198 characters in Debian's build).
 *
 * `Key =` with an empty value means "not set": every getter (cfg_get included) treats it
 * exactly as an absent key, so the default applies.
 *
 * Typed getters return 0 and store the value (or the default when the key is not set),
 * or return -1 and leave a message `FILE:LINE: [Section] Key: why` in cfg_error().
 * Every string returned is owned by the bs_config and lives as long as it.
 */
#ifndef BS_CONFIG_H
#define BS_CONFIG_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

typedef struct bs_config bs_config;

/* NULL on failure, with *err (caller frees) naming the file and line. */
bs_config *cfg_load(const char *path, char **err);
/* An empty configuration (all defaults), e.g. when no -c is given. */
bs_config *cfg_empty(void);
/* What every program does with its -c option: the file at path, or the defaults when
 * path is NULL; on failure prints `FILE:LINE: why` and exits 78 (EX_CONFIG). */
bs_config *cfg_open_or_exit(const char *path);
void cfg_free(bs_config *cfg);

const char *cfg_path(const bs_config *cfg);  /* "(defaults)" for an empty config */
const char *cfg_error(const bs_config *cfg); /* last getter error */

/* Raw value (NULL if absent or empty) and the line it was on (0 if absent). */
const char *cfg_get(const bs_config *cfg, const char *section, const char *key);
int cfg_line(const bs_config *cfg, const char *section, const char *key);
int cfg_has_section(const bs_config *cfg, const char *section);

int cfg_string(bs_config *cfg, const char *section, const char *key, const char *def,
               const char **out);
/* Paths (bouncy-sink.ini(5) "Paths"): a relative path written in the file is relative to
 * the file's directory, never to the process's current directory. cfg_dir is that
 * directory, absolute (NULL for cfg_empty()); cfg_resolve makes value absolute against it
 * (an absolute value, NULL, or an empty config: value itself; otherwise owned by cfg);
 * cfg_file is cfg_string with the set value resolved (def is returned as it is). */
const char *cfg_dir(const bs_config *cfg);
/* Hands s (malloc'd) to cfg, which frees it with itself; returns s. */
const char *cfg_own(bs_config *cfg, char *s);
const char *cfg_resolve(bs_config *cfg, const char *value);
int cfg_file(bs_config *cfg, const char *section, const char *key, const char *def,
             const char **out);
int cfg_double(bs_config *cfg, const char *section, const char *key, double def, double *out);
/* Range-checked double: min <= v <= max. */
int cfg_double_range(bs_config *cfg, const char *section, const char *key, double def, double min,
                     double max, double *out);
int cfg_long(bs_config *cfg, const char *section, const char *key, long def, long min, long max,
             long *out);
/* yes/no, true/false, on/off, 1/0. */
int cfg_bool(bs_config *cfg, const char *section, const char *key, int def, int *out);
/* The same words for a string: 0 and *out set, or -1. */
int cfg_parse_bool(const char *v, int *out);
/* Comma (or newline) separated list, items trimmed; an empty item (`a,,b`, `,,,`, a
 * trailing comma) is an error. *items is an array owned by the config; *n its length
 * (0 when not set). */
int cfg_list(bs_config *cfg, const char *section, const char *key, const char *const **items,
             size_t *n);
/* Comma list of numbers; *out is owned by the config. */
int cfg_double_list(bs_config *cfg, const char *section, const char *key, const double **out,
                    size_t *n);
/* host:port or [v6]:port; *host owned by the config. */
int cfg_hostport(bs_config *cfg, const char *section, const char *key, const char *def,
                 const char **host, int *port);

/* Iterate a section's keys in file order: returns the number of entries; keys are
 * as written (original case). */
size_t cfg_section(const bs_config *cfg, const char *section, const char *const **keys,
                   const char *const **values);

/* The names as written, for checks against a table of known settings: section headers
 * (with the line of their first header) and keys (with their line), in file order. */
size_t cfg_nsections(const bs_config *cfg);
const char *cfg_section_at(const bs_config *cfg, size_t i, int *line);
size_t cfg_nkeys(const bs_config *cfg);
const char *cfg_key_at(const bs_config *cfg, size_t i, const char **section, int *line);

/* Sets the error message for a value that was read fine but is semantically wrong,
 * so callers report problems with the same FILE:LINE: [Section] Key: prefix. Returns -1. */
int cfg_fail(bs_config *cfg, const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Change detection for reloads: identity of the file as last loaded. */
typedef struct {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} cfg_stamp;
int cfg_stamp_read(const char *path, cfg_stamp *out); /* 0 ok, -1 cannot stat */
int cfg_stamp_equal(const cfg_stamp *a, const cfg_stamp *b);

#endif
