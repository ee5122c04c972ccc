/* Unit tests for src/lib/domain.c: label-boundary matching, host names, mailboxes. */
#include <string.h>

#include "domain.h"
#include "tap.h"

static ssize_t under(const char *name, const char *domain)
{
    return bs_domain_under(name, strlen(name), domain);
}

static int mailbox(const char *s)
{
    return bs_mailbox_valid(s, strlen(s));
}

static int hostname(const char *s)
{
    return bs_hostname_valid(s, strlen(s));
}

int main(void)
{
    /* issue 14 defect 6: a suffix is not a domain */
    is_int(under("fakee.sparkpost.com", "e.sparkpost.com"), -1,
           "fakee.sparkpost.com is not under e.sparkpost.com");
    is_int(under("xe.sparkpost.com", "e.sparkpost.com"), -1, "xe.sparkpost.com neither");
    is_int(under("acme.e.sparkpost.com", "e.sparkpost.com"), 4,
           "acme.e.sparkpost.com is under it, 4 octets in front");
    is_int(under("a.b.e.sparkpost.com", "e.sparkpost.com"), 3, "two labels in front: 3 octets");
    is_int(under("ACME.E.SparkPost.COM", "e.sparkpost.com"), 4, "case-insensitive");
    is_int(under("acme.e.sparkpost.com.", "e.sparkpost.com"), 4, "the root dot is ignored");
    is_int(under("e.sparkpost.com", "e.sparkpost.com"), 0, "the domain itself: 0");
    is_int(under("e.sparkpost.com", "E.SPARKPOST.COM."), 0,
           "the domain itself, any case, root dot");
    is_int(under(".e.sparkpost.com", "e.sparkpost.com"), -1,
           "an empty label in front is not a subdomain");
    is_int(under("sparkpost.com", "e.sparkpost.com"), -1, "a parent is not under");
    is_int(under("e.sparkpost.com.evil.test", "e.sparkpost.com"), -1, "a prefix is not a match");
    is_int(under("anything.test", ""), -1, "an empty domain matches nothing");
    is_int(under("anything.test", "."), -1, "the root matches nothing");
    is_int(under("", "test"), -1, "an empty name matches nothing");
    is_int(bs_domain_under("x.sink.test@junk", 11, "sink.test"), 1, "a length-bounded name");

    ok(hostname("smtp.sparkpostmail.com"), "a host name");
    ok(hostname("a-b.c1.test"), "hyphens inside labels");
    ok(hostname("localhost"), "one label");
    ok(!hostname("-a.test"), "label starting with -");
    ok(!hostname("a-.test"), "label ending with -");
    ok(!hostname("a..test"), "empty label");
    ok(!hostname("a.test."), "trailing dot");
    ok(!hostname("a_b.test"), "underscore");
    ok(!hostname("a@b.test"), "@");
    ok(!hostname("a\\.b.test"), "escaped dot from dn_expand");
    ok(!hostname(""), "empty");
    char label[70];
    memset(label, 'a', 63);
    memcpy(label + 63, ".t", 3);
    ok(hostname(label), "63-octet label");
    memset(label, 'a', 64);
    memcpy(label + 64, ".t", 3);
    ok(!hostname(label), "64-octet label");

    ok(mailbox("bounces@sender.test"), "plain mailbox");
    ok(mailbox("msprvs1=19411=bounces-1234@sparkpostmail.com"), "an ESP's VERP bounce address");
    ok(mailbox("a.b+c_d!#$%&'*/=?^`{|}~-@x.test"), "every atext character");
    ok(!mailbox("victim@other.test@sender.test"), "two @ (issue 14 defect 6)");
    ok(!mailbox("\"victim@other.test\"@sender.test"), "a quoted local part");
    ok(!mailbox("@relay.test:victim@other.test"), "a source route");
    ok(!mailbox("victim@[192.0.2.1]"), "an address literal");
    ok(!mailbox("a@b.test, c@d.test"), "a list");
    ok(!mailbox("Name <a@b.test>"), "a display name");
    ok(!mailbox("a@b.test>\r\nRCPT TO:<c@d.test"), "CR LF");
    ok(!mailbox(".a@b.test"), "leading dot");
    ok(!mailbox("a.@b.test"), "trailing dot in the local part");
    ok(!mailbox("a..b@b.test"), "two dots");
    ok(!mailbox("a b@b.test"), "space");
    ok(!mailbox("@b.test"), "empty local part");
    ok(!mailbox("a@"), "empty domain");
    ok(!mailbox("a@b.test."), "trailing dot in the domain");
    ok(!mailbox("abc"), "no @");
    ok(!mailbox("j\xc3\xbcrgen@b.test"), "non-ASCII");
    ok(bs_mailbox_valid("a@b.test\0c@d.test", 8), "length-bounded");
    ok(!bs_mailbox_valid("a@b.test\0c@d.test", 17), "a NUL inside");
    char local[80];
    memset(local, 'l', 64);
    memcpy(local + 64, "@x.test", 8);
    ok(mailbox(local), "64-octet local part");
    memset(local, 'l', 65);
    memcpy(local + 65, "@x.test", 8);
    ok(!mailbox(local), "65-octet local part");
    return done_testing();
}
