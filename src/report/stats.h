/* stats.h — report's counters, messages-per-minute series and model parameters.
 *
 * One rp_stats holds everything /json, /json/ts-messages, /metrics and the page show,
 * and everything the state file keeps across restarts. The fixed counters (SPEC A9 plus
 * the new ones) always exist, in a stable order; others (spf_<result>, records_<kind>...)
 * are created on first use, up to STATS_MAX_DYNAMIC of them.
 *
 * Locking: the record loop and the HTTP thread share one rp_stats; callers hold
 * stats_lock() around every access (the functions here never lock themselves).
 */
#ifndef BS_REPORT_STATS_H
#define BS_REPORT_STATS_H

#include <jansson.h>
#include <stddef.h>

#define STATS_MAX_DYNAMIC 256
#define STATS_SERIES_SECONDS (10 * 24 * 3600) /* messages per minute kept for 10 days */

typedef struct rp_stats rp_stats;

/* What a known counter means: its label on the page and in the HELP text, and which
 * table of the page it belongs to. */
typedef enum {
    GROUP_MAIN,
    GROUP_ERROR,
    GROUP_URL,
    GROUP_LISTEN,
    GROUP_OTHER,
    GROUP_PERSONA, /* persona_replies, and the dynamic persona_<persona>_<rule> counters */
} counter_group;
typedef struct {
    const char *name;
    const char *label;
    counter_group group;
} counter_info;
extern const counter_info stats_known[];
extern const size_t stats_known_n;

rp_stats *stats_new(double now);
void stats_free(rp_stats *st);
void stats_lock(rp_stats *st);
void stats_unlock(rp_stats *st);

/* Adds n to counter name (sanitised to [a-z0-9_], at most 64 characters). */
void stats_add(rp_stats *st, const char *name, long long n);
long long stats_get(const rp_stats *st, const char *name);
size_t stats_count(const rp_stats *st);
/* i-th counter (0 <= i < stats_count), in display order. */
const char *stats_name(const rp_stats *st, size_t i, long long *value);

/* One more message processed at time now: total_messages and the minute series. */
void stats_message(rp_stats *st, double now);
/* Drops minutes older than now - STATS_SERIES_SECONDS. */
void stats_prune(rp_stats *st, double now);
size_t stats_series_len(const rp_stats *st);

/* The latest params record (a copy is kept). NULL when none was seen. */
void stats_set_params(rp_stats *st, const json_t *params_rec);
const json_t *stats_params(const rp_stats *st);

double stats_started(const rp_stats *st);
/* The latest "schedule" record (pending actions by type, next due time), a copy is kept;
 * NULL when none was seen. Not kept in the state file: schedule sends it again. */
void stats_set_schedule(rp_stats *st, const json_t *schedule_rec);
const json_t *stats_schedule(const rp_stats *st);
/* 2026-11-24T17:57:00+00:00 (buf >= 32). */
char *stats_timestr(double t, char *buf, size_t n);

int stats_dirty(const rp_stats *st);
void stats_mark_clean(rp_stats *st);
void stats_mark_dirty(rp_stats *st);

/* Documents served (new references / caller frees). */
json_t *stats_json(const rp_stats *st);        /* GET /json */
json_t *stats_series(const rp_stats *st);      /* GET /json/ts-messages */
json_t *stats_params_json(const rp_stats *st); /* GET /json/params: {} when none */
char *stats_metrics(const rp_stats *st);       /* GET /metrics */

/* State file. stats_state is the whole state as JSON; stats_load_state restores it
 * (0 ok, -1 with *why, static text, when the document is not a state). */
json_t *stats_state(const rp_stats *st);
int stats_load_state(rp_stats *st, const json_t *state, const char **why);
/* Atomic save: write PATH.tmp.<pid>, fsync, rename, fsync the directory.
 * 0 ok, -1 with errno set. */
int stats_save_file(const json_t *state, const char *path);
/* 1 loaded, 0 no such file, -1 unreadable or not a state (*err: caller frees). */
int stats_load_file(rp_stats *st, const char *path, char **err);

#endif
