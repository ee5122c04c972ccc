/* timing.h — the [Timing] section: when the actions of a plan happen (issue 17).
 *
 * decide draws a delay per planned action from the distribution set for its type;
 * schedule holds the action until then (scaled by Time_Scale). A distribution is written
 *   lognormal MEDIAN SIGMA [CAP] | exponential MEAN [CAP] | fixed DELAY | none
 * with durations as a number and an optional unit s, m, h or d (seconds without one);
 * none (and fixed 0) means at once. A draw is never above its CAP (default: none).
 * Open_Again and Click follow the open, Click_Again the click: their delays are added
 * to the delay of the action they follow.
 */
#ifndef BS_TIMING_H
#define BS_TIMING_H

#include "config.h"
#include "rng.h"

typedef enum { TD_NONE, TD_FIXED, TD_LOGNORMAL, TD_EXPONENTIAL } timing_kind;

typedef struct {
    timing_kind kind;
    double a;   /* fixed: the delay; lognormal: median; exponential: mean (seconds) */
    double b;   /* lognormal: sigma */
    double cap; /* seconds; 0: none */
} timing_dist;

/* The action types with a delay, in plan order, and their [Timing] keys. */
enum timing_action {
    TA_OPEN,
    TA_OPEN_AGAIN,
    TA_CLICK,
    TA_CLICK_AGAIN,
    TA_UNSUBSCRIBE,
    TA_OOB,
    TA_FBL,
    TA_OOTO,
    TA_COUNT
};
extern const char *const timing_action_names[TA_COUNT]; /* plan names: open, open_again ... */
extern const char *const timing_keys[TA_COUNT];         /* Open, Open_Again ... */
/* The action a delay is added to (TA_COUNT: none, counted from the message). */
extern const enum timing_action timing_after[TA_COUNT];
/* The index of a plan action name, TA_COUNT when it has no delay. */
enum timing_action timing_action_find(const char *name);

typedef struct {
    int enabled; /* a key of [Timing] has a value */
    double time_scale;
    timing_dist dist[TA_COUNT];
} timing_conf;

/* Parses a distribution; 0 ok, -1 with a reason in why (static text or in buf). */
int timing_parse(const char *text, timing_dist *d, char *why, size_t whylen);
/* Parses a duration such as 90, 30s, 5m, 1.5h, 2d (>= 0); 0 ok, -1 bad. */
int timing_duration(const char *text, double *out);

/* Reads [Timing] (defaults from the table when keys are absent); -1 with cfg_error. */
int timing_load(bs_config *cfg, timing_conf *t);

/* One draw, in seconds (0 for none). */
double timing_draw(const timing_dist *d, bs_rng *r);
/* The distribution as text, as it would be written in the file. */
void timing_format(const timing_dist *d, char *buf, size_t n);

#endif
