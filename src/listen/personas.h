/* personas.h — listen's personas ([Personas], bouncy-sink-persona(5)): the persona files
 * of [Personas] Dir, which recipients get which persona, the measured rates, and the
 * facts of a session (facts.h) as the persona engine reads them (persona.h).
 *
 * Loaded once at start by lconf_load; read-only afterwards, but for the rates table
 * (thread-safe). Owns its personas and labels.
 */
#ifndef LISTEN_PERSONAS_H
#define LISTEN_PERSONAS_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "facts.h"
#include "persona.h"
#include "rates.h"

typedef struct {
    char *label;
    size_t persona;
} persona_label;

typedef struct lpersonas {
    persona *v;
    size_t n;
    unsigned *rcpt_facts; /* per persona: the costly facts (FACT_*) its rules up to RCPT use */
    persona_label *labels;
    size_t nlabels;
    long mixed; /* the mixed stream's persona; -1: none */
    rates *rates;
} lpersonas;

/* Reads [Personas]: 0 with *out NULL when no persona applies (no labels and no Mixed, or
 * Dir not set and missing), 0 with *out set, or -1 with the message in cfg_error(cfg). */
int lpersonas_load(bs_config *cfg, lpersonas **out);
void lpersonas_free(lpersonas *p);

/* The persona of a recipient: domain lower case without a trailing dot, stream its route
 * (route_stream), sinks the sink domains. -1: none. */
long lpersonas_for(const lpersonas *p, const char *domain, const char *stream, char *const *sinks,
                   size_t nsinks);

/* The domain a sending volume counts for: the passing DKIM signature's d=, else the From
 * domain DMARC read, else NULL. */
const char *lpersonas_sending_domain(const listen_facts *f);

/* What persona_facts.rate reads. */
typedef struct {
    rates *rates;
    const char *client_ip;
    const char *domain; /* NULL: domain_msgs are 0 */
    time_t now;
} lpersonas_rate_ctx;
long lpersonas_rate(void *ctx, persona_fact f, long window);

/* The facts of a session as the engine reads them; rc (kept alive by the caller) feeds the
 * rates. */
void lpersonas_facts(const listen_facts *lf, lpersonas_rate_ctx *rc, persona_facts *out);

#endif
