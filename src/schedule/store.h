/* store.h — schedule's durable store: one SQLite database in WAL mode, owned by schedule.
 *
 *   messages(id PRIMARY KEY, rec, base)   the message record the actions are made from,
 *                                         base = when it was stored (epoch seconds)
 *   actions(aid PRIMARY KEY, msg, name, delay, due, state, claimed, done)
 *       aid = "<message id>/<action>"; state 0 pending, 1 claimed (emitted, not yet
 *       logged by report), 2 done (logged; kept Done_Retention seconds).
 * Every function returns an SQLite result code (SQLITE_OK, SQLITE_FULL, ...); the
 * message of the last failure is store_error().
 */
#ifndef SCHEDULE_STORE_H
#define SCHEDULE_STORE_H

#include <stddef.h>

typedef struct sched_store sched_store;

enum { ST_PENDING = 0, ST_CLAIMED = 1, ST_DONE = 2 };

/* NULL with *err (caller frees) when the database cannot be opened or created. */
sched_store *store_open(const char *path, char **err);
void store_close(sched_store *s);
const char *store_error(const sched_store *s);

/* durable: the commit is on disk when it returns (synchronous=FULL): for the records
 * whose spool file is settled on the strength of it. Otherwise (claims, acknowledgements)
 * a power failure may lose the last commits, which only makes actions emitted again. */
int store_begin(sched_store *s, int durable);
int store_commit(sched_store *s);
void store_rollback(sched_store *s);

/* Adds the message row; *added 0 when the id was already stored (its row is kept). */
int store_add_message(sched_store *s, const char *id, const char *rec, double base, int *added);
int store_add_action(sched_store *s, const char *aid, const char *msg, const char *name,
                     double delay, double due);

/* The actions already stored for a message, in due order: calls fn for each. */
typedef void (*store_action_fn)(void *arg, const char *name, double delay, double due, int state);
int store_message_actions(sched_store *s, const char *msg, store_action_fn fn, void *arg);

/* Up to max pending actions due at or before now, in due order, with their message
 * record (NULL when the message row is gone). fn returns 0 to go on. */
typedef int (*store_due_fn)(void *arg, const char *aid, const char *msg, const char *name,
                            double delay, double due, const char *rec);
int store_due(sched_store *s, double now, int max, store_due_fn fn, void *arg);

/* Moves an action from state `from` to `state` at time when; *changed 0 when it was not
 * in state `from`. */
int store_set_state(sched_store *s, const char *aid, int from, int state, double when,
                    int *changed);
/* Claimed actions claimed before `before` go back to pending; *n how many. */
int store_unclaim(sched_store *s, double before, int *n);
/* Done actions done before `before` are deleted, then their messages without actions. */
int store_purge(sched_store *s, double before, int *n);

/* Counts of not-done actions by name (fn per name) and the earliest pending due (0: none). */
typedef void (*store_count_fn)(void *arg, const char *name, long pending, long claimed);
int store_counts(sched_store *s, store_count_fn fn, void *arg);
int store_next_due(sched_store *s, double *due);

#endif
