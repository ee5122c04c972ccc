/* deliver.h — SMTP delivery of reports with libcurl's multi interface.
 *
 * Several deliveries run at once (max_in_flight); libcurl keeps connections to each
 * server in its cache and reuses them. Every delivery has a connect time-out and a
 * time-out on every server reply. A temporary failure (4xx reply, no connection, time-out)
 * is retried with exponential back-off (1 s, 2 s, 4 s ... at most 60 s apart) until
 * retry_max seconds have passed since the first attempt; a 5xx reply is final.
 * A delivery waiting for its retry holds no connection and blocks nothing else.
 * Connections left open by finished deliveries are closed politely (QUIT) once no
 * delivery has run for idle_close seconds, before the server's own time-out would cut
 * them (Postfix's smtpd and smtp-sink wait 300 and 100 seconds).
 */
#ifndef ACT_SMTP_DELIVER_H
#define ACT_SMTP_DELIVER_H

#include <poll.h>
#include <stddef.h>

typedef struct {
    int max_in_flight;
    double timeout;    /* seconds, connect and each reply */
    double retry_max;  /* seconds */
    int tls_verify;    /* verify the server certificate when STARTTLS is used */
    const char *helo;  /* EHLO name */
    double idle_close; /* seconds: QUIT on idle cached connections; 0 never */
} dl_opts;

typedef struct {
    int ok;            /* 1: message accepted */
    long code;         /* last SMTP reply code, 0 when none */
    const char *reply; /* last reply line ("250 2.0.0 Ok"), "" when none */
    const char *error; /* on failure: what went wrong, e.g. "550 5.7.1 rejected" */
    int attempts;
} dl_result;

typedef void (*dl_done_fn)(void *arg, const dl_result *res);

typedef struct dl_engine dl_engine;

dl_engine *dl_new(const dl_opts *opt);
void dl_free(dl_engine *e);

/* Queues a delivery. host/port: where to connect; mail_from "" means the null sender
 * (MAIL FROM:<>). payload is taken over (freed by the engine). done is called exactly
 * once, from dl_run. */
void dl_submit(dl_engine *e, const char *host, int port, const char *mail_from, const char *rcpt,
               char *payload, size_t len, dl_done_fn done, void *arg);

/* Deliveries queued, in flight or waiting for a retry. */
size_t dl_pending(const dl_engine *e);

/* Runs transfers and waits up to max_wait_ms for progress or for one of the n extra file
 * descriptors (at most DL_MAX_EXTRA) to become ready; their revents get POLLIN/POLLOUT. Calls the
 * done callbacks of finished deliveries. */
#define DL_MAX_EXTRA 32
void dl_run(dl_engine *e, struct pollfd *extra, int n, int max_wait_ms);

#endif
