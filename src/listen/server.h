/* server.h — the libevent SMTP server: one event loop per thread, each with its own
 * SO_REUSEPORT listeners, a small pool of spool writers when fsync is on, signals
 * handled by the main thread. */
#ifndef LISTEN_SERVER_H
#define LISTEN_SERVER_H

#include "conf.h"
#include "records.h"
#include "replies.h"

/* Serves until SIGTERM/SIGINT, then drains (Shutdown_Timeout). Returns an exit code;
 * fatal set-up errors (bind, TLS files) exit from inside with a diagnostic. */
int server_run(const lconf *cf, const reply_table *replies, rqueue *rq);

#endif
