/* html.c — URL extraction from HTML with libxml2 (see html.h). */
#include "html.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

struct html_extractor {
    htmlParserCtxtPtr ctxt;
    json_t *open, *click; /* where the current document's URLs go */
};

/* Which attribute of which element is a URL of which kind. */
static const struct {
    const char *element, *attribute;
    int click;
} url_attrs[] = {
    {"img", "src", 0},
    {"a", "href", 1},
};

static void add_url(const xmlChar *value, json_t *list)
{
    char *url = html_clean_url((const char *)value);
    if (url) /* valid UTF-8 without NUL (html_clean_url): no second check */
        json_array_append_new(list, json_stringn_nocheck(url, strlen(url)));
    free(url);
}

/* SAX start-element: the parser hands over the attributes entity-decoded. No tree is
 * built; text, comments, <script> and <style> content never reach us. */
static void on_start_element(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    html_extractor *h = ((htmlParserCtxtPtr)ctx)->_private;
    if (!name || !atts)
        return;
    for (size_t i = 0; i < sizeof url_attrs / sizeof url_attrs[0]; i++) {
        if (xmlStrcasecmp(name, (const xmlChar *)url_attrs[i].element) != 0)
            continue;
        for (const xmlChar **a = atts; a[0]; a += 2) {
            if (xmlStrcasecmp(a[0], (const xmlChar *)url_attrs[i].attribute) == 0) {
                if (a[1])
                    add_url(a[1], url_attrs[i].click ? h->click : h->open);
                break; /* the first of duplicated attributes counts, as in browsers */
            }
        }
    }
}

void html_global_init(void)
{
    xmlInitParser();
}

html_extractor *html_new(void)
{
    html_extractor *h = xcalloc(1, sizeof *h);
    h->ctxt = htmlNewParserCtxt();
    if (!h->ctxt || !h->ctxt->sax)
        bs_fatal(EX_OSERR, "cannot create an HTML parser context");
    /* Only element starts matter: no document tree, no text. */
    xmlSAXHandler *sax = (xmlSAXHandler *)h->ctxt->sax;
    memset(sax, 0, sizeof *sax);
    sax->startElement = on_start_element;
    sax->initialized = 1;
    h->ctxt->_private = h;
    return h;
}

void html_free(html_extractor *h)
{
    if (!h)
        return;
    htmlFreeParserCtxt(h->ctxt);
    free(h);
}

char *html_clean_url(const char *value)
{
    size_t n = strlen(value);
    const unsigned char *s = (const unsigned char *)value, *e = s + n;
    while (s < e && *s <= 0x20)
        s++;
    while (e > s && e[-1] <= 0x20)
        e--;
    if (s == e)
        return NULL;
    size_t span = (size_t)(e - s);
    /* Usually nothing to remove and valid UTF-8: one copy. */
    if (!memchr(s, '\t', span) && !memchr(s, '\n', span) && !memchr(s, '\r', span) &&
        bs_utf8_valid((const char *)s, span))
        return xstrndup((const char *)s, span);
    /* Copy the runs between tabs and line breaks (usually the whole value at once). */
    char *tmp = xmalloc((size_t)(e - s) + 1);
    size_t len = 0;
    while (s < e) {
        const unsigned char *r = s;
        while (r < e && *r != '\t' && *r != '\n' && *r != '\r')
            r++;
        memcpy(tmp + len, s, (size_t)(r - s));
        len += (size_t)(r - s);
        s = r < e ? r + 1 : r;
    }
    char *clean = len ? text_utf8_repair(tmp, len, NULL) : NULL;
    free(tmp);
    return clean;
}

int html_urls(html_extractor *h, const char *p, size_t n, const char *encoding, json_t *open,
              json_t *click)
{
    if (n > INT_MAX)
        n = INT_MAX;
    int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                  HTML_PARSE_NONET | HTML_PARSE_NOIMPLIED | HTML_PARSE_NODEFDTD;
    if (encoding)
        options |= HTML_PARSE_IGNORE_ENC;
    h->open = open;
    h->click = click;
    htmlDocPtr doc = htmlCtxtReadMemory(h->ctxt, p, (int)n, NULL, encoding, options);
    if (doc) /* not expected without a tree builder */
        xmlFreeDoc(doc);
    h->open = h->click = NULL;
    return 0;
}
