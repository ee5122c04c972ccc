/* decider.c — per-line processing: fast path through scan.c, slow path through jansson. */
#include "decider.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "record.h"
#include "scan.h"

static void update_seed(decider *dc)
{
    if (dc->seed_forced)
        dc->seed = dc->seed_forced_value;
    else if (dc->model->have_seed)
        dc->seed = dc->model->seed;
    else
        dc->seed = dc->random_seed;
}

void decider_init(decider *dc, decide_model *model, const char *input_name)
{
    memset(dc, 0, sizeof *dc);
    dc->model = model;
    dc->input_name = input_name;
    bs_random_bytes(&dc->random_seed, sizeof dc->random_seed);
    update_seed(dc);
}

void decider_free(decider *dc)
{
    model_free(dc->model);
    dc->model = NULL;
}

void decider_force_seed(decider *dc, uint64_t seed)
{
    dc->seed_forced = 1;
    dc->seed_forced_value = seed;
    update_seed(dc);
}

void decider_set_model(decider *dc, decide_model *model)
{
    model_free(dc->model);
    dc->model = model;
    dc->day_valid = 0;
    update_seed(dc);
}

void decider_freeze_clock(decider *dc, double t)
{
    dc->clock_frozen = 1;
    dc->clock = t;
    dc->day_valid = 0;
}

double decider_now(const decider *dc)
{
    return dc->clock_frozen ? dc->clock : bs_now();
}

static void set_ts(const decider *dc, json_t *rec)
{
    char ts[40];
    json_object_set_new(rec, "ts", json_string(bs_iso8601(decider_now(dc), ts, sizeof ts)));
}

const model_day *decider_day(decider *dc)
{
    double now = decider_now(dc);
    if (!dc->day_valid || (time_t)floor(now) != dc->day.second) {
        model_day_compute(dc->model, now, &dc->day);
        dc->day_valid = 1;
    }
    return &dc->day;
}

static void splice_plan(decider *dc, const char *obj, size_t close, const msg_view *v, bs_buf *out)
{
    buf_append(out, obj, close);
    buf_puts(out, ",\"plan\":");
    plan_make(dc->model, decider_day(dc), dc->seed, v, out);
    buf_puts(out, "}\n");
    dc->messages++;
}

void decider_line(decider *dc, const char *line, size_t len, unsigned long lineno, bs_buf *out)
{
    scan_out so;
    if (scan_record(line, len, &so) && !so.has_plan) {
        if (so.is_message) {
            splice_plan(dc, line, so.close, &so.v, out);
        } else {
            buf_append(out, line, len);
            buf_putc(out, '\n');
        }
        return;
    }
    /* Slow path: jansson is the reference for what a valid record is. */
    const char *why;
    json_t *rec = rec_parse_line(line, len, dc->input_name, lineno, &why);
    if (why) {
        bs_error("malformed record (%s:%lu): %s", dc->input_name, lineno, why);
        dc->invalid++;
        set_ts(dc, rec);
    }
    const char *kind = rec_kind(rec);
    if (!why && kind && strcmp(kind, "message") == 0) {
        json_object_del(rec, "plan");
        char *text = json_dumps(rec, JSON_COMPACT);
        if (!text)
            bs_panic("cannot serialise record %s", bs_show(rec_id(rec)));
        size_t tn = strlen(text);
        while (tn && text[tn - 1] != '}')
            tn--;
        msg_view v;
        msg_view_from_json(rec, &v);
        splice_plan(dc, text, tn - 1, &v, out);
        free(text);
    } else if (!why) {
        buf_append(out, line, len);
        buf_putc(out, '\n');
    } else {
        char *text = json_dumps(rec, JSON_COMPACT);
        if (!text)
            bs_panic("cannot serialise an invalid record");
        buf_puts(out, text);
        buf_putc(out, '\n');
        free(text);
    }
    json_decref(rec);
}

void decider_params(decider *dc, double when, const char *source, const char *reason,
                    const char *error, bs_buf *out)
{
    char id[32];
    snprintf(id, sizeof id, "params-%lu", ++dc->params_count);
    json_t *rec = rec_new("params", id);
    char ts[40];
    json_object_set_new(rec, "ts", json_string(bs_iso8601(when, ts, sizeof ts)));
    json_object_set_new(rec, "source", json_string(source));
    json_object_set_new(rec, "reason", json_string(reason));
    const model_day *d = decider_day(dc);
    if (error) {
        char *e = xasprintf("!%s", error);
        json_object_set_new(rec, "error", json_string(e));
        free(e);
    }
    json_t *p = model_params_json(dc->model, d);
    json_object_set_new(p, "seeded", json_boolean(dc->seed_forced || dc->model->have_seed));
    if (dc->seed_forced || dc->model->have_seed) /* as a string: JSON numbers lose bits */
        json_object_set_new(p, "seed", json_sprintf("%llu", (unsigned long long)dc->seed));
    json_object_set_new(rec, "params", p);
    char *text = json_dumps(rec, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (!text)
        bs_panic("cannot serialise params");
    buf_puts(out, text);
    buf_putc(out, '\n');
    free(text);
    json_decref(rec);
}

void decider_invalid(decider *dc, unsigned long lineno, const char *why, bs_buf *out)
{
    char id[64];
    snprintf(id, sizeof id, "invalid-%016llx-%lu",
             (unsigned long long)bs_fnv1a64(dc->input_name, strlen(dc->input_name), 0), lineno);
    bs_error("malformed record (%s:%lu): %s", dc->input_name, lineno, why);
    dc->invalid++;
    json_t *rec = rec_new("invalid", id);
    set_ts(dc, rec);
    char *where = xasprintf("%s:%lu: %s", dc->input_name, lineno, why);
    json_object_set_new(rec, "error", json_string(where));
    free(where);
    json_object_set_new(
        rec, "source", json_pack("{s:s, s:I}", "name", dc->input_name, "line", (json_int_t)lineno));
    json_object_set_new(rec, "text", json_string(""));
    char *text = json_dumps(rec, JSON_COMPACT);
    buf_puts(out, text);
    buf_putc(out, '\n');
    free(text);
    json_decref(rec);
}
