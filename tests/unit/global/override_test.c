/* Unit tests for src/global/override.c: the grammar of sender-chosen outcomes. */
#include <stdio.h>
#include <string.h>

#include "override.h"
#include "route.h"
#include "tap.h"
#include "util.h"

static int local(const char *s, bs_override *o)
{
    const char *why;
    return override_from_local(s, strlen(s), o, &why);
}

int main(void)
{
    bs_set_progname("override_test");
    bs_override o;
    const char *why;

    is_int(local("user", &o), 0, "no tag: none");
    is_int(o.kind, OV_NONE, "no tag: OV_NONE");
    is_int(local("user+news", &o), 0, "another +tag: none");

    is_int(local("user+bs-550", &o), 1, "+bs-550");
    is_int(o.kind, OV_REPLY, "+bs-550: a reply");
    is_int(o.code, 550, "+bs-550: code");
    is_str(o.enhanced, "", "+bs-550: no enhanced code");
    is_int(local("user+BS-452-4.2.2", &o), 1, "+BS-452-4.2.2 (any case)");
    is_int(o.code, 452, "452");
    is_str(o.enhanced, "4.2.2", "4.2.2");
    is_str(o.text, "452-4.2.2", "text is the directive, lower case");
    is_int(local("a+bs-oob+bs-550-5.1.1", &o), 1, "the last tag counts");
    is_int(o.code, 550, "the last tag: 550");
    is_str(o.enhanced, "5.1.1", "the last tag: 5.1.1");

    const char *bad[] = {"u+bs-550-4.1.1",
                         "u+bs-250",
                         "u+bs-55",
                         "u+bs-550-5.1",
                         "u+bs-550-5.1.1.1",
                         "u+bs-550-5.1111.1",
                         "u+bs-",
                         "u+bs-bounce",
                         "u+bs-defer-until-",
                         "u+bs-defer-until-20261341t000000z",
                         "u+bs-defer-until-20260231t000000z",
                         "u+bs-defer-until-1234567890123",
                         "u+bs-defer-until-2026-12-06",
                         "u+bs-defer-until-10130603t190000z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        is_int(local(bad[i], &o), -1, bad[i]);

    is_int(local("u+bs-defer-until-20261206T190000Z", &o), 1, "defer-until ISO basic time");
    is_int(o.kind, OV_DEFER, "defer: OV_DEFER");
    ok(o.until == 1796583600.0, "defer: 2026-12-06 19:00:00 UTC");
    is_int(local("u+bs-defer-until-1796583600", &o), 1, "defer-until epoch seconds");
    ok(o.until == 1796583600.0, "defer: the same instant");

    static const struct {
        const char *word;
        int route;
    } acts[] = {{"accept", RT_ACCEPT},      {"oob", RT_OOB},     {"fbl", RT_FBL},
                {"ooto", RT_OOTO},          {"unsub", RT_UNSUB}, {"open-click", RT_OPENCLICK},
                {"OpenClick", RT_OPENCLICK}};
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        char buf[64];
        snprintf(buf, sizeof buf, "x+bs-%s", acts[i].word);
        ok(local(buf, &o) == 1 && o.kind == OV_ACTION && o.route == acts[i].route, buf);
    }

    is_int(override_parse("fbl", 3, &o, &why), 0, "header value: fbl");
    is_int(o.route, RT_FBL, "header value: the fbl stream");
    is_int(override_parse("nope", 4, &o, &why), -1, "header value: unknown");
    is_str(why, "unknown directive", "why: unknown directive");
    const char *addr = "u+bs-oob@any.bouncy-sink.test";
    is_int(override_from_address(addr, strlen(addr), &o, &why), 1, "address: the local part's tag");
    is_int(o.route, RT_OOB, "address: oob");
    const char *addr2 = "u@x+bs-oob.test";
    is_int(override_from_address(addr2, strlen(addr2), &o, &why), 0, "a tag in the domain: none");
    char longd[80];
    memset(longd, 'a', sizeof longd);
    memcpy(longd, "u+bs-", 5);
    longd[sizeof longd - 1] = 0;
    is_int(local(longd, &o), -1, "an overlong directive: refused, not truncated");
    return done_testing();
}
