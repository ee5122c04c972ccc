/* route.h — which stream a recipient belongs to (SPEC A2), once for listen (which decides
 * at RCPT time and records its decision in the spool file) and decide (which trusts that
 * record, and asks the same function for replayed corpora that lack it).
 *
 * A recipient's stream is the first label of its domain under the most specific (longest)
 * sink domain, compared without regard to case and to a trailing root dot: "oob" for
 * x@oob.bouncy-sink.test. The sink domain itself and an unknown first label are the mixed
 * stream; a domain under no sink domain is foreign (listen refuses to relay to it).
 *
 * The trace field: listen prepends to every spool file
 *     Return-Path: <sender>
 *     X-Bouncy-Sink-Route: <label>
 *     Received: from ... by <hostname> id ... for <rcpt>; <date>
 * A sender may put the same field in its message, but everything it sends comes below
 * listen's Received field; so only an X-Bouncy-Sink-Route field above the topmost
 * Received field counts (the topmost one if several), and only when that Received field
 * exists. Its value is one label of route_labels, else it is ignored.
 */
#ifndef BS_ROUTE_H
#define BS_ROUTE_H

#include <stddef.h>

#include "config.h"

/* The routing labels. The first RT_PLAN_COUNT are the streams decide plans for, in the
 * order of decide's enum stream; the others are listen's own behaviours. */
enum bs_route {
    RT_FOREIGN = -1, /* not under a sink domain */
    RT_MIXED,
    RT_ACCEPT,
    RT_OOB,
    RT_FBL,
    RT_OPENCLICK,
    RT_UNSUB,
    RT_OOTO,
    RT_PLAN_COUNT,
    RT_INBAND = RT_PLAN_COUNT, /* replied to in-band, never spooled by listen */
    RT_GREYLIST,
    RT_THROTTLE,
    RT_SLOW,
    RT_COUNT
};
extern const char *const route_labels[RT_COUNT];

#define ROUTE_TRACE_FIELD "X-Bouncy-Sink-Route"

/* The route of a domain [domain, domain+n) under the sink domains (lower case, no
 * trailing dot, as route_sink_domains gives them). */
enum bs_route route_domain(const char *const *sinks, size_t nsinks, const char *domain, size_t n);
/* The route of an address [addr, addr+n) (its domain after the last '@'); an address
 * without '@' is foreign. */
enum bs_route route_address(const char *const *sinks, size_t nsinks, const char *addr, size_t n);
/* The label named by [s, s+n) (exactly, lower case), or RT_FOREIGN. */
enum bs_route route_parse(const char *s, size_t n);
/* The stream decide plans for a route: listen's greylist, throttle and slow recipients
 * were finally accepted (a quiet accept); inband and foreign are the mixed stream. */
enum bs_route route_plan_stream(enum bs_route r);

/* Listen's decision recorded in a header block (see the trace field above), or
 * RT_FOREIGN when there is none to trust. */
enum bs_route route_from_trace(const char *block, size_t n);

/* [Listen] Sink_Domains as every program reads it: lower case, trailing dots removed;
 * absent or empty: the table's default (params.c). 0 ok; -1 with cfg_error(cfg) as `FILE:LINE:
 * [Listen] Sink_Domains: 'x' is not a domain name`. *out (and each string): caller frees,
 * with route_sink_domains_free. */
int route_sink_domains(bs_config *cfg, char ***out, size_t *n);
void route_sink_domains_free(char **v, size_t n);

#endif
