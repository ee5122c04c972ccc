/* Fuzz target: arbitrary bytes through the message reader (MIME with GMime, HTML with
 * libxml2, envelope, header block) exactly as ingest's workers call it, and through the
 * mbox splitter; the record must serialise. The h= and l= tags of the first
 * DKIM-Signature field then go through the signed view (msgr_apply_signed) as if that
 * signature had passed (the cryptography is libopendkim's, not fuzzed here). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/ingest/input.h"
#include "../../src/ingest/jsonout.h"
#include "../../src/ingest/message.h"
#include "util.h"

static msg_reader *reader;

/* The h= and l= tags of the first DKIM-Signature field (relaxed body, unless c=.../simple). */
static void cover_from(const char *p, size_t n, sig_cover *c)
{
    *c = (sig_cover){.pass = 1, .l = -1, .relaxed_body = 1};
    static const char name[] = "\nDKIM-Signature:";
    const char *f = memmem(p, n, name, sizeof name - 1);
    if (!f)
        return;
    const char *v = f + sizeof name - 1, *e = v;
    while (e < p + n && !(e[0] == '\n' && (e + 1 == p + n || (e[1] != ' ' && e[1] != '\t'))))
        e++;
    char *value = xstrndup(v, (size_t)(e - v));
    for (char *tag = value, *next; tag; tag = next) {
        next = strchr(tag, ';');
        if (next)
            *next++ = '\0';
        while (*tag == ' ' || *tag == '\t' || *tag == '\r' || *tag == '\n')
            tag++;
        if (tag[0] == 'h' && tag[1] == '=' && !c->h)
            c->h = xstrdup(tag + 2);
        else if (tag[0] == 'l' && tag[1] == '=')
            c->l = strtoll(tag + 2, NULL, 10);
        else if (tag[0] == 'c' && tag[1] == '=' && strstr(tag, "/simple"))
            c->relaxed_body = 0;
    }
    free(value);
}

static void read_one(const char *p, size_t n)
{
    json_t *rec = json_object();
    ing_envelope env = {0};
    char *err = NULL;
    if (msgr_read(reader, p, n, rec, &env, &err) == 0) {
        sig_cover c;
        cover_from(p, n, &c);
        json_object_set_new(rec, "dkim", json_pack("{s:s}", "result", "pass"));
        msgr_apply_signed(reader, p, n, &c, rec);
        sig_cover_clear(&c);
    }
    bs_buf b;
    buf_init(&b);
    json_out(&b, rec);
    if (!bs_utf8_valid(b.data, b.len))
        abort(); /* records must be valid UTF-8 */
    buf_free(&b);
    free(err);
    envelope_clear(&env);
    json_decref(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!reader) {
        bs_set_progname("fuzz-ingest-message");
        msgr_global_init();
        /* Small limits, so that inputs of a few kilobytes reach them. */
        msg_limits lim;
        msg_limits_default(&lim);
        lim.max_header = 64 * 1024;
        lim.max_parts = 50;
        lim.max_depth = 8;
        lim.max_fields = 200;
        lim.max_decoded = 16 * 1024;
        reader = msgr_new(&lim);
    }
    read_one((const char *)data, size);
    /* The same bytes as an mbox stream (via a pipe, when small enough not to block). */
    if (size > 5 && size < 60000 && memcmp(data, "From ", 5) == 0) {
        int fds[2];
        if (pipe(fds) == 0) {
            if (write(fds[1], data, size) == (ssize_t)size) {
                close(fds[1]);
                msg_stream *s = mstream_new(fds[0], 1 << 20, 1);
                msg_read m;
                for (int i = 0; i < 64 && mstream_next(s, (uint64_t)i + 1, 1, &m) == 1; i++) {
                    if (m.data)
                        read_one(m.data, m.len);
                    free(m.data);
                }
                mstream_free(s);
            } else {
                close(fds[1]);
            }
            close(fds[0]);
        }
    }
    return 0;
}
