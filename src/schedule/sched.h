/* sched.h — schedule's loop: store the delayed actions of each plan, emit them when due.
 *
 * Claim/settle order (the spool's discipline, one stage further):
 *  1. A message record with plan.delays: its delayed actions and its record are inserted
 *     in one transaction (batched with the other records read at once) and committed
 *     (synchronous=FULL) before the message record goes on, without them in
 *     plan.actions and with plan.scheduled; report settles the spool file on that line.
 *     A message stored again (ingest re-emitted it after a crash) keeps its stored rows.
 *  2. A due action is claimed (state 1, committed) and then written as an "action"
 *     record; act-http and act-smtp perform it, report logs it once (it keeps the ids it
 *     logged, and reads them back from its log at start) and names it on the acks FIFO.
 *  3. An id read on the acks FIFO marks the action done (state 2), kept Done_Retention.
 *  At start, and after Claim_Timeout, claimed actions go back to pending and are emitted
 *  again: nothing is lost, and report logs each action once.
 */
#ifndef SCHEDULE_SCHED_H
#define SCHEDULE_SCHED_H

typedef struct {
    const char *config; /* NULL: defaults */
    const char *store;  /* NULL: [Timing] Store */
    const char *acks;   /* NULL: [Timing] Acks, else STORE.acks */
    int drain;          /* at end of input, go on until nothing is pending (replay) */
} sched_options;

int sched_run(const sched_options *o);

#endif
