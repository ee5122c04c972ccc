/* cfbl.c — RFC 9477 CFBL-Address alignment (see cfbl.h). */
#include "cfbl.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_signed.h"
#include "domain.h"
#include "util.h"

typedef struct {
    const char *name, *value; /* value: up to the end of the field, folded */
    size_t name_len, value_len;
} field;

/* The fields of a header block, top to bottom (caller frees *out). */
static size_t fields_of(const char *block, size_t n, field **out)
{
    size_t cap = 16, count = 0;
    field *v = xmalloc(cap * sizeof *v);
    const char *p = block, *end = block + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *colon = (*p == ' ' || *p == '\t') ? NULL : memchr(p, ':', (size_t)(le - p));
        if (colon) {
            /* the field goes on while lines start with white space */
            const char *fe = le;
            while (fe < end && fe + 1 < end && (fe[1] == ' ' || fe[1] == '\t')) {
                const char *n2 = memchr(fe + 1, '\n', (size_t)(end - fe - 1));
                fe = n2 ? n2 : end;
            }
            if (count == cap) {
                cap *= 2;
                v = xrealloc(v, cap * sizeof *v);
            }
            size_t nl_len = (size_t)(colon - p);
            while (nl_len && (p[nl_len - 1] == ' ' || p[nl_len - 1] == '\t'))
                nl_len--;
            v[count++] = (field){p, colon + 1, nl_len, (size_t)(fe - colon - 1)};
            nl = fe < end ? fe : NULL;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    *out = v;
    return count;
}

static int is_name(const field *f, const char *name)
{
    return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

/* The value unfolded and trimmed (caller frees). */
static char *value_of(const field *f)
{
    bs_buf b;
    buf_init(&b);
    for (size_t i = 0; i < f->value_len; i++) {
        char c = f->value[i];
        if (c == '\r' || c == '\n')
            continue;
        buf_putc(&b, c == '\t' ? ' ' : c);
    }
    char *t = xstrdup(bs_trim(b.data ? b.data : (char *)""));
    buf_free(&b);
    return t;
}

/* The domain of the (first) mailbox of an address field value, lower case; NULL if none. */
static char *domain_of(const char *value)
{
    const char *s = value, *e = value + strlen(value);
    const char *lt = strchr(value, '<');
    if (lt) {
        const char *gt = strchr(lt, '>');
        if (!gt)
            return NULL;
        s = lt + 1;
        e = gt;
    }
    const char *at = NULL;
    for (const char *c = s; c < e; c++)
        if (*c == '@')
            at = c;
    if (!at || at + 1 >= e)
        return NULL;
    char *d = xstrndup(at + 1, (size_t)(e - at - 1));
    char *t = xstrdup(bs_trim(d));
    free(d);
    bs_lower(t);
    size_t l = strlen(t);
    while (l && t[l - 1] == '.')
        t[--l] = 0;
    if (!*t) {
        free(t);
        return NULL;
    }
    return t;
}

/* child is parent or a subdomain of it (lower case both). */
static int same_or_under(const char *child, const char *parent)
{
    size_t c = strlen(child), p = strlen(parent);
    if (!p || c < p)
        return 0;
    if (c == p)
        return strcmp(child, parent) == 0;
    return child[c - p - 1] == '.' && strcmp(child + c - p, parent) == 0;
}

int cfbl_check(const char *block, size_t n, const auth_dkim *dkim, cfbl_result *out)
{
    memset(out, 0, sizeof *out);
    field *f;
    size_t nf = fields_of(block, n, &f);
    long addr_i = -1, fid_i = -1, from_i = -1;
    int naddr = 0, nfid = 0, nfrom = 0;
    for (size_t i = 0; i < nf; i++) {
        if (is_name(&f[i], CFBL_ADDRESS_FIELD))
            naddr++, addr_i = (long)i;
        else if (is_name(&f[i], CFBL_FEEDBACK_ID_FIELD))
            nfid++, fid_i = (long)i;
        else if (is_name(&f[i], "From"))
            nfrom++, from_i = (long)i;
    }
    if (naddr == 0) {
        free(f);
        return 0;
    }
    char *from_dom = NULL, *cfbl_dom = NULL;
    const char **names = NULL;
    size_t *lens = NULL;
    unsigned char *covered = NULL;
    if (naddr > 1) {
        out->why = "more than one CFBL-Address field";
        goto done;
    }
    if (nfid > 1) {
        out->why = "more than one CFBL-Feedback-ID field";
        goto done;
    }
    char *v = value_of(&f[addr_i]);
    size_t al = strcspn(v, ";");
    while (al && (v[al - 1] == ' ' || v[al - 1] == '\t'))
        al--;
    if (bs_mailbox_valid(v, al))
        out->address = xstrndup(v, al);
    const char *params = v + strcspn(v, ";");
    int report_ok = 1;
    if (*params == ';') { /* "; report=arf" (json is another format: not ours) */
        char *p = xstrdup(bs_trim((char *)params + 1));
        report_ok = strcasecmp(p, "report=arf") == 0;
        free(p);
    }
    free(v);
    if (!out->address) {
        out->why = "CFBL-Address is not one mailbox";
        goto done;
    }
    if (!report_ok) {
        out->why = "CFBL-Address asks for a report format other than ARF";
        goto done;
    }
    if (fid_i >= 0)
        out->feedback_id = value_of(&f[fid_i]);
    char *fv = nfrom == 1 ? value_of(&f[from_i]) : NULL;
    from_dom = fv ? domain_of(fv) : NULL;
    free(fv);
    cfbl_dom = domain_of(out->address);
    if (!from_dom) {
        out->why = "no single From address";
        goto done;
    }
    names = xmalloc((nf + 1) * sizeof *names);
    lens = xmalloc((nf + 1) * sizeof *lens);
    covered = xmalloc(nf + 1);
    for (size_t i = 0; i < nf; i++) {
        names[i] = f[i].name;
        lens[i] = f[i].name_len;
    }
    int identical = strcmp(cfbl_dom, from_dom) == 0;
    int child = !identical && same_or_under(cfbl_dom, from_dom);
    int for_from = 0, for_cfbl = 0, any_cover = 0;
    for (size_t s = 0; s < dkim->nsigs; s++) {
        const auth_dkim_sig *sig = &dkim->sigs[s];
        if (sig->result != AUTH_PASS || !sig->h || !sig->domain)
            continue;
        sig_cover_fields(sig->h, names, lens, nf, covered);
        if (!covered[addr_i] || (fid_i >= 0 && !covered[fid_i]))
            continue;
        any_cover = 1;
        char *d = xstrdup(sig->domain);
        bs_lower(d);
        if (identical ? strcmp(d, from_dom) == 0 : same_or_under(from_dom, d))
            for_from = 1;
        if (!identical && !child && same_or_under(cfbl_dom, d))
            for_cfbl = 1;
        free(d);
    }
    if (!any_cover)
        out->why = fid_i >= 0 ? "no valid DKIM signature covers CFBL-Address and CFBL-Feedback-ID"
                              : "no valid DKIM signature covers CFBL-Address";
    else if ((identical || child) && !for_from)
        out->why = "no covering DKIM signature aligned with the From domain";
    else if (!identical && !child && !(for_from && for_cfbl))
        out->why = "a third-party CFBL-Address needs covering DKIM signatures of its domain "
                   "and of the From domain";
    else
        out->aligned = 1;
done:
    free(names);
    free(lens);
    free(covered);
    free(from_dom);
    free(cfbl_dom);
    free(f);
    return 1;
}

void cfbl_json(const cfbl_result *r, json_t *rec)
{
    json_t *o = json_object();
    if (r->address)
        json_object_set_new(o, "address", json_string(r->address));
    if (r->feedback_id && bs_utf8_valid(r->feedback_id, strlen(r->feedback_id)))
        json_object_set_new(o, "feedback_id", json_string(r->feedback_id));
    json_object_set_new(o, "aligned", json_boolean(r->aligned));
    if (!r->aligned && r->why)
        json_object_set_new(o, "reason", json_string(r->why));
    json_object_set_new(rec, "cfbl", o);
}

void cfbl_clear(cfbl_result *r)
{
    free(r->address);
    free(r->feedback_id);
    memset(r, 0, sizeof *r);
}
