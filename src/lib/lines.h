/* lines.h — text cut into lines, whatever the line ends: LF (Unix), CRLF (Windows) or a
 * CR alone (classic Mac OS: the original system's user-agents.csv has those).
 *
 * Every line-oriented data and configuration file is read through here (the INI file,
 * the in-band reply table, the User-Agent CSV, the DKIM key file), so that all three
 * conventions are read alike everywhere. A UTF-8 byte order mark at the start is skipped.
 * Line numbers count from 1; a last line without a line end counts, an empty text has no
 * lines. NUL bytes are not special here: a line's length is given, and readers that
 * refuse NUL bytes check with memchr.
 */
#ifndef BS_LINES_H
#define BS_LINES_H

#include <stddef.h>

typedef struct {
    const char *p, *end;
    unsigned long lineno; /* of the line last returned */
} bs_lines;

void bs_lines_init(bs_lines *it, const char *data, size_t len);
/* 1: the next line in *line, *len (its line end excluded); 0: no more lines. */
int bs_lines_next(bs_lines *it, const char **line, size_t *len);

/* Reads a whole file into memory (NUL-terminated; *data freed by the caller).
 * 0, or -1 with errno set (EFBIG when it holds more than max bytes). */
int bs_read_file(const char *path, size_t max, char **data, size_t *len);

#endif
