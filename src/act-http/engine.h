/* engine.h — the act-http engine: tracking check, fetches and unsubscribes for the
 * message records, on one libcurl multi handle.
 *
 * engine_submit takes a record (ownership passes to the engine). A record with no HTTP
 * work is written at once; a message with work is held until its probes and fetches are
 * done, then written with its "http" object (so output order follows completion).
 * engine_step runs the transfers for a while, waiting at most timeout_ms, and also
 * wakes up when in_fd (if >= 0) becomes readable.
 */
#ifndef ACT_HTTP_ENGINE_H
#define ACT_HTTP_ENGINE_H

#include <jansson.h>
#include <stdio.h>

#include "config.h"
#include "guard.h"
#include "jcanon.h"

typedef struct {
    const char *const *allow; /* [Sink] Tracking_Domains_Allowlist */
    size_t nallow;
    double timeout;               /* [Sink] Open_Click_Timeout, seconds */
    long max_in_flight;           /* [Http] Max_In_Flight */
    long max_per_host;            /* [Http] Max_Connections_Per_Host, else [Sink] Max_Threads;
                                     0: no limit but Max_In_Flight */
    long max_pending;             /* [Http] Max_Pending_Records */
    double probe_cache_seconds;   /* [Http] Probe_Cache_Seconds */
    double probe_fail_seconds;    /* [Http] Probe_Failure_Cache_Seconds */
    long max_body;                /* [Http] Max_Body_Bytes */
    int allow_private;            /* [Http] Allow_Private_Addresses */
    guard_exceptions *exceptions; /* [Http] Private_Address_Exceptions */
    guard_exceptions *only;       /* [Http] Allowed_Networks: when set, nothing else */
    int allow_insecure_unsub;     /* [Http] Allow_Insecure_Unsubscribe */
    const char *ca_file;          /* [Http] CA_File, NULL for the system store */
    const char *probe_path;       /* [Http] Probe_Path, "/f/a" */
    const char *server_header;    /* [Http] Probe_Server, "msys-http" */
    int dry_run;
} act_config;

/* Reads every key; -1 with cfg_error(cfg) set on a bad value. */
int act_config_load(bs_config *cfg, act_config *out);
void act_config_free(act_config *ac);

typedef struct act_engine act_engine;

act_engine *engine_new(const act_config *ac, FILE *out);
void engine_free(act_engine *e);
void engine_submit(act_engine *e, json_t *rec);
/* A canonical record line (rec_in_next_pass with ENGINE_WANT_INIT, ENGINE_NWANT).
 * engine_pass_line: 1 when it was passed on as it came (no HTTP work: not a message, or no
 * open, click or unsubscribe action); 0 when it has work. engine_submit_line then takes
 * it without parsing the whole record (1): only what the engine reads is taken from the
 * line (strings unescaped with jc_unescape, no jansson values), and the "http" object is
 * written (jc_dump_string, jc_dump_int) before the line's closing brace when the work is
 * done; 0
 * (the record already has "http"): the caller parses the line and calls engine_submit. */
#define ENGINE_WANT_INIT                                                                           \
    {                                                                                              \
        {.path = "kind"}, {.path = "plan.actions"}, {.path = "plan.user_agent"},                   \
            {.path = "urls.open"}, {.path = "urls.click"}, {.path = "headers.list_unsubscribe"},   \
            {.path = "headers.list_unsubscribe_post"},                                             \
        {                                                                                          \
            .path = "http"                                                                         \
        }                                                                                          \
    }
enum {
    ENGINE_W_KIND,
    ENGINE_W_ACTIONS,
    ENGINE_W_UA,
    ENGINE_W_OPEN,
    ENGINE_W_CLICK,
    ENGINE_W_LU,
    ENGINE_W_LUP,
    ENGINE_W_HTTP,
    ENGINE_NWANT
};
int engine_submit_line(act_engine *e, const char *line, size_t len, const jc_want *want);
int engine_pass_line(act_engine *e, const char *line, size_t len, const jc_want *want);
/* Records held (waiting for probes or fetches). */
size_t engine_pending(const act_engine *e);
void engine_step(act_engine *e, int in_fd, int timeout_ms);

/* Counters for diagnostics and tests. */
typedef struct {
    unsigned long records, passed_through, fetches, probes, refused;
} engine_stats;
engine_stats engine_get_stats(const act_engine *e);

#endif
