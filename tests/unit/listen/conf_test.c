/* Unit tests for src/listen/conf.c: with nothing set, listen takes every default from the
 * table of settings (src/global/params.c), the one bs-config and bouncy-sink.ini(5) show. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "params.h"
#include "tap.h"
#include "util.h"

static long table_long(const char *key)
{
    return strtol(param_default("Listen", key), NULL, 10);
}

int main(void)
{
    bs_config *cfg = cfg_empty();
    lconf c;
    memset(&c, 0, sizeof c);
    ok(lconf_load(cfg, &c) == 0, "an empty configuration loads");
    is_str(c.spool, param_default("Listen", "Spool"), "Spool");
    char **sinks;
    size_t n = param_default_list("Listen", "Sink_Domains", &sinks);
    ok(n > 0 && c.nsink == n && strcmp(c.sink_domains[0], sinks[0]) == 0, "Sink_Domains");
    for (size_t i = 0; i < n; i++)
        free(sinks[i]);
    free(sinks);
    char *replies =
        xasprintf("%s/%s", params_data_dir(), param_default("Listen", "InBand_Replies_File"));
    is_str(c.replies_file, replies, "InBand_Replies_File: the table's, in the data directory");
    free(replies);
    ok(c.fsync == 1 && !strcmp(param_default("Listen", "Fsync"), "yes"), "Fsync");
    ok(c.bare_newline == BARE_NEWLINE_NORMALIZE &&
           !strcmp(param_default("Listen", "Bare_Newline"), "normalize"),
       "Bare_Newline");
    is_int(c.max_connections, table_long("Max_Connections"), "Max_Connections");
    is_int(c.command_timeout, table_long("Command_Timeout"), "Command_Timeout");
    is_int(c.data_timeout, table_long("Data_Timeout"), "Data_Timeout");
    is_int(c.shutdown_timeout, table_long("Shutdown_Timeout"), "Shutdown_Timeout");
    is_int(c.max_message_size, table_long("Max_Message_Size"), "Max_Message_Size");
    is_int(c.max_recipients, table_long("Max_Recipients"), "Max_Recipients");
    is_int(c.max_errors, table_long("Max_Errors"), "Max_Errors");
    is_int(c.records_queue, table_long("Records_Queue"), "Records_Queue");
    is_int(c.spool_threads, table_long("Spool_Threads"), "Spool_Threads");
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long loops = cores / 2 < 1 ? 1 : cores / 2 > 64 ? 64 : cores / 2;
    is_int(c.threads, loops, "Threads: one event loop per two cores, at least one");
    is_int(c.spill_size, table_long("Spill_Size"), "Spill_Size");
    is_int(c.greylist_delay, table_long("Greylist_Delay"), "Greylist_Delay");
    is_int(c.greylist_window, table_long("Greylist_Window"), "Greylist_Window");
    is_int(c.greylist_max_entries, table_long("Greylist_Max_Entries"), "Greylist_Max_Entries");
    is_int(c.th_sub_per_minute, table_long("Throttle_Subdomain_Messages_Per_Minute"),
           "Throttle_Subdomain_Messages_Per_Minute");
    is_int(c.th_sub_per_conn, table_long("Throttle_Subdomain_Messages_Per_Connection"),
           "Throttle_Subdomain_Messages_Per_Connection");
    is_int(c.th_max_entries, table_long("Throttle_Max_Entries"), "Throttle_Max_Entries");
    is_int(c.proxy_timeout, table_long("Proxy_Timeout"), "Proxy_Timeout");
    ok(c.nproxy_nets == 0 && !param_default("Listen", "Proxy_Networks"),
       "Proxy_Networks: none (no PROXY header read)");
    ok(c.upstream_handled == strtod(param_default("Sink", "Upstream_Handled"), NULL),
       "[Sink] Upstream_Handled");
    ok(c.slow.kind == DELAY_UNIFORM && c.slow.a == 1 && c.slow.b == 5 &&
           !strcmp(param_default("Listen", "Slow_Delay"), "uniform:1-5"),
       "Slow_Delay");
    lconf_free(&c);
    cfg_free(cfg);
    return done_testing();
}
