/* decider.h — one input line in, the output line(s) out; the model in force and reloads.
 *
 * decider_line handles a line (without its newline): a message record gets its plan,
 * every other valid record is passed on byte for byte, and a line that is not a valid
 * record becomes an "invalid" record (reported on stderr). Output is appended to a
 * buffer, one record per line.
 */
#ifndef DECIDE_DECIDER_H
#define DECIDE_DECIDER_H

#include <stdint.h>

#include "model.h"
#include "util.h"

typedef struct {
    decide_model *model; /* owned */
    model_day day;
    int day_valid;
    int seed_forced; /* --seed given: it wins over [Decide] Seed */
    uint64_t seed_forced_value;
    uint64_t random_seed; /* used when neither --seed nor [Decide] Seed */
    uint64_t seed;        /* in force */
    int clock_frozen;     /* --now: the plans' clock stands still */
    double clock;
    const char *input_name;
    unsigned long params_count;
    unsigned long messages, invalid;
} decider;

/* Takes ownership of model. */
void decider_init(decider *dc, decide_model *model, const char *input_name);
void decider_free(decider *dc);
void decider_force_seed(decider *dc, uint64_t seed);
/* Replaces the model (taking ownership) and recomputes the seed in force. */
void decider_set_model(decider *dc, decide_model *model);

/* Freezes the clock used for plans and record times at t (--now). */
void decider_freeze_clock(decider *dc, double t);
/* The time for plans and records: the frozen clock, else bs_now(). */
double decider_now(const decider *dc);
/* Day values for decider_now(), recomputed when the second changes. */
const model_day *decider_day(decider *dc);

void decider_line(decider *dc, const char *line, size_t len, unsigned long lineno, bs_buf *out);

/* Appends an "invalid" record for a line that could not be read (e.g. too long). */
void decider_invalid(decider *dc, unsigned long lineno, const char *why, bs_buf *out);

/* Appends a params record made at time `when`: reason "start"/"reload", error NULL or
 * the reload failure. */
void decider_params(decider *dc, double when, const char *source, const char *reason,
                    const char *error, bs_buf *out);

#endif
