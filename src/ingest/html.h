/* html.h — open and click URLs of an HTML body, on libxml2's HTML parser (SPEC A5).
 *
 * Every <img src> is an open URL and every <a href> a click URL, in document order,
 * duplicates kept. Attribute values come entity-decoded from the parser; comments
 * (including <!--[if mso]> blocks), <script> and <style> never yield elements. Values
 * are cleaned as a browser does before fetching (leading/trailing blanks and control
 * characters dropped, tabs and line breaks removed); empty values are skipped.
 *
 * The parser runs in SAX mode with only a start-element handler: no document tree is
 * built (speed), and text, comments and raw-text elements never reach the handler.
 * One html_extractor per thread: it owns a reusable parser context.
 * xmlInitParser() must have been called once before threads start (html_global_init).
 */
#ifndef BS_INGEST_HTML_H
#define BS_INGEST_HTML_H

#include <jansson.h>
#include <stddef.h>

typedef struct html_extractor html_extractor;

void html_global_init(void);
html_extractor *html_new(void);
void html_free(html_extractor *h);

/* Parses [p, p+n). encoding: the charset the bytes are in ("UTF-8" after conversion;
 * the document's own <meta charset> is then ignored), or NULL to let the parser detect
 * it. Appends URL strings to the arrays open and click. Returns 0. */
int html_urls(html_extractor *h, const char *p, size_t n, const char *encoding, json_t *open,
              json_t *click);

/* Cleans a URL attribute value as described above; returns a new string or NULL when
 * nothing is left. Invalid UTF-8 is replaced by U+FFFD. */
char *html_clean_url(const char *value);

#endif
