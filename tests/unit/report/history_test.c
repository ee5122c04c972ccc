/* Unit tests for src/report/history.c: the Wilson interval, query parameters, a record's
 * timeline, and rows written and read back through a database file. */
#include <math.h>
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
    json_decref(ev);
    free(tl);

    /* Write, read back through the reader. */
    char path[] = "/tmp/history_test.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    unlink(path);
    char *err = NULL;
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
    char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    free(wal);
    free(shm);
    return done_testing();
}
