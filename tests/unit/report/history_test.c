/* Unit tests for src/report/history.c: the Wilson interval, query parameters, a record's
 * timeline, rows written and read back through a database file, the key index (every key,
 * retention, a database of the older layout). */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../src/report/history.h"
#include "tap.h"
#include "util.h"

static int near(double a, double b)
{
    return fabs(a - b) < 5e-5;
}

static char *tmp_db(void)
{
    char path[] = "/tmp/history_test.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    return xstrdup(path);
}

static void rm_db(char *path)
{
    char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    free(wal);
    free(shm);
    free(path);
}

/* Record i of a set: every key distinct, but the sender shared by the even ones. */
static json_t *keyed(int i)
{
    char id[32], rcpt[64], from[64], mid[64], fbl[64];
    snprintf(id, sizeof id, "%016x", i * 7919u);
    snprintf(rcpt, sizeof rcpt, "u%d@mixed.sink.test", i);
    snprintf(from, sizeof from, "%s@sender.test", i % 2 ? "odd" : "even");
    snprintf(mid, sizeof mid, "<m%d@sender.test>", i);
    snprintf(fbl, sizeof fbl, "KZA7%d=", i);
    return json_pack("{si s:s s:s s:{s:s s:s} s:{s:s s:s} s:{s:s}}", "v", 1, "kind", "message",
                     "id", id, "envelope", "rcpt", rcpt, "mail_from", from, "headers", "message_id",
                     mid, "x_msfbl", fbl, "dkim", "result", "pass");
}

/* Rows one query (key = value, newest first, up to 200) finds: their ids, joined by ' '. */
static char *found(rp_hist_reader *r, const char *key, const char *value, const char *key2,
                   const char *value2)
{
    hist_query q;
    hist_query_init(&q);
    const char *why;
    char *err = NULL;
    hist_query_set(&q, key, value, &why);
    if (key2)
        hist_query_set(&q, key2, value2, &why);
    hist_query_set(&q, "limit", "200", &why);
    json_t *page = hist_messages(r, &q, &err);
    hist_query_free(&q);
    bs_buf b;
    buf_init(&b);
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(page, "messages"), i, m)
    {
        buf_printf(&b, "%s%s", i ? " " : "", json_string_value(json_object_get(m, "id")));
    }
    json_decref(page);
    free(err);
    return buf_steal(&b);
}

static long long one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Rows the key index holds (the spool-id tokens it counts), against rows in the table. */
static int keys_match_rows(const char *path)
{
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, record_keys, 'row')", NULL,
                 NULL, NULL);
    long long keys = one_int(db, "SELECT sum(doc) FROM temp.v WHERE term LIKE 'i%'");
    long long rows = one_int(db, "SELECT count(*) FROM records");
    sqlite3_close(db);
    if (keys != rows)
        fprintf(stderr, "# key index: %lld rows, table: %lld\n", keys, rows);
    return keys == rows && rows > 0;
}

static void key_index(void)
{
    char *path = tmp_db(), *err = NULL, *s;
    rp_history *h = hist_open(path, 0, 1000, &err);
    ok(h != NULL, "key index: database opened");
    for (int i = 1; i <= 6; i++) {
        json_t *rec = keyed(i);
        hist_add(h, rec, 1795000000.0 + i, "INFO", "line", NULL);
        json_decref(rec);
    }
    hist_commit(h, 1795000010.0);
    rp_hist_reader *r = hist_reader_open(path, &err);
    char id3[32];
    snprintf(id3, sizeof id3, "%016x", 3 * 7919u);
    is_str(s = found(r, "spool_id", id3, NULL, NULL), id3, "found by spool id");
    free(s);
    is_str(s = found(r, "rcpt", "U3@Mixed.Sink.Test", NULL, NULL), id3, "found by recipient");
    free(s);
    is_str(s = found(r, "message_id", "<m3@sender.test>", NULL, NULL), id3, "found by Message-ID");
    free(s);
    is_str(s = found(r, "msfbl", "KZA73=", NULL, NULL), id3, "found by X-MSFBL");
    free(s);
    char want[128];
    snprintf(want, sizeof want, "%016x %016x %016x", 5 * 7919u, 3 * 7919u, 1 * 7919u);
    is_str(s = found(r, "from", "odd@sender.test", NULL, NULL), want,
           "a shared sender: all its rows, newest first");
    free(s);
    snprintf(want, sizeof want, "%016x %016x", 3 * 7919u, 1 * 7919u);
    is_str(s = found(r, "from", "odd@sender.test", "before", "5"), want,
           "a key and a page below seq 5 (keyset paging through the key index)");
    free(s);
    is_str(s = found(r, "from", "odd@sender.test", "rcpt", "u3@mixed.sink.test"), id3,
           "two keys: the rows with both");
    free(s);
    is_str(s = found(r, "from", "even@sender.test", "rcpt", "u3@mixed.sink.test"), "",
           "two keys no row has together: nothing");
    free(s);
    is_str(s = found(r, "message_id", "m3@sender.tes", NULL, NULL), "",
           "a key that is only a prefix: nothing");
    free(s);
    ok(keys_match_rows(path), "key index holds every row");

    /* Retention: rows beyond max_rows (1000) go, their keys with them. */
    for (int i = 7; i <= 1500; i++) {
        json_t *rec = keyed(i);
        hist_add(h, rec, 1795000000.0 + i, "INFO", "line", NULL);
        json_decref(rec);
        if (i % 100 == 0)
            hist_commit(h, 1795000000.0 + 2 * i);
    }
    hist_commit(h, 1795100000.0);
    json_t *empty = json_object(); /* a row to prune on */
    hist_add(h, empty, 1795100000.0, "INFO", "line", NULL);
    json_decref(empty);
    hist_commit(h, 1795100002.0);
    is_str(s = found(r, "spool_id", id3, NULL, NULL), "", "a pruned row: not found by its id");
    free(s);
    is_str(s = found(r, "rcpt", "u3@mixed.sink.test", NULL, NULL), "", "... nor by its recipient");
    free(s);
    snprintf(id3, sizeof id3, "%016x", 1400 * 7919u);
    is_str(s = found(r, "rcpt", "u1400@mixed.sink.test", NULL, NULL), id3, "a kept row: found");
    free(s);
    ok(keys_match_rows(path), "after retention the key index holds the rows kept, no more");
    hist_reader_close(r);
    hist_close(h);
    rm_db(path);
}

/* A database of the older layout (a B-tree index per key): its keys are indexed at open
 * and the old indexes dropped. */
/* One text column of the only row. */
static char *column(const char *path, const char *col)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    char *sql = xasprintf("SELECT %s FROM records", col), *v = NULL;
    sqlite3_open(path, &db);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_text(st, 0))
        v = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(sql);
    return v;
}

/* 1 when the key index holds the token of key (tag letter, FNV-1a in hex) for a row. */
static int has_token(const char *path, char tag, const char *key)
{
    char *sql = xasprintf("SELECT count(*) FROM temp.v WHERE term = '%c%016llx'", tag,
                          (unsigned long long)bs_fnv1a64(key, strlen(key), 0));
    sqlite3 *db;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, record_keys, 'row')", NULL,
                 NULL, NULL);
    long long n = one_int(db, sql);
    sqlite3_close(db);
    free(sql);
    return n == 1;
}

/* The searched keys as they are stored: addresses from inside <...>, trimmed and
 * lower-cased; a Message-ID without <> (case kept); a key over HIST_FIELD_MAX bytes cut
 * before a UTF-8 sequence, not inside it; their tokens as the key index has them. */
static void stored_texts(void)
{
    char *path = tmp_db(), *err = NULL, *s;
    char long_rcpt[HIST_FIELD_MAX + 16];
    memset(long_rcpt, 'a', HIST_FIELD_MAX - 1);
    memcpy(long_rcpt + HIST_FIELD_MAX - 1, "\xc3\xa9@x.test", 10); /* e-acute across the cut */
    long_rcpt[HIST_FIELD_MAX + 9] = 0;
    for (int i = 0; i < 2; i++) {
        rp_history *h = hist_open(path, 0, 1000, &err);
        json_t *rec = json_pack(
            "{s:s s:s s:{s:s s:s} s:{s:s s:s}}", "kind", "message", "id", "00000000000000aa",
            "envelope", "rcpt", i ? long_rcpt : " Joe <Joe@Example.COM> ", "mail_from",
            "Bounce+X@Sender.TEST", "headers", "message_id", "  <A.b@X>  ", "x_msfbl", "KZA7Q=");
        hist_add(h, rec, 1795000000.0, "INFO", "line", NULL);
        json_decref(rec);
        hist_commit(h, 1795000001.0);
        hist_close(h);
        if (i == 0) {
            is_str(s = column(path, "rcpt"), "joe@example.com",
                   "stored rcpt: inside <>, lower-cased");
            free(s);
            is_str(s = column(path, "mail_from"), "bounce+x@sender.test",
                   "stored sender lower-cased");
            free(s);
            is_str(s = column(path, "message_id"), "A.b@X",
                   "stored Message-ID without <>, case kept");
            free(s);
            ok(has_token(path, 'r', "joe@example.com") &&
                   has_token(path, 'f', "bounce+x@sender.test") && has_token(path, 'm', "A.b@X") &&
                   has_token(path, 's', "KZA7Q=") && has_token(path, 'i', "00000000000000aa"),
               "each key's token is its tag and FNV-1a in hex");
            rp_hist_reader *r = hist_reader_open(path, &err);
            is_str(s = found(r, "rcpt", "JOE@example.com", NULL, NULL), "00000000000000aa",
                   "found by the address in another case");
            free(s);
            hist_reader_close(r);
        } else {
            sqlite3 *db;
            sqlite3_open(path, &db);
            long long n = one_int(db, "SELECT length(CAST(rcpt AS BLOB)) FROM records ORDER BY seq "
                                      "DESC LIMIT 1");
            sqlite3_close(db);
            is_int(n, HIST_FIELD_MAX - 1, "a long key is cut before the UTF-8 sequence at the cut");
        }
    }
    rm_db(path);
}

static void older_layout(void)
{
    char *path = tmp_db(), *err = NULL, *s;
    sqlite3 *db;
    sqlite3_open(path, &db);
    int rc = sqlite3_exec(
        db,
        "CREATE TABLE records(seq INTEGER PRIMARY KEY, t REAL NOT NULL, kind TEXT NOT NULL,"
        " id TEXT NOT NULL, outcome TEXT NOT NULL, stream TEXT, acts INTEGER NOT NULL DEFAULT 0,"
        " code INTEGER, rcpt TEXT, mail_from TEXT, message_id TEXT, msfbl TEXT, level TEXT,"
        " line TEXT, events TEXT NOT NULL);"
        "CREATE INDEX records_t ON records(t); CREATE INDEX records_id ON records(id);"
        "CREATE INDEX records_rcpt ON records(rcpt) WHERE rcpt IS NOT NULL;"
        "CREATE INDEX records_from ON records(mail_from) WHERE mail_from IS NOT NULL;"
        "CREATE INDEX records_mid ON records(message_id) WHERE message_id IS NOT NULL;"
        "CREATE INDEX records_msfbl ON records(msfbl) WHERE msfbl IS NOT NULL;"
        "INSERT INTO records(t,kind,id,outcome,rcpt,mail_from,message_id,events) VALUES"
        " (1795000000,'message','old1','accept','a@x.test','s@y.test','m1@y','[]'),"
        " (1795000001,'message','old2','accept','b@x.test','s@y.test',NULL,'[]');",
        NULL, NULL, NULL);
    sqlite3_close(db);
    ok(rc == SQLITE_OK, "older layout: database written");
    rp_history *h = hist_open(path, 0, 1000, &err);
    ok(h != NULL, "older layout: opened");
    rp_hist_reader *r = hist_reader_open(path, &err);
    is_str(s = found(r, "rcpt", "b@x.test", NULL, NULL), "old2", "older row found by recipient");
    free(s);
    is_str(s = found(r, "from", "s@y.test", NULL, NULL), "old2 old1", "... by sender");
    free(s);
    is_str(s = found(r, "message_id", "m1@y", NULL, NULL), "old1", "... by Message-ID");
    free(s);
    sqlite3_open(path, &db);
    is_int(one_int(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('records_id',"
                       "'records_rcpt','records_from','records_mid','records_msfbl')"),
           0, "the per-key indexes are gone");
    sqlite3_close(db);
    ok(keys_match_rows(path), "older layout: the key index holds every row");
    hist_reader_close(r);
    hist_close(h);
    rm_db(path);
}

int main(void)
{
    bs_set_progname("history_test");
    double lo, hi;
    /* Wilson's score interval, z = 1.96 (Newcombe 1998, method 3; 0/10 -> 0-0.2775 and
     * 10/10 -> 0.7225-1 as in its table): 20/200 -> 0.06567-0.14941. */
    hist_wilson(20, 200, &lo, &hi);
    ok(near(lo, 0.06567) && near(hi, 0.14941), "Wilson 20/200");
    hist_wilson(0, 10, &lo, &hi);
    ok(lo == 0 && near(hi, 0.27753), "Wilson 0/10");
    hist_wilson(10, 10, &lo, &hi);
    ok(near(lo, 0.72247) && near(hi, 1), "Wilson 10/10");
    hist_wilson(0, 0, &lo, &hi);
    ok(lo == 0 && hi == 1, "Wilson with no data: [0, 1]");

    hist_query q;
    hist_query_init(&q);
    const char *why;
    is_int(q.limit, HIST_LIMIT_DEFAULT, "default limit");
    ok(hist_query_set(&q, "rcpt", " Joe <Joe@Example.COM> ", &why) == 0, "rcpt with a name");
    is_str(q.rcpt, "joe@example.com", "... lower-cased, without name and <>");
    ok(hist_query_set(&q, "message_id", "<a.B@x>", &why) == 0, "Message-ID");
    is_str(q.message_id, "a.B@x", "... without <>, case kept");
    ok(hist_query_set(&q, "limit", "200", &why) == 0 && q.limit == 200, "limit 200");
    ok(hist_query_set(&q, "limit", "201", &why) != 0 && why, "limit 201 refused");
    ok(hist_query_set(&q, "before", "0", &why) != 0, "before 0 refused");
    ok(hist_query_set(&q, "spool_id", "", &why) != 0, "empty spool_id refused");
    ok(hist_query_set(&q, "nope", "1", &why) != 0 && strstr(why, "unknown"), "unknown key refused");
    hist_query_free(&q);

    long secs, step;
    ok(hist_range("24h", &secs, &step) == 0 && secs == 86400 && step == 900, "range 24h");
    ok(hist_range("2h", &secs, &step) != 0, "range 2h refused");

    const char *text =
        "{\"v\":1,\"kind\":\"message\",\"id\":\"abc\",\"ts\":\"2026-11-24T20:05:10Z\","
        "\"envelope\":{\"rcpt\":\"R@X.test\",\"mail_from\":\"s@y.test\"},"
        "\"headers\":{\"message_id\":\"<m1@y>\",\"subject\":\"a \\\"q\\\" \\u0001\"},"
        "\"dkim\":{\"result\":\"pass\"},\"plan\":{\"stream\":\"mixed\","
        "\"actions\":[\"oob\"]},\"smtp\":{\"oob\":{\"status\":\"sent\",\"to\":\"s@y.test\"}}}";
    json_t *rec = json_loads(text, 0, NULL);
    const char *outcome;
    char *tl = hist_timeline(rec, 1795000000.5, "INFO", "deleted", &outcome);
    is_str(outcome, "oob", "outcome of a planned OOB");
    json_t *ev = json_loads(tl, 0, NULL);
    ok(json_is_array(ev), "timeline is JSON");
    const char *names[] = {"received", "accepted", "auth",   "routed",
                           "plan",     "oob",      "logged", "settled"};
    int same = json_array_size(ev) == 8;
    for (size_t i = 0; same && i < 8; i++)
        same = strcmp(json_string_value(json_object_get(json_array_get(ev, i), "event")),
                      names[i]) == 0;
    ok(same, "events in order");
    is_str(json_string_value(json_object_get(json_array_get(ev, 1), "subject")), "a \"q\" \001",
           "a subject with quotes and a control character survives");
    ok(strstr(tl, "\"subject\":\"a \\\"q\\\" \\u0001\"") != NULL,
       "escaped as before: \\\" and \\u0001");
    json_decref(ev);
    free(tl);

    /* Write, read back through the reader. */
    char *path = tmp_db(), *err = NULL;
    rp_history *h = hist_open(path, 30, 1000, &err);
    ok(h != NULL, "database opened");
    for (int i = 0; i < 5; i++)
        hist_add(h, rec, 1795000000.0 + i, "INFO", "line", NULL);
    hist_commit(h, 1795000010.0);
    rp_hist_reader *r = hist_reader_open(path, &err);
    ok(r != NULL, "reader opened");
    hist_query_init(&q);
    hist_query_set(&q, "rcpt", "r@x.TEST", &why);
    hist_query_set(&q, "limit", "2", &why);
    json_t *page = hist_messages(r, &q, &err);
    is_int(json_array_size(json_object_get(page, "messages")), 2, "page of 2");
    is_int(json_integer_value(json_object_get(page, "next_before")), 4,
           "next_before is the last seq");
    json_decref(page);
    hist_query_free(&q);
    hist_reader_close(r);
    hist_close(h);
    json_decref(rec);
    rm_db(path);
    key_index();
    stored_texts();
    older_layout();
    return done_testing();
}
