/* settle.h — what happens to a spooled file once its log line is written (SPEC A8).
 *
 * Without a done directory the file is deleted. With one (created when missing) the
 * file is moved there when it is to be kept — its line has a `!` error or the message
 * asked for it with X-Bouncy-Sink: store-done — and deleted otherwise. Failures are
 * warnings on stderr: the log line already stands.
 *
 * The path comes from a record, so it is not trusted: only a regular file directly in
 * the spool's claimed directory ([Listen] Spool + /claimed, where ingest claims files)
 * is ever touched. The directory is opened once and every operation is relative to it
 * (unlinkat, renameat, openat with O_NOFOLLOW) on the file's last path component, which
 * must be a plain *.msg name; the record's directory part must be that very directory
 * (same device and inode), wherever it was reached from. Anything else is refused
 * before the line is written, and nothing is touched.
 */
#ifndef BS_REPORT_SETTLE_H
#define BS_REPORT_SETTLE_H

typedef struct rp_settle rp_settle;

/* claimed_dir: the spool's claimed directory; done_dir: Done_Msg_File_Dest or NULL.
 * Both are opened when first needed (ingest creates claimed/, settling creates the
 * done directory). The strings are copied. */
rp_settle *settle_new(const char *claimed_dir, const char *done_dir);
void settle_free(rp_settle *s);

/* Whether the file will be kept (the line then gets the `!done` suffix). */
int settle_keeps(const rp_settle *s, int has_error, int store_done);

/* Checks a record's settle path without touching anything: 0 when it names a file of
 * the claimed directory that may be settled (*name then points to its last component
 * inside path; a file already gone passes, settle_file warns about it), -1 with *why (a
 * static string) when it must be refused. */
int settle_check(rp_settle *s, const char *path, const char **name, const char **why);

/* Deletes or moves name (as passed by settle_check) in the claimed directory. 0 done,
 * -1 failed (warning printed). */
int settle_file(rp_settle *s, const char *name, int keep);

#endif
