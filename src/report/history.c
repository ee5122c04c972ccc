/* history.c — the per-message history in SQLite (see history.h). */
#include "history.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "jcanon.h"
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
    /* The searched keys: one FTS5 index (see key_tokens), not a B-tree per key. */
    "CREATE VIRTUAL TABLE IF NOT EXISTS record_keys USING fts5(k, content='', detail=none,"
    " columnsize=0, tokenize='ascii');";

/* The keys a row can be found by: its column and the letter that tags its token. */
#define N_KEYS 5
static const struct {
    const char *col;
    char tag;
} key_cols[N_KEYS] = {
    {"rcpt", 'r'}, {"mail_from", 'f'}, {"message_id", 'm'}, {"id", 'i'}, {"msfbl", 's'},
};
#define KEY_TOKENS_MAX (N_KEYS * 18 + 1)

/* The searched keys of a row as the key index holds them: one token per key that is not
 * NULL, its tag letter and the key's 64-bit FNV-1a in hex ("r3fa9...0c m81...e2"), so a
 * key of any length and bytes is one fixed-size term. The index is FTS5's: each commit
 * adds one small sorted segment and segments are merged in the background of later
 * commits, where a B-tree index per key dirtied one page of each of five indexes per row
 * (random keys: ~100 us a row at 300,000 rows, bench/report-history.sh part 3). A lookup
 * reads the rows whose tokens match and keeps those whose column equals the key, so a
 * hash collision costs a row read, never a wrong answer. out holds KEY_TOKENS_MAX. */
static void key_tokens(char *out, const char *const keys[N_KEYS])
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    for (int i = 0; i < N_KEYS; i++) {
        if (!keys[i])
            continue;
        uint64_t h = bs_fnv1a64(keys[i], strlen(keys[i]), 0);
        if (n)
            out[n++] = ' ';
        out[n++] = key_cols[i].tag;
        for (int d = 15; d >= 0; d--) /* %016llx, without printf's cost on every row */
            out[n++] = hex[(h >> (4 * d)) & 15];
    }
    out[n] = '\0';
}

/* history_keys(rcpt, mail_from, message_id, id, msfbl): key_tokens in SQL, for the
 * index's deletes and its build from an older database. */
static void sql_key_tokens(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    const char *keys[N_KEYS];
    for (int i = 0; i < N_KEYS && i < argc; i++)
        keys[i] = (const char *)sqlite3_value_text(argv[i]);
    char out[KEY_TOKENS_MAX];
    key_tokens(out, keys);
    sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

#define KEY_TOKENS_SQL "history_keys(rcpt,mail_from,message_id,id,msfbl)"

/* Any row deleted (retention) takes its tokens with it, in the same statement: the index
 * is contentless, so they are given again (history_keys over the row's columns). TEMP:
 * the function exists on report's writing connection only. */
static const char keys_delete_trigger[] =
    "CREATE TEMP TRIGGER IF NOT EXISTS records_keys_delete AFTER DELETE ON main.records BEGIN"
    " INSERT INTO record_keys(record_keys,rowid,k) VALUES('delete',old.seq,"
    "history_keys(old.rcpt,old.mail_from,old.message_id,old.id,old.msfbl)); END;";

/* One row, built by the record loop, written by the writer thread. Its texts are in its
 * batch's text buffer, at these offsets (NO_TEXT: NULL). */
#define NO_TEXT ((size_t)-1)
typedef struct {
    double t;
    const char *kind, *outcome, *level; /* static */
    size_t id, stream, rcpt, mail_from, message_id, msfbl, line, events;
    int acts;
    long long code;
} hist_row;

/* The rows of one transaction and their texts: one buffer, kept from batch to batch, so
 * that a row costs no allocation, and no block allocated by the record loop is freed by
 * the writer thread. */
typedef struct {
    hist_row *v;
    size_t n, cap;
    bs_buf text;
    double now; /* for the retention */
} hist_batch;

/* The record loop fills `filling`; hist_submit hands it to the writer thread as
 * `writing` (one at a time), which inserts and commits it in one transaction. */
struct rp_history {
    sqlite3 *db;
    sqlite3_stmt *insert, *insert_keys;
    char *path;
    long days, max_rows;
    double last_prune;
    hist_batch filling, writing;
    pthread_t writer;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int busy, stop, failing;
};

struct rp_hist_reader {
    sqlite3 *db;
    pthread_mutex_t lock;
};

static void *writer(void *arg);

static char *db_err(sqlite3 *db, const char *what, const char *path)
{
    return xasprintf("%s (%s): %s", what, path, db ? sqlite3_errmsg(db) : "out of memory");
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* 1 when db has a table or index of that name. */
static int table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    int yes = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = ?", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return yes;
}

/* A database written before the key index (one B-tree index per key; or again by such a
 * report since) gets its key index built from its rows, and loses those indexes, in one
 * transaction. 0, or -1 (rolled back). */
static int build_keys(sqlite3 *db, int had_keys, const char *path)
{
    static const char *const old[] = {"records_id", "records_rcpt", "records_from", "records_mid",
                                      "records_msfbl"};
    int stale = 0;
    for (size_t i = 0; i < sizeof old / sizeof *old; i++)
        stale |= table_exists(db, old[i]);
    if (!stale && had_keys)
        return 0;
    if (exec(db, "BEGIN") != 0)
        return -1;
    sqlite3_stmt *st;
    long long rows = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM records", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            rows = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (rows > 0)
        bs_info("history: indexing the keys of %lld rows (%s, once: a database of an older "
                "layout)",
                rows, path);
    if (exec(db, "INSERT INTO record_keys(record_keys) VALUES('delete-all');"
                 "INSERT INTO record_keys(rowid,k) SELECT seq," KEY_TOKENS_SQL " FROM records;"
                 "DROP INDEX IF EXISTS records_id; DROP INDEX IF EXISTS records_rcpt;"
                 "DROP INDEX IF EXISTS records_from; DROP INDEX IF EXISTS records_mid;"
                 "DROP INDEX IF EXISTS records_msfbl;") != 0 ||
        exec(db, "COMMIT") != 0) {
        exec(db, "ROLLBACK");
        return -1;
    }
    return 0;
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
     * report (the kernel has it), not against one of the machine, like the log file.
     * A checkpoint every 16000 pages (the WAL up to ~64 MB) rather than 4000: a full
     * history's random-key indexes dirty a page each per row, and a page written several
     * times between two checkpoints is copied once (-15 to -20 % of the history's CPU
     * with 300,000 rows, bench/report-history.sh). */
    int had_keys = table_exists(db, "record_keys");
    if (exec(db, "PRAGMA journal_mode=WAL") != 0 || exec(db, "PRAGMA synchronous=NORMAL") != 0 ||
        exec(db, "PRAGMA cache_size=-32768") != 0 ||
        exec(db, "PRAGMA wal_autocheckpoint=16000") != 0 ||
        sqlite3_create_function(db, "history_keys", N_KEYS, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                NULL, sql_key_tokens, NULL, NULL) != SQLITE_OK ||
        exec(db, schema) != 0 || build_keys(db, had_keys, path) != 0 ||
        exec(db, keys_delete_trigger) != 0) {
        *err = db_err(db, "cannot set up history database", path);
        sqlite3_close(db);
        return NULL;
    }
    rp_history *h = xcalloc(1, sizeof *h);
    h->db = db;
    h->path = xstrdup(path);
    h->days = days;
    h->max_rows = max_rows;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    if (sqlite3_prepare_v3(db,
                           "INSERT INTO records(t,kind,id,outcome,stream,acts,code,rcpt,mail_from,"
                           "message_id,msfbl,level,line,events) "
                           "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &h->insert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "INSERT INTO record_keys(rowid,k) VALUES(?,?)", -1,
                           SQLITE_PREPARE_PERSISTENT, &h->insert_keys, NULL) != SQLITE_OK) {
        *err = db_err(db, "cannot prepare history insert", path);
        h->stop = -1; /* no thread to join */
        hist_close(h);
        return NULL;
    }
    int rc = pthread_create(&h->writer, NULL, writer, h);
    if (rc != 0) {
        *err = xasprintf("cannot start the history writer thread: %s", strerror(rc));
        h->stop = -1; /* no thread to join */
        hist_close(h);
        return NULL;
    }
    return h;
}

/* A batch's text buffer is kept for the next batch up to this size (a usual batch of 1000
 * rows holds about 2 MB); one that a burst of big rows grew past it is given back. */
#define BATCH_TEXT_KEEP (8u << 20)

static void batch_clear(hist_batch *b)
{
    b->n = 0;
    if (b->text.cap > BATCH_TEXT_KEEP)
        buf_free(&b->text);
    else
        buf_reset(&b->text);
}

void hist_close(rp_history *h)
{
    if (!h)
        return;
    if (h->stop == 0) {
        hist_commit(h, 0);
        pthread_mutex_lock(&h->lock);
        h->stop = 1;
        pthread_cond_broadcast(&h->cond);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->writer, NULL);
    }
    batch_clear(&h->filling);
    batch_clear(&h->writing);
    free(h->filling.v);
    free(h->writing.v);
    buf_free(&h->filling.text);
    buf_free(&h->writing.text);
    sqlite3_finalize(h->insert);
    sqlite3_finalize(h->insert_keys);
    sqlite3_close(h->db);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
    free(h->path);
    free(h);
}

/* ---- one record's row ---- */

/* n bytes at s cut at max, not inside a UTF-8 sequence: the length kept. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    return max;
}

/* The bytes of an address as it is searched: the part inside <...> when there is one,
 * trimmed; *n 0 when empty. Lower-cased and cut by put_norm_key. */
static const char *address_span(const char *s, size_t *n)
{
    *n = 0;
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
    *n = (size_t)(end - s);
    return s;
}

/* The bytes of a Message-ID without its <> and surrounding space; *n 0 when empty. */
static const char *msgid_span(const char *s, size_t *n)
{
    *n = 0;
    if (!s)
        return NULL;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '<')
        s++;
    size_t k = strlen(s);
    while (k > 0 && (isspace((unsigned char)s[k - 1]) || s[k - 1] == '>'))
        k--;
    *n = k;
    return s;
}

/* Appends key s as the history stores and searches it, and a NUL, to b: an address
 * (address_span, lower-cased) or a Message-ID (msgid_span), cut at HIST_FIELD_MAX. Its
 * offset, or NO_TEXT when it is empty. */
static size_t put_norm_key(bs_buf *b, const char *s, int address)
{
    size_t n;
    const char *p = address ? address_span(s, &n) : msgid_span(s, &n);
    if (n == 0)
        return NO_TEXT;
    size_t at = b->len;
    buf_append(b, p, utf8_cut(p, n, HIST_FIELD_MAX));
    if (address)
        bs_lower(b->data + at);
    buf_putc(b, 0);
    return at;
}

/* A key as a query gives it, as the history stores it (caller frees), or NULL. */
static char *norm_key(const char *s, int address)
{
    bs_buf b;
    buf_init(&b);
    if (put_norm_key(&b, s, address) == NO_TEXT)
        return NULL;
    return buf_steal(&b);
}

/* The timeline of one record, written straight as JSON text (no JSON objects built:
 * this runs for every record report logs). */
typedef struct {
    bs_buf *b;    /* the timeline is appended to it */
    int n;        /* events begun */
    int dropped;  /* events left out (over HIST_EVENTS_MAX) */
    int open;     /* an event is being written */
    char now[40]; /* the time of report's events, as ISO-8601 */
} timeline;

/* The length of s cut at max bytes, not inside a UTF-8 sequence. */
static size_t cut_len(const char *s, size_t max)
{
    return utf8_cut(s, strlen(s), max);
}

/* s (valid UTF-8: it comes from a parsed record) as a JSON string, at most max bytes. */
static void put_jstr(bs_buf *b, const char *s, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + cut_len(s, max);
    buf_putc(b, '"');
    while (p < end) {
        /* runs of bytes written as they are, 16 at a time where they are ASCII */
        const unsigned char *run = p;
        for (;;) {
            p = jc_skip_plain(p, end);
            if (p < end && *p >= 0x80)
                p++;
            else
                break;
        }
        buf_append(b, run, (size_t)(p - run));
        if (p == end)
            break;
        char esc[6] = {'\\', (char)*p};
        size_t k = 2;
        if (*p < 0x20) {
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            k = 6;
        }
        buf_append(b, esc, k);
        p++;
    }
    buf_putc(b, '"');
}

static int ev_begin(timeline *t, const char *name)
{
    if (t->n >= HIST_EVENTS_MAX - 2) { /* room for logged and settled */
        t->dropped++;
        t->open = 0;
        return 0;
    }
    buf_puts(t->b, t->n++ ? "},{\"event\":\"" : "{\"event\":\"");
    buf_puts(t->b, name);
    buf_putc(t->b, '"');
    t->open = 1;
    return 1;
}

static void put_key(bs_buf *b, const char *key)
{
    buf_puts(b, ",\"");
    buf_puts(b, key);
    buf_puts(b, "\":");
}

static void ev_str(timeline *t, const char *key, const char *s)
{
    if (!t->open || !s || !*s)
        return;
    put_key(t->b, key);
    put_jstr(t->b, s, HIST_FIELD_MAX);
}

static void ev_now(timeline *t)
{
    if (t->open) {
        buf_puts(t->b, ",\"time\":\"");
        buf_puts(t->b, t->now);
        buf_putc(t->b, '"');
    }
}

/* A record's field as it was: a string, number or boolean. */
static void ev_field(timeline *t, const char *key, const json_t *v)
{
    if (!t->open)
        return;
    if (json_is_string(v))
        ev_str(t, key, json_string_value(v));
    else if (json_is_integer(v))
        buf_printf(t->b, ",\"%s\":%lld", key, (long long)json_integer_value(v));
    else if (json_is_real(v) && isfinite(json_real_value(v)))
        buf_printf(t->b, ",\"%s\":%.17g", key, json_real_value(v));
    else if (json_is_boolean(v))
        buf_printf(t->b, ",\"%s\":%s", key, json_is_true(v) ? "true" : "false");
}

/* The members of o named in keys (n at most EV_FIELDS_MAX), in the order of keys: o's
 * members read once, where a lookup per key hashed every name (most of them absent). */
#define EV_FIELDS_MAX 8
static void ev_fields(timeline *t, const json_t *o, const char *const *keys, size_t n)
{
    const json_t *v[EV_FIELDS_MAX] = {0};
    const char *key;
    json_t *val;
    if (n > EV_FIELDS_MAX)
        bs_panic("ev_fields: %zu keys", n);
    if (!t->open || !json_is_object(o))
        return;
    json_object_foreach((json_t *)o, key, val)
    {
        for (size_t i = 0; i < n; i++)
            if (!v[i] && strcmp(key, keys[i]) == 0) {
                v[i] = val;
                break;
            }
    }
    for (size_t i = 0; i < n; i++)
        if (v[i])
            ev_field(t, keys[i], v[i]);
}

/* `<code> <enhanced> <text>` of a reply object. */
static void ev_reply(timeline *t, const json_t *reply)
{
    if (!t->open || !json_is_object(reply))
        return;
    bs_buf b;
    buf_init(&b);
    const json_t *code = json_object_get(reply, "code");
    const char *enh = json_string_value(json_object_get(reply, "enhanced"));
    const char *text = json_string_value(json_object_get(reply, "text"));
    if (json_is_integer(code))
        buf_printf(&b, "%lld", (long long)json_integer_value(code));
    if (enh && *enh && !(text && strncmp(text, enh, strlen(enh)) == 0))
        buf_printf(&b, "%s%s", b.len ? " " : "", enh);
    if (text && *text)
        buf_printf(&b, "%s%s", b.len ? " " : "", text);
    if (b.len)
        ev_str(t, "reply", b.data);
    buf_free(&b);
}

/* The time of a record's own stage as written: own (envelope.received), else its ts,
 * else report's. */
static void ev_rtime(timeline *t, const json_t *rec, const char *own)
{
    const char *s = own ? own : rec_str(rec, "ts");
    if (s)
        ev_str(t, "time", s);
    else
        ev_now(t);
}

static void received_events(const json_t *rec, timeline *t)
{
    const json_t *env = json_object_get(rec, "envelope");
    ev_begin(t, "received");
    ev_rtime(t, rec, json_string_value(json_object_get(env, "received")));
    ev_field(t, "client_ip", json_object_get(env, "client_ip"));
    ev_field(t, "helo", json_object_get(env, "helo"));
    ev_field(t, "mail_from", json_object_get(env, "mail_from"));
    ev_field(t, "rcpt", json_object_get(env, "rcpt"));
}

static void http_events(const json_t *rec, timeline *t, int acts)
{
    static const char *const kinds[] = {"open", "open_again", "click", "click_again"};
    static const char *const outcome_keys[] = {"url", "status", "error", "dry_run"};
    const json_t *http = json_object_get(rec, "http");
    for (size_t k = 0; k < 4; k++) {
        if (!(acts & (1 << k)))
            continue;
        const json_t *list = json_object_get(http, kinds[k]);
        size_t i;
        const json_t *u;
        if (!json_is_array(list)) {
            ev_begin(t, kinds[k]);
            ev_now(t);
            ev_str(t, "error", "no act-http outcome");
            continue;
        }
        json_array_foreach(list, i, u)
        {
            if (!ev_begin(t, kinds[k]))
                break;
            ev_now(t);
            ev_fields(t, u, outcome_keys, 4);
        }
    }
    const json_t *u = json_object_get(http, "unsubscribe");
    if (json_is_object(u) && ev_begin(t, "unsubscribe")) {
        ev_now(t);
        ev_fields(t, u, outcome_keys, 3);
    }
}

static void smtp_events(const json_t *rec, timeline *t)
{
    static const char *const kinds[] = {"oob", "fbl", "ooto"};
    static const char *const keys[] = {"status", "from",     "to",    "mx",
                                       "relay",  "attempts", "reply", "error"};
    const json_t *smtp = json_object_get(rec, "smtp");
    for (size_t k = 0; k < 3; k++) {
        const json_t *o = json_object_get(smtp, kinds[k]);
        if (!json_is_object(o) || !ev_begin(t, kinds[k]))
            continue;
        ev_now(t);
        ev_fields(t, o, keys, sizeof keys / sizeof *keys);
    }
}

/* Outcome, stream, actions and the events of a message record. */
static const char *message_row(const json_t *rec, timeline *t, int *acts, const char **stream)
{
    received_events(rec, t);
    ev_begin(t, "accepted");
    ev_rtime(t, rec, NULL);
    /* each member object looked up once */
    const json_t *headers = json_object_get(rec, "headers"), *dkim = json_object_get(rec, "dkim"),
                 *spf = json_object_get(rec, "spf");
    ev_field(t, "spool_file", rec_get(rec, "source.name"));
    ev_field(t, "size", json_object_get(rec, "size"));
    ev_field(t, "message_id", json_object_get(headers, "message_id"));
    ev_field(t, "subject", json_object_get(headers, "subject"));

    ev_begin(t, "auth");
    ev_field(t, "dkim", json_object_get(dkim, "result"));
    ev_field(t, "dkim_domain", json_object_get(dkim, "domain"));
    ev_field(t, "dkim_reason", json_object_get(dkim, "reason"));
    ev_field(t, "spf", json_object_get(spf, "result"));
    ev_field(t, "spf_domain", json_object_get(spf, "domain"));
    ev_field(t, "dmarc", rec_get(rec, "dmarc.result"));

    const char *error = rec_str(rec, "error");
    if (error) {
        ev_begin(t, "error");
        ev_str(t, "error", error);
        ev_field(t, "error_code", json_object_get(rec, "error_code"));
    }
    const json_t *plan = json_object_get(rec, "plan");
    *stream = json_string_value(json_object_get(plan, "stream"));
    if (!json_is_object(plan))
        return "error";
    ev_begin(t, "routed");
    ev_str(t, "stream", *stream);
    const char *skip = json_string_value(json_object_get(plan, "skip"));
    int open = ev_begin(t, "plan");
    if (open)
        buf_puts(t->b, ",\"actions\":[");
    size_t i, shown = 0;
    const json_t *a;
    json_array_foreach(json_object_get(plan, "actions"), i, a)
    {
        const char *name = json_string_value(a);
        if (!name)
            continue;
        for (size_t b = 0; b < sizeof action_bits / sizeof *action_bits; b++)
            if (strcmp(name, action_bits[b].name) == 0)
                *acts |= action_bits[b].bit;
        if (open && shown < 16) {
            if (shown++)
                buf_putc(t->b, ',');
            put_jstr(t->b, name, 64);
        }
    }
    if (open)
        buf_putc(t->b, ']');
    if (skip) {
        ev_str(t, "skip", skip);
        ev_field(t, "skip_code", json_object_get(plan, "skip_code"));
    }
    http_events(rec, t, *acts);
    smtp_events(rec, t);
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
static const char *listen_row(const json_t *rec, const char *kind, timeline *t, long long *code,
                              const char **stream)
{
    *stream = rec_str(rec, "stream");
    received_events(rec, t);
    const json_t *reply = json_object_get(rec, "reply");
    const json_t *c = json_object_get(reply, "code");
    if (json_is_integer(c))
        *code = json_integer_value(c);
    const char *outcome;
    if (strcmp(kind, "inband") == 0) {
        ev_begin(t, "refused");
        outcome = *code >= 400 && *code < 500   ? "inband_4xx"
                  : *code >= 500 && *code < 600 ? "inband_5xx"
                                                : "inband_other";
    } else if (strcmp(kind, "blackhole") == 0) {
        ev_begin(t, "blackholed");
        outcome = "blackhole";
    } else if (strcmp(kind, "greylist") == 0) {
        const char *o = rec_str(rec, "outcome");
        int passed = o && strcmp(o, "passed") == 0;
        ev_begin(t, passed ? "greylist_passed" : "deferred");
        outcome = passed ? "greylist_passed" : "deferral";
    } else if (strcmp(kind, "throttle") == 0) {
        ev_begin(t, "deferred");
        ev_str(t, "limit", rec_str(rec, "limit"));
        outcome = "deferral";
    } else {
        int known = strcmp(kind, "slow") == 0 || strcmp(kind, "quarantine") == 0 ||
                    strcmp(kind, "invalid") == 0;
        ev_begin(t, known ? kind : "other");
        ev_str(t, "kind", known ? NULL : kind);
        ev_str(t, "error", rec_str(rec, "error"));
        outcome = strcmp(kind, "slow") == 0         ? "slow"
                  : strcmp(kind, "quarantine") == 0 ? "quarantined"
                  : strcmp(kind, "invalid") == 0    ? "invalid"
                                                    : "other";
    }
    ev_rtime(t, rec, NULL);
    ev_str(t, "stream", *stream);
    ev_reply(t, reply);
    return outcome;
}

/* Appends s cut at max bytes and a NUL to b; its offset, or NO_TEXT for NULL. */
static size_t put_text(bs_buf *b, const char *s, size_t max)
{
    if (!s)
        return NO_TEXT;
    size_t at = b->len;
    buf_append(b, s, cut_len(s, max));
    buf_putc(b, 0);
    return at;
}

/* The timeline of rec appended to b as a JSON array; returns the outcome. */
static const char *build_timeline(timeline *t, bs_buf *b, const json_t *rec, const char *kind,
                                  double now, const char *level, const char *settle, int *acts,
                                  long long *code, const char **stream)
{
    memset(t, 0, sizeof *t);
    t->b = b;
    buf_putc(t->b, '[');
    bs_iso8601(now, t->now, sizeof t->now);
    const char *outcome;
    if (strcmp(kind, "message") == 0)
        outcome = message_row(rec, t, acts, stream);
    else
        outcome = listen_row(rec, kind, t, code, stream);
    buf_puts(t->b, t->n ? "},{" : "{");
    buf_puts(t->b, "\"event\":\"logged\",\"time\":\"");
    buf_puts(t->b, t->now);
    buf_puts(t->b, "\",\"level\":\"");
    buf_puts(t->b, level);
    buf_putc(t->b, '"');
    if (t->dropped)
        buf_printf(t->b, ",\"events_left_out\":%d", t->dropped);
    if (settle)
        buf_printf(t->b, "},{\"event\":\"settled\",\"time\":\"%s\",\"file\":\"%s\"", t->now,
                   settle);
    buf_puts(t->b, "}]");
    return outcome;
}

char *hist_timeline(const json_t *rec, double now, const char *level, const char *settle,
                    const char **outcome)
{
    timeline t;
    bs_buf b;
    int acts = 0;
    long long code = 0;
    const char *stream = NULL, *kind = rec_kind(rec);
    buf_init(&b);
    *outcome = build_timeline(&t, &b, rec, kind ? kind : "invalid", now, level, settle, &acts,
                              &code, &stream);
    return buf_steal(&b);
}

int hist_add(rp_history *h, const json_t *rec, double now, const char *level, const char *line,
             const char *settle)
{
    const char *kind = rec_kind(rec);
    if (!kind)
        kind = "invalid";
    if (strcmp(kind, "params") == 0)
        return 0;
    timeline t;
    int acts = 0;
    long long code = 0;
    const char *stream = NULL;
    hist_batch *bt = &h->filling;
    bs_buf *b = &bt->text;
    size_t events = b->len;
    const char *outcome =
        build_timeline(&t, b, rec, kind, now, level, settle, &acts, &code, &stream);
    buf_putc(b, 0);
    const json_t *env = json_object_get(rec, "envelope"),
                 *headers = json_object_get(rec, "headers");
    const char *rcpt = json_string_value(json_object_get(env, "rcpt"));
    if (!rcpt || !*rcpt)
        rcpt = json_string_value(json_object_get(headers, "to"));
    const char *from = json_string_value(json_object_get(env, "mail_from"));
    if (!from || !*from)
        from = json_string_value(json_object_get(headers, "from"));
    const char *msfbl = json_string_value(json_object_get(headers, "x_msfbl"));
    const char *id = rec_id(rec);
    static const char *const kinds[] = {"message",  "inband", "blackhole",  "greylist",
                                        "throttle", "slow",   "quarantine", "invalid"};
    const char *skind = "other";
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(kind, kinds[i]) == 0)
            skind = kinds[i];
    hist_row r = {.t = now,
                  .kind = skind,
                  .outcome = outcome,
                  .level = level,
                  .events = events,
                  .acts = acts,
                  .code = code};
    /* the texts after the timeline, in the batch's buffer */
    r.id = put_text(b, id ? id : "", HIST_FIELD_MAX);
    r.stream = put_text(b, stream, 64);
    r.rcpt = put_norm_key(b, rcpt, 1);
    r.mail_from = put_norm_key(b, from, 1);
    r.message_id = put_norm_key(b, json_string_value(json_object_get(headers, "message_id")), 0);
    r.msfbl = put_text(b, msfbl && *msfbl ? msfbl : NULL, HIST_FIELD_MAX);
    r.line = put_text(b, line, HIST_LINE_MAX);
    if (bt->n == bt->cap) {
        bt->cap = bt->cap ? 2 * bt->cap : 256;
        bt->v = xrealloc(bt->v, bt->cap * sizeof *bt->v);
    }
    bt->v[bt->n++] = r;
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

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* One batch in one transaction. 0, or -1 with a warning (rolled back). */
static int write_batch(rp_history *h, hist_batch *bt)
{
    if (exec(h->db, "BEGIN") != 0)
        goto fail;
    sqlite3_stmt *st = h->insert;
    const char *text = bt->text.data;
#define AT(off) ((off) == NO_TEXT ? NULL : text + (off))
    for (size_t i = 0; i < bt->n; i++) {
        hist_row *r = &bt->v[i];
        sqlite3_bind_double(st, 1, r->t);
        bind_opt(st, 2, r->kind);
        bind_opt(st, 3, AT(r->id));
        bind_opt(st, 4, r->outcome);
        bind_opt(st, 5, AT(r->stream));
        sqlite3_bind_int(st, 6, r->acts);
        if (r->code)
            sqlite3_bind_int64(st, 7, r->code);
        else
            sqlite3_bind_null(st, 7);
        bind_opt(st, 8, AT(r->rcpt));
        bind_opt(st, 9, AT(r->mail_from));
        bind_opt(st, 10, AT(r->message_id));
        bind_opt(st, 11, AT(r->msfbl));
        bind_opt(st, 12, r->level);
        bind_opt(st, 13, AT(r->line));
        bind_opt(st, 14, AT(r->events));
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            goto fail;
        const char *keys[N_KEYS] = {AT(r->rcpt), AT(r->mail_from), AT(r->message_id), AT(r->id),
                                    AT(r->msfbl)};
        char tokens[KEY_TOKENS_MAX];
        key_tokens(tokens, keys);
        sqlite3_bind_int64(h->insert_keys, 1, sqlite3_last_insert_rowid(h->db));
        sqlite3_bind_text(h->insert_keys, 2, tokens, -1, SQLITE_STATIC);
        rc = sqlite3_step(h->insert_keys);
        sqlite3_reset(h->insert_keys);
        if (rc != SQLITE_DONE)
            goto fail;
    }
#undef AT
    if (bt->now > 0 && (bt->now - h->last_prune >= 1.0 || bt->now < h->last_prune)) {
        prune(h, bt->now);
        h->last_prune = bt->now;
    }
    if (exec(h->db, "COMMIT") == 0) {
        if (h->failing)
            bs_warn("history: writing again (%s)", h->path);
        h->failing = 0;
        return 0;
    }
fail:
    if (!h->failing) /* once per failure spell */
        bs_warn("history: cannot write %zu records (%s): %s", bt->n, h->path,
                sqlite3_errmsg(h->db));
    h->failing = 1;
    exec(h->db, "ROLLBACK");
    return -1;
}

static void *writer(void *arg)
{
    rp_history *h = arg;
    pthread_mutex_lock(&h->lock);
    for (;;) {
        while (!h->busy && !h->stop)
            pthread_cond_wait(&h->cond, &h->lock);
        if (!h->busy)
            break;
        pthread_mutex_unlock(&h->lock);
        write_batch(h, &h->writing);
        batch_clear(&h->writing);
        pthread_mutex_lock(&h->lock);
        h->busy = 0;
        pthread_cond_broadcast(&h->cond);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

void hist_wait(rp_history *h)
{
    pthread_mutex_lock(&h->lock);
    while (h->busy)
        pthread_cond_wait(&h->cond, &h->lock);
    pthread_mutex_unlock(&h->lock);
}

int hist_submit(rp_history *h, double now)
{
    hist_wait(h);
    if (h->filling.n == 0)
        return 0;
    pthread_mutex_lock(&h->lock);
    hist_batch t = h->writing; /* empty: swap the buffers */
    h->writing = h->filling;
    h->writing.now = now;
    h->filling = t;
    h->busy = 1;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    return 1;
}

void hist_commit(rp_history *h, double now)
{
    hist_submit(h, now);
    hist_wait(h);
}

/* ---- reading ---- */

static void set_time(json_t *o, double t)
{
    char iso[40];
    json_object_set_new(o, "time", json_string(bs_iso8601(t, iso, sizeof iso)));
}

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
        return set_text(&q->rcpt, norm_key(value, 1), why);
    if (strcmp(key, "from") == 0)
        return set_text(&q->mail_from, norm_key(value, 1), why);
    if (strcmp(key, "message_id") == 0)
        return set_text(&q->message_id, norm_key(value, 0), why);
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
    const char *keys[N_KEYS] = {q->rcpt, q->mail_from, q->message_id, q->spool_id, q->msfbl};
    char match[KEY_TOKENS_MAX];
    key_tokens(match, keys);
    /* With keys: the key index's matches, newest first (FTS5 walks its rowids down and
     * stops at the limit), each row kept only when its columns equal the keys. */
    buf_puts(&sql, "SELECT seq,t,kind,id,outcome,stream,code,rcpt,mail_from,message_id,msfbl,"
                   "level,line,events FROM ");
    buf_puts(&sql, *match ? "record_keys CROSS JOIN records ON seq = record_keys.rowid "
                            "WHERE record_keys MATCH ?"
                          : "records WHERE 1");
    for (int i = 0; i < N_KEYS; i++)
        if (keys[i])
            buf_printf(&sql, " AND %s = ?", key_cols[i].col);
    const char *pos = *match ? "record_keys.rowid" : "seq"; /* the same value: the paging key */
    if (q->before)
        buf_printf(&sql, " AND %s < ?", pos);
    buf_printf(&sql, " ORDER BY %s DESC LIMIT ?", pos);
    pthread_mutex_lock(&r->lock);
    sqlite3_stmt *st;
    json_t *out = NULL;
    if (sqlite3_prepare_v2(r->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
        *err = xasprintf("history query: %s", sqlite3_errmsg(r->db));
        goto done;
    }
    int k = 1;
    if (*match)
        sqlite3_bind_text(st, k++, match, -1, SQLITE_STATIC);
    for (int i = 0; i < N_KEYS; i++)
        if (keys[i])
            sqlite3_bind_text(st, k++, keys[i], -1, SQLITE_STATIC);
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
