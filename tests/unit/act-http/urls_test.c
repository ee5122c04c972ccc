/* Unit tests for src/act-http/urls.c: base URLs, allowlist, List-Unsubscribe, probe cache. */
#include <stdlib.h>
#include <string.h>

#include "../../../src/act-http/urls.h"
#include "tap.h"
#include "util.h"

static void base_case(const char *url, const char *want_base, const char *want_host)
{
    char *base = NULL, *host = NULL;
    int rc = url_base(url, &base, &host);
    char desc[300];
    snprintf(desc, sizeof desc, "base of %s", url);
    if (!want_base) {
        ok(rc < 0 && !base && !host, desc);
        return;
    }
    is_str(rc == 0 ? base : NULL, want_base, desc);
    snprintf(desc, sizeof desc, "host of %s", url);
    is_str(host, want_host, desc);
    free(base);
    free(host);
}

int main(void)
{
    base_case("http://Track.Sender.TEST/q/abc?x=1", "http://track.sender.test",
              "track.sender.test");
    base_case("HTTPS://t.test:8443/f/a", "https://t.test:8443", "t.test");
    base_case("http://[::1]:8080/q", "http://[::1]:8080", "::1");
    base_case("http://user:pw@t.test/x", "http://t.test", "t.test");
    base_case("ftp://t.test/x", NULL, NULL);
    base_case("mailto:a@b.test", NULL, NULL);
    base_case("cid:logo", NULL, NULL);
    base_case("/relative/path", NULL, NULL);
    base_case("", NULL, NULL);
    base_case("javascript:alert(1)", NULL, NULL);

    /* The fast path agrees with libcurl's parser wherever it answers. */
    static const char *const same[] = {
        "http://track.sender.test/q/abc",
        "HTTPS://Track.Sender.Test:8443/f/a?x=1#y",
        "http://127.0.0.1:8080/q/1",
        "http://10.0.0.1",
        "http://a-b.c/",
        "http://x.test?q",
        "http://x.test#f",
        "https://x.test:65535/",
        "http://255.255.255.255/",
        "http://xn--bcher-kva.example/p",
        "http://www.example.com/stores?city=Paris&lang=fr",
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        char *fb, *fh, *cb, *ch;
        int f = url_base_fast(same[i], &fb, &fh);
        int c = url_base_curl(same[i], &cb, &ch);
        char desc[200];
        snprintf(desc, sizeof desc, "fast path takes and agrees with libcurl: %s", same[i]);
        ok(f == 0 && c == 0 && strcmp(fb, cb) == 0 && strcmp(fh, ch) == 0, desc);
        if (f == 0) {
            free(fb);
            free(fh);
        }
        if (c == 0) {
            free(cb);
            free(ch);
        }
    }
    static const char *const slow[] = {
        "http://127.1/",       "http://0x7f.0.0.1/",      "http://017.0.0.1/",
        "http://[::1]/",       "http://u:p@x.test/",      "http://x.test:/",
        "http://x.test:0080/", "http://x.test:99999/",    "http://x.test\\@evil.test/",
        "http://x.test/a b",   "http://x%2etest/",        "http://.x.test/",
        "http://x.test./",     "ftp://x.test/",           "http:x.test",
        "http://4.3.2.1a/",    "http://1.2.3.4.example/",
    };
    for (size_t i = 0; i < sizeof slow / sizeof slow[0]; i++) {
        char *fb, *fh;
        char desc[200];
        snprintf(desc, sizeof desc, "left to libcurl: %s", slow[i]);
        ok(url_base_fast(slow[i], &fb, &fh) == 1, desc);
    }
    base_case("http://127.1/x", "http://127.0.0.1", "127.0.0.1");

    const char *allow[] = {"track.simonmail.simondata.com", "thetucks.com", "127.0.0.1:8080",
                           "[::1]"};
    ok(url_allowlisted("thetucks.com", "https://thetucks.com", allow, 4), "allowlisted host");
    ok(url_allowlisted("THETUCKS.COM", "https://thetucks.com", allow, 4), "case-insensitive");
    ok(!url_allowlisted("www.thetucks.com", "https://www.thetucks.com", allow, 4),
       "subdomains are not allowlisted");
    ok(url_allowlisted("127.0.0.1", "http://127.0.0.1:8080", allow, 4), "host:port entry");
    ok(!url_allowlisted("127.0.0.1", "http://127.0.0.1:9090", allow, 4), "other port: no");
    ok(url_allowlisted("::1", "http://[::1]:80", allow, 4), "bracketed IPv6 entry");
    ok(!url_allowlisted("x.test", "http://x.test", NULL, 0), "empty allowlist");
    /* issue 14 defect 6: whole host names only (bs_domain_under) */
    ok(!url_allowlisted("fakethetucks.com", "https://fakethetucks.com", allow, 4),
       "a host that merely ends in an allow-listed name: no");
    ok(!url_allowlisted("thetucks.com.evil.test", "https://thetucks.com.evil.test", allow, 4),
       "an allow-listed name as a prefix: no");
    ok(url_allowlisted("thetucks.com.", "https://thetucks.com.", allow, 4),
       "the allow-listed host with a root dot");

    char *u = unsub_uri("<mailto:u@s.test?subject=unsub>, <https://s.test/u/1?a=b>", 0);
    is_str(u, "https://s.test/u/1?a=b", "first https URI, mailto skipped");
    free(u);
    u = unsub_uri("<http://s.test/u>, <https://s.test/v>", 0);
    is_str(u, "https://s.test/v", "http skipped when not allowed");
    free(u);
    u = unsub_uri("<http://s.test/u>, <https://s.test/v>", 1);
    is_str(u, "http://s.test/u", "http taken when allowed");
    free(u);
    u = unsub_uri("<https://s.test/very/\r\n long>", 0);
    is_str(u, "https://s.test/very/long", "folding white space removed");
    free(u);
    ok(unsub_uri("<mailto:u@s.test>", 0) == NULL, "mailto only: none");
    ok(unsub_uri("https://s.test/no-brackets", 0) == NULL, "no angle brackets: none");
    ok(unsub_uri("<https://unterminated", 0) == NULL, "unterminated: none");
    ok(unsub_uri(NULL, 0) == NULL, "absent: none");
    ok(unsub_uri("<>, <  >", 1) == NULL, "empty brackets: none (found by fuzzing)");
    ok(unsub_one_click(" List-Unsubscribe=One-Click "), "one-click value");
    ok(unsub_one_click("list-unsubscribe=one-click"), "one-click value, any case");
    ok(!unsub_one_click("List-Unsubscribe=Yes"), "other value");
    ok(!unsub_one_click(NULL), "absent");

    probe_cache *c = probe_cache_new();
    probe_entry *e = probe_cache_get(c, "http://a.test", 1000);
    is_int(e->state, PROBE_UNKNOWN, "new entry unknown");
    e->state = PROBE_PENDING;
    int w1, w2;
    probe_entry_wait(e, &w1);
    probe_entry_wait(e, &w2);
    is_int(e->nwaiters, 2, "waiters recorded");
    probe_entry_set(e, PROBE_YES, 1000 + 3600, NULL);
    probe_entry_clear_waiters(e);
    ok(probe_cache_get(c, "http://a.test", 2000) == e && e->state == PROBE_YES,
       "positive result cached");
    is_int(probe_cache_get(c, "http://a.test", 4600)->state, PROBE_UNKNOWN,
           "expired after its lifetime");
    probe_entry *n = probe_cache_get(c, "http://b.test", 1000);
    probe_entry_set(n, PROBE_NO, 1060, "Fetch refused: x");
    is_int(probe_cache_get(c, "http://b.test", 1059)->state, PROBE_NO, "negative result cached");
    is_str(n->why, "Fetch refused: x", "with its reason");
    is_int(probe_cache_prune(c, 1059), 1, "prune drops the unknown entry only");
    is_int(probe_cache_prune(c, 5000), 0, "prune drops expired entries");
    for (int i = 0; i < 5000; i++) {
        char b[64];
        snprintf(b, sizeof b, "http://h%d.test", i);
        probe_entry_set(probe_cache_get(c, b, 0), PROBE_YES, 10, NULL);
    }
    is_int(probe_cache_prune(c, 5), 5000, "many entries kept while fresh");
    is_int(probe_cache_prune(c, 11), 0, "and dropped when stale");
    probe_cache_free(c);
    return done_testing();
}
