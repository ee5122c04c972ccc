/* Unit tests for src/listen/rates.c: sliding windows per key, eviction when full. */
#include <stdio.h>
#include <stdlib.h>

#include "rates.h"
#include "tap.h"
#include "util.h"

int main(void)
{
    bs_set_progname("rates_test");
    rates *r = rates_new(64);
    ok(rates_add_window(r, PF_IP_MSGS, 60) == 0, "window 60 s for ip_msgs");
    ok(rates_add_window(r, PF_IP_MSGS, 60) == 0, "the same window again");
    ok(rates_add_window(r, PF_IP_MSGS, 3600) == 0, "window 1 h");
    ok(rates_add_window(r, PF_DOMAIN_MSGS, 86400) == 0, "window 24 h for domain_msgs");
    ok(rates_add_window(r, PF_SPF, 60) < 0, "not a rate fact");
    ok(rates_add_window(r, PF_IP_CONNS, 1) == 0 && rates_add_window(r, PF_IP_CONNS, 2) == 0 &&
           rates_add_window(r, PF_IP_CONNS, 3) == 0 && rates_add_window(r, PF_IP_CONNS, 4) == 0 &&
           rates_add_window(r, PF_IP_CONNS, 5) < 0,
       "at most 4 windows per fact");

    time_t t0 = 1000000;
    for (int i = 0; i < 10; i++)
        rates_count(r, PF_IP_MSGS, "192.0.2.1", t0 + i);
    is_int(rates_get(r, PF_IP_MSGS, "192.0.2.1", 60, t0 + 10), 10, "10 messages in the minute");
    is_int(rates_get(r, PF_IP_MSGS, "192.0.2.2", 60, t0 + 10), 0, "another IP: none");
    is_int(rates_get(r, PF_IP_CONNS, "192.0.2.1", 1, t0 + 10), 0, "another fact: none");
    is_int(rates_get(r, PF_IP_MSGS, "192.0.2.1", 120, t0 + 10), 0, "an unregistered window: 0");
    is_int(rates_get(r, PF_IP_MSGS, "192.0.2.1", 3600, t0 + 10), 10, "10 in the hour");
    /* a window covers the last 12 slots (5 s each for 60 s), the current one included */
    is_int(rates_get(r, PF_IP_MSGS, "192.0.2.1", 60, t0 + 58), 10, "still 10 after 58 s");
    is_int(rates_get(r, PF_IP_MSGS, "192.0.2.1", 60, t0 + 62), 5, "5 after 62 s");
    is_int(rates_get(r, PF_IP_MSGS, "192.0.2.1", 60, t0 + 70), 0, "none after 70 s");
    is_int(rates_get(r, PF_IP_MSGS, "192.0.2.1", 60, t0 + 130), 0, "none after 130 s");
    is_int(rates_get(r, PF_IP_MSGS, "192.0.2.1", 3600, t0 + 130), 10, "10 in the hour still");
    rates_count(r, PF_IP_MSGS, "192.0.2.1", t0 + 200);
    is_int(rates_get(r, PF_IP_MSGS, "192.0.2.1", 60, t0 + 200), 1, "counting again");
    is_int(rates_get(r, PF_IP_MSGS, "192.0.2.1", 3600, t0 + 200), 11, "11 in the hour");
    rates_count(r, PF_IP_MSGS, "192.0.2.1", t0 + 200 + 3 * 86400);
    is_int(rates_get(r, PF_IP_MSGS, "192.0.2.1", 3600, t0 + 200 + 3 * 86400), 1,
           "days later: old slots cleared");

    /* bounded: 1000 keys in a 64-entry table */
    for (int i = 0; i < 1000; i++) {
        char key[32];
        snprintf(key, sizeof key, "d%d.example", i);
        rates_count(r, PF_DOMAIN_MSGS, key, t0 + i);
    }
    ok(rates_entries(r) <= 64, "at most 64 keys held");
    is_int(rates_get(r, PF_DOMAIN_MSGS, "d999.example", 86400, t0 + 1000), 1,
           "the newest key is held");
    is_int(rates_get(r, PF_DOMAIN_MSGS, "d0.example", 86400, t0 + 1000), 0,
           "the oldest key was evicted");
    is_int(rates_get(r, PF_DOMAIN_MSGS, "D999.EXAMPLE", 86400, t0 + 1000), 1,
           "keys compare without case");
    rates_free(r);
    return done_testing();
}
