/* logfile.h — the consume-mail log: one writer, daily rotation at local midnight.
 *
 * Lines are `<YYYY-MM-DD HH:MM:SS,mmm>,consume-mail,<LEVEL>,<text>` in local time, each
 * flushed to the kernel as written. When a line's time falls on a later local day than
 * the file's current content, the file is renamed to `<Logfile>.YYYY-MM-DD` (the day that
 * ended; appended to when it exists already) and a new file started; then only the
 * newest `backups` rotated files are kept (0 keeps them all, as Python's handler did).
 * On open, the day of an existing file is that of its modification time, so a restart
 * on a later day rotates first.
 */
#ifndef BS_REPORT_LOGFILE_H
#define BS_REPORT_LOGFILE_H

#define LOG_LOGGER_NAME "consume-mail"

typedef struct rp_log rp_log;

/* NULL on failure (*err: caller frees). now decides the current day of a new file. */
rp_log *rplog_open(const char *path, long backups, char **err);
/* 0 ok; -1 write error (errno set). Rotation problems are warnings. */
int rplog_write(rp_log *lg, double now, const char *level, const char *text);
/* As rplog_write, but the line may stay in the buffer (one write per batch of lines) until
 * rplog_flush, which the caller runs before anything that needs the line on its way (an
 * acknowledgement, a settled file) and before it waits for input. */
int rplog_put(rp_log *lg, double now, const char *level, const char *text);
int rplog_flush(rp_log *lg);
/* 0 ok, -1 close error. Frees lg. */
int rplog_close(rp_log *lg);

/* The newest rotated file of the log at path (`<path>.YYYY-MM-DD`, the latest date), or
 * NULL when there is none (caller frees). */
char *rplog_newest_rotated(const char *path);

/* Local calendar day as YYYYMMDD. */
long rplog_day(double t);

#endif
