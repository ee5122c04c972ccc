/* Unit tests for src/global/route.c: the stream of a recipient (one function for listen
 * and decide), listen's trace field and who may write it, [Listen] Sink_Domains. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "params.h"
#include "route.h"
#include "tap.h"
#include "util.h"

/* A configuration from text, through a temporary file. */
static bs_config *cfg_parse_string(const char *text, char **path_out, char **err)
{
    char path[] = "/tmp/bs-route-test-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        return NULL;
    close(fd);
    bs_config *cfg = cfg_load(path, err);
    unlink(path);
    *path_out = xstrdup(path);
    return cfg;
}

static enum bs_route trace(const char *block)
{
    return route_from_trace(block, strlen(block));
}

int main(void)
{
    bs_set_progname("route_test");
    static const char *const sinks[] = {"bouncy-sink.test", "sink.example", "oob.sink.example"};
    static const struct {
        const char *addr;
        enum bs_route want;
    } cases[] = {
        {"a@accept.bouncy-sink.test", RT_ACCEPT},
        {"a@OOB.bouncy-sink.test", RT_OOB},
        {"a@fbl.a.b.bouncy-sink.test", RT_FBL},
        {"a@openclick.bouncy-sink.test.", RT_OPENCLICK},
        {"a@unsub.bouncy-sink.test", RT_UNSUB},
        {"a@ooto.bouncy-sink.test", RT_OOTO},
        {"a@inband.bouncy-sink.test", RT_INBAND},
        {"a@greylist.bouncy-sink.test", RT_GREYLIST},
        {"a@Throttle.bouncy-sink.test", RT_THROTTLE},
        {"a@slow.x.bouncy-sink.test", RT_SLOW},
        {"a@slowly.bouncy-sink.test", RT_MIXED},
        {"a@bouncy-sink.test", RT_MIXED},
        {"a@accept.elsewhere.test", RT_FOREIGN},
        {"a@acceptbouncy-sink.test", RT_FOREIGN},
        {"a@oob.sink.example", RT_MIXED}, /* the most specific sink domain itself */
        {"a@fbl.oob.sink.example", RT_FBL},
        {"a@accept.sink.example", RT_ACCEPT},
        {"no-at-sign", RT_FOREIGN},
        {"weird@@accept.bouncy-sink.test", RT_ACCEPT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char desc[96];
        snprintf(desc, sizeof desc, "route %s -> %s", cases[i].addr,
                 cases[i].want == RT_FOREIGN ? "foreign" : route_labels[cases[i].want]);
        is_int(route_address(sinks, 3, cases[i].addr, strlen(cases[i].addr)), cases[i].want, desc);
    }
    is_int(route_domain(sinks, 3, "fbl.sink.example", 16), RT_FBL, "route_domain");

    /* what decide plans for each label */
    is_int(route_plan_stream(RT_GREYLIST), RT_ACCEPT, "greylist: a quiet accept");
    is_int(route_plan_stream(RT_THROTTLE), RT_ACCEPT, "throttle: a quiet accept");
    is_int(route_plan_stream(RT_SLOW), RT_ACCEPT, "slow: a quiet accept");
    is_int(route_plan_stream(RT_INBAND), RT_MIXED, "inband: mixed");
    is_int(route_plan_stream(RT_FOREIGN), RT_MIXED, "foreign: mixed");
    is_int(route_plan_stream(RT_OOTO), RT_OOTO, "ooto: itself");
    for (int r = 0; r < RT_COUNT; r++)
        is_int(route_parse(route_labels[r], strlen(route_labels[r])), r, route_labels[r]);
    is_int(route_parse("OOB", 3), RT_FOREIGN, "labels are written in lower case");
    is_int(route_parse("oobx", 3), RT_OOB, "the length counts");

    /* the trace field: only above the topmost Received field */
    is_int(trace("Return-Path: <a@b.test>\r\nX-Bouncy-Sink-Route: oob\r\nReceived: from x by y; "
                 "d\r\nX-Bouncy-Sink-Route: fbl\r\n"),
           RT_OOB, "listen's field counts, the sender's below Received does not");
    is_int(
        trace("Return-Path: <a@b.test>\r\nReceived: from x by y\r\nX-Bouncy-Sink-Route: fbl\r\n"),
        RT_FOREIGN, "a field below listen's Received is the sender's: ignored");
    is_int(trace("X-Bouncy-Sink-Route: fbl\r\nSubject: x\r\n"), RT_FOREIGN,
           "no Received field: not written by listen");
    is_int(trace("x-bouncy-sink-route :  greylist \nreceived : from x\n"), RT_GREYLIST,
           "names without regard to case, blanks around the value, LF line ends");
    is_int(trace("X-Bouncy-Sink-Route: unsub\r\nX-Bouncy-Sink-Route: oob\r\nReceived: x\r\n"),
           RT_UNSUB, "the topmost of several counts");
    is_int(trace("X-Bouncy-Sink-Route: bogus\r\nReceived: x\r\n"), RT_FOREIGN,
           "an unknown label is ignored");
    is_int(trace("Received: a\r\nX-Bouncy-Sink-Route: oob\r\nReceived: b\r\n"), RT_FOREIGN,
           "a field between two Received fields is not listen's");
    is_int(trace("X-Bouncy-Sink-Route: oob\r\n\tfolded\r\nReceived: b\r\n"), RT_FOREIGN,
           "a folded value is not a label");
    is_int(trace(""), RT_FOREIGN, "empty block");

    /* [Listen] Sink_Domains: one reading for every program */
    char *err = NULL, *path = NULL;
    bs_config *cfg =
        cfg_parse_string("[Listen]\nSink_Domains = Bouncy-Sink.TEST., b.test\n", &path, &err);
    char **v;
    size_t n;
    ok(cfg && route_sink_domains(cfg, &v, &n) == 0 && n == 2 &&
           strcmp(v[0], "bouncy-sink.test") == 0 && strcmp(v[1], "b.test") == 0,
       "lower case, trailing dot removed");
    if (cfg && n == 2)
        route_sink_domains_free(v, n);
    cfg_free(cfg);
    free(path);
    cfg = cfg_parse_string("[Listen]\nSink_Domains =\n", &path, &err);
    ok(cfg && route_sink_domains(cfg, &v, &n) == 0 && n == 1 &&
           strcmp(v[0], param_default("Listen", "Sink_Domains")) == 0,
       "empty: the default, as when absent");
    if (cfg && n == 1)
        route_sink_domains_free(v, n);
    cfg_free(cfg);
    free(path);
    cfg = cfg_parse_string("[Listen]\nSink_Domains = a.test, x_y..test\n", &path, &err);
    char *want = xasprintf("%s:2: [Listen] Sink_Domains: 'x_y..test' is not a domain name", path);
    ok(cfg && route_sink_domains(cfg, &v, &n) < 0 && strcmp(cfg_error(cfg), want) == 0,
       "a bad item: FILE:LINE: [Listen] Sink_Domains: why");
    free(want);
    free(path);
    cfg_free(cfg);
    return done_testing();
}
