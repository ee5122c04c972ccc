/* rates.h — measured rates for personas: events (connections, messages) per key (client
 * IP, sending domain) over sliding windows, shared by all of listen's threads.
 *
 * Each (fact, key) has, for every window registered for its fact, a ring of RATES_SLOTS
 * counters of window/RATES_SLOTS seconds (rounded up) each: a count covers the
 * current slot and the ones before it, i.e. between window minus one slot and window
 * seconds back. The table has a fixed number of entries in sets of
 * four; a new key takes the least recently used entry of its set, so memory stays bounded
 * whatever the traffic (an evicted key starts again from zero). Keys are told apart by a
 * 64-bit hash. Every function is thread-safe.
 */
#ifndef LISTEN_RATES_H
#define LISTEN_RATES_H

#include <stddef.h>
#include <time.h>

#include "persona.h"

#define RATES_SLOTS 12
#define RATES_MAX_WINDOWS 4 /* distinct windows per fact */

typedef struct rates rates;

/* max_entries: entries kept (at least 4). */
rates *rates_new(long max_entries);
void rates_free(rates *r);
/* Registers window (seconds) for rate fact f, before the table is shared: 0 ok (also
 * when known), -1 when f has RATES_MAX_WINDOWS windows already. */
int rates_add_window(rates *r, persona_fact f, long window);
/* Counts one event of f for key at time now. */
void rates_count(rates *r, persona_fact f, const char *key, time_t now);
/* Events of f for key over the last window seconds (a registered window) at time now. */
long rates_get(rates *r, persona_fact f, const char *key, long window, time_t now);
/* Keys held now. */
size_t rates_entries(rates *r);

#endif
