/* act.h — the act-smtp stage: settings, per-record work, the ordered output queue.
 *
 * Records are kept in input order in a bounded queue; a record leaves (is written) when
 * it and every record before it are complete. A message record whose plan.actions holds
 * oob, fbl and/or ooto gets its reports built, routed and handed to the delivery engine; its
 * "smtp" object is filled in as the outcomes arrive. Everything else is complete at once.
 */
#ifndef ACT_SMTP_ACT_H
#define ACT_SMTP_ACT_H

#include <jansson.h>
#include <stdio.h>

#include "config.h"
#include "deliver.h"
#include "jcanon.h"
#include "mkreport.h"
#include "mx.h"
#include "replies.h"
#include "rng.h"

typedef struct {
    const char *hostname;    /* [Listen] Hostname or gethostname() */
    const char *report_from; /* [Smtp] From */
    const char *relay_host;  /* [Smtp] Relay, NULL when unset */
    int relay_port;
    int port;        /* [Smtp] Port */
    long queue_size; /* [Smtp] Queue_Size */
    int dry_run;
    dl_opts dl;
    mx_allowlist allow;
    mx_resolver *mx;
    reply_table replies; /* 5xx replies with a 5.x.x code: a DSN's diagnostics */
    bs_rng rng;          /* picks and fills them; seeded from the system */
    /* owned strings */
    char *hostname_own, *from_own;
} act_conf;

/* Reads every setting; 0 ok, -1 with *err (caller frees) in the FILE:LINE: form, and
 * *exit_code set (78 configuration, 66 unreadable reply table). */
int act_conf_load(act_conf *c, bs_config *cfg, int dry_run, char **err, int *exit_code);
void act_conf_free(act_conf *c);

typedef struct act_queue act_queue;

act_queue *act_queue_new(act_conf *c, dl_engine *dl);
void act_queue_free(act_queue *q);
/* Takes over rec. */
void act_queue_push(act_queue *q, json_t *rec);
/* As act_queue_push for the record REC built from the canonical LINE (LEN bytes) whose
 * wanted members WANT (ACT_WANT_INIT) were found by the scan: when it has no "smtp" member,
 * the record is written as the line with the outcome spliced in before its closing brace
 * (what rec_write prints: act-smtp adds only that last member), without dumping it all. */
void act_queue_push_line(act_queue *q, json_t *rec, const char *line, size_t len,
                         const jc_want *want);
/* The members act-smtp looks at in a canonical line: kind, plan.actions (work or not) and
 * smtp (absent: the outcome can be spliced onto the line, act_queue_push_line). */
#define ACT_WANT_INIT                                                                              \
    {                                                                                              \
        {"kind", {NULL, 0}}, {"plan.actions", {NULL, 0}},                                          \
        {                                                                                          \
            "smtp",                                                                                \
            {                                                                                      \
                NULL, 0                                                                            \
            }                                                                                      \
        }                                                                                          \
    }
#define ACT_NWANT 3
/* 1 when the record of a canonical line has smtp work (a message whose plan.actions holds
 * oob, fbl or ooto): the caller parses it and pushes it; 0 when it passes through. */
int act_line_has_work(const jc_want *want);
/* A record with nothing to do: written at once when the queue is empty (0, or -1 on a
 * write error), else queued as a copy of the line behind the records before it. */
int act_queue_pass_line(act_queue *q, const char *line, size_t len, FILE *out);
int act_queue_full(const act_queue *q);
size_t act_queue_len(const act_queue *q);
/* Writes the completed records at the head; -1 on a write error. */
int act_queue_flush(act_queue *q, FILE *out);

#endif
