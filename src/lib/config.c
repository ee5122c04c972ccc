/* config.c — INI configuration through inih, with line numbers and typed getters. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lines.h"
#include "util.h"

/* Larger than any sane configuration; a bigger file is refused rather than read. */
#define CFG_MAX_FILE ((size_t)16 << 20)

typedef struct {
    char *section; /* as written */
    char *key;     /* as written */
    char *value;
    int line;
    /* Caches for parsed lists, owned here. */
    char **list;
    size_t list_n;
    int list_done;
    double *dlist;
    size_t dlist_n;
    int dlist_done;
    char *host;
} cfg_entry;

struct bs_config {
    char *path;
    char *dir; /* the file's directory, absolute; NULL for cfg_empty() */
    cfg_entry *e;
    size_t n, cap;
    char **sections; /* section names seen, even empty ones */
    int *section_lines;
    size_t nsections;
    char err[1024];
    /* parse state */
    bs_lines lines;
    int lineno;
    int last_line_indented;
    int too_long_line;
    int nul_line;
    char *parse_err;
    const char **view_keys, **view_values; /* scratch for cfg_section */
    char **owned;                          /* strings handed out for default values */
    size_t nowned;
};

static const char *own(bs_config *cfg, char *s)
{
    cfg->owned = xrealloc(cfg->owned, (cfg->nowned + 1) * sizeof *cfg->owned);
    cfg->owned[cfg->nowned++] = s;
    return s;
}

static cfg_entry *find(const bs_config *cfg, const char *section, const char *key)
{
    for (size_t i = 0; i < cfg->n; i++)
        if (bs_strcaseeq(cfg->e[i].section, section) && bs_strcaseeq(cfg->e[i].key, key))
            return &cfg->e[i];
    return NULL;
}

/* The entry of a key that is set: present with a value. `Key =` (an empty value) means
 * "not set" for every getter, so the default applies, as if the line were absent. */
static cfg_entry *find_set(const bs_config *cfg, const char *section, const char *key)
{
    cfg_entry *e = find(cfg, section, key);
    return e && *e->value ? e : NULL;
}

static void note_section(bs_config *cfg, const char *section, int line)
{
    for (size_t i = 0; i < cfg->nsections; i++)
        if (bs_strcaseeq(cfg->sections[i], section))
            return;
    cfg->sections = xrealloc(cfg->sections, (cfg->nsections + 1) * sizeof *cfg->sections);
    cfg->section_lines =
        xrealloc(cfg->section_lines, (cfg->nsections + 1) * sizeof *cfg->section_lines);
    cfg->section_lines[cfg->nsections] = line;
    cfg->sections[cfg->nsections++] = xstrdup(section);
}

/* inih reader: the file's lines (LF, CRLF or CR ends, see lines.h) handed over one at a
 * time with a "\n", counted; lines inih would cut and lines holding a NUL byte (which
 * inih would silently cut short) are noted, and section headers are recorded with their
 * line even when the section stays empty. */
static char *reader(char *str, int num, void *stream)
{
    bs_config *cfg = stream;
    const char *line;
    size_t len;
    if (!bs_lines_next(&cfg->lines, &line, &len))
        return NULL;
    cfg->lineno++;
    if (memchr(line, 0, len)) {
        if (!cfg->nul_line)
            cfg->nul_line = cfg->lineno;
        len = 0;
    }
    if (len > (size_t)num - 2) {
        if (!cfg->too_long_line)
            cfg->too_long_line = cfg->lineno;
        len = (size_t)num - 2;
    }
    memcpy(str, line, len);
    str[len] = '\n';
    str[len + 1] = '\0';
    cfg->last_line_indented = (str[0] == ' ' || str[0] == '\t');
    const char *close = str[0] == '[' ? strchr(str, ']') : NULL;
    if (close) { /* as inih takes it: the name between the brackets, untrimmed */
        char *name = xstrndup(str + 1, (size_t)(close - str - 1));
        note_section(cfg, name, cfg->lineno);
        free(name);
    }
    return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    bs_config *cfg = user;
    note_section(cfg, section, cfg->lineno);
    if (!name)
        return 1;
    cfg_entry *old = find(cfg, section, name);
    if (old) {
        if (cfg->last_line_indented) { /* continuation line */
            char *joined = xasprintf("%s\n%s", old->value, value);
            free(old->value);
            old->value = joined;
            return 1;
        }
        if (!cfg->parse_err)
            cfg->parse_err = xasprintf("%s:%d: [%s] %s: duplicate key (first on line %d)",
                                       cfg->path, cfg->lineno, section, name, old->line);
        return 0;
    }
    if (cfg->n == cfg->cap) {
        cfg->cap = cfg->cap ? 2 * cfg->cap : 32;
        cfg->e = xrealloc(cfg->e, cfg->cap * sizeof *cfg->e);
    }
    cfg_entry *e = &cfg->e[cfg->n++];
    memset(e, 0, sizeof *e);
    e->section = xstrdup(section);
    e->key = xstrdup(name);
    char *v = xstrdup(value);
    e->value = xstrdup(bs_trim(v));
    free(v);
    e->line = cfg->lineno;
    return 1;
}

/* The absolute directory of a file (its symbolic links in the directory part resolved),
 * or the directory as written when it cannot be resolved. */
static char *dir_of(const char *path)
{
    char *copy = xstrdup(path);
    char *d = dirname(copy);
    char *abs = realpath(d, NULL);
    char *out = abs ? abs : xstrdup(d);
    free(copy);
    return out;
}

bs_config *cfg_empty(void)
{
    bs_config *cfg = xcalloc(1, sizeof *cfg);
    cfg->path = xstrdup("(defaults)");
    return cfg;
}

bs_config *cfg_load(const char *path, char **err)
{
    *err = NULL;
    char *text;
    size_t len;
    if (bs_read_file(path, CFG_MAX_FILE, &text, &len) < 0) {
        *err = errno == EFBIG
                   ? xasprintf("%s: cannot open: larger than %zu bytes", path, CFG_MAX_FILE)
                   : xasprintf("%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    bs_config *cfg = xcalloc(1, sizeof *cfg);
    cfg->path = xstrdup(path);
    cfg->dir = dir_of(path);
    bs_lines_init(&cfg->lines, text, len);
    int rc = ini_parse_stream(reader, cfg, handler, cfg);
    free(text);
    if (cfg->nul_line && (rc == 0 || rc >= cfg->nul_line)) {
        *err = xasprintf("%s:%d: NUL byte (a configuration file is text)", path, cfg->nul_line);
    } else if (cfg->too_long_line && (rc == 0 || rc >= cfg->too_long_line)) {
        *err = xasprintf("%s:%d: line too long (the INI reader takes at most 198 characters; "
                         "continue a long list on indented lines)",
                         path, cfg->too_long_line);
    } else if (cfg->parse_err) {
        *err = cfg->parse_err;
        cfg->parse_err = NULL;
    } else if (rc > 0) {
        *err = xasprintf("%s:%d: syntax error (expected [Section], key = value, or a comment)",
                         path, rc);
    } else if (rc < 0) {
        *err = xasprintf("%s: cannot parse (inih error %d)", path, rc);
    }
    if (*err) {
        cfg_free(cfg);
        return NULL;
    }
    return cfg;
}

bs_config *cfg_open_or_exit(const char *path)
{
    if (!path)
        return cfg_empty();
    char *err = NULL;
    bs_config *cfg = cfg_load(path, &err);
    if (!cfg)
        bs_fatal(EX_CONFIG, "%s", err);
    return cfg;
}

void cfg_free(bs_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        cfg_entry *e = &cfg->e[i];
        free(e->section);
        free(e->key);
        free(e->value);
        for (size_t j = 0; j < e->list_n; j++)
            free(e->list[j]);
        free(e->list);
        free(e->dlist);
        free(e->host);
    }
    for (size_t i = 0; i < cfg->nsections; i++)
        free(cfg->sections[i]);
    free(cfg->sections);
    free(cfg->section_lines);
    free(cfg->e);
    free(cfg->parse_err);
    free(cfg->view_keys);
    free(cfg->view_values);
    for (size_t i = 0; i < cfg->nowned; i++)
        free(cfg->owned[i]);
    free(cfg->owned);
    free(cfg->path);
    free(cfg->dir);
    free(cfg);
}

const char *cfg_own(bs_config *cfg, char *s)
{
    return own(cfg, s);
}

const char *cfg_dir(const bs_config *cfg)
{
    return cfg->dir;
}

const char *cfg_resolve(bs_config *cfg, const char *value)
{
    if (!value || !*value || value[0] == '/' || !cfg->dir)
        return value;
    /* Leading ./ and ../ are taken off against the directory itself: it is a real path (no
     * symbolic link in it), so its parent is what the kernel would find. */
    char *dir = xstrdup(cfg->dir);
    const char *rel = value;
    for (;;) {
        if (rel[0] == '.' && rel[1] == '/') {
            rel += 2;
        } else if (rel[0] == '.' && rel[1] == '.' && (rel[2] == '/' || !rel[2]) && dir[0] == '/') {
            char *slash = strrchr(dir, '/');
            if (slash == dir)
                dir[1] = 0;
            else
                *slash = 0;
            rel += rel[2] ? 3 : 2;
        } else {
            break;
        }
        while (*rel == '/')
            rel++;
    }
    char *out;
    if (!*rel || strcmp(rel, ".") == 0)
        out = xstrdup(dir);
    else
        out = xasprintf("%s/%s", strcmp(dir, "/") == 0 ? "" : dir, rel);
    free(dir);
    return own(cfg, out);
}

int cfg_file(bs_config *cfg, const char *section, const char *key, const char *def,
             const char **out)
{
    const char *v = cfg_get(cfg, section, key);
    *out = v ? cfg_resolve(cfg, v) : def;
    return 0;
}

const char *cfg_path(const bs_config *cfg)
{
    return cfg->path;
}

const char *cfg_error(const bs_config *cfg)
{
    return cfg->err;
}

const char *cfg_get(const bs_config *cfg, const char *section, const char *key)
{
    cfg_entry *e = find_set(cfg, section, key);
    return e ? e->value : NULL;
}

int cfg_line(const bs_config *cfg, const char *section, const char *key)
{
    cfg_entry *e = find(cfg, section, key);
    return e ? e->line : 0;
}

int cfg_has_section(const bs_config *cfg, const char *section)
{
    for (size_t i = 0; i < cfg->nsections; i++)
        if (bs_strcaseeq(cfg->sections[i], section))
            return 1;
    return 0;
}

size_t cfg_nsections(const bs_config *cfg)
{
    return cfg->nsections;
}

const char *cfg_section_at(const bs_config *cfg, size_t i, int *line)
{
    *line = cfg->section_lines[i];
    return cfg->sections[i];
}

size_t cfg_nkeys(const bs_config *cfg)
{
    return cfg->n;
}

const char *cfg_key_at(const bs_config *cfg, size_t i, const char **section, int *line)
{
    *section = cfg->e[i].section;
    *line = cfg->e[i].line;
    return cfg->e[i].key;
}

int cfg_fail(bs_config *cfg, const char *section, const char *key, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    cfg_entry *e = find(cfg, section, key);
    if (e)
        snprintf(cfg->err, sizeof cfg->err, "%s:%d: [%s] %s: %s", cfg->path, e->line, e->section,
                 e->key, why);
    else
        snprintf(cfg->err, sizeof cfg->err, "%s: [%s] %s: %s", cfg->path, section, key, why);
    return -1;
}

int cfg_string(bs_config *cfg, const char *section, const char *key, const char *def,
               const char **out)
{
    const char *v = cfg_get(cfg, section, key);
    *out = v ? v : def;
    return 0;
}

int cfg_double(bs_config *cfg, const char *section, const char *key, double def, double *out)
{
    const char *v = cfg_get(cfg, section, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (bs_parse_double(v, out) < 0)
        return cfg_fail(cfg, section, key, "'%s' is not a number", v);
    return 0;
}

int cfg_double_range(bs_config *cfg, const char *section, const char *key, double def, double min,
                     double max, double *out)
{
    if (cfg_double(cfg, section, key, def, out) < 0)
        return -1;
    if (*out < min || *out > max)
        return cfg_fail(cfg, section, key, "%g is out of range [%g, %g]", *out, min, max);
    return 0;
}

int cfg_long(bs_config *cfg, const char *section, const char *key, long def, long min, long max,
             long *out)
{
    const char *v = cfg_get(cfg, section, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (bs_parse_long(v, out) < 0)
        return cfg_fail(cfg, section, key, "'%s' is not a whole number", v);
    if (*out < min || *out > max)
        return cfg_fail(cfg, section, key, "%ld is out of range [%ld, %ld]", *out, min, max);
    return 0;
}

int cfg_parse_bool(const char *v, int *out)
{
    static const char *yes[] = {"yes", "true", "on", "1"}, *no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (bs_strcaseeq(v, yes[i])) {
            *out = 1;
            return 0;
        }
        if (bs_strcaseeq(v, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

int cfg_bool(bs_config *cfg, const char *section, const char *key, int def, int *out)
{
    const char *v = cfg_get(cfg, section, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (cfg_parse_bool(v, out) == 0)
        return 0;
    return cfg_fail(cfg, section, key, "'%s' is not yes or no", v);
}

/* One item of a list: trimmed; empty is an error (a typo such as `1,,2` or `,,,,,,`). */
static int list_add(bs_config *cfg, cfg_entry *e, const char *p, size_t n)
{
    char *item = xstrndup(p, n), *t = bs_trim(item);
    if (!*t) {
        free(item);
        return cfg_fail(cfg, e->section, e->key, "item %zu is empty (a comma too many?)",
                        e->list_n + 1);
    }
    e->list = xrealloc(e->list, (e->list_n + 1) * sizeof *e->list);
    e->list[e->list_n++] = xstrdup(t);
    free(item);
    return 0;
}

/* Items are separated by commas; a value continued on indented lines may end a line with
 * a comma or not, and may start the next one with a comma or not. */
static int split_list(bs_config *cfg, cfg_entry *e)
{
    const char *v = e->value;
    for (int first = 1; *v; first = 0) {
        const char *nl = strchr(v, '\n');
        const char *end = nl ? nl : v + strlen(v);
        const char *s = v, *t = end;
        while (s < t && isspace((unsigned char)*s))
            s++;
        while (t > s && isspace((unsigned char)t[-1]))
            t--;
        if (!first && s < t && *s == ',')
            s++;
        if (nl && t > s && t[-1] == ',')
            t--;
        for (const char *p = s;;) {
            const char *comma = memchr(p, ',', (size_t)(t - p));
            const char *ie = comma ? comma : t;
            if (list_add(cfg, e, p, (size_t)(ie - p)) < 0)
                return -1;
            if (!comma)
                break;
            p = comma + 1;
        }
        v = nl ? nl + 1 : end;
    }
    return 0;
}

int cfg_list(bs_config *cfg, const char *section, const char *key, const char *const **items,
             size_t *n)
{
    cfg_entry *e = find_set(cfg, section, key);
    *items = NULL;
    *n = 0;
    if (!e)
        return 0;
    if (!e->list_done) {
        int rc = split_list(cfg, e);
        if (rc < 0) {
            for (size_t j = 0; j < e->list_n; j++)
                free(e->list[j]);
            free(e->list);
            e->list = NULL;
            e->list_n = 0;
            return -1;
        }
        e->list_done = 1;
    }
    *items = (const char *const *)e->list;
    *n = e->list_n;
    return 0;
}

int cfg_double_list(bs_config *cfg, const char *section, const char *key, const double **out,
                    size_t *n)
{
    cfg_entry *e = find_set(cfg, section, key);
    *out = NULL;
    *n = 0;
    if (!e)
        return 0;
    if (!e->dlist_done) {
        const char *const *items;
        size_t count;
        if (cfg_list(cfg, section, key, &items, &count) < 0)
            return -1;
        double *d = xcalloc(count ? count : 1, sizeof *d);
        for (size_t i = 0; i < count; i++) {
            if (bs_parse_double(items[i], &d[i]) < 0) {
                free(d);
                return cfg_fail(cfg, section, key, "item %zu, '%s', is not a number", i + 1,
                                items[i]);
            }
        }
        e->dlist = d;
        e->dlist_n = count;
        e->dlist_done = 1;
    }
    *out = e->dlist;
    *n = e->dlist_n;
    return 0;
}

int cfg_hostport(bs_config *cfg, const char *section, const char *key, const char *def,
                 const char **host, int *port)
{
    cfg_entry *e = find_set(cfg, section, key);
    const char *v = e ? e->value : def;
    *host = NULL;
    *port = 0;
    if (!v)
        return 0;
    const char *colon;
    const char *h = v;
    size_t hlen;
    if (*v == '[') {
        const char *close = strchr(v, ']');
        if (!close || close[1] != ':')
            return cfg_fail(cfg, section, key, "'%s' is not [address]:port", v);
        h = v + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(v, ':');
        if (!colon)
            return cfg_fail(cfg, section, key, "'%s' is not host:port", v);
        hlen = (size_t)(colon - v);
    }
    long p;
    if (hlen == 0 || bs_parse_long(colon + 1, &p) < 0 || p < 1 || p > 65535)
        return cfg_fail(cfg, section, key, "'%s' is not host:port (port 1-65535)", v);
    if (e) {
        free(e->host);
        e->host = xstrndup(h, hlen);
        *host = e->host;
    } else {
        *host = own(cfg, xstrndup(h, hlen));
    }
    *port = (int)p;
    return 0;
}

size_t cfg_section(const bs_config *cfg, const char *section, const char *const **keys,
                   const char *const **values)
{
    bs_config *c = (bs_config *)cfg;
    free(c->view_keys);
    free(c->view_values);
    c->view_keys = xcalloc(cfg->n + 1, sizeof *c->view_keys);
    c->view_values = xcalloc(cfg->n + 1, sizeof *c->view_values);
    size_t k = 0;
    for (size_t i = 0; i < cfg->n; i++)
        if (bs_strcaseeq(cfg->e[i].section, section)) {
            c->view_keys[k] = cfg->e[i].key;
            c->view_values[k] = cfg->e[i].value;
            k++;
        }
    *keys = c->view_keys;
    *values = c->view_values;
    return k;
}

int cfg_stamp_read(const char *path, cfg_stamp *out)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -1;
    out->dev = st.st_dev;
    out->ino = st.st_ino;
    out->size = st.st_size;
    out->mtime = st.st_mtim;
    return 0;
}

int cfg_stamp_equal(const cfg_stamp *a, const cfg_stamp *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}
