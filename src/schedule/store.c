/* store.c — schedule's SQLite store (see store.h). */
#include "store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

enum {
    Q_ADD_MSG,
    Q_ADD_ACT,
    Q_MSG_ACTS,
    Q_DUE,
    Q_SET_STATE,
    Q_UNCLAIM,
    Q_PURGE_ACTS,
    Q_PURGE_MSG,
    Q_COUNTS,
    Q_NEXT_DUE,
    Q_COUNT
};

static const char *const queries[Q_COUNT] = {
    "INSERT OR IGNORE INTO messages(id, rec, base) VALUES (?1, ?2, ?3)",
    "INSERT OR IGNORE INTO actions(aid, msg, name, delay, due, state) VALUES (?1, ?2, ?3, ?4, ?5, "
    "0)",
    "SELECT name, delay, due, state FROM actions WHERE aid > ?1 || '/' AND aid < ?1 || '0' "
    "ORDER BY due",
    "SELECT a.aid, a.msg, a.name, a.delay, a.due, m.rec FROM actions a LEFT JOIN messages m ON "
    "m.id = a.msg WHERE a.state = 0 AND a.due <= ?1 ORDER BY a.due LIMIT ?2",
    "UPDATE actions SET state = ?2, claimed = CASE WHEN ?2 = 1 THEN ?3 ELSE claimed END, done = "
    "CASE WHEN ?2 = 2 THEN ?3 ELSE done END WHERE aid = ?1 AND state = ?4",
    "UPDATE actions SET state = 0 WHERE state = 1 AND claimed < ?1",
    "DELETE FROM actions WHERE state = 2 AND done < ?1 RETURNING msg",
    "DELETE FROM messages WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM actions WHERE aid > ?1 "
    "|| '/' AND aid < ?1 || '0')",
    "SELECT name, sum(state = 0), sum(state = 1) FROM actions WHERE state < 2 GROUP BY name",
    "SELECT min(due) FROM actions WHERE state = 0",
};

struct sched_store {
    sqlite3 *db;
    sqlite3_stmt *q[Q_COUNT];
    char *error;
};

static int fail(sched_store *s, int rc)
{
    free(s->error);
    s->error = xstrdup(s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    return rc;
}

const char *store_error(const sched_store *s)
{
    return s->error ? s->error : "no error";
}

static int exec(sched_store *s, const char *sql)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? rc : fail(s, rc);
}

sched_store *store_open(const char *path, char **err)
{
    sched_store *s = xcalloc(1, sizeof *s);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc == SQLITE_OK)
        sqlite3_busy_timeout(s->db, 5000);
    /* WAL: readers never block the writer; synchronous=FULL: a commit survives a power
     * failure (the spool file is settled on the strength of it). */
    if (rc == SQLITE_OK)
        rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS messages(id TEXT PRIMARY KEY, rec TEXT NOT NULL,"
                     " base REAL NOT NULL);"
                     "CREATE TABLE IF NOT EXISTS actions(aid TEXT PRIMARY KEY, msg TEXT NOT NULL,"
                     " name TEXT NOT NULL, delay REAL NOT NULL, due REAL NOT NULL,"
                     " state INTEGER NOT NULL DEFAULT 0, claimed REAL, done REAL);"
                     "CREATE INDEX IF NOT EXISTS actions_state_due ON actions(state, due);");
    if (rc == SQLITE_OK) {
        sqlite3_stmt *st;
        rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL);
        if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
            strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
            free(s->error);
            s->error = xstrdup("the database is not in WAL mode (journal_mode refused)");
            rc = SQLITE_ERROR;
        }
        sqlite3_finalize(st);
    }
    for (int i = 0; rc == SQLITE_OK && i < Q_COUNT; i++)
        rc = sqlite3_prepare_v3(s->db, queries[i], -1, SQLITE_PREPARE_PERSISTENT, &s->q[i], NULL);
    if (rc != SQLITE_OK) {
        if (!s->error)
            fail(s, rc);
        *err = xstrdup(s->error);
        store_close(s);
        return NULL;
    }
    return s;
}

void store_close(sched_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(s->q[i]);
    sqlite3_close(s->db);
    free(s->error);
    free(s);
}

int store_begin(sched_store *s, int durable)
{
    int rc = exec(s, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    return rc == SQLITE_OK ? exec(s, "BEGIN IMMEDIATE") : rc;
}

int store_commit(sched_store *s)
{
    return exec(s, "COMMIT");
}

void store_rollback(sched_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Steps a write statement to its end and resets it. */
static int run(sched_store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : fail(s, rc);
}

int store_add_message(sched_store *s, const char *id, const char *rec, double base, int *added)
{
    sqlite3_stmt *st = s->q[Q_ADD_MSG];
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, rec, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, base);
    int rc = run(s, st);
    *added = rc == SQLITE_OK && sqlite3_changes(s->db) > 0;
    return rc;
}

int store_add_action(sched_store *s, const char *aid, const char *msg, const char *name,
                     double delay, double due)
{
    sqlite3_stmt *st = s->q[Q_ADD_ACT];
    sqlite3_bind_text(st, 1, aid, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, msg, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 4, delay);
    sqlite3_bind_double(st, 5, due);
    return run(s, st);
}

/* Steps a query, calling row(arg, st) per row; resets it. */
static int rows(sched_store *s, sqlite3_stmt *st, int (*row)(void *, sqlite3_stmt *), void *arg)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (row(arg, st) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? SQLITE_OK : fail(s, rc);
}

typedef struct {
    store_action_fn fn;
    void *arg;
} acts_ctx;

static int act_row(void *arg, sqlite3_stmt *st)
{
    acts_ctx *c = arg;
    c->fn(c->arg, (const char *)sqlite3_column_text(st, 0), sqlite3_column_double(st, 1),
          sqlite3_column_double(st, 2), sqlite3_column_int(st, 3));
    return 0;
}

int store_message_actions(sched_store *s, const char *msg, store_action_fn fn, void *arg)
{
    acts_ctx c = {fn, arg};
    sqlite3_bind_text(s->q[Q_MSG_ACTS], 1, msg, -1, SQLITE_STATIC);
    return rows(s, s->q[Q_MSG_ACTS], act_row, &c);
}

typedef struct {
    store_due_fn fn;
    void *arg;
} due_ctx;

static int due_row(void *arg, sqlite3_stmt *st)
{
    due_ctx *c = arg;
    return c->fn(c->arg, (const char *)sqlite3_column_text(st, 0),
                 (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
                 sqlite3_column_double(st, 3), sqlite3_column_double(st, 4),
                 (const char *)sqlite3_column_text(st, 5));
}

int store_due(sched_store *s, double now, int max, store_due_fn fn, void *arg)
{
    due_ctx c = {fn, arg};
    sqlite3_bind_double(s->q[Q_DUE], 1, now);
    sqlite3_bind_int(s->q[Q_DUE], 2, max);
    return rows(s, s->q[Q_DUE], due_row, &c);
}

int store_set_state(sched_store *s, const char *aid, int from, int state, double when, int *changed)
{
    sqlite3_stmt *st = s->q[Q_SET_STATE];
    sqlite3_bind_int(st, 4, from);
    sqlite3_bind_text(st, 1, aid, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, state);
    sqlite3_bind_double(st, 3, when);
    int rc = run(s, st);
    *changed = rc == SQLITE_OK ? sqlite3_changes(s->db) : 0;
    return rc;
}

int store_unclaim(sched_store *s, double before, int *n)
{
    sqlite3_bind_double(s->q[Q_UNCLAIM], 1, before);
    int rc = run(s, s->q[Q_UNCLAIM]);
    *n = rc == SQLITE_OK ? sqlite3_changes(s->db) : 0;
    return rc;
}

typedef struct {
    char **ids;
    size_t n, cap;
} idlist;

static int id_row(void *arg, sqlite3_stmt *st)
{
    idlist *l = arg;
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->ids = xrealloc(l->ids, l->cap * sizeof *l->ids);
    }
    l->ids[l->n++] = xstrdup((const char *)sqlite3_column_text(st, 0));
    return 0;
}

int store_purge(sched_store *s, double before, int *n)
{
    idlist l = {0};
    sqlite3_bind_double(s->q[Q_PURGE_ACTS], 1, before);
    int rc = rows(s, s->q[Q_PURGE_ACTS], id_row, &l);
    *n = (int)l.n;
    for (size_t i = 0; i < l.n; i++) {
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(s->q[Q_PURGE_MSG], 1, l.ids[i], -1, SQLITE_STATIC);
            rc = run(s, s->q[Q_PURGE_MSG]);
        }
        free(l.ids[i]);
    }
    free(l.ids);
    return rc;
}

typedef struct {
    store_count_fn fn;
    void *arg;
} count_ctx;

static int count_row(void *arg, sqlite3_stmt *st)
{
    count_ctx *c = arg;
    c->fn(c->arg, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
          sqlite3_column_int64(st, 2));
    return 0;
}

int store_counts(sched_store *s, store_count_fn fn, void *arg)
{
    count_ctx c = {fn, arg};
    return rows(s, s->q[Q_COUNTS], count_row, &c);
}

static int due_value(void *arg, sqlite3_stmt *st)
{
    *(double *)arg = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_double(st, 0);
    return 0;
}

int store_next_due(sched_store *s, double *due)
{
    *due = 0;
    return rows(s, s->q[Q_NEXT_DUE], due_value, due);
}
