/* version.h — the version of Bouncy Sink, as /metrics reports it (bouncy_sink_build_info). */
#ifndef BS_GLOBAL_VERSION_H
#define BS_GLOBAL_VERSION_H

#define BS_VERSION "0.4.0" /* raised with each release */

#endif
