/* format.h — one record becomes one log line (SPEC A7) and its counter updates (A9).
 *
 * The line text produced here is everything after `<date time,ms>,consume-mail,<LEVEL>,`:
 *   <inbound file>,<To>,<From>,<actions>
 * Actions of a message, in order: the record's read error, plan.skip, then per planned
 * action `Accept`, `_Open:<codes>` `_OpenAgain:` `_Click:` `_ClickAgain:` (a code is 200,
 * or `<status> <url>`; codes joined by `,`; consecutive `_` items are not separated),
 * `_Unsubscribe:<code>`, `OOB sent,from <a> to <b> via <mx>`, `FBL sent,to <b> via <mx>`,
 * `OOTO sent,to <b> via <mx>`, then http.errors. Application errors start with `!`.
 * Other kinds: params lines (`** Parameters ...`), `InBand <code> <text>`, `Blackhole`,
 * `Greylist 451 4.7.1 <text>` / `Greylist passed`, `Throttle <limit> <code> <text>
 * (client <ip>)`, `Slow <stage> <ms>ms`, `!Invalid record: ...`, `!Quarantined: ...`,
 * and `Record <kind>` for kinds this version does not know (counted records_<kind>).
 * Control characters in record fields are replaced by spaces, U+0085, U+2028 and U+2029
 * written \u0085 \u2028 \u2029: one record, one line for any reader. In <inbound file>,
 * <To> and <From>, `,` is written \x2c and `\` as \\, so the line always splits into the
 * same fields and each reads back as the record had it.
 */
#ifndef BS_REPORT_FORMAT_H
#define BS_REPORT_FORMAT_H

#include <jansson.h>

#include "stats.h"
#include "util.h"

typedef struct {
    const char *level;  /* INFO, WARNING or ERROR (static) */
    int has_error;      /* an action starting with `!` was written */
    int store_done;     /* headers.x_bouncy_sink contains store-done (any case) */
    const char *settle; /* the record's settle path (borrowed from the record) or NULL */
    int no_line;        /* a record that is state, not an event (kind schedule): no line */
} fmt_result;

/* Appends the line text for rec to line and updates the counters (caller holds the
 * stats lock). now is the processing time (minute series). */
void fmt_record(const json_t *rec, rp_stats *st, double now, bs_buf *line, fmt_result *res);

/* Record text on the log line (as every record field is written), at most max bytes of
 * s then `...(N bytes)`: for paths and names that may be arbitrarily long. */
#define FMT_PATH_MAX 256
void fmt_put_bounded(bs_buf *b, const char *s, size_t max);

/* Record text for a diagnostic on stderr (caller frees): bytes outside printable ASCII
 * as \xHH, `\` as `\\`, at most FMT_DIAG_MAX bytes of s then `...(N bytes)`. */
#define FMT_DIAG_MAX 200
char *fmt_diag(const char *s);

/* `YYYY-MM-DD HH:MM:SS,mmm` in local time (buf >= 32). */
char *fmt_log_time(double t, char *buf, size_t n);

#endif
