/* model.h — the statistical model of decide, read from the [Sink], [Listen] and [Decide]
 * sections of the configuration (SPEC A2-A4).
 *
 * model_load validates everything once; a loaded model is immutable. The values that
 * depend on the date (Weekly_Cycle_Open_Rate factor, day of month for the Signals gate)
 * are derived by model_day_compute for a given time, in local time (TZ).
 * Ownership: the model owns every string and array it points to.
 */
#ifndef DECIDE_MODEL_H
#define DECIDE_MODEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "route.h"
#include "timing.h"

/* Streams with their own behaviour (first label of the recipient domain); anything else
 * is the mixed stream. */
enum stream {
    STREAM_MIXED,
    STREAM_ACCEPT,
    STREAM_OOB,
    STREAM_FBL,
    STREAM_OPENCLICK,
    STREAM_UNSUB,
    STREAM_OOTO,
    STREAM_COUNT
};
/* Their names are the first route_labels (route.h); plan.c checks the order. */

typedef struct {
    char *source; /* configuration path, "(defaults)" without -c */
    /* Raw [Sink] values. */
    double oob_pct, fbl_pct, open_pct, open_again_pct, click_pct, click_again_pct;
    double upstream_handled;
    double *weekly_open, *weekly_bounce, *weekly_purge;
    size_t n_weekly_open, n_weekly_bounce, n_weekly_purge;
    char *signals_prefix;    /* NULL when not set */
    uint32_t digit_days[10]; /* bit d set: day of month d (1-31) */
    int digit_count[10];     /* |DigitN_days| */
    double density;          /* 1 without a Signals prefix */
    /* Derived (step 1 of SPEC A4): X_percent / 100 / share, before the day factor. */
    double share;
    double p_oob, p_fbl, p_open, p_open_again, p_click, p_click_again;
    /* [Listen] and [Decide]. */
    char **sink_domains; /* lower case */
    size_t n_sink_domains;
    unsigned spf_required; /* bit per enum stream */
    double unsubscribe_pct;
    double ooto_pct; /* [Decide] OOTO_percent, of the mixed stream */
    int have_seed;
    uint64_t seed;
    char **user_agents;
    size_t n_user_agents;
    char *user_agents_file;
    timing_conf timing; /* [Timing]: delays of the actions (timing.enabled: the section exists) */
} decide_model;

/* Values for one date (SPEC A4 steps 2 and 3). */
typedef struct {
    time_t second; /* the time these were computed for (cache key) */
    int mday;      /* day of month, 1-31, local time */
    int isoweekday, isoweek;
    int index; /* into Weekly_Cycle_Open_Rate, -1 when the key is absent */
    double weekly_open_rate, factor;
    double oob, fbl, open, open_again, click, click_again;
    double open_again_given_open, click_given_open, click_again_given_click;
    double unsubscribe;
    double ooto;
} model_day;

/* NULL on error with *err (caller frees) as `FILE:LINE: [Section] Key: why`. */
decide_model *model_load(bs_config *cfg, char **err);
void model_free(decide_model *m);

void model_day_compute(const decide_model *m, double now, model_day *d);

/* The parameters in force, as the "params" member of a params record. */
json_t *model_params_json(const decide_model *m, const model_day *d);
/* One line for stderr (caller frees). */
char *model_params_text(const decide_model *m, const model_day *d);

/* Reads the User-Agent CSV (first column, header row "Software,..." skipped).
 * 0 ok, -1 on error with *why (caller frees). */
int model_read_user_agents(const char *path, char ***out, size_t *n, char **why);

#endif
