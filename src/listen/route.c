/* route.c — recipient routing and the mixed-stream split. */
#include "route.h"

#include <string.h>

#include "domain.h"

static const char *const spooled[] = {"accept",   "oob",      "fbl",  "openclick", "unsub",
                                      "ooto",     "greylist", "throttle", "slow", NULL};

const char *route_stream(const lconf *cf, const char *domain)
{
    size_t dl = strlen(domain);
    for (size_t i = 0; i < cf->nsink; i++) {
        ssize_t in_front = bs_domain_under(domain, dl, cf->sink_domains[i]);
        if (in_front == 0)
            return "mixed";
        if (in_front > 0) {
            size_t ll = strcspn(domain, ".");
            if (ll == 6 && memcmp(domain, "inband", 6) == 0)
                return "inband";
            for (int k = 0; spooled[k]; k++)
                if (strlen(spooled[k]) == ll && memcmp(domain, spooled[k], ll) == 0)
                    return spooled[k];
            return "mixed";
        }
    }
    return NULL;
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
