/* Unit tests for src/act-http/guard.c: every refused class, IPv4 inside IPv6, public
 * addresses allowed, exceptions, the refusal text. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../../../src/act-http/guard.h"
#include "tap.h"
#include "util.h"

static struct sockaddr_storage addr(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &s4->sin_addr) == 1)
        s4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1)
        s6->sin6_family = AF_INET6;
    else
        abort();
    return ss;
}

static const struct {
    const char *addr;
    const char *class; /* NULL: allowed */
} cases[] = {
    {"127.0.0.1", "loopback"},
    {"127.255.255.254", "loopback"},
    {"::1", "loopback"},
    {"10.0.0.1", "private"},
    {"10.255.255.255", "private"},
    {"172.16.0.1", "private"},
    {"172.31.255.255", "private"},
    {"172.15.255.255", NULL},
    {"172.32.0.0", NULL},
    {"192.168.0.1", "private"},
    {"192.169.0.1", NULL},
    {"fc00::1", "private"},
    {"fdff:ffff::1", "private"},
    {"169.254.169.254", "link-local"},
    {"169.254.0.1", "link-local"},
    {"fe80::1", "link-local"},
    {"febf::1", "link-local"},
    {"0.0.0.0", "unspecified"},
    {"0.1.2.3", "unspecified"},
    {"::", "unspecified"},
    {"224.0.0.1", "multicast"},
    {"239.255.255.250", "multicast"},
    {"ff02::1", "multicast"},
    {"255.255.255.255", "broadcast"},
    {"100.64.0.1", "shared (CGNAT)"},
    {"100.127.255.255", "shared (CGNAT)"},
    {"100.128.0.0", NULL},
    {"240.0.0.1", "reserved"},
    {"::ffff:127.0.0.1", "loopback"},
    {"::ffff:10.1.2.3", "private"},
    {"::ffff:169.254.169.254", "link-local"},
    {"::ffff:8.8.8.8", NULL},
    {"64:ff9b::7f00:1", "loopback"},
    {"64:ff9b::a9fe:a9fe", "link-local"},
    {"2002:7f00:1::1", "loopback"},
    {"::127.0.0.1", "reserved"},
    {"8.8.8.8", NULL},
    {"93.184.216.34", NULL},
    {"192.0.2.10", NULL},
    {"2606:4700::1111", NULL},
    {"2001:db8::1", NULL},
};

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sockaddr_storage ss = addr(cases[i].addr);
        const char *got = guard_class((struct sockaddr *)&ss);
        char desc[128];
        snprintf(desc, sizeof desc, "%s is %s", cases[i].addr,
                 cases[i].class ? cases[i].class : "allowed");
        is_str(got, cases[i].class, desc);
    }

    char why[200];
    struct sockaddr_storage lo = addr("127.0.0.1"), meta = addr("169.254.169.254"),
                            lo2 = addr("127.0.0.2"), v6 = addr("fd12::5"), pub = addr("8.8.8.8");
    is_str(guard_check((struct sockaddr *)&lo, 0, NULL, why, sizeof why),
           "127.0.0.1 is a loopback address", "refusal text names address and class");
    is_str(guard_check((struct sockaddr *)&meta, 0, NULL, why, sizeof why),
           "169.254.169.254 is a link-local address", "cloud metadata address refused");
    ok(guard_check((struct sockaddr *)&lo, 1, NULL, why, sizeof why) == NULL,
       "allow_all allows loopback");
    ok(guard_check((struct sockaddr *)&pub, 0, NULL, why, sizeof why) == NULL,
       "a public address is allowed");

    guard_exceptions *ex = NULL;
    const char *err;
    ok(guard_exceptions_add(&ex, "127.0.0.2", &err) == 0, "exception: single address");
    ok(guard_exceptions_add(&ex, "fd12::/16", &err) == 0, "exception: IPv6 range");
    ok(guard_exceptions_add(&ex, "10.0.0.0/33", &err) < 0, "exception: bad prefix length refused");
    ok(guard_exceptions_add(&ex, "example.test", &err) < 0, "exception: a name is refused");
    ok(guard_exceptions_add(&ex, "10.0.0.0/x", &err) < 0, "exception: bad number refused");
    ok(guard_check((struct sockaddr *)&lo2, 0, ex, why, sizeof why) == NULL,
       "127.0.0.2 allowed by the exception");
    ok(guard_check((struct sockaddr *)&lo, 0, ex, why, sizeof why) != NULL,
       "127.0.0.1 still refused");
    ok(guard_check((struct sockaddr *)&v6, 0, ex, why, sizeof why) == NULL,
       "fd12::5 allowed by the range");
    guard_exceptions_free(ex);

    struct sockaddr un = {.sa_family = AF_UNIX};
    ok(guard_check(&un, 0, NULL, why, sizeof why) != NULL, "another address family is refused");
    return done_testing();
}
