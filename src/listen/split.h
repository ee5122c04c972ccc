/* split.h — what the listener does with a recipient of a stream (SPEC A2): the stream
 * itself is src/global/route.h's. */
#ifndef LISTEN_SPLIT_H
#define LISTEN_SPLIT_H

#include <time.h>

#include "conf.h"

/* The routing label of a recipient domain (route_domain under the configured sink
 * domains): "mixed" for the sink domain itself or an unknown first label, else the first
 * label ("accept", "oob", "fbl", "openclick", "unsub", "ooto", "inband", "greylist",
 * "throttle", "slow"); NULL when the domain is not under a sink domain (relaying denied).
 * The string is static. */
const char *route_stream(const lconf *cf, const char *domain);

typedef enum { ROUTE_SPOOL, ROUTE_BLACKHOLE, ROUTE_INBAND } route_action;

/* The fate of one recipient of stream `stream`, drawn from r at time now. */
route_action route_decide(const lconf *cf, const char *stream, lrng *r, time_t now);

#endif
