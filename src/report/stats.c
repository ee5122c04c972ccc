/* stats.c — counters, the messages-per-minute series, and the state file. */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* SPEC A9 first (the old page's labels), then the counters new features added. */
const counter_info stats_known[] = {
    {"total_messages", "Messages processed", GROUP_MAIN},
    {"accept", "Accepted, not opened", GROUP_MAIN},
    {"open", "Opened", GROUP_MAIN},
    {"open_again", "Opened a second time", GROUP_MAIN},
    {"click", "Clicked", GROUP_MAIN},
    {"click_again", "Clicked a second time", GROUP_MAIN},
    {"oob_sent", "OOB replies successfully sent", GROUP_MAIN},
    {"fbl_sent", "FBL replies successfully sent", GROUP_MAIN},
    {"fail_dkim", "DKIM error, inbound mail DKIM header missing or failed", GROUP_ERROR},
    {"fail_spf", "SPF error, checks failed", GROUP_ERROR},
    {"oob_missing_return_path", "OOB error, inbound mail missing Return-Path:", GROUP_ERROR},
    {"oob_missing_to", "OOB error, inbound mail missing To:", GROUP_ERROR},
    {"oob_return_path_not_sparkpost", "OOB error, return path not SparkPost", GROUP_ERROR},
    {"oob_smtp_error", "OOB error, getting SMTP error response", GROUP_ERROR},
    {"fbl_missing_return_path", "FBL error, inbound mail missing Return-Path:", GROUP_ERROR},
    {"fbl_missing_to", "FBL error, inbound mail missing To:", GROUP_ERROR},
    {"fbl_return_path_not_sparkpost", "FBL error, return path not SparkPost", GROUP_ERROR},
    {"fbl_smtp_error", "FBL error, getting SMTP error response", GROUP_ERROR},
    {"open_url_not_sparkpost", "IMG SRC URLs that are not SparkPost", GROUP_URL},
    {"click_url_not_sparkpost", "A HREF URLs that are not SparkPost", GROUP_URL},
    {"oob_no_mx", "OOB error, Return-Path domain has no MX or address", GROUP_ERROR},
    {"fbl_no_mx", "FBL error, Return-Path domain has no MX or address", GROUP_ERROR},
    {"http_errors", "HTTP requests failed or answered with an error status", GROUP_ERROR},
    {"http_refused", "HTTP requests refused (address policy or connection refused)", GROUP_ERROR},
    {"unsubscribe_error", "One-click unsubscribes that failed", GROUP_ERROR},
    {"error_messages", "Messages that could not be read completely", GROUP_ERROR},
    {"invalid_records", "Malformed records received", GROUP_ERROR},
    {"quarantined", "Spool files quarantined (ingest crashed or timed out reading them)",
     GROUP_ERROR},
    {"inband_4xx", "In-band replies 4xx (temporary)", GROUP_OTHER},
    {"inband_5xx", "In-band replies 5xx (permanent)", GROUP_OTHER},
    {"blackhole", "Accepted and discarded by the blackhole share", GROUP_OTHER},
    {"unsubscribe", "One-click unsubscribes", GROUP_MAIN},
    /* issue 10: out-of-office replies (act-smtp), greylisting, throttling, slow replies
     * (listen) */
    {"ooto_sent", "Out-of-office replies sent", GROUP_MAIN},
    {"ooto_missing_return_path", "OOTO not sent, inbound mail has an empty envelope sender",
     GROUP_ERROR},
    {"ooto_missing_to", "OOTO error, inbound mail missing To:", GROUP_ERROR},
    {"ooto_return_path_not_sparkpost", "OOTO error, return path not SparkPost", GROUP_ERROR},
    {"ooto_no_mx", "OOTO error, Return-Path domain has no MX or address", GROUP_ERROR},
    {"ooto_smtp_error", "OOTO error, getting SMTP error response", GROUP_ERROR},
    {"ooto_auto_submitted", "OOTO not sent, inbound mail is itself auto-submitted (RFC 3834)",
     GROUP_OTHER},
    {"ooto_system_sender", "OOTO not sent, sender is MAILER-DAEMON, owner-* or *-request",
     GROUP_OTHER},
    {"greylist_deferred", "Greylisted (deferred)", GROUP_LISTEN},
    {"greylist_passed", "Greylisted then accepted", GROUP_LISTEN},
    {"throttle_connections", "Throttled: too many concurrent connections", GROUP_LISTEN},
    {"throttle_messages_per_connection", "Throttled: too many messages per connection",
     GROUP_LISTEN},
    {"throttle_messages_per_minute", "Throttled: too many messages per minute", GROUP_LISTEN},
    {"slow_replies", "Slow replies", GROUP_LISTEN},
    /* issue 14: a Return-Path that is not one mailbox gets no report (act-smtp) */
    {"oob_invalid_return_path", "OOB not sent, Return-Path is not one valid address", GROUP_ERROR},
    {"fbl_invalid_return_path", "FBL not sent, Return-Path is not one valid address", GROUP_ERROR},
    {"ooto_invalid_return_path", "OOTO not sent, Return-Path is not one valid address",
     GROUP_ERROR},
    /* issue 18: RFC 3461 NOTIFY (act-smtp) */
    {"oob_not_requested", "OOB not sent, the sender's NOTIFY asked for no failure DSN",
     GROUP_OTHER},
    {"delivered_sent", "Delivered DSNs sent (NOTIFY=SUCCESS)", GROUP_MAIN},
    {"fbl_cfbl", "FBL replies sent to the message's CFBL-Address (RFC 9477)", GROUP_MAIN},
    {"delivered_smtp_error", "Delivered DSN error, getting SMTP error response", GROUP_ERROR},
    {"delivered_no_mx", "Delivered DSN error, Return-Path domain has no MX or address",
     GROUP_ERROR},
    {"delivered_return_path_not_sparkpost", "Delivered DSN error, return path not SparkPost",
     GROUP_ERROR},
    /* issue 18: sender-chosen outcomes (listen's +bs- tags, decide's tags and signed
     * X-Bouncy-Sink-Outcome fields) */
    {"override_reply", "In-band replies chosen by the sender (+bs-CODE)", GROUP_OTHER},
    {"override_defer", "Deferrals chosen by the sender (+bs-defer-until-TIME)", GROUP_OTHER},
    {"override_stream", "Streams chosen by the sender (+bs- action or X-Bouncy-Sink-Outcome)",
     GROUP_OTHER},
    /* issue 14: a record naming a file outside the spool's claimed directory */
    {"settle_refused", "Settle refused: the record named no file of the spool's claimed directory",
     GROUP_ERROR},
    /* issue 16: provider personas (listen); per persona and rule: persona_<persona>_<rule> */
    {"persona_replies", "Replies of provider personas (every rule)", GROUP_PERSONA},
};
const size_t stats_known_n = sizeof stats_known / sizeof stats_known[0];

typedef struct {
    char *name;
    long long value;
} counter;

typedef struct {
    long long minute; /* epoch seconds, multiple of 60 */
    long long count;
} minute_count;

/* Counters by name: open addressing over their index + 1 (0: free), rebuilt whenever a
 * counter is added (the dynamic ones are kept sorted, so indexes move); twice the most
 * counters there can be. A linear search was ~30 string compares a lookup, two lookups a
 * message. */
#define STATS_SLOTS 1024u
_Static_assert(STATS_SLOTS >=
                   2 * (sizeof stats_known / sizeof stats_known[0] + STATS_MAX_DYNAMIC + 1),
               "STATS_SLOTS holds every counter, half full at most");

struct rp_stats {
    pthread_mutex_t mu;
    counter *c;
    size_t n, cap;
    uint32_t slot[STATS_SLOTS];
    minute_count *m;
    size_t mn, mcap;
    json_t *params;
    json_t *schedule; /* the latest schedule record, or NULL */
    double started;
    int dirty;
};

static size_t slot_of(const char *name)
{
    return (size_t)(bs_fnv1a64(name, strlen(name), 0) & (STATS_SLOTS - 1));
}

static void index_rebuild(rp_stats *st)
{
    memset(st->slot, 0, sizeof st->slot);
    for (size_t i = 0; i < st->n; i++) {
        size_t k = slot_of(st->c[i].name);
        while (st->slot[k])
            k = (k + 1) & (STATS_SLOTS - 1);
        st->slot[k] = (uint32_t)(i + 1);
    }
}

/* When this process started: the wall clock, never the injected one (Prometheus's view). */
static double process_started;

rp_stats *stats_new(double now)
{
    rp_stats *st = xcalloc(1, sizeof *st);
    pthread_mutex_init(&st->mu, NULL);
    st->cap = stats_known_n + 16;
    st->c = xcalloc(st->cap, sizeof *st->c);
    for (size_t i = 0; i < stats_known_n; i++)
        st->c[st->n++].name = xstrdup(stats_known[i].name);
    index_rebuild(st);
    st->started = now;
    if (!process_started) { /* the first stats_new, at start (one thread) */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        process_started = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    }
    st->dirty = 1;
    return st;
}

void stats_free(rp_stats *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        free(st->c[i].name);
    free(st->c);
    free(st->m);
    json_decref(st->params);
    json_decref(st->schedule);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

void stats_lock(rp_stats *st)
{
    pthread_mutex_lock(&st->mu);
}

void stats_unlock(rp_stats *st)
{
    pthread_mutex_unlock(&st->mu);
}

/* Counter names become JSON keys and Prometheus metric names: [a-z0-9_], 1-64 chars. */
static void sanitise(const char *name, char *out, size_t n)
{
    size_t j = 0;
    for (const char *p = name; *p && j + 1 < n && j < 64; p++) {
        char ch = *p;
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        out[j++] = ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) ? ch : '_';
    }
    if (j == 0)
        out[j++] = '_';
    out[j] = 0;
}

static counter *find(const rp_stats *st, const char *name)
{
    for (size_t k = slot_of(name); st->slot[k]; k = (k + 1) & (STATS_SLOTS - 1))
        if (strcmp(st->c[st->slot[k] - 1].name, name) == 0)
            return &st->c[st->slot[k] - 1];
    return NULL;
}

static int cmp_counter(const void *a, const void *b)
{
    return strcmp(((const counter *)a)->name, ((const counter *)b)->name);
}

static counter *find_or_add(rp_stats *st, const char *raw)
{
    char name[72];
    sanitise(raw, name, sizeof name);
    counter *c = find(st, name);
    if (c)
        return c;
    if (st->n >= stats_known_n + STATS_MAX_DYNAMIC) {
        c = find(st, "counters_overflow");
        if (c)
            return c;
        snprintf(name, sizeof name, "counters_overflow");
    }
    if (st->n == st->cap) {
        st->cap *= 2;
        st->c = xrealloc(st->c, st->cap * sizeof *st->c);
    }
    st->c[st->n].name = xstrdup(name);
    st->c[st->n].value = 0;
    st->n++;
    /* Dynamic counters are kept sorted by name after the known ones. */
    qsort(st->c + stats_known_n, st->n - stats_known_n, sizeof *st->c, cmp_counter);
    index_rebuild(st);
    return find(st, name);
}

void stats_add(rp_stats *st, const char *name, long long n)
{
    counter *c = find_or_add(st, name);
    c->value += n;
    st->dirty = 1;
}

long long stats_get(const rp_stats *st, const char *name)
{
    char clean[72];
    sanitise(name, clean, sizeof clean);
    const counter *c = find(st, clean);
    return c ? c->value : 0;
}

size_t stats_count(const rp_stats *st)
{
    return st->n;
}

const char *stats_name(const rp_stats *st, size_t i, long long *value)
{
    if (value)
        *value = st->c[i].value;
    return st->c[i].name;
}

static void series_add(rp_stats *st, long long minute, long long count)
{
    if (st->mn && st->m[st->mn - 1].minute == minute) {
        st->m[st->mn - 1].count += count;
        return;
    }
    size_t pos = st->mn;
    if (st->mn && st->m[st->mn - 1].minute > minute) { /* the clock went back */
        size_t lo = 0, hi = st->mn;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (st->m[mid].minute < minute)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < st->mn && st->m[lo].minute == minute) {
            st->m[lo].count += count;
            return;
        }
        pos = lo;
    }
    if (st->mn == st->mcap) {
        st->mcap = st->mcap ? st->mcap * 2 : 256;
        st->m = xrealloc(st->m, st->mcap * sizeof *st->m);
    }
    memmove(st->m + pos + 1, st->m + pos, (st->mn - pos) * sizeof *st->m);
    st->m[pos].minute = minute;
    st->m[pos].count = count;
    st->mn++;
}

static long long minute_of(double t)
{
    return (long long)floor(t / 60.0) * 60;
}

void stats_message(rp_stats *st, double now)
{
    stats_add(st, "total_messages", 1);
    series_add(st, minute_of(now), 1);
}

void stats_prune(rp_stats *st, double now)
{
    long long oldest = minute_of(now) - STATS_SERIES_SECONDS;
    size_t drop = 0;
    while (drop < st->mn && st->m[drop].minute < oldest)
        drop++;
    if (!drop)
        return;
    memmove(st->m, st->m + drop, (st->mn - drop) * sizeof *st->m);
    st->mn -= drop;
    st->dirty = 1;
}

size_t stats_series_len(const rp_stats *st)
{
    return st->mn;
}

void stats_set_params(rp_stats *st, const json_t *params_rec)
{
    json_decref(st->params);
    st->params = json_deep_copy(params_rec);
    st->dirty = 1;
}

void stats_set_schedule(rp_stats *st, const json_t *schedule_rec)
{
    json_decref(st->schedule);
    st->schedule = json_deep_copy(schedule_rec);
}

const json_t *stats_schedule(const rp_stats *st)
{
    return st->schedule;
}

const json_t *stats_params(const rp_stats *st)
{
    return st->params;
}

double stats_started(const rp_stats *st)
{
    return st->started;
}

char *stats_timestr(double t, char *buf, size_t n)
{
    time_t secs = (time_t)floor(t);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    return buf;
}

int stats_dirty(const rp_stats *st)
{
    return st->dirty;
}

void stats_mark_clean(rp_stats *st)
{
    st->dirty = 0;
}

void stats_mark_dirty(rp_stats *st)
{
    st->dirty = 1;
}

json_t *stats_json(const rp_stats *st)
{
    char t[40];
    json_t *o = json_object();
    json_object_set_new(o, "startedRunning", json_string(stats_timestr(st->started, t, sizeof t)));
    for (size_t i = 0; i < st->n; i++)
        json_object_set_new(o, st->c[i].name, json_integer(st->c[i].value));
    if (st->schedule) { /* only with a schedule stage: /json is otherwise as it was */
        json_t *sc = json_object();
        static const char *const keys[] = {"pending", "pending_total", "claimed", "next_due"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            json_t *v = json_object_get(st->schedule, keys[k]);
            json_object_set_new(sc, keys[k], v ? json_deep_copy(v) : json_null());
        }
        json_object_set_new(o, "schedule", sc);
    }
    return o;
}

json_t *stats_series(const rp_stats *st)
{
    char t[40];
    json_t *a = json_array();
    for (size_t i = 0; i < st->mn; i++)
        json_array_append_new(a, json_pack("{s:s, s:I}", "time",
                                           stats_timestr((double)st->m[i].minute, t, sizeof t),
                                           "messages", (json_int_t)st->m[i].count));
    return a;
}

json_t *stats_params_json(const rp_stats *st)
{
    return st->params ? json_deep_copy(st->params) : json_object();
}

static const char *label_of(const char *name)
{
    for (size_t i = 0; i < stats_known_n; i++)
        if (strcmp(stats_known[i].name, name) == 0)
            return stats_known[i].label;
    return NULL;
}

char *stats_metrics(const rp_stats *st)
{
    bs_buf b;
    buf_init(&b);
    for (size_t i = 0; i < st->n; i++) {
        const char *name = st->c[i].name;
        const char *label = label_of(name);
        /* Labels are ours (no backslash or newline), dynamic names are sanitised. */
        buf_printf(&b, "# HELP bouncy_sink_%s_total %s\n", name,
                   label ? label : "Counter created on first use");
        buf_printf(&b, "# TYPE bouncy_sink_%s_total counter\n", name);
        buf_printf(&b, "bouncy_sink_%s_total %lld\n", name, st->c[i].value);
    }
    buf_puts(&b, "# HELP bouncy_sink_started_running_timestamp_seconds When counting started "
                 "(startedRunning)\n"
                 "# TYPE bouncy_sink_started_running_timestamp_seconds gauge\n");
    buf_printf(&b, "bouncy_sink_started_running_timestamp_seconds %.0f\n", floor(st->started));
    buf_puts(&b,
             "# HELP bouncy_sink_series_points Minutes (points) held in the messages-per-minute "
             "series\n# TYPE bouncy_sink_series_points gauge\n");
    buf_printf(&b, "bouncy_sink_series_points %zu\n", st->mn);
    /* for a view of several hosts: which build each runs, and when it (re)started (a
     * counter reset that rate() and increase() then account for) */
    buf_puts(&b, "# HELP bouncy_sink_build_info The build of Bouncy Sink serving these metrics\n"
                 "# TYPE bouncy_sink_build_info gauge\n");
    buf_printf(&b, "bouncy_sink_build_info{version=\"%s\"} 1\n", bs_version);
    buf_puts(&b, "# HELP process_start_time_seconds Start time of the process since unix epoch "
                 "in seconds\n# TYPE process_start_time_seconds gauge\n");
    buf_printf(&b, "process_start_time_seconds %.3f\n", process_started);
    if (st->schedule) {
        buf_puts(&b, "# HELP bouncy_sink_schedule_pending Actions held by schedule, by type\n"
                     "# TYPE bouncy_sink_schedule_pending gauge\n");
        const char *name;
        json_t *v;
        json_object_foreach(json_object_get(st->schedule, "pending"), name, v)
        {
            char clean[40];
            size_t k = 0;
            for (; name[k] && k < sizeof clean - 1; k++) /* names are [a-z_]; be sure */
                clean[k] = (name[k] >= 'a' && name[k] <= 'z') ? name[k] : '_';
            clean[k] = 0;
            buf_printf(&b, "bouncy_sink_schedule_pending{action=\"%s\"} %lld\n", clean,
                       (long long)json_integer_value(v));
        }
        double next = 0;
        const char *due = json_string_value(json_object_get(st->schedule, "next_due"));
        if (due && bs_parse_time(due, &next) != 0)
            next = 0;
        buf_puts(&b, "# HELP bouncy_sink_schedule_next_due_timestamp_seconds When the next held "
                     "action is due (0: none)\n"
                     "# TYPE bouncy_sink_schedule_next_due_timestamp_seconds gauge\n");
        buf_printf(&b, "bouncy_sink_schedule_next_due_timestamp_seconds %.3f\n", next);
    }
    return buf_steal(&b);
}

json_t *stats_state(const rp_stats *st)
{
    json_t *counters = json_object();
    for (size_t i = 0; i < st->n; i++)
        json_object_set_new(counters, st->c[i].name, json_integer(st->c[i].value));
    json_t *series = json_array();
    for (size_t i = 0; i < st->mn; i++)
        json_array_append_new(
            series, json_pack("[I,I]", (json_int_t)st->m[i].minute, (json_int_t)st->m[i].count));
    char t[40];
    json_t *state = json_pack("{s:i, s:s, s:f, s:o, s:o}", "version", 1, "startedRunning",
                              stats_timestr(st->started, t, sizeof t), "started", st->started,
                              "counters", counters, "ts_messages", series);
    if (st->params)
        json_object_set_new(state, "params", json_deep_copy(st->params));
    return state;
}

int stats_load_state(rp_stats *st, const json_t *state, const char **why)
{
    json_t *counters = json_object_get(state, "counters");
    json_t *series = json_object_get(state, "ts_messages");
    json_t *started = json_object_get(state, "started");
    if (!json_is_object(state) || json_integer_value(json_object_get(state, "version")) != 1) {
        *why = "not a report state (version 1)";
        return -1;
    }
    if (!json_is_object(counters) || !json_is_array(series) || !json_is_number(started)) {
        *why = "missing counters, ts_messages or started";
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(counters, key, v)
    {
        if (!json_is_integer(v)) {
            *why = "a counter is not an integer";
            return -1;
        }
    }
    size_t i;
    json_array_foreach(series, i, v)
    {
        if (!json_is_array(v) || !json_is_integer(json_array_get(v, 0)) ||
            !json_is_integer(json_array_get(v, 1))) {
            *why = "ts_messages entry is not [minute, count]";
            return -1;
        }
    }
    json_object_foreach(counters, key, v)
    {
        counter *c = find_or_add(st, key);
        c->value = json_integer_value(v);
    }
    st->mn = 0;
    json_array_foreach(series, i, v)
        series_add(st, (long long)json_integer_value(json_array_get(v, 0)) / 60 * 60,
                   (long long)json_integer_value(json_array_get(v, 1)));
    st->started = json_number_value(started);
    json_t *params = json_object_get(state, "params");
    if (json_is_object(params))
        stats_set_params(st, params);
    st->dirty = 0;
    return 0;
}

int stats_save_file(const json_t *state, const char *path)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    char *text = json_dumps(state, JSON_COMPACT);
    size_t len = strlen(text), off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            break;
        }
        off += (size_t)w;
    }
    free(text);
    if (rc == 0 && (write(fd, "\n", 1) != 1 || fsync(fd) != 0))
        rc = -1;
    int saved = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0) {
        unlink(tmp);
    } else {
        /* Make the rename itself durable. */
        char *dcopy = xstrdup(path);
        int dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dcopy);
    }
    free(tmp);
    errno = saved;
    return rc;
}

int stats_load_file(rp_stats *st, const char *path, char **err)
{
    *err = NULL;
    json_error_t jerr;
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    json_t *state = json_load_file(path, 0, &jerr);
    if (!state) {
        *err = xasprintf("%s: %s", path, jerr.text);
        return -1;
    }
    const char *why;
    int rc = stats_load_state(st, state, &why);
    json_decref(state);
    if (rc < 0) {
        *err = xasprintf("%s: %s", path, why);
        return -1;
    }
    return 1;
}
