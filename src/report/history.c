/* history.c — the per-message history in SQLite (see history.h). */
#include "history.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "util.h"

/* The planned actions as bits of the acts column. */
static const struct {
    const char *name;
    int bit;
} action_bits[] = {
    {"open", 1},         {"open_again", 2}, {"click", 4}, {"click_again", 8},
    {"unsubscribe", 16}, {"oob", 32},       {"fbl", 64},  {"ooto", 128},
};
#define ACT_OPEN 1
#define ACT_OPEN_AGAIN 2
#define ACT_CLICK 4
#define ACT_CLICK_AGAIN 8
#define ACT_OOB 32
#define ACT_FBL 64

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS records("
    " seq INTEGER PRIMARY KEY," /* insertion order: the paging key */
    " t REAL NOT NULL,"         /* when report logged it (epoch seconds) */
    " kind TEXT NOT NULL, id TEXT NOT NULL, outcome TEXT NOT NULL, stream TEXT,"
    " acts INTEGER NOT NULL DEFAULT 0, code INTEGER,"
    " rcpt TEXT, mail_from TEXT, message_id TEXT, msfbl TEXT,"
    " level TEXT, line TEXT, events TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS records_t ON records(t);"
    "CREATE INDEX IF NOT EXISTS records_id ON records(id);"
    "CREATE INDEX IF NOT EXISTS records_rcpt ON records(rcpt) WHERE rcpt IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS records_from ON records(mail_from) WHERE mail_from IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS records_mid ON records(message_id) WHERE message_id IS NOT NULL;"
    "CREATE INDEX IF NOT EXISTS records_msfbl ON records(msfbl) WHERE msfbl IS NOT NULL;";

struct rp_history {
    sqlite3 *db;
    sqlite3_stmt *insert;
    char *path;
    long days, max_rows;
    int in_txn;
    double last_prune;
};

struct rp_hist_reader {
    sqlite3 *db;
    pthread_mutex_t lock;
};

static char *db_err(sqlite3 *db, const char *what, const char *path)
{
    return xasprintf("%s (%s): %s", what, path, db ? sqlite3_errmsg(db) : "out of memory");
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

rp_history *hist_open(const char *path, long days, long max_rows, char **err)
{
    *err = NULL;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        *err = db_err(db, "cannot open history database", path);
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 2000);
    /* WAL: readers (the web threads) never block the writer, and a killed writer leaves
     * a consistent database. synchronous=NORMAL: a commit is durable against a crash of
     * report (the kernel has it), not against one of the machine, like the log file. */
    if (exec(db, "PRAGMA journal_mode=WAL") != 0 || exec(db, "PRAGMA synchronous=NORMAL") != 0 ||
        exec(db, schema) != 0) {
        *err = db_err(db, "cannot set up history database", path);
        sqlite3_close(db);
        return NULL;
    }
    rp_history *h = xcalloc(1, sizeof *h);
    h->db = db;
    h->path = xstrdup(path);
    h->days = days;
    h->max_rows = max_rows;
    if (sqlite3_prepare_v3(db,
                           "INSERT INTO records(t,kind,id,outcome,stream,acts,code,rcpt,mail_from,"
                           "message_id,msfbl,level,line,events) "
                           "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &h->insert, NULL) != SQLITE_OK) {
        *err = db_err(db, "cannot prepare history insert", path);
        hist_close(h);
        return NULL;
    }
    return h;
}

void hist_close(rp_history *h)
{
    if (!h)
        return;
    if (h->in_txn)
        hist_commit(h, 0);
    sqlite3_finalize(h->insert);
    sqlite3_close(h->db);
    free(h->path);
    free(h);
}

/* ---- one record's row ---- */

/* A copy of s cut at max bytes, not inside a UTF-8 sequence (caller frees), or NULL. */
static char *cut(const char *s, size_t max)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n <= max)
        return xstrdup(s);
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return xstrndup(s, max);
}

/* An address as it is searched: the part inside <...> when there is one, trimmed,
 * lower-cased, cut (caller frees); NULL when empty. */
static char *norm_address(const char *s)
{
    if (!s)
        return NULL;
    const char *lt = strrchr(s, '<'), *end;
    if (lt && (end = strchr(lt, '>')) != NULL)
        s = lt + 1;
    else
        end = s + strlen(s);
    while (s < end && isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    if (end == s)
        return NULL;
    char *full = xstrndup(s, (size_t)(end - s));
    bs_lower(full);
    char *c = cut(full, HIST_FIELD_MAX);
    free(full);
    return c;
}

/* A Message-ID without its <> and surrounding space (caller frees); NULL when empty. */
static char *norm_msgid(const char *s)
{
    if (!s)
        return NULL;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '<')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '>'))
        n--;
    if (n == 0)
        return NULL;
    char *full = xstrndup(s, n);
    char *c = cut(full, HIST_FIELD_MAX);
    free(full);
    return c;
}

static void set_str(json_t *o, const char *key, const char *s)
{
    if (s && *s) {
        char *c = cut(s, HIST_FIELD_MAX);
        json_object_set_new(o, key, json_stringn_nocheck(c, strlen(c)));
        free(c);
    }
}

static void set_time(json_t *o, double t)
{
    char iso[40];
    json_object_set_new(o, "time", json_string(bs_iso8601(t, iso, sizeof iso)));
}

static json_t *event(json_t *events, const char *name)
{
    json_t *e = json_object();
    json_object_set_new(e, "event", json_string(name));
    json_array_append_new(events, e);
    return e;
}

/* The JSON text of a record field as it was (strings stay valid UTF-8: records are). */
static void copy_field(json_t *e, const char *key, const json_t *v)
{
    if (json_is_string(v))
        set_str(e, key, json_string_value(v));
    else if (json_is_integer(v) || json_is_real(v) || json_is_boolean(v))
        json_object_set(e, key, (json_t *)v);
}

/* `<code> <enhanced> <text>` of a reply object. */
static char *reply_text(const json_t *reply)
{
    if (!json_is_object(reply))
        return NULL;
    bs_buf b;
    buf_init(&b);
    const json_t *code = json_object_get(reply, "code");
    const char *enh = json_string_value(json_object_get(reply, "enhanced"));
    const char *text = json_string_value(json_object_get(reply, "text"));
    if (json_is_integer(code))
        buf_printf(&b, "%lld", json_integer_value(code));
    if (enh && *enh && !(text && strncmp(text, enh, strlen(enh)) == 0))
        buf_printf(&b, "%s%s", b.len ? " " : "", enh);
    if (text && *text)
        buf_printf(&b, "%s%s", b.len ? " " : "", text);
    return buf_steal(&b);
}

static double record_time(const json_t *rec, const char *path, double fallback)
{
    double t;
    const char *s = rec_str(rec, path);
    return s && bs_parse_time(s, &t) == 0 ? t : fallback;
}

static void received_events(const json_t *rec, json_t *events, double now)
{
    const json_t *env = json_object_get(rec, "envelope");
    json_t *e = event(events, "received");
    set_time(e, record_time(rec, "envelope.received", record_time(rec, "ts", now)));
    copy_field(e, "client_ip", json_object_get(env, "client_ip"));
    copy_field(e, "helo", json_object_get(env, "helo"));
    copy_field(e, "mail_from", json_object_get(env, "mail_from"));
    copy_field(e, "rcpt", json_object_get(env, "rcpt"));
}

static void http_events(const json_t *rec, json_t *events, int acts, double now)
{
    static const char *const kinds[] = {"open", "open_again", "click", "click_again"};
    const json_t *http = json_object_get(rec, "http");
    for (size_t k = 0; k < 4; k++) {
        if (!(acts & (1 << k)))
            continue;
        const json_t *list = json_object_get(http, kinds[k]);
        size_t i;
        const json_t *u;
        if (!json_is_array(list)) {
            json_t *e = event(events, kinds[k]);
            set_time(e, now);
            json_object_set_new(e, "error", json_string("no act-http outcome"));
            continue;
        }
        json_array_foreach(list, i, u)
        {
            if (json_array_size(events) >= HIST_EVENTS_MAX)
                break;
            json_t *e = event(events, kinds[k]);
            set_time(e, now);
            copy_field(e, "url", json_object_get(u, "url"));
            copy_field(e, "status", json_object_get(u, "status"));
            copy_field(e, "error", json_object_get(u, "error"));
            copy_field(e, "dry_run", json_object_get(u, "dry_run"));
        }
    }
    const json_t *u = json_object_get(http, "unsubscribe");
    if (json_is_object(u)) {
        json_t *e = event(events, "unsubscribe");
        set_time(e, now);
        copy_field(e, "url", json_object_get(u, "url"));
        copy_field(e, "status", json_object_get(u, "status"));
        copy_field(e, "error", json_object_get(u, "error"));
    }
}

static void smtp_events(const json_t *rec, json_t *events, double now)
{
    static const char *const kinds[] = {"oob", "fbl", "ooto"};
    const json_t *smtp = json_object_get(rec, "smtp");
    for (size_t k = 0; k < 3; k++) {
        const json_t *o = json_object_get(smtp, kinds[k]);
        if (!json_is_object(o))
            continue;
        json_t *e = event(events, kinds[k]);
        set_time(e, now);
        static const char *const keys[] = {"status", "from",     "to",    "mx",
                                           "relay",  "attempts", "reply", "error"};
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            copy_field(e, keys[i], json_object_get(o, keys[i]));
    }
}

/* Outcome, stream, actions and the events of a message record. */
static const char *message_row(const json_t *rec, json_t *events, double now, int *acts,
                               const char **stream)
{
    received_events(rec, events, now);
    json_t *e = event(events, "accepted");
    set_time(e, record_time(rec, "ts", now));
    copy_field(e, "spool_file", rec_get(rec, "source.name"));
    copy_field(e, "size", json_object_get(rec, "size"));
    copy_field(e, "message_id", rec_get(rec, "headers.message_id"));
    copy_field(e, "subject", rec_get(rec, "headers.subject"));

    e = event(events, "auth");
    copy_field(e, "dkim", rec_get(rec, "dkim.result"));
    copy_field(e, "dkim_domain", rec_get(rec, "dkim.domain"));
    copy_field(e, "dkim_reason", rec_get(rec, "dkim.reason"));
    copy_field(e, "spf", rec_get(rec, "spf.result"));
    copy_field(e, "spf_domain", rec_get(rec, "spf.domain"));
    copy_field(e, "dmarc", rec_get(rec, "dmarc.result"));

    const char *error = rec_str(rec, "error");
    if (error) {
        e = event(events, "error");
        set_str(e, "error", error);
        copy_field(e, "error_code", json_object_get(rec, "error_code"));
    }
    const json_t *plan = json_object_get(rec, "plan");
    *stream = json_string_value(json_object_get(plan, "stream"));
    if (!json_is_object(plan))
        return "error";
    e = event(events, "routed");
    set_str(e, "stream", *stream);
    const char *skip = json_string_value(json_object_get(plan, "skip"));
    e = event(events, "plan");
    json_t *names = json_array();
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(plan, "actions"), i, a)
    {
        const char *name = json_string_value(a);
        if (!name)
            continue;
        for (size_t b = 0; b < sizeof action_bits / sizeof *action_bits; b++)
            if (strcmp(name, action_bits[b].name) == 0)
                *acts |= action_bits[b].bit;
        if (json_array_size(names) < 16) {
            char *c = cut(name, 64);
            json_array_append_new(names, json_string(c));
            free(c);
        }
    }
    json_object_set_new(e, "actions", names);
    if (skip) {
        set_str(e, "skip", skip);
        copy_field(e, "skip_code", json_object_get(plan, "skip_code"));
    }
    http_events(rec, events, *acts, now);
    smtp_events(rec, events, now);
    if (error)
        return "error";
    if (skip)
        return "skipped";
    return *acts & ACT_OOB     ? "oob"
           : *acts & ACT_FBL   ? "fbl"
           : *acts & ACT_CLICK ? "click"
           : *acts & ACT_OPEN  ? "open"
           : *acts & 128       ? "ooto"
           : *acts & 16        ? "unsubscribe"
                               : "accept";
}

/* Outcome, reply code and events of a record from listen (and of the other kinds). */
static const char *listen_row(const json_t *rec, const char *kind, json_t *events, double now,
                              long long *code, const char **stream)
{
    *stream = rec_str(rec, "stream");
    received_events(rec, events, now);
    const json_t *reply = json_object_get(rec, "reply");
    const json_t *c = json_object_get(reply, "code");
    if (json_is_integer(c))
        *code = json_integer_value(c);
    char *text = reply_text(reply);
    const char *outcome;
    json_t *e;
    if (strcmp(kind, "inband") == 0) {
        e = event(events, "refused");
        outcome = *code >= 400 && *code < 500   ? "inband_4xx"
                  : *code >= 500 && *code < 600 ? "inband_5xx"
                                                : "inband_other";
    } else if (strcmp(kind, "blackhole") == 0) {
        e = event(events, "blackholed");
        outcome = "blackhole";
    } else if (strcmp(kind, "greylist") == 0) {
        const char *o = rec_str(rec, "outcome");
        int passed = o && strcmp(o, "passed") == 0;
        e = event(events, passed ? "greylist_passed" : "deferred");
        outcome = passed ? "greylist_passed" : "deferral";
    } else if (strcmp(kind, "throttle") == 0) {
        e = event(events, "deferred");
        set_str(e, "limit", rec_str(rec, "limit"));
        outcome = "deferral";
    } else {
        e = event(events, kind);
        set_str(e, "error", rec_str(rec, "error"));
        outcome = strcmp(kind, "slow") == 0         ? "slow"
                  : strcmp(kind, "quarantine") == 0 ? "quarantined"
                  : strcmp(kind, "invalid") == 0    ? "invalid"
                                                    : "other";
    }
    set_time(e, record_time(rec, "ts", now));
    set_str(e, "stream", *stream);
    set_str(e, "reply", text);
    free(text);
    return outcome;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int hist_add(rp_history *h, const json_t *rec, double now, const char *level, const char *line,
             const char *settle)
{
    const char *kind = rec_kind(rec);
    if (!kind)
        kind = "invalid";
    if (strcmp(kind, "params") == 0)
        return 0;
    if (!h->in_txn) {
        if (exec(h->db, "BEGIN") != 0) {
            bs_warn("history: cannot begin a transaction (%s): %s", h->path, sqlite3_errmsg(h->db));
            return -1;
        }
        h->in_txn = 1;
    }
    json_t *events = json_array();
    int acts = 0;
    long long code = 0;
    const char *stream = NULL, *outcome;
    int is_message = strcmp(kind, "message") == 0;
    if (is_message)
        outcome = message_row(rec, events, now, &acts, &stream);
    else
        outcome = listen_row(rec, kind, events, now, &code, &stream);
    while (json_array_size(events) > HIST_EVENTS_MAX - 2) /* room for logged and settled */
        json_array_remove(events, json_array_size(events) - 1);
    json_t *e = json_object();
    json_object_set_new(e, "event", json_string("logged"));
    set_time(e, now);
    json_object_set_new(e, "level", json_string(level));
    json_array_append_new(events, e);
    if (settle) {
        e = json_object();
        json_object_set_new(e, "event", json_string("settled"));
        set_time(e, now);
        json_object_set_new(e, "file", json_string(settle));
        json_array_append_new(events, e);
    }
    char *ev = json_dumps(events, JSON_COMPACT);
    json_decref(events);

    const char *rcpt = rec_str(rec, "envelope.rcpt");
    if (!rcpt || !*rcpt)
        rcpt = rec_str(rec, "headers.to");
    const char *from = rec_str(rec, "envelope.mail_from");
    if (!from || !*from)
        from = rec_str(rec, "headers.from");
    char *n_rcpt = norm_address(rcpt), *n_from = norm_address(from);
    char *n_mid = norm_msgid(rec_str(rec, "headers.message_id"));
    char *n_msfbl = cut(rec_str(rec, "headers.x_msfbl"), HIST_FIELD_MAX);
    if (n_msfbl && !*n_msfbl) {
        free(n_msfbl);
        n_msfbl = NULL;
    }
    char *n_id = cut(rec_id(rec) ? rec_id(rec) : "", HIST_FIELD_MAX);
    char *n_stream = cut(stream, 64);
    char *n_line = cut(line, HIST_LINE_MAX);

    sqlite3_stmt *st = h->insert;
    sqlite3_bind_double(st, 1, now);
    bind_text(st, 2, strnlen(kind, 32) < 32 ? kind : "other");
    bind_text(st, 3, n_id);
    bind_text(st, 4, outcome);
    bind_text(st, 5, n_stream);
    sqlite3_bind_int(st, 6, acts);
    if (code)
        sqlite3_bind_int64(st, 7, code);
    else
        sqlite3_bind_null(st, 7);
    bind_text(st, 8, n_rcpt);
    bind_text(st, 9, n_from);
    bind_text(st, 10, n_mid);
    bind_text(st, 11, n_msfbl);
    bind_text(st, 12, level);
    bind_text(st, 13, n_line);
    bind_text(st, 14, ev);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    free(ev);
    free(n_rcpt);
    free(n_from);
    free(n_mid);
    free(n_msfbl);
    free(n_id);
    free(n_stream);
    free(n_line);
    if (rc != SQLITE_DONE) {
        bs_warn("history: cannot insert (%s): %s", h->path, sqlite3_errmsg(h->db));
        return -1;
    }
    return 0;
}

/* Retention, in steps of at most 10000 rows so that one commit stays short. */
static void prune(rp_history *h, double now)
{
    sqlite3_stmt *st;
    if (h->days > 0 &&
        sqlite3_prepare_v2(h->db,
                           "DELETE FROM records WHERE seq IN (SELECT seq FROM records WHERE t < ? "
                           "ORDER BY t LIMIT 10000)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_double(st, 1, now - (double)h->days * 86400.0);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
    if (h->max_rows > 0 &&
        sqlite3_prepare_v2(h->db,
                           "DELETE FROM records WHERE seq <= min((SELECT max(seq) FROM records) - "
                           "?, (SELECT min(seq) FROM records) + 9999)",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, h->max_rows);
        sqlite3_step(st);
        sqlite3_finalize(st);
    }
}

int hist_commit(rp_history *h, double now)
{
    if (!h->in_txn)
        return 0;
    if (now > 0 && (now - h->last_prune >= 1.0 || now < h->last_prune)) {
        prune(h, now);
        h->last_prune = now;
    }
    h->in_txn = 0;
    if (exec(h->db, "COMMIT") == 0)
        return 0;
    bs_warn("history: cannot commit (%s): %s", h->path, sqlite3_errmsg(h->db));
    exec(h->db, "ROLLBACK");
    return -1;
}

/* ---- reading ---- */

rp_hist_reader *hist_reader_open(const char *path, char **err)
{
    sqlite3 *db = NULL;
    *err = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        *err = db_err(db, "cannot open history database for reading", path);
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 2000);
    rp_hist_reader *r = xcalloc(1, sizeof *r);
    r->db = db;
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void hist_reader_close(rp_hist_reader *r)
{
    if (!r)
        return;
    sqlite3_close(r->db);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

void hist_query_init(hist_query *q)
{
    memset(q, 0, sizeof *q);
    q->limit = HIST_LIMIT_DEFAULT;
}

void hist_query_free(hist_query *q)
{
    free(q->rcpt);
    free(q->mail_from);
    free(q->message_id);
    free(q->spool_id);
    free(q->msfbl);
    hist_query_init(q);
}

static int set_text(char **slot, char *v, const char **why)
{
    if (!v) {
        *why = "empty value";
        return -1;
    }
    free(*slot);
    *slot = v;
    return 0;
}

int hist_query_set(hist_query *q, const char *key, const char *value, const char **why)
{
    *why = NULL;
    if (!value)
        value = "";
    if (strlen(value) > HIST_FIELD_MAX) {
        *why = "value too long";
        return -1;
    }
    if (strcmp(key, "rcpt") == 0)
        return set_text(&q->rcpt, norm_address(value), why);
    if (strcmp(key, "from") == 0)
        return set_text(&q->mail_from, norm_address(value), why);
    if (strcmp(key, "message_id") == 0)
        return set_text(&q->message_id, norm_msgid(value), why);
    if (strcmp(key, "spool_id") == 0)
        return set_text(&q->spool_id, *value ? xstrdup(value) : NULL, why);
    if (strcmp(key, "msfbl") == 0)
        return set_text(&q->msfbl, *value ? xstrdup(value) : NULL, why);
    long n;
    if (strcmp(key, "limit") == 0) {
        if (bs_parse_long(value, &n) != 0 || n < 1 || n > HIST_LIMIT_MAX) {
            *why = "limit is not a number from 1 to 200";
            return -1;
        }
        q->limit = n;
        return 0;
    }
    if (strcmp(key, "before") == 0) {
        if (bs_parse_long(value, &n) != 0 || n < 1) {
            *why = "before is not a positive number (next_before of a previous page)";
            return -1;
        }
        q->before = n;
        return 0;
    }
    *why = "unknown parameter (rcpt, from, message_id, spool_id, msfbl, limit, before)";
    return -1;
}

static json_t *col_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT:
        return json_real(sqlite3_column_double(st, i));
    case SQLITE_TEXT:
        return json_string((const char *)sqlite3_column_text(st, i));
    default:
        return json_null();
    }
}

json_t *hist_messages(rp_hist_reader *r, const hist_query *q, char **err)
{
    bs_buf sql;
    buf_init(&sql);
    buf_puts(&sql, "SELECT seq,t,kind,id,outcome,stream,code,rcpt,mail_from,message_id,msfbl,"
                   "level,line,events FROM records WHERE 1");
    const char *texts[5] = {q->rcpt, q->mail_from, q->message_id, q->spool_id, q->msfbl};
    static const char *const cols[5] = {"rcpt", "mail_from", "message_id", "id", "msfbl"};
    for (int i = 0; i < 5; i++)
        if (texts[i])
            buf_printf(&sql, " AND %s = ?", cols[i]);
    if (q->before)
        buf_puts(&sql, " AND seq < ?");
    buf_puts(&sql, " ORDER BY seq DESC LIMIT ?");
    pthread_mutex_lock(&r->lock);
    sqlite3_stmt *st;
    json_t *out = NULL;
    if (sqlite3_prepare_v2(r->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
        *err = xasprintf("history query: %s", sqlite3_errmsg(r->db));
        goto done;
    }
    int k = 1;
    for (int i = 0; i < 5; i++)
        if (texts[i])
            sqlite3_bind_text(st, k++, texts[i], -1, SQLITE_STATIC);
    if (q->before)
        sqlite3_bind_int64(st, k++, q->before);
    sqlite3_bind_int64(st, k, q->limit);
    json_t *list = json_array();
    long long last = 0;
    int rc;
    static const char *const names[] = {"seq",    "time",  "kind", "id",    "outcome",
                                        "stream", "code",  "rcpt", "from",  "message_id",
                                        "msfbl",  "level", "line", "events"};
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *m = json_object();
        for (int i = 0; i < 14; i++) {
            if (sqlite3_column_type(st, i) == SQLITE_NULL)
                continue;
            if (i == 1) {
                set_time(m, sqlite3_column_double(st, 1));
            } else if (i == 13) {
                json_t *ev = json_loads((const char *)sqlite3_column_text(st, i), 0, NULL);
                json_object_set_new(m, names[i], ev ? ev : json_array());
            } else {
                json_object_set_new(m, names[i], col_json(st, i));
            }
        }
        last = sqlite3_column_int64(st, 0);
        json_array_append_new(list, m);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        *err = xasprintf("history query: %s", sqlite3_errmsg(r->db));
        json_decref(list);
        goto done;
    }
    out = json_object();
    json_object_set_new(out, "messages", list);
    json_object_set_new(out, "next_before",
                        (long)json_array_size(list) == q->limit && last > 1 ? json_integer(last)
                                                                            : json_null());
done:
    pthread_mutex_unlock(&r->lock);
    buf_free(&sql);
    return out;
}

int hist_range(const char *name, long *seconds, long *step)
{
    static const struct {
        const char *name;
        long seconds, step;
    } ranges[] = {
        {"1h", 3600, 60},        {"6h", 6 * 3600, 300},         {"24h", 86400, 900},
        {"7d", 7 * 86400, 3600}, {"30d", 30 * 86400, 6 * 3600},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++)
        if (strcmp(name, ranges[i].name) == 0) {
            *seconds = ranges[i].seconds;
            *step = ranges[i].step;
            return 0;
        }
    return -1;
}

void hist_wilson(long long k, long long n, double *lo, double *hi)
{
    if (n <= 0) {
        *lo = 0;
        *hi = 1;
        return;
    }
    const double z = 1.959963984540054;
    double p = (double)k / (double)n, nn = (double)n, z2 = z * z;
    double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
    double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / (1 + z2 / nn);
    *lo = centre - half < 0 ? 0 : centre - half;
    *hi = centre + half > 1 ? 1 : centre + half;
}

/* The series outcomes, in the order of the page's legend. */
static const char *const series_outcomes[] = {
    "accept",     "open",       "click",     "oob",      "fbl",     "ooto",  "unsubscribe",
    "inband_4xx", "inband_5xx", "blackhole", "deferral", "skipped", "error",
};
#define N_SERIES (sizeof series_outcomes / sizeof *series_outcomes)

static double param_p(const json_t *params, const char *key, int *have)
{
    const json_t *v = json_object_get(json_object_get(params, "params"), key);
    if (!json_is_number(v)) {
        *have = 0;
        return 0;
    }
    double p = json_number_value(v);
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

/* Observed share of each outcome of the mixed stream beside the configured one (the
 * model of decide(1): P(oob) = OOB, P(fbl) = (1-OOB)FBL, the open branch (1-OOB)(1-FBL)
 * times Open, OpenAgain, Click, ClickAgain; a quiet accept is the rest). */
static json_t *model(sqlite3 *db, double from, const json_t *params)
{
    sqlite3_stmt *st;
    long long n = 0, k[7] = {0};
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*), sum(acts & ?1 != 0), sum(acts & ?2 != 0), "
                           "sum(acts & ?3 != 0), sum(acts & ?4 != 0), sum(acts & ?5 != 0), "
                           "sum(acts & ?6 != 0), sum(acts & (?1 | ?2 | ?3) = 0) FROM records "
                           "WHERE t >= ?7 AND kind = 'message' AND stream = 'mixed' AND outcome "
                           "NOT IN ('skipped', 'error')",
                           -1, &st, NULL) == SQLITE_OK) {
        int bits[6] = {ACT_OOB, ACT_FBL, ACT_OPEN, ACT_OPEN_AGAIN, ACT_CLICK, ACT_CLICK_AGAIN};
        for (int i = 0; i < 6; i++)
            sqlite3_bind_int(st, i + 1, bits[i]);
        sqlite3_bind_double(st, 7, from);
        if (sqlite3_step(st) == SQLITE_ROW) {
            n = sqlite3_column_int64(st, 0);
            for (int i = 0; i < 7; i++)
                k[i] = sqlite3_column_int64(st, i + 1);
        }
        sqlite3_finalize(st);
    }
    int have = params != NULL;
    double oob = param_p(params, "p_oob", &have), fbl = param_p(params, "p_fbl", &have);
    double open = param_p(params, "p_open", &have), again = param_p(params, "p_open_again", &have);
    double click = param_p(params, "p_click", &have);
    double cagain = param_p(params, "p_click_again", &have);
    double rest = (1 - oob) * (1 - fbl);
    double conf[7] = {oob,          (1 - oob) * fbl, rest * open,      rest * again,
                      rest * click, rest * cagain,   rest * (1 - open)};
    static const char *const names[7] = {"oob",   "fbl",         "open",  "open_again",
                                         "click", "click_again", "accept"};
    json_t *rows = json_array();
    for (int i = 0; i < 7; i++) {
        double lo, hi;
        hist_wilson(k[i], n, &lo, &hi);
        json_t *row = json_object();
        json_object_set_new(row, "outcome", json_string(names[i]));
        json_object_set_new(row, "count", json_integer(k[i]));
        json_object_set_new(row, "observed", n ? json_real((double)k[i] / (double)n) : json_null());
        json_object_set_new(row, "low", json_real(lo));
        json_object_set_new(row, "high", json_real(hi));
        if (have) {
            json_object_set_new(row, "configured", json_real(conf[i]));
            json_object_set_new(
                row, "within",
                json_boolean(n > 0 && conf[i] >= lo - 1e-12 && conf[i] <= hi + 1e-12));
        } else {
            json_object_set_new(row, "configured", json_null());
        }
        json_array_append_new(rows, row);
    }
    json_t *m = json_object();
    json_object_set_new(m, "stream", json_string("mixed"));
    json_object_set_new(m, "n", json_integer(n));
    json_object_set_new(m, "rows", rows);
    return m;
}

json_t *hist_overview(rp_hist_reader *r, const char *range, double now, const json_t *params,
                      char **err)
{
    long seconds, step;
    if (hist_range(range, &seconds, &step) != 0) {
        *err = xstrdup("range is not one of 1h, 6h, 24h, 7d, 30d");
        return NULL;
    }
    long nb = seconds / step;
    double from = (floor(now / (double)step) + 1) * (double)step - (double)seconds;
    json_t *out = json_object();
    json_object_set_new(out, "range", json_string(range));
    json_object_set_new(out, "step", json_integer(step));
    json_t *times = json_array();
    for (long i = 0; i < nb; i++) {
        char iso[40];
        json_array_append_new(times,
                              json_string(bs_iso8601(from + (double)(i * step), iso, sizeof iso)));
    }
    json_object_set_new(out, "times", times);
    long long *counts = xcalloc(N_SERIES * (size_t)nb, sizeof *counts);

    pthread_mutex_lock(&r->lock);
    sqlite3_stmt *st;
    int ok = sqlite3_prepare_v2(r->db,
                                "SELECT CAST((t - ?1) / ?2 AS INTEGER), outcome, count(*) FROM "
                                "records WHERE t >= ?1 GROUP BY 1, 2",
                                -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_double(st, 1, from);
        sqlite3_bind_int64(st, 2, step);
        while (sqlite3_step(st) == SQLITE_ROW) {
            long long b = sqlite3_column_int64(st, 0);
            const char *o = (const char *)sqlite3_column_text(st, 1);
            for (size_t i = 0; o && i < N_SERIES; i++)
                if (b >= 0 && b < nb && strcmp(o, series_outcomes[i]) == 0)
                    counts[i * (size_t)nb + (size_t)b] += sqlite3_column_int64(st, 2);
        }
        sqlite3_finalize(st);
    }
    json_t *series = json_object();
    for (size_t i = 0; i < N_SERIES; i++) {
        json_t *a = json_array();
        for (long b = 0; b < nb; b++)
            json_array_append_new(a, json_integer(counts[i * (size_t)nb + (size_t)b]));
        json_object_set_new(series, series_outcomes[i], a);
    }
    free(counts);
    json_object_set_new(out, "series", series);
    json_object_set_new(out, "model", model(r->db, from, params));
    json_t *codes = json_array();
    if (ok && sqlite3_prepare_v2(r->db,
                                 "SELECT code, count(*) FROM records WHERE t >= ? AND code >= 400 "
                                 "GROUP BY code ORDER BY code",
                                 -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_double(st, 1, from);
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *c = json_object();
            json_object_set_new(c, "code", json_integer(sqlite3_column_int64(st, 0)));
            json_object_set_new(c, "count", json_integer(sqlite3_column_int64(st, 1)));
            json_array_append_new(codes, c);
        }
        sqlite3_finalize(st);
    } else {
        ok = 0;
    }
    json_object_set_new(out, "codes", codes);
    if (!ok) {
        *err = xasprintf("history query: %s", sqlite3_errmsg(r->db));
        json_decref(out);
        out = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    return out;
}
