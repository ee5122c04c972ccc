/* settle.h — what happens to a spooled file once its log line is written (SPEC A8).
 *
 * Without a done directory the file is deleted. With one (created when missing) the
 * file is moved there when it is to be kept — its line has a `!` error or the message
 * asked for it with X-Bouncy-Sink: store-done — and deleted otherwise. Failures are
 * warnings on stderr: the log line already stands.
 */
#ifndef BS_REPORT_SETTLE_H
#define BS_REPORT_SETTLE_H

/* Whether the file will be kept (the line then gets the `!done` suffix). */
int settle_keeps(const char *done_dir, int has_error, int store_done);
/* 0 done, -1 failed (warning printed). */
int settle_file(const char *path, const char *done_dir, int keep);

#endif
