/* history.h — the per-message history: one SQLite database (WAL) owned by report.
 *
 * One row per record report logs (every kind but params): when it was logged, its kind,
 * record id (the spool id of a spooled message), outcome, routing stream, planned
 * actions, in-band reply code, the addresses and identifiers it can be found by
 * (envelope recipient, envelope sender, Message-ID, X-MSFBL; searched through one FTS5
 * index of their hashes, see history.c), its log line and its
 * timeline (a JSON array of events: received, accepted or refused with the reply,
 * authentication verdicts, routing, plan, each action with its result, reports sent,
 * logged, settled). Every text is cut at HIST_FIELD_MAX bytes and a timeline at
 * HIST_EVENTS_MAX entries, so a row is bounded whatever the record holds, and the table
 * at max_rows rows: the database's size is bounded.
 *
 * Writing: hist_add (the record loop) builds a record's row into the batch being
 * filled; hist_submit hands that batch to the writer thread, which inserts it and
 * commits, in one transaction, while the record loop goes on with the next batch;
 * hist_wait waits for that commit. report writes a batch's log lines only after its
 * commit (see report.c), so a message whose line is in the log has its row in the
 * database, whatever moment report is killed at; SQLite's WAL keeps the database
 * consistent across a kill. Retention (rows older than `days`, beyond `max_rows`) is
 * applied with a commit, at most once a second, in bounded steps. A write error is a
 * warning (once per failure spell); the batch is lost to the history, not to the log.
 *
 * Readers (the HTTP threads): hist_reader_open opens a second, read-only connection;
 * the functions on it serialise themselves (one mutex).
 */
#ifndef BS_REPORT_HISTORY_H
#define BS_REPORT_HISTORY_H

#include <jansson.h>

#define HIST_FIELD_MAX 512 /* bytes of one text field */
#define HIST_LINE_MAX 2048 /* bytes of the log line kept */
#define HIST_EVENTS_MAX 40 /* events of one timeline */
#define HIST_LIMIT_MAX 200 /* rows of one /json/messages page */
#define HIST_LIMIT_DEFAULT 20

typedef struct rp_history rp_history;

/* Opens (creates) the database. NULL on failure with *err (caller frees). */
rp_history *hist_open(const char *path, long days, long max_rows, char **err);
void hist_close(rp_history *h);

/* One logged record: its row in the batch being filled. level (static) and line as
 * logged; settle (static) what becomes of its spool file ("deleted", "kept",
 * "refused") or NULL. Returns 0. */
int hist_add(rp_history *h, const json_t *rec, double now, const char *level, const char *line,
             const char *settle);
/* The timeline hist_add stores for rec, as JSON text (caller frees); *outcome static.
 * For tests and the fuzz target. */
char *hist_timeline(const json_t *rec, double now, const char *level, const char *settle,
                    const char **outcome);
/* Waits for the batch being written, then hands the filled one to the writer thread;
 * now is the time the retention is reckoned from. 1 when a batch was handed over, 0
 * when there was nothing to write. */
int hist_submit(rp_history *h, double now);
/* Waits until the batch handed over is committed (or failed). */
void hist_wait(rp_history *h);
/* hist_submit and hist_wait. */
void hist_commit(rp_history *h, double now);

/* ---- reading ---- */

typedef struct rp_hist_reader rp_hist_reader;
rp_hist_reader *hist_reader_open(const char *path, char **err);
void hist_reader_close(rp_hist_reader *r);

/* The parameters of GET /json/messages. */
typedef struct {
    char *rcpt, *mail_from, *message_id, *spool_id, *msfbl; /* NULL: not a criterion */
    long limit;                                             /* 1..HIST_LIMIT_MAX */
    long long before;                                       /* rows with seq < before; 0 any */
} hist_query;
void hist_query_init(hist_query *q);
void hist_query_free(hist_query *q);
/* One query parameter. 0, or -1 with *why (static text): unknown key, bad value. An
 * address is kept lower-cased without <>, a Message-ID without <>. */
int hist_query_set(hist_query *q, const char *key, const char *value, const char **why);

/* {"messages": [...], "next_before": N | null} (newest first; caller decrefs), or NULL
 * with *err (caller frees). */
json_t *hist_messages(rp_hist_reader *r, const hist_query *q, char **err);

/* Time ranges of the page: "1h" "6h" "24h" "7d" "30d" (seconds, bucket width). */
int hist_range(const char *name, long *seconds, long *step);

/* {"range", "from", "step", "times": [...], "series": {outcome: [counts]},
 *  "model": {"n": N, "rows": [...]}, "codes": [{"code", "count"}]}; params is the
 * latest params record (configured shares) or NULL. NULL with *err. */
json_t *hist_overview(rp_hist_reader *r, const char *range, double now, const json_t *params,
                      char **err);

/* Wilson score interval of k successes in n at 95 %: [*lo, *hi] (n = 0: [0, 1]). */
void hist_wilson(long long k, long long n, double *lo, double *hi);

#endif
