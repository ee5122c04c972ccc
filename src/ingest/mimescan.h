/* mimescan.h — limits on a message's MIME structure, checked before GMime sees it.
 *
 * GMime builds the whole MIME tree in memory: several hundred bytes per part and per
 * header field, so a 30 MB message of 3.5 million empty parts costs gigabytes and a
 * minute. mime_prescan makes one pass over the bytes GMime would parse and computes
 * upper bounds of what GMime would build: the number of parts (boundary lines of the
 * boundaries declared anywhere in the message, plus attached messages), the header
 * fields of the parts and the size of each part's header section. A message over a
 * limit is refused before GMime is called; the exact part count and nesting depth are
 * checked again on the tree GMime built (msgr_read).
 *
 * The bounds never undercount what GMime 3 builds: a boundary line is "--" + a
 * boundary declared by some Content-Type, followed only by blanks (gmime-parser.c
 * is_boundary); every boundary="..." or boundary=token found anywhere counts as
 * declared, cut where GMime's parameter parser could cut it. When a declaration is
 * written in a form we do not decode (RFC 2231 boundary*=, RFC 2047 words, backslash
 * escapes), every line starting with "--" counts as a boundary.
 */
#ifndef BS_INGEST_MIMESCAN_H
#define BS_INGEST_MIMESCAN_H

#include <stddef.h>

typedef struct {
    size_t max_header;  /* bytes of one header section: the message's or a part's */
    size_t max_parts;   /* MIME entities: multiparts, leaves, attached messages */
    size_t max_depth;   /* nesting of MIME entities (the message's own body is depth 1) */
    size_t max_fields;  /* header fields of the message and all its parts */
    size_t max_decoded; /* the HTML part after transfer decoding and charset conversion */
} msg_limits;

/* The [Ingest] defaults of the table of settings (src/global/params.c). */
void msg_limits_default(msg_limits *l);

/* Checks the bytes GMime would parse (MIME header fields, empty line, body), given the
 * number of top-level header fields already counted. Returns NULL when within the
 * limits, else the reason (caller frees), naming the [Ingest] setting. */
char *mime_prescan(const char *p, size_t n, size_t top_fields, const msg_limits *l);

#endif
