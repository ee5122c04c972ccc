/* spool.h — durable spool files: one <16 hex>.msg per spooled recipient.
 *
 * Each file is written to ".<id>.tmp" in the spool directory, fsync'ed (when asked),
 * then renamed to "<id>.msg". A job is all or nothing: on any failure every file of the
 * job (temporary or already renamed) is removed and the errno is returned, so a 250 is
 * only ever given for files that exist.
 *
 * Two ways to run a job: spool_run does all of it at once (a fsync per file and one
 * directory fsync per job); or spool_stage writes and fsyncs the temporary files (many
 * threads at once), and spool_commit then finishes a whole group of staged jobs with the
 * renames and ONE directory fsync for the group. A group is all or nothing too: on any
 * rename or fsync error every job of the group fails and leaves no file.
 *
 * With SPOOL_FSYNC_FS (Fsync = syncfs) no file is fsync'ed: spool_commit makes the whole
 * group's data durable with ONE syncfs(2) of the spool's file system before the renames,
 * then fsyncs the directory as above. syncfs reports a write-back error of any file of the
 * file system once (to the descriptor spool_syncfs_open keeps, since it was opened), so a
 * failed syncfs fails its group AND every job that was being staged while it ran (its
 * pages may have been among those lost), not only the group that asked.
 */
#ifndef LISTEN_SPOOL_H
#define LISTEN_SPOOL_H

#include <stddef.h>

typedef struct {
    char id[17];
    char *header; /* Return-Path + Received lines, CRLF ended */
    size_t header_len;
} spool_file;

/* spool_job.fsync */
enum {
    SPOOL_FSYNC_NO,    /* Fsync = no: written and renamed, nothing flushed */
    SPOOL_FSYNC_FILES, /* yes: every file fsync'ed, then one directory fsync per group */
    SPOOL_FSYNC_FS,    /* syncfs: one syncfs(2) per group, then one directory fsync */
};

typedef struct spool_job {
    const char *dir;
    int fsync; /* SPOOL_FSYNC_* */
    spool_file *files;
    size_t nfiles;
    const char *body; /* borrowed from the session, stays put while the job runs */
    size_t body_len;
    int body_fd;                 /* >= 0: the body is in this file (from offset 0), not in body */
    int err;                     /* result: 0 or an errno */
    size_t staged;               /* how many ".<id>.tmp" files of the job exist (spool_stage) */
    unsigned long sync_failures; /* failed syncfs calls when staging began (SPOOL_FSYNC_FS) */
    void *owner;                 /* for the caller (the connection waiting on it) */
    struct spool_job *next;
} spool_job;

/* Creates the directory if missing and removes temporary files (".<16 hex>.tmp",
 * ".<16 hex>.spill") a crash left behind. 0 ok, -1 errno set. */
int spool_prepare(const char *dir);
/* For SPOOL_FSYNC_FS: opens and keeps a descriptor of the spool directory, on which every
 * group's syncfs is called (write-back errors are reported to it from this call on). Once,
 * before the first job. 0 ok, -1 errno set. */
int spool_syncfs_open(const char *dir);
/* The syncfs(2) spool_commit calls: a test hook (tests/unit/listen/spool_test.c makes it
 * fail; a file system's write-back cannot be made to fail here). */
extern int (*spool_syncfs_call)(int fd);
/* A new random id: 16 lowercase hex digits and a NUL (getrandom(2) bytes, fetched 32 ids
 * at a time per thread). */
void spool_new_id(char id[17]);
/* Opens a new spill file ".<id>.spill" for a large message body; its path goes to
 * path (size >= 4096). Returns the fd or -1 (errno set). */
int spool_spill_open(const char *dir, char *path, size_t size);
/* Writes all of p to fd. 0 ok, -1 errno set. */
int spool_write_all(int fd, const char *p, size_t n);
/* Runs the job: spool_stage, then spool_commit of it alone. Sets and returns job->err. */
int spool_run(spool_job *job);
/* First half of a grouped job: writes (and with job->fsync, fsyncs) every ".<id>.tmp". On
 * failure nothing of the job is left. Sets and returns job->err. */
int spool_stage(spool_job *job);
/* Second half, for n staged jobs of the same directory (one committer at a time): with
 * SPOOL_FSYNC_FS first one syncfs; renames every file, then (with fsync) fsyncs the
 * directory once. Sets every job's err: all 0, or all the first errno met (and no
 * file of the group left). Returns that errno or 0. */
int spool_commit(spool_job **jobs, size_t n);
void spool_job_free(spool_job *job);

#endif
