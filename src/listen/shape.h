/* shape.h — traffic shaping shared by all of listen's threads: greylisting, per-IP
 * throttling, slow replies, and the (injectable) clock they use.
 *
 * Both tables are sharded hash tables (a mutex per shard) of fixed capacity; when a
 * shard is full its oldest-inserted entry is evicted, and expired entries at the old
 * end are dropped as new ones come, so memory stays bounded whatever the traffic.
 * A shape is created once, then shared; every function here is thread-safe.
 */
#ifndef LISTEN_SHAPE_H
#define LISTEN_SHAPE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "replies.h"

typedef struct shape shape;

shape *shape_new(const lconf *cf, const reply_table *replies);
void shape_free(shape *sh);

/* Wall clock plus the offset (seconds, may be fractional or negative) read from the file
 * named by $BS_LISTEN_CLOCK_FILE or [Listen] Clock_Offset_File: a test hook. */
time_t shape_now(const shape *sh);

/* FNV-1a 64 of "ip\0sender\0rcpt" (rcpt lower-cased): the greylist triple. */
uint64_t shape_triple_hash(const char *ip, const char *sender, const char *rcpt);

/* Whether the greylist applies to this triple: always for stream "greylist", for
 * Greylist_percent of the "mixed" stream (hash % 10000 < percent * 100). */
int shape_greylisted(const lconf *cf, const char *stream, uint64_t h);

typedef enum { GL_DEFER, GL_PASSED, GL_KNOWN } gl_result;
/* Looks the triple up at time now: first attempt, too early or expired → GL_DEFER
 * (a first sighting is recorded; a too-early retry keeps the first-seen time); the first
 * retry between Greylist_Delay and Greylist_Window → GL_PASSED; later ones → GL_KNOWN. */
gl_result shape_greylist_check(shape *sh, uint64_t h, time_t now);
size_t shape_greylist_entries(shape *sh);

/* Per-IP connection count. 0 and counted; -1 when Throttle_Max_Connections_Per_IP
 * is reached (not counted). shape_conn_close undoes a counted open. */
int shape_conn_open(shape *sh, const char *ip);
void shape_conn_close(shape *sh, const char *ip);

/* Per-IP messages per minute (fixed 60 s windows): counts one message and returns 0,
 * or -1 when limit is reached. which: 0 general, 1 the throttle subdomain. */
int shape_minute_take(shape *sh, const char *ip, int which, long limit, time_t now);

typedef enum { TH_CONNECTIONS, TH_PER_CONNECTION, TH_PER_MINUTE, TH_NLIMITS } th_limit;
extern const char *const shape_limit_names[TH_NLIMITS];
/* The reply for a throttle refusal, placeholders filled: code, enhanced, text. */
void shape_throttle_reply(const shape *sh, th_limit which, const reply_vars *vars, lrng *r,
                          int *code, const char **enhanced, bs_buf *text);
/* The greylist reply text (code 451, enhanced 4.7.1). */
void shape_greylist_text(const char *rcpt, bs_buf *text);

/* A delay in milliseconds drawn from d. */
long shape_draw_delay(const slow_delay *d, lrng *r);

#endif
