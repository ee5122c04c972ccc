/* Fuzz target: the history's timeline of a record (hist_timeline) and the query
 * parameters of GET /json/messages (hist_query_set). Input: one NDJSON record line; the
 * same bytes are also read as a query string (key=value&...). */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/report/history.h"
#include "record.h"
#include "util.h"

/* The timeline is a JSON array of objects with "event", at most HIST_EVENTS_MAX of them,
 * ending with "logged" (then "settled" when asked for). */
static void check_timeline(const json_t *rec, const char *settle)
{
    const char *outcome = NULL;
    char *text = hist_timeline(rec, 1700000000.25, "INFO", settle, &outcome);
    json_error_t e;
    json_t *ev = json_loads(text, 0, &e);
    if (!json_is_array(ev) || json_array_size(ev) < 1 || json_array_size(ev) > HIST_EVENTS_MAX ||
        !outcome || !*outcome)
        abort();
    size_t i;
    json_t *o;
    json_array_foreach(ev, i, o) if (!json_is_string(json_object_get(o, "event"))) abort();
    const json_t *last = json_array_get(ev, json_array_size(ev) - 1);
    const char *want = settle ? "settled" : "logged";
    if (strcmp(json_string_value(json_object_get(last, "event")), want) != 0)
        abort();
    json_decref(ev);
    free(text);
}

static void check_query(const char *s)
{
    hist_query q;
    hist_query_init(&q);
    char *copy = xstrdup(s);
    for (char *pair = copy, *next; pair; pair = next) {
        next = strchr(pair, '&');
        if (next)
            *next++ = 0;
        char *eq = strchr(pair, '=');
        if (eq)
            *eq++ = 0;
        const char *why;
        if (hist_query_set(&q, pair, eq, &why) != 0 && !why)
            abort();
    }
    if (q.limit < 1 || q.limit > HIST_LIMIT_MAX || q.before < 0)
        abort();
    const char *addrs[] = {q.rcpt, q.mail_from};
    for (int k = 0; k < 2; k++)
        for (const char *p = addrs[k]; p && *p; p++)
            if (isupper((unsigned char)*p))
                abort(); /* addresses are searched lower-cased */
    if (q.message_id && !*q.message_id)
        abort();
    hist_query_free(&q);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size);
    json_t *rec = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
    if (json_is_object(rec)) {
        check_timeline(rec, NULL);
        check_timeline(rec, "deleted");
    }
    json_decref(rec);
    check_query(s);
    free(s);
    return 0;
}
