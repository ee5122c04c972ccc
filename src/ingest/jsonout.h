/* jsonout.h — compact JSON serialisation of a record, faster than json_dumps for the
 * large strings of a message record (header block, URLs). Same output as
 * json_dumps(v, JSON_COMPACT): keys in insertion order, "/" and non-ASCII unescaped.
 */
#ifndef BS_INGEST_JSONOUT_H
#define BS_INGEST_JSONOUT_H

#include <jansson.h>

#include "util.h"

/* Appends the JSON text of v to b. */
void json_out(bs_buf *b, const json_t *v);

#endif
