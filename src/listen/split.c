/* split.c — recipient routing and the mixed-stream split. */
#include "split.h"

#include <string.h>

#include "route.h"

const char *route_stream(const lconf *cf, const char *domain)
{
    enum bs_route r =
        route_domain((const char *const *)cf->sink_domains, cf->nsink, domain, strlen(domain));
    return r == RT_FOREIGN ? NULL : route_labels[r];
}

route_action route_decide(const lconf *cf, const char *stream, lrng *r, time_t now)
{
    if (strcmp(stream, "inband") == 0)
        return ROUTE_INBAND;
    if (strcmp(stream, "mixed") != 0)
        return ROUTE_SPOOL;
    if (bs_rng_uniform(r) * 100.0 >= cf->upstream_handled)
        return ROUTE_SPOOL;
    return bs_rng_uniform(r) * 100.0 < lconf_bounce_percent(cf, now) ? ROUTE_INBAND
                                                                     : ROUTE_BLACKHOLE;
}
