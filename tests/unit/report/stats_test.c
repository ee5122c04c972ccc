/* Unit tests for src/report/stats.c: counters, minute series, JSON shapes, state file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../src/report/stats.h"
#include "outcomes.h"
#include "tap.h"
#include "util.h"

int main(void)
{
    bs_set_progname("stats_test");
    double t0 = 1795000000.0; /* a minute boundary plus 40 s */
    rp_stats *st = stats_new(t0);
    json_t *doc = stats_json(st);
    is_str(json_string_value(json_object_get(doc, "startedRunning")), "2026-11-18T11:06:40+00:00",
           "startedRunning as ISO-8601 UTC with +00:00");
    const char *spec[] = {"total_messages",
                          "fail_dkim",
                          "fail_spf",
                          "accept",
                          "open",
                          "open_again",
                          "click",
                          "click_again",
                          "open_url_not_sparkpost",
                          "click_url_not_sparkpost",
                          "oob_sent",
                          "oob_missing_return_path",
                          "oob_missing_to",
                          "oob_return_path_not_sparkpost",
                          "oob_smtp_error",
                          "fbl_sent",
                          "fbl_missing_return_path",
                          "fbl_missing_to",
                          "fbl_return_path_not_sparkpost",
                          "fbl_smtp_error"};
    int all = 1;
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++)
        if (!json_is_integer(json_object_get(doc, spec[i])))
            all = 0;
    ok(all, "every SPEC A9 counter is in /json from the start, as an integer");
    json_decref(doc);

    stats_message(st, t0);
    stats_message(st, t0 + 5);
    stats_message(st, t0 + 30);  /* next minute */
    stats_message(st, t0 - 120); /* the clock went back: inserted in order */
    stats_add(st, "spf_Pass", 1);
    stats_add(st, "records_we ird/kind", 2);
    is_int(stats_get(st, "total_messages"), 4, "total_messages counted");
    is_int(stats_get(st, "spf_pass"), 1, "dynamic names are lower-cased");
    is_int(stats_get(st, "records_we_ird_kind"), 2, "dynamic names are sanitised");
    json_t *series = stats_series(st);
    is_int(json_array_size(series), 3, "three minutes in the series");
    is_str(json_string_value(json_object_get(json_array_get(series, 0), "time")),
           "2026-11-18T11:04:00+00:00", "series sorted by time, minute resolution");
    is_int(json_integer_value(json_object_get(json_array_get(series, 1), "messages")), 2,
           "two messages in one minute");
    json_decref(series);

    /* state round trip */
    char path[] = "/tmp/stats_test.XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    json_t *state = stats_state(st);
    ok(stats_save_file(state, path) == 0, "state saved");
    json_decref(state);
    rp_stats *st2 = stats_new(t0 + 999);
    char *err = NULL;
    is_int(stats_load_file(st2, path, &err), 1, "state loaded");
    is_int(stats_get(st2, "total_messages"), 4, "counter restored");
    is_int(stats_get(st2, "records_we_ird_kind"), 2, "dynamic counter restored");
    is_int(stats_series_len(st2), 3, "series restored");
    ok(stats_started(st2) == t0, "startedRunning restored");
    ok(!stats_dirty(st2), "freshly loaded state is clean");
    char *m1 = stats_metrics(st), *m2 = stats_metrics(st2);
    is_str(m2, m1, "metrics identical after the round trip");
    ok(strstr(m1, "# TYPE bouncy_sink_total_messages_total counter\n"
                  "bouncy_sink_total_messages_total 4\n") != NULL,
       "metrics: TYPE line and sample");
    free(m1);
    free(m2);
    stats_free(st2);

    /* a file that is not a state */
    FILE *fp = fopen(path, "w");
    fputs("{\"version\":1,\"counters\":[]}", fp);
    fclose(fp);
    st2 = stats_new(0);
    is_int(stats_load_file(st2, path, &err), -1, "bad state refused");
    ok(err && strstr(err, path), "error names the file");
    free(err);
    stats_free(st2);
    unlink(path);
    st2 = stats_new(0);
    is_int(stats_load_file(st2, path, &err), 0, "missing state file: fresh start");
    stats_free(st2);

    /* ten days of history */
    stats_prune(st, t0 + STATS_SERIES_SECONDS - 30);
    is_int(stats_series_len(st), 2, "minutes older than 10 days dropped");
    stats_prune(st, t0 + STATS_SERIES_SECONDS + 3600);
    is_int(stats_series_len(st), 0, "all dropped later");

    /* dynamic counters are capped */
    for (int i = 0; i < STATS_MAX_DYNAMIC + 50; i++) {
        char name[32];
        snprintf(name, sizeof name, "records_k%d", i);
        stats_add(st, name, 1);
    }
    ok(stats_count(st) <= stats_known_n + STATS_MAX_DYNAMIC + 1, "dynamic counters capped");
    ok(stats_get(st, "counters_overflow") > 0, "overflow counted");
    /* each counter found by name, whatever was added after it (they are kept sorted) */
    int each = 1;
    for (int i = 0; i < STATS_MAX_DYNAMIC + 50; i++) {
        char name[32];
        snprintf(name, sizeof name, "records_k%d", i);
        stats_add(st, name, i);
    }
    size_t n_dyn = stats_count(st) - stats_known_n;
    for (size_t i = 0; i < stats_count(st); i++) {
        long long v;
        const char *name = stats_name(st, i, &v);
        if (stats_get(st, name) != v) {
            printf("# %s: %lld by name, %lld at %zu\n", name, stats_get(st, name), v, i);
            each = 0;
        }
        if (i >= stats_known_n && strncmp(name, "records_k", 9) == 0 && v != 1 + atoi(name + 9)) {
            printf("# %s: %lld\n", name, v);
            each = 0;
        }
    }
    if (n_dyn != STATS_MAX_DYNAMIC + 1)
        printf("# %zu dynamic counters\n", n_dyn);
    ok(each && n_dyn == STATS_MAX_DYNAMIC + 1,
       "every counter found by name with its own value (and counters_overflow)");
    is_int(stats_get(st, "records_k3"), 4, "a counter added twice");
    is_int(stats_get(st, "no_such_counter"), 0, "a counter never added: 0");
    stats_free(st);

    /* Every status act-smtp writes (outcomes.h) has its known, labelled counter
     * <kind>_<status> on the page; dry runs are counted as they come, and only an
     * out-of-office reply can be refused as auto-submitted or to a system sender. */
    static const char *const kinds[] = {"oob", "fbl", "ooto"};
    for (size_t k = 0; k < 3; k++)
        for (bs_smtp_status s = 0; s < BS_SMTP_NSTATUS; s++) {
            if (s == BS_SMTP_DRY_RUN ||
                (k < 2 && (s == BS_SMTP_AUTO_SUBMITTED || s == BS_SMTP_SYSTEM_SENDER)) ||
                (k > 0 && s == BS_SMTP_NOT_REQUESTED)) /* NOTIFY concerns DSNs only */
                continue;
            char name[80];
            snprintf(name, sizeof name, "%s_%s", kinds[k], bs_smtp_status_name(s));
            int known = 0;
            for (size_t i = 0; i < stats_known_n; i++)
                known |= strcmp(stats_known[i].name, name) == 0;
            char desc[160];
            snprintf(desc, sizeof desc, "act-smtp status counted as known counter %s", name);
            ok(known, desc);
        }
    return done_testing();
}
