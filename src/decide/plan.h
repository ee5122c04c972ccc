/* plan.h — routing, gate and draws for one message record (SPEC A2-A4).
 *
 * The plan depends only on the model, the day values, the seed and the message fields in
 * msg_view. Randomness comes from a xoshiro256** generator seeded per message from the
 * run's seed and the message id, so the plan of a message does not depend on its position
 * in the stream, on the records around it, or on reloads that leave the model unchanged.
 */
#ifndef DECIDE_PLAN_H
#define DECIDE_PLAN_H

#include "rng.h"
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "util.h"

/* A string borrowed from the record (not NUL-terminated); p == NULL when absent. */
typedef struct {
    const char *p;
    size_t n;
} span;

typedef struct {
    span id;
    span rcpt;                                    /* envelope.rcpt */
    span to;                                      /* headers.to */
    span dkim_result;                             /* dkim.result */
    span dkim_reason;                             /* dkim.reason */
    int has_dkim;                                 /* dkim is an object */
    span spf_result;                              /* spf.result */
    span error;                                   /* error */
    span list_unsubscribe, list_unsubscribe_post; /* headers.* */
    span outcome; /* headers.x_bouncy_sink_outcome (override.h; ingest takes it only from a
                     field the DKIM signature covers) */
    int route;    /* listen's routing decision from header_block (route_from_trace), an
                     enum bs_route; RT_FOREIGN (-1) when it has none */
} msg_view;

/* xoshiro256** from src/lib/rng.h */
typedef bs_rng rng;
/* The generator of one message. */
void rng_for_message(rng *r, uint64_t seed, const char *id, size_t idlen);

/* Fills a view from a parsed record (borrowing its strings). */
void msg_view_from_json(const json_t *rec, msg_view *v);

/* Stream of a recipient address (routing by the first label under a sink domain). */
enum stream plan_route(const decide_model *m, const char *addr, size_t n);
/* First address of a header field value such as `"Doe, J" <j@x.test>, k@y.test`. */
span plan_first_address(span field);

/* Appends the plan object (JSON text, no newline) to out. */
void plan_make(const decide_model *m, const model_day *d, uint64_t seed, const msg_view *v,
               bs_buf *out);

/* Appends s as a JSON string literal. */
void json_quote(bs_buf *out, const char *s, size_t n);

#endif
