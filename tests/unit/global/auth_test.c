/* Unit tests for src/global/auth.c, auth_dkim.c, auth_spf.c: DKIM verification of a corpus
 * made by bin/gen-corpus (key file), tampering, wrong key, unsigned, several signatures,
 * SPF off and unknown inputs, configuration errors; the results as data (auth_results)
 * and their record form (auth_json) agree; listen's verdicts reused (auth_check_reusing)
 * only from its own field.
 *
 * Also a probe for the script tests (tests/ingest/5x-*.t), which run it in a private
 * network namespace with a DNS server:
 *   auth_test --probe [-c FILE] MESSAGE CLIENT_IP HELO MAIL_FROM
 * prints {"dkim":...,"spf":...} (an argument "-" stands for unknown).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/bs-auth-test-XXXXXX";
static auth_results last; /* the last message's results, kept for the checks */

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    bs_buf b;
    buf_init(&b);
    char tmp[8192];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0)
        buf_append(&b, tmp, n);
    fclose(fp);
    *len = b.len;
    return buf_steal(&b);
}

static void spew(const char *path, const char *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    fwrite(p, 1, n, fp);
    fclose(fp);
}

static bs_config *config_with(const char *text)
{
    char *path = xasprintf("%s/test.ini", tmpdir);
    spew(path, text, strlen(text));
    char *err = NULL;
    bs_config *cfg = cfg_load(path, &err);
    if (!cfg)
        printf("# config: %s\n", err);
    free(err);
    free(path);
    return cfg;
}

static auth_ctx *auth_with(const char *ini)
{
    bs_config *cfg = config_with(ini);
    char *err = NULL;
    auth_ctx *a = cfg ? auth_new(cfg, &err) : NULL;
    if (!a)
        printf("# auth_new: %s\n", err ? err : "(no config)");
    free(err);
    /* auth_new copies what it keeps: the config may go. */
    cfg_free(cfg);
    return a;
}

/* Runs gen-corpus; returns 0 on success. */
static int gen(const char *args)
{
    const char *bin = getenv("BS_BIN") ? getenv("BS_BIN") : "bin";
    char *cmd = xasprintf("%s/gen-corpus %s", bin, args);
    int rc = system(cmd);
    if (rc != 0)
        printf("# failed (%d): %s\n", rc, cmd);
    free(cmd);
    return rc;
}

/* The n-th (0-based) *.msg or *.eml file of a directory, sorted. */
static char *nth_file(const char *dir, int n)
{
    char *cmd = xasprintf("ls %s | grep -E '\\.(msg|eml)$' | sort | sed -n '%dp'", dir, n + 1);
    FILE *p = popen(cmd, "r");
    free(cmd);
    char line[512] = "";
    if (!p || !fgets(line, sizeof line, p)) {
        if (p)
            pclose(p);
        return NULL;
    }
    pclose(p);
    line[strcspn(line, "\n")] = '\0';
    return line[0] ? xasprintf("%s/%s", dir, line) : NULL;
}

static json_t *check_msg(auth_ctx *a, const char *msg, size_t len)
{
    json_t *rec = json_object();
    auth_results_clear(&last);
    auth_envelope env = {"192.0.2.10", "mta1.sender.test", "bounces@sender.test"};
    auth_check(a, msg, len, &env, &last);
    auth_json(&last, rec);
    return rec;
}

/* auth_check with these envelope facts, rendered into rec. */
static void check_env(auth_ctx *a, const char *msg, size_t len, const char *ip, const char *helo,
                      const char *from, json_t *rec)
{
    auth_results r;
    auth_envelope env = {ip, helo, from};
    auth_check(a, msg, len, &env, &r);
    auth_json(&r, rec);
    auth_results_clear(&r);
}

static json_t *check_file(auth_ctx *a, const char *path)
{
    size_t len;
    char *msg = slurp(path, &len);
    if (!msg)
        return json_object();
    json_t *rec = check_msg(a, msg, len);
    free(msg);
    return rec;
}

static const char *dkim_result(json_t *rec)
{
    const char *r = json_string_value(json_object_get(json_object_get(rec, "dkim"), "result"));
    return r ? r : "(none)";
}

static const char *dkim_field(json_t *rec, const char *k)
{
    const char *r = json_string_value(json_object_get(json_object_get(rec, "dkim"), k));
    return r ? r : "(none)";
}

/* The record form (auth_json) says what the data (last) says. */
static int agrees(json_t *rec)
{
    json_t *dkim = json_object_get(rec, "dkim");
    const auth_dkim_sig *v = auth_dkim_verdict(&last.dkim);
    int same = strcmp(dkim_result(rec), auth_result_name(v->result)) == 0 &&
               strcmp(dkim_field(rec, "domain"), v->domain) == 0 &&
               strcmp(dkim_field(rec, "selector"), v->selector) == 0 &&
               strcmp(dkim_field(rec, "reason"), v->reason) == 0 &&
               json_array_size(json_object_get(dkim, "signatures")) == last.dkim.nsigs;
    for (size_t i = 0; same && i < last.dkim.nsigs; i++) {
        json_t *s = json_array_get(json_object_get(dkim, "signatures"), i);
        same =
            strcmp(json_string_value(json_object_get(s, "result")),
                   auth_result_name(last.dkim.sigs[i].result)) == 0 &&
            strcmp(json_string_value(json_object_get(s, "domain")), last.dkim.sigs[i].domain) ==
                0 &&
            strcmp(json_string_value(json_object_get(s, "reason")), last.dkim.sigs[i].reason) == 0;
    }
    return same;
}

static void show(json_t *rec)
{
    char *s = json_dumps(rec, JSON_COMPACT);
    printf("# %s\n", s);
    free(s);
}

/* Replaces the first occurrence of `from` after offset `after` (same length). */
static int patch(char *msg, size_t len, const char *after, const char *from, const char *to)
{
    char *start = after ? memmem(msg, len, after, strlen(after)) : msg;
    if (!start)
        return -1;
    char *p = memmem(start, len - (size_t)(start - msg), from, strlen(from));
    if (!p || strlen(from) != strlen(to))
        return -1;
    memcpy(p, to, strlen(to));
    return 0;
}

static void corpus_pass(void)
{
    char *dir = xasprintf("%s/corpus", tmpdir);
    char *args = xasprintf("-n 20 --seed 7 -o %s --tracking-base http://127.0.0.1:9", dir);
    ok(gen(args) == 0, "gen-corpus makes 20 messages");
    free(args);
    char *ini = xasprintf("[Verify]\nDKIM_Key_File = %s/dkim-keys.txt\nSPF = off\n", dir);
    auth_ctx *a = auth_with(ini);
    ok(a != NULL, "auth_new with a key file");
    if (!a)
        goto out;
    int passes = 0, total = 0, covers = 0, data = 0, agree = 0;
    for (int i = 0; i < 20; i++) {
        char *f = nth_file(dir, i);
        if (!f)
            break;
        json_t *rec = check_file(a, f);
        total++;
        /* gen-corpus signs with relaxed/relaxed, these fields and no l= */
        const sig_cover *c = &last.dkim.cover;
        covers += c->pass && c->h && strstr(c->h, "List-Unsubscribe-Post") &&
                  strstr(c->h, "From") && c->l == -1 && c->relaxed_body;
        data += last.dkim.nsigs == 1 && last.dkim.chosen == 0 &&
                last.dkim.sigs[0].result == AUTH_PASS &&
                strcmp(last.dkim.sigs[0].domain, "sender.test") == 0 &&
                auth_dkim_verdict(&last.dkim) == &last.dkim.sigs[0] &&
                last.spf.result == AUTH_OFF && last.dmarc.result == AUTH_OFF &&
                !last.dmarc.from_domain;
        agree += agrees(rec);
        if (strcmp(dkim_result(rec), "pass") == 0 &&
            strcmp(dkim_field(rec, "domain"), "sender.test") == 0 &&
            strcmp(dkim_field(rec, "selector"), "s1") == 0 &&
            json_array_size(json_object_get(json_object_get(rec, "dkim"), "signatures")) == 1)
            passes++;
        else
            show(rec);
        json_decref(rec);
        free(f);
    }
    is_int(total, 20, "20 spool files");
    is_int(passes, 20, "every generated message verifies: pass, d=sender.test, s=s1");
    is_int(covers, 20, "and the passing signature's h=, l= and body canonicalisation are told");
    is_int(data, 20, "as data: one signature, chosen, pass; SPF off; DMARC not evaluated");
    is_int(agree, 20, "auth_json renders the data");

    /* The same corpus as CRLF files, without trace headers. */
    char *dir2 = xasprintf("%s/corpus-crlf", tmpdir);
    args = xasprintf("-n 5 --seed 8 -f eml --crlf -o %s --key %s/dkim.key --key-file %s/k2.txt",
                     dir2, dir, tmpdir);
    ok(gen(args) == 0, "gen-corpus eml --crlf with the same key");
    free(args);
    passes = 0;
    for (int i = 0; i < 5; i++) {
        char *f = nth_file(dir2, i);
        if (!f)
            break;
        json_t *rec = check_file(a, f);
        if (strcmp(dkim_result(rec), "pass") == 0)
            passes++;
        else
            show(rec);
        json_decref(rec);
        free(f);
    }
    is_int(passes, 5, "CRLF messages verify too (key reused with --key)");
    free(dir2);

    /* Tampering. */
    char *f = nth_file(dir, 0);
    size_t len;
    char *orig = f ? slurp(f, &len) : NULL;
    if (orig) {
        char *msg = xmalloc(len);
        json_t *rec;

        memcpy(msg, orig, len);
        int p = patch(msg, len, "Content-Transfer-Encoding", "\n--", "\n-X");
        rec = check_msg(a, msg, len);
        ok(p == 0 && strcmp(dkim_result(rec), "fail") == 0 &&
               strstr(dkim_field(rec, "reason"), "body hash"),
           "tampered body: fail, body hash did not verify");
        ok(!last.dkim.cover.pass && !last.dkim.cover.h, "tampered body: no passing signature told");
        show(rec);
        json_decref(rec);

        memcpy(msg, orig, len);
        p = patch(msg, len, "\nSubject: ", "\nSubject: ", "\nSubject:  ");
        p = p == 0 ? 0 : -1;
        /* same length: change one letter of the subject instead */
        memcpy(msg, orig, len);
        char *s = memmem(msg, len, "\nSubject: ", 10);
        if (s)
            s[10] = s[10] == 'Z' ? 'Y' : 'Z';
        rec = check_msg(a, msg, len);
        ok(s && strcmp(dkim_result(rec), "fail") == 0 &&
               !strstr(dkim_field(rec, "reason"), "body hash"),
           "tampered signed header (Subject): fail, signature did not verify");
        show(rec);
        json_decref(rec);

        /* An unsigned header may change: the Received trace. */
        memcpy(msg, orig, len);
        s = memmem(msg, len, "Received: from ", 15);
        if (s)
            s[15] = 'X';
        rec = check_msg(a, msg, len);
        is_str(dkim_result(rec), "pass", "changing an unsigned header keeps pass");
        json_decref(rec);

        /* A header section larger than the verifier's per-message block for libopendkim
         * (64 KB): 2,000 unsigned fields, then one unsigned field of 100 KB, above the
         * message. libopendkim's memory past the block comes from malloc(); the verdict
         * is the same, and so is the next message's (the block emptied in between). */
        for (int big = 0; big < 2; big++) {
            bs_buf padded;
            buf_init(&padded);
            if (big == 0) {
                for (int i = 0; i < 2000; i++)
                    buf_printf(&padded, "X-Pad-%d: %0*d\r\n", i, 50, i);
            } else {
                buf_puts(&padded, "X-Long:");
                for (int i = 0; i < 1250; i++)
                    buf_puts(&padded, "\r\n\t012345678901234567890123456789012345678901234567890123"
                                      "4567890123456789012345");
                buf_puts(&padded, "\r\n");
            }
            size_t pad = padded.len;
            buf_append(&padded, orig, len);
            rec = check_msg(a, padded.data, padded.len);
            ok(pad > 65536 && strcmp(dkim_result(rec), "pass") == 0 && last.dkim.nsigs == 1 &&
                   last.dkim.cover.pass,
               big ? "a 100 KB unsigned field above the message keeps pass"
                   : "2,000 unsigned fields (over 64 KB) above the message keep pass");
            show(rec);
            json_decref(rec);
            /* the same message tampered after it: the verdict of the body, not a leftover */
            padded.data[padded.len - 3] = padded.data[padded.len - 3] == 'x' ? 'y' : 'x';
            rec = check_msg(a, padded.data, padded.len);
            ok(strcmp(dkim_result(rec), "fail") == 0 &&
                   strstr(dkim_field(rec, "reason"), "body hash"),
               "and with its last body line changed: fail, body hash did not verify");
            json_decref(rec);
            rec = check_msg(a, orig, len);
            is_str(dkim_result(rec), "pass", "the plain message verified next: pass");
            json_decref(rec);
            buf_free(&padded);
        }

        /* Two signatures: a broken copy first, then the good one. */
        char *sig = memmem(orig, len, "DKIM-Signature:", 15);
        char *sig_end = sig ? memmem(sig, len - (size_t)(sig - orig), "\nX-MSFBL:", 9) : NULL;
        if (sig && sig_end) {
            bs_buf two;
            buf_init(&two);
            buf_append(&two, orig, (size_t)(sig - orig));
            size_t slen = (size_t)(sig_end + 1 - sig);
            char *copy = xstrndup(sig, slen);
            char *b = strstr(copy, " b=");
            if (b)
                b[3] = b[3] == 'A' ? 'B' : 'A';
            char *d = strstr(copy, "s=s1;");
            if (d)
                memcpy(d, "s=s9;", 5); /* and a selector that has no key */
            buf_append(&two, copy, slen);
            buf_append(&two, sig, len - (size_t)(sig - orig));
            rec = check_msg(a, two.data, two.len);
            json_t *sigs = json_object_get(json_object_get(rec, "dkim"), "signatures");
            ok(strcmp(dkim_result(rec), "pass") == 0 && json_array_size(sigs) == 2 &&
                   strcmp(dkim_field(rec, "selector"), "s1") == 0,
               "two signatures, the first without a key: overall pass from the second");
            const char *r0 = json_string_value(json_object_get(json_array_get(sigs, 0), "result"));
            is_str(r0, "permerror", "the signature whose key is missing is a permerror");
            ok(last.dkim.nsigs == 2 && last.dkim.chosen == 1 &&
                   last.dkim.sigs[0].result == AUTH_PERMERROR &&
                   strcmp(last.dkim.sigs[0].selector, "s9") == 0 &&
                   last.dkim.sigs[1].result == AUTH_PASS && last.dkim.cover.pass,
               "as data: the second signature is chosen, its coverage told");
            ok(agrees(rec), "auth_json renders two signatures");
            show(rec);
            json_decref(rec);
            free(copy);
            buf_free(&two);
        } else {
            ok(0, "found the signature to duplicate");
        }

        /* A DKIM-Signature that does not parse. */
        bs_buf bad;
        buf_init(&bad);
        buf_puts(&bad, "DKIM-Signature: v=1; a=rsa-sha256; garbage\r\n");
        buf_append(&bad, orig, len);
        rec = check_msg(a, bad.data, bad.len);
        json_t *sigs = json_object_get(json_object_get(rec, "dkim"), "signatures");
        const char *r0 = json_string_value(json_object_get(json_array_get(sigs, 0), "result"));
        ok(strcmp(dkim_result(rec), "pass") == 0 && r0 && strcmp(r0, "permerror") == 0,
           "a broken signature before a good one: permerror for it, pass overall");
        show(rec);
        json_decref(rec);
        buf_free(&bad);
        free(msg);
        free(orig);
    } else {
        ok(0, "read a generated message");
    }
    free(f);
    auth_free(a);

    /* A wrong key: the key file of another corpus with the same selector and domain. */
    char *dir3 = xasprintf("%s/other", tmpdir);
    args = xasprintf("-n 1 --seed 9 -o %s", dir3);
    gen(args);
    free(args);
    free(ini);
    ini = xasprintf("[Verify]\nDKIM_Key_File = %s/dkim-keys.txt\nSPF = off\n", dir3);
    a = auth_with(ini);
    f = nth_file(dir, 0);
    if (a && f) {
        json_t *rec = check_file(a, f);
        ok(strcmp(dkim_result(rec), "fail") == 0, "wrong key: fail");
        show(rec);
        json_decref(rec);
    } else {
        ok(0, "wrong key: set-up");
    }
    free(f);
    auth_free(a);
    free(dir3);

    /* Unsigned messages. */
    char *dir4 = xasprintf("%s/unsigned", tmpdir);
    args = xasprintf("-n 1 --seed 10 --no-sign -o %s", dir4);
    gen(args);
    free(args);
    free(ini);
    ini = xasprintf("[Verify]\nDKIM_Key_File = %s/dkim-keys.txt\nSPF = off\n", dir);
    a = auth_with(ini);
    f = nth_file(dir4, 0);
    if (a && f) {
        json_t *rec = check_file(a, f);
        is_str(dkim_result(rec), "none", "unsigned message: none");
        ok(json_array_size(json_object_get(json_object_get(rec, "dkim"), "signatures")) == 0,
           "unsigned message: no signatures");
        is_str(json_string_value(json_object_get(json_object_get(rec, "spf"), "result")), "off",
               "[Verify] SPF = off: {\"result\":\"off\"}");
        char *text = json_dumps(rec, JSON_COMPACT);
        is_str(text,
               "{\"dkim\":{\"result\":\"none\",\"domain\":\"\",\"selector\":\"\","
               "\"reason\":\"no signature\",\"signatures\":[]},\"spf\":{\"result\":\"off\"}}",
               "unsigned, SPF off: the record's objects, key for key");
        free(text);
        ok(last.dkim.nsigs == 0 && last.dkim.chosen == -1 &&
               last.dkim.message.result == AUTH_NONE &&
               auth_dkim_verdict(&last.dkim) == &last.dkim.message && !last.dkim.cover.pass,
           "as data: no signature, the message's outcome none");
        json_decref(rec);
    } else {
        ok(0, "unsigned: set-up");
    }
    free(f);
    auth_free(a);
    free(dir4);
out:
    free(ini);
    free(dir);
}

/* msg with text inserted at offset at; caller frees. */
static char *spliced(const char *msg, size_t len, size_t at, const char *text, size_t *outlen)
{
    size_t n = strlen(text);
    char *out = xmalloc(len + n + 1);
    memcpy(out, msg, at);
    memcpy(out + at, text, n);
    memcpy(out + at + n, msg + at, len - at);
    out[len + n] = '\0';
    *outlen = len + n;
    return out;
}

/* auth_check_reusing on msg: "reused" or "verified", then the DKIM verdict. */
static char *reusing(auth_ctx *a, const char *msg, size_t len)
{
    auth_results r;
    json_t *ar = NULL, *rec = json_object();
    int reused = -1;
    auth_check_reusing(a, msg, len, NULL, &r, &ar, &reused);
    auth_json(&r, rec);
    char *s = xasprintf("%s %s",
                        reused == 1   ? "reused"
                        : reused == 0 ? "verified"
                                      : "?",
                        dkim_result(rec));
    json_decref(ar);
    json_decref(rec);
    auth_results_clear(&r);
    return s;
}

/* listen's DKIM verdicts, in its Authentication-Results field above the topmost Received
 * field, are taken instead of a second verification; anything else is verified. */
static void reuse(void)
{
    char *dir = xasprintf("%s/corpus", tmpdir); /* corpus_pass's */
    char *keys = xasprintf("%s/no-keys.txt", tmpdir);
    spew(keys, "", 0);
    char *ini = xasprintf("[Listen]\nHostname = sink.test\n[Verify]\nDKIM_Key_File = "
                          "%s/dkim-keys.txt\nSPF = off\n",
                          dir);
    char *ini0 = xasprintf(
        "[Listen]\nHostname = sink.test\n[Verify]\nDKIM_Key_File = %s\nSPF = off\n", keys);
    auth_ctx *a = auth_with(ini), *nokey = auth_with(ini0);
    char *f = nth_file(dir, 3);
    size_t len = 0;
    char *msg = f ? slurp(f, &len) : NULL;
    ok(a && nokey && msg, "reuse: set-up");
    if (!a || !nokey || !msg)
        goto out;

    /* What listen writes above its Received field, from its own verification. */
    auth_results full;
    auth_check(a, msg, len, NULL, &full);
    bs_buf field;
    buf_init(&field);
    auth_ar_header(&full, "sink.test", "192.0.2.10", "pass", NULL, &field);
    size_t slen;
    char *spooled = spliced(msg, len, 0, field.data, &slen);

    auth_results r;
    json_t *ar = NULL;
    int reused = 0;
    auth_check_reusing(a, spooled, slen, NULL, &r, &ar, &reused);
    ok(reused == 1, "listen's field, every signature pass: its verdicts are taken");
    json_t *want = json_object(), *got = json_object();
    auth_json(&full, want);
    auth_json(&r, got);
    ok(json_equal(want, got), "the same record as a verification");
    if (!json_equal(want, got)) {
        show(want);
        show(got);
    }
    const sig_cover *c0 = &full.dkim.cover, *c1 = &r.dkim.cover;
    ok(c1->pass && c0->h && c1->h && strcmp(c0->h, c1->h) == 0 && c0->l == c1->l &&
           c0->relaxed_body == c1->relaxed_body && r.dkim.chosen == full.dkim.chosen &&
           r.dkim.sigs[0].h && strcmp(r.dkim.sigs[0].h, full.dkim.sigs[0].h) == 0,
       "and the same cover (h=, l=, body canonicalisation) for the signed-content gate");
    is_str(json_string_value(json_object_get(ar, "authserv_id")), "sink.test",
           "the trusted field comes back for listen_auth");
    json_decref(ar);
    json_decref(want);
    json_decref(got);
    auth_results_clear(&r);

    char *s = reusing(nokey, spooled, slen);
    is_str(s, "reused pass", "without any key: still pass (no second verification, no key asked)");
    free(s);
    json_t *rec = check_msg(nokey, spooled, slen);
    is_str(dkim_result(rec), "permerror", "while a verification without the key is a permerror");
    json_decref(rec);

    /* The same field from a sender: below the topmost Received field. */
    const char *rcvd = strstr(msg, "\nReceived:");
    const char *after = rcvd ? strchr(rcvd + 1, '\n') : NULL;
    ok(after != NULL, "the spool file has a Received field");
    if (after) {
        char *forged = spliced(msg, len, (size_t)(after + 1 - msg), field.data, &slen);
        s = reusing(nokey, forged, slen);
        is_str(s, "verified permerror", "a sender's field (below Received) is verified");
        free(s);
        free(forged);
    }
    const struct {
        const char *field, *what;
    } others[] = {
        {"Authentication-Results: other.test;\r\n\tdkim=pass header.d=sender.test "
         "header.s=s1\r\n",
         "another authserv-id"},
        {"Authentication-Results: sink.test;\r\n\tdkim=fail header.d=sender.test header.s=s1\r\n",
         "listen's dkim=fail"},
        {"Authentication-Results: sink.test;\r\n\tdkim=temperror header.d=sender.test "
         "header.s=s1\r\n",
         "listen's dkim=temperror"},
        {"Authentication-Results: sink.test;\r\n\tdkim=pass header.d=sender.test header.s=s2\r\n",
         "another selector than the signature's"},
        {"Authentication-Results: sink.test;\r\n\tdkim=pass header.d=other.test header.s=s1\r\n",
         "another domain than the signature's"},
        {"Authentication-Results: sink.test;\r\n\tdkim=pass header.d=sender.test header.s=s1;\r\n"
         "\tdkim=pass header.d=sender.test header.s=s1\r\n",
         "two passes for one signature"},
        {"Authentication-Results: sink.test;\r\n\tdkim=pass\r\n", "a pass without d= and s="},
        {"Authentication-Results: sink.test;\r\n\tspf=pass smtp.mailfrom=sender.test\r\n",
         "no dkim result"},
    };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        char *m = spliced(msg, len, 0, others[i].field, &slen);
        s = reusing(nokey, m, slen);
        char *what = xasprintf("%s: verified", others[i].what);
        is_str(s, "verified permerror", what);
        free(what);
        free(s);
        free(m);
    }
    /* listen passed it, the signature is gone since: verified (none). */
    char *unsigned_msg = xstrdup(spooled);
    char *sig = strstr(unsigned_msg, "DKIM-Signature:");
    if (sig)
        memcpy(sig, "X-KIM", 5);
    s = reusing(a, unsigned_msg, strlen(unsigned_msg));
    is_str(s, "verified none", "no DKIM-Signature field any more: verified (none)");
    free(s);
    free(unsigned_msg);

    buf_free(&field);
    free(spooled);
    auth_results_clear(&full);
out:
    auth_free(a);
    auth_free(nokey);
    free(msg);
    free(f);
    free(ini);
    free(ini0);
    free(keys);
    free(dir);
}

static void garbage(void)
{
    /* An empty key file: no DNS query whatever the input (tests run offline). */
    char *keys = xasprintf("%s/empty-keys.txt", tmpdir);
    spew(keys, "", 0);
    char *ini = xasprintf("[Verify]\nSPF = no\nDKIM_Key_File = %s\n", keys);
    auth_ctx *a = auth_with(ini);
    free(ini);
    free(keys);
    if (!a) {
        ok(0, "auth_new");
        return;
    }
    static const char *const inputs[] = {
        "",
        "no header at all",
        "\r\n\r\n",
        "DKIM-Signature:\r\n\r\nbody",
        "DKIM-Signature: v=1; a=rsa-sha256; d=x.test; s=s; h=from; bh=; b=\n\nbody\n",
        "From: a@b\nDKIM-Signature: v=1; a=rsa-sha256; d=; s=; h=; bh=AAAA; b=AAAA\n",
    };
    int okc = 0;
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        json_t *rec = check_msg(a, inputs[i], strlen(inputs[i]));
        const char *r = dkim_result(rec);
        if (strcmp(r, "none") == 0 || strcmp(r, "permerror") == 0 || strcmp(r, "fail") == 0)
            okc++;
        else
            show(rec);
        json_decref(rec);
    }
    is_int(okc, (int)(sizeof inputs / sizeof inputs[0]),
           "malformed inputs give none/permerror/fail, no crash");

    json_t *rec = json_object();
    check_env(a, "From: a@b\n\nx\n", 12, NULL, NULL, NULL, rec);
    is_str(json_string_value(json_object_get(json_object_get(rec, "spf"), "result")), "off",
           "SPF = no is off too");
    json_decref(rec);
    auth_free(a);
}

static void spf_unknown(void)
{
    auth_ctx *a = auth_with("[Verify]\nSPF = on\n");
    if (!a) {
        ok(0, "auth_new");
        return;
    }
    json_t *rec = json_object();
    check_env(a, "From: a@b\n\nx\n", 12, NULL, "helo.test", "a@b.test", rec);
    json_t *spf = json_object_get(rec, "spf");
    ok(strcmp(json_string_value(json_object_get(spf, "result")), "none") == 0 &&
           strstr(json_string_value(json_object_get(spf, "reason")), "IP"),
       "unknown client IP: spf none with a reason");
    json_decref(rec);
    rec = json_object();
    check_env(a, "From: a@b\n\nx\n", 12, "not-an-ip", "helo.test", "a@b.test", rec);
    is_str(json_string_value(json_object_get(json_object_get(rec, "spf"), "result")), "none",
           "client IP that is not an address: none");
    json_decref(rec);
    rec = json_object();
    check_env(a, "From: a@b\n\nx\n", 12, "192.0.2.1", NULL, NULL, rec);
    is_str(json_string_value(json_object_get(json_object_get(rec, "spf"), "result")), "none",
           "unknown sender: none");
    json_decref(rec);
    auth_free(a);
}

static void names(void)
{
    static const char *const want[] = {"none",    "pass",      "fail",      "softfail",
                                       "neutral", "temperror", "permerror", "off"};
    int same = 0;
    for (int r = AUTH_NONE; r <= AUTH_OFF; r++)
        same += strcmp(auth_result_name((auth_result)r), want[r]) == 0;
    is_int(same, 8, "auth_result_name: the RFC 8601 words, and off");
    auth_results r = {0};
    auth_results_clear(&r);
    ok(r.dkim.chosen == -1 && r.dkim.cover.l == -1, "auth_results_clear of a zeroed value");
}

static void spf_data(void)
{
    auth_ctx *a = auth_with("[Verify]\nSPF = on\n");
    if (!a) {
        ok(0, "auth_new");
        return;
    }
    auth_results r;
    auth_envelope env = {"192.0.2.1", NULL, "<>"};
    auth_check(a, "From: a@b\n\nx\n", 12, &env, &r);
    ok(r.spf.result == AUTH_NONE && strcmp(r.spf.domain, "") == 0 &&
           strcmp(r.spf.reason, "null sender and no HELO name") == 0,
       "SPF as data: the null sender without a HELO name: none, the reason");
    auth_results_clear(&r);
    env.mail_from = "user@";
    auth_check(a, "From: a@b\n\nx\n", 12, &env, &r);
    ok(r.spf.result == AUTH_NONE && strcmp(r.spf.reason, "envelope sender has no domain") == 0,
       "SPF as data: a sender without a domain: none, the reason");
    auth_results_clear(&r);
    auth_check(a, "From: a@b\n\nx\n", 12, NULL, &r);
    ok(r.spf.result == AUTH_NONE && strstr(r.spf.reason, "IP") &&
           r.dkim.message.result == AUTH_NONE && r.dmarc.result == AUTH_OFF,
       "no envelope facts: SPF none (client IP unknown), DKIM none, DMARC off");
    auth_results_clear(&r);
    auth_free(a);
}

static void config_errors(void)
{
    bs_config *cfg = config_with("[Verify]\nDKIM_Key_File = /nonexistent/keys.txt\n");
    char *err = NULL;
    auth_ctx *a = cfg ? auth_new(cfg, &err) : NULL;
    ok(!a && err && strstr(err, ":2: [Verify] DKIM_Key_File: "),
       "unreadable DKIM_Key_File: FILE:LINE: [Verify] DKIM_Key_File: why");
    printf("# %s\n", err ? err : "(none)");
    free(err);
    auth_free(a);
    cfg_free(cfg);

    cfg = config_with("[Verify]\n\nSPF = maybe\n");
    err = NULL;
    a = cfg ? auth_new(cfg, &err) : NULL;
    ok(!a && err && strstr(err, ":3: [Verify] SPF: "), "bad SPF value: FILE:LINE: [Verify] SPF");
    printf("# %s\n", err ? err : "(none)");
    free(err);
    auth_free(a);
    cfg_free(cfg);

    cfg = cfg_empty();
    a = auth_new(cfg, &err);
    ok(a != NULL, "defaults (no [Verify]): DNS keys, SPF on");
    auth_free(a);
    cfg_free(cfg);
}

static int probe(int argc, char **argv)
{
    const char *ini = NULL;
    int i = 2;
    if (argc > 3 && strcmp(argv[2], "-c") == 0) {
        ini = argv[3];
        i = 4;
    }
    if (argc - i != 4) {
        fprintf(stderr, "usage: auth_test --probe [-c FILE] MESSAGE IP HELO MAIL_FROM\n");
        return 64;
    }
    char *err = NULL;
    bs_config *cfg = ini ? cfg_load(ini, &err) : cfg_empty();
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return 78;
    }
    auth_ctx *a = auth_new(cfg, &err);
    if (!a) {
        fprintf(stderr, "%s\n", err);
        return 78;
    }
    size_t len;
    char *msg = slurp(argv[i], &len);
    if (!msg) {
        fprintf(stderr, "cannot read %s\n", argv[i]);
        return 66;
    }
#define ARG(k) (strcmp(argv[i + (k)], "-") == 0 ? NULL : argv[i + (k)])
    json_t *rec = json_object();
    check_env(a, msg, len, ARG(1), ARG(2), ARG(3), rec);
    char *s = json_dumps(rec, JSON_COMPACT);
    printf("%s\n", s);
    free(s);
    json_decref(rec);
    free(msg);
    auth_free(a);
    cfg_free(cfg);
    return 0;
}

int main(int argc, char **argv)
{
    bs_set_progname(argv[0]);
    if (argc > 1 && strcmp(argv[1], "--probe") == 0)
        return probe(argc, argv);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    corpus_pass();
    reuse();
    garbage();
    spf_unknown();
    names();
    spf_data();
    config_errors();
    auth_results_clear(&last);
    char *cmd = xasprintf("rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
    free(cmd);
    return done_testing();
}
