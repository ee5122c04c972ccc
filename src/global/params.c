/* params.c — the table of every setting, and the check of a file's names against it. */
#include "params.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

const bs_param_section bs_param_sections[] = {
    {"Sink", 0, "decide, listen, act-http, report"},
    {"RP_MX_domain_allowlist", 1, "act-smtp"},
    {"Listen", 0, "listen; also decide, ingest, act-smtp, gen-corpus"},
    {"Personas", 0, "listen"},
    {"Ingest", 0, "ingest"},
    {"Verify", 0, "ingest"},
    {"Decide", 0, "decide"},
    {"Timing", 0, "decide, schedule; Store and Acks also pipelines/sink.sh"},
    {"Http", 0, "act-http"},
    {"Smtp", 0, "act-smtp"},
    {"Report", 0, "report"},
    {"Track_Server", 0, "track-server"},
};
const size_t bs_nparam_sections = sizeof bs_param_sections / sizeof *bs_param_sections;

/* Keep in the order of man/bouncy-sink.ini.5 (tests/bs-config compares the two). */
const bs_param bs_params[] = {
    /* [Sink]: the statistical model of consume-mail.ini */
    {"Sink", "OOB_percent", P_NUMBER, "0.5", "percent of all traffic bounced out of band (DSN)"},
    {"Sink", "FBL_percent", P_NUMBER, "0.01", "percent of all traffic complained about (ARF)"},
    {"Sink", "Open_percent", P_NUMBER, "55", "percent of all traffic opened"},
    {"Sink", "Open_Again_percent", P_NUMBER, "10", "percent of all traffic opened again"},
    {"Sink", "Click_percent", P_NUMBER, "15", "percent of all traffic clicked"},
    {"Sink", "Click_Again_percent", P_NUMBER, "3", "percent of all traffic clicked again"},
    {"Sink", "Upstream_Handled", P_NUMBER, "50",
     "percent of the mixed stream handled by the listener (in-band bounces, blackhole)"},
    {"Sink", "Weekly_Cycle_Bounce_Rate", P_NUMLIST, NULL,
     "in-band bounce percent per day, Monday first, 7n entries for an n-week cycle"},
    {"Sink", "Weekly_Cycle_Open_Rate", P_NUMLIST, NULL,
     "engagement factor per day, indexed the same way"},
    {"Sink", "Weekly_Cycle_Suppressions_Purge", P_NUMLIST, NULL, "parsed and checked only"},
    {"Sink", "Signals_Traffic_Prefix", P_STRING, NULL,
     "local-part prefix of Signals traffic, opened only on its digit's days"},
    {"Sink", "Digit0_days", P_NUMLIST, NULL,
     "days of the month (1-31, or 0: never) for last digit 0"},
    {"Sink", "Digit1_days", P_NUMLIST, NULL, "days of the month for last digit 1"},
    {"Sink", "Digit2_days", P_NUMLIST, NULL, "days of the month for last digit 2"},
    {"Sink", "Digit3_days", P_NUMLIST, NULL, "days of the month for last digit 3"},
    {"Sink", "Digit4_days", P_NUMLIST, NULL, "days of the month for last digit 4"},
    {"Sink", "Digit5_days", P_NUMLIST, NULL, "days of the month for last digit 5"},
    {"Sink", "Digit6_days", P_NUMLIST, NULL, "days of the month for last digit 6"},
    {"Sink", "Digit7_days", P_NUMLIST, NULL, "days of the month for last digit 7"},
    {"Sink", "Digit8_days", P_NUMLIST, NULL, "days of the month for last digit 8"},
    {"Sink", "Digit9_days", P_NUMLIST, NULL, "days of the month for last digit 9"},
    {"Sink", "Tracking_Domains_Allowlist", P_LIST, NULL,
     "hosts whose URLs are fetched without the Server: msys-http probe"},
    {"Sink", "Open_Click_Timeout", P_NUMBER, "10",
     "seconds for a connect and for a whole transfer"},
    {"Sink", "User_Agents_File", P_DATA, "user-agents.csv",
     "CSV whose first column is a User-Agent (default: in the data directory)"},
    {"Sink", "Logfile", P_PATH, "./consume-mail.log", "the log file"},
    {"Sink", "Logfile_backup_count", P_INTEGER, "7", "daily rotations of the log kept"},
    {"Sink", "Done_Msg_File_Dest", P_PATH, NULL,
     "where processed spool files are moved (not set: they are deleted)"},
    {"Sink", "Max_Threads", P_INTEGER, NULL,
     "connections at once to one tracking host (act-http), unless [Http] says otherwise"},
    {"Sink", "Gather_Timeout", P_STRING, NULL, "read for compatibility; not used"},
    /* [Listen] */
    {"Listen", "Address", P_LIST, "127.0.0.1:2525",
     "comma list of host:port or [v6]:port to listen on"},
    {"Listen", "Hostname", P_STRING, NULL,
     "name in the greeting and Received (default: the host name)"},
    {"Listen", "Sink_Domains", P_LIST, "bouncy-sink.test", "comma list of the domains accepted"},
    {"Listen", "Spool", P_PATH, "./spool", "the spool directory (also read by ingest)"},
    {"Listen", "Fsync", P_FSYNC, "yes",
     "make spooled files durable before the reply: yes (fsync each file), no, or syncfs (one "
     "syncfs(2) of the spool's file system per group)"},
    {"Listen", "Spool_Threads", P_INTEGER, "32", "threads writing the spool"},
    {"Listen", "Spill_Size", P_INTEGER, "1048576",
     "bytes of a message kept in memory before a file"},
    {"Listen", "Records", P_PATH, NULL, "where records go (default: standard output)"},
    {"Listen", "Records_Queue", P_INTEGER, "100000", "records held while the reader is slow"},
    {"Listen", "TLS_Certificate", P_PATH, NULL, "PEM certificate: enables STARTTLS"},
    {"Listen", "TLS_Key", P_PATH, NULL, "PEM key (default: in the certificate file)"},
    {"Listen", "Bare_Newline", P_STRING, "normalize",
     "bare LF or CR in SMTP input: normalize or reject"},
    {"Listen", "InBand_Replies_File", P_DATA, "inband-replies.dat",
     "the in-band reply table, also read by act-smtp (default: in the data directory)"},
    {"Listen", "InBand_Bounce_percent", P_NUMBER, NULL,
     "fixed in-band bounce percent instead of the cycle"},
    {"Listen", "Seed", P_INTEGER, NULL, "random seed, for reproducible runs"},
    {"Listen", "Threads", P_INTEGER, NULL,
     "event threads (default: half the number of cores, at least 1, at most 64)"},
    {"Listen", "Max_Connections", P_INTEGER, "1000", "connections at once"},
    {"Listen", "Command_Timeout", P_INTEGER, "300", "seconds to wait for a command"},
    {"Listen", "Data_Timeout", P_INTEGER, "300", "seconds to wait for message data"},
    {"Listen", "Max_Message_Size", P_SIZE, "50000000",
     "bytes of a message (suffix K, M or G allowed)"},
    {"Listen", "Max_Recipients", P_INTEGER, "1000", "recipients of a message"},
    {"Listen", "Max_Errors", P_INTEGER, "10", "errors before a connection is closed"},
    {"Listen", "Shutdown_Timeout", P_INTEGER, "10", "seconds open transactions get at shutdown"},
    {"Listen", "Greylist_percent", P_NUMBER, "0", "percent of the mixed stream greylisted"},
    {"Listen", "Greylist_Delay", P_INTEGER, "300", "seconds before a greylisted retry is accepted"},
    {"Listen", "Greylist_Window", P_INTEGER, "14400", "seconds a greylisting entry lives"},
    {"Listen", "Greylist_Max_Entries", P_INTEGER, "100000", "greylisting entries kept"},
    {"Listen", "Throttle_Max_Connections_Per_IP", P_INTEGER, "0",
     "connections per client IP (0: no limit)"},
    {"Listen", "Throttle_Max_Messages_Per_Connection", P_INTEGER, "0",
     "messages per connection (0: no limit)"},
    {"Listen", "Throttle_Max_Messages_Per_Minute", P_INTEGER, "0",
     "messages per client IP and minute (0: no limit)"},
    {"Listen", "Throttle_Subdomain_Messages_Per_Minute", P_INTEGER, "5",
     "the throttle subdomain's per-minute limit"},
    {"Listen", "Throttle_Subdomain_Messages_Per_Connection", P_INTEGER, "2",
     "the throttle subdomain's per-connection limit"},
    {"Listen", "Throttle_Max_Entries", P_INTEGER, "100000", "throttling entries kept"},
    {"Listen", "Slow_percent", P_NUMBER, "0", "percent of the mixed stream answered slowly"},
    {"Listen", "Slow_Delay", P_STRING, "uniform:1-5",
     "delay distribution: fixed:S, uniform:A-B or exp:MEAN"},
    {"Listen", "Facts", P_BOOL, "no",
     "compute the costly facts (rDNS, SPF, DKIM, DMARC) of every transaction"},
    {"Listen", "Facts_Threads", P_INTEGER, "2", "threads computing facts off the event loop"},
    {"Listen", "Facts_Timeout", P_INTEGER, "5",
     "seconds a DNS question of the facts may take (3x: the whole)"},
    {"Listen", "Clock_Offset_File", P_PATH, NULL,
     "file holding seconds added to the clock (tests)"},
    {"Listen", "Proxy_Networks", P_LIST, NULL,
     "balancers whose connections start with a PROXY header (empty: none)"},
    {"Listen", "Proxy_Timeout", P_INTEGER, "5", "seconds a balancer has to send its PROXY header"},
    /* [Personas] */
    {"Personas", "Dir", P_DATA, "personas",
     "directory of persona files (NAME.persona; not set and missing: no personas)"},
    {"Personas", "Labels", P_LIST, "gmail, microsoft, yahoo",
     "comma list of LABEL or LABEL=PERSONA: recipients under LABEL.<sink domain> (none: no "
     "labels)"},
    {"Personas", "Mixed", P_STRING, NULL, "the persona of the mixed stream (default: none)"},
    {"Personas", "Max_Rate_Entries", P_INTEGER, "100000",
     "client IPs and sending domains whose rates are kept"},
    /* [Ingest], [Verify] */
    {"Ingest", "Max_Message_Size", P_SIZE, "50M", "bytes of a message read (suffix K, M or G)"},
    {"Ingest", "Max_Header_Size", P_SIZE, "1M", "bytes of a header block read"},
    {"Ingest", "Max_MIME_Parts", P_INTEGER, "1000", "MIME parts of a message"},
    {"Ingest", "Max_MIME_Depth", P_INTEGER, "20", "nesting depth of MIME parts"},
    {"Ingest", "Max_Header_Fields", P_INTEGER, "10000",
     "header fields of a message and all its parts"},
    {"Ingest", "Max_Decoded_Size", P_SIZE, "16M", "bytes of the HTML part decoded"},
    {"Ingest", "Max_Message_Time", P_NUMBER, "60",
     "seconds reading one message before ingest stops (0: none)"},
    {"Ingest", "Quarantine_After", P_INTEGER, "2",
     "crashes or time-outs before a spool file is quarantined"},
    {"Ingest", "Quarantine_Dir", P_PATH, NULL,
     "where poison messages go (default: SPOOL/quarantine)"},
    {"Verify", "DKIM_Key_File", P_PATH, NULL,
     "DKIM keys in OpenDKIM's key-file format (default: DNS)"},
    {"Verify", "SPF", P_BOOL, "on", "evaluate SPF"},
    /* [Decide] */
    {"Decide", "SPF_Required", P_LIST, "oob, fbl, ooto",
     "streams whose messages need SPF pass, or none"},
    {"Decide", "Unsubscribe_percent", P_NUMBER, "0", "percent of the mixed stream unsubscribed"},
    {"Decide", "OOTO_percent", P_NUMBER, "0", "percent of the mixed stream answered out of office"},
    {"Decide", "Seed", P_STRING, NULL, "random seed, for reproducible runs"},
    /* [Timing]: delays drawn by decide, held by schedule (issue 17) */
    {"Timing", "Time_Scale", P_NUMBER, "1",
     "model seconds per real second (3600: an hour a second)"},
    {"Timing", "Open", P_STRING, "lognormal 5.5h 1.8 30d", "delay of the open, from delivery"},
    {"Timing", "Open_Again", P_STRING, "lognormal 8h 1.5 30d",
     "delay of the second open, after the open"},
    {"Timing", "Click", P_STRING, "lognormal 45s 1.5 1d", "delay of the click, after the open"},
    {"Timing", "Click_Again", P_STRING, "exponential 10m 1d",
     "delay of the second click, after the click"},
    {"Timing", "Unsubscribe", P_STRING, "lognormal 3h 1.8 30d",
     "delay of the unsubscribe, from delivery"},
    {"Timing", "OOB", P_STRING, "lognormal 10m 2 5d",
     "delay of the out-of-band bounce, from delivery"},
    {"Timing", "FBL", P_STRING, "lognormal 8h 1.8 30d", "delay of the complaint, from delivery"},
    {"Timing", "OOTO", P_STRING, "exponential 2m 1h",
     "delay of the out-of-office reply, from delivery"},
    {"Timing", "Store", P_STRING, "./schedule.sqlite", "schedule's SQLite database (WAL mode)"},
    {"Timing", "Max_Pending", P_INTEGER, "1000000",
     "actions held at most; beyond, a message's actions are done at once"},
    {"Timing", "Max_Claimed", P_INTEGER, "10000", "actions emitted and not yet logged, at most"},
    {"Timing", "Claim_Timeout", P_NUMBER, "300",
     "seconds after which an emitted action not yet logged is emitted again"},
    {"Timing", "Done_Retention", P_NUMBER, "86400", "seconds a done action is kept in the store"},
    {"Timing", "Acks", P_STRING, NULL,
     "FIFO on which report names the actions it logged (default: beside the store, .acks)"},
    /* [Http] */
    {"Http", "Allow_Private_Addresses", P_BOOL, "no",
     "allow loopback, private and reserved addresses"},
    {"Http", "Private_Address_Exceptions", P_LIST, NULL, "networks allowed although private"},
    {"Http", "Allowed_Networks", P_LIST, NULL, "the only networks connected to"},
    {"Http", "Max_In_Flight", P_INTEGER, "64", "requests at once"},
    {"Http", "Max_Connections_Per_Host", P_INTEGER, NULL,
     "connections at once to one host (default: [Sink] Max_Threads, else 0: no limit)"},
    {"Http", "Max_Pending_Records", P_INTEGER, "1024", "records held while requests run"},
    {"Http", "Max_Body_Bytes", P_INTEGER, "1048576", "bytes of a response body read"},
    {"Http", "Probe_Cache_Seconds", P_NUMBER, "3600", "seconds a probe result is kept"},
    {"Http", "Probe_Failure_Cache_Seconds", P_NUMBER, "60", "seconds a failed probe is kept"},
    {"Http", "Probe_Path", P_STRING, "/f/a", "path of the Server: msys-http probe"},
    {"Http", "Probe_Server", P_STRING, "msys-http", "Server header the probe expects"},
    {"Http", "Allow_Insecure_Unsubscribe", P_BOOL, "no", "allow one-click unsubscribes over http"},
    {"Http", "CA_File", P_PATH, NULL, "CA certificates for https (default: the system's)"},
    /* [Smtp] */
    {"Smtp", "Relay", P_HOSTPORT, NULL,
     "send every report to this host:port (allow-list still applies)"},
    {"Smtp", "MX_Override", P_LIST, NULL, "comma list of domain=mxhost"},
    {"Smtp", "Resolver", P_HOSTPORT, NULL, "DNS server address:port (default: the system's)"},
    {"Smtp", "Port", P_INTEGER, "25", "SMTP port of the MX hosts"},
    {"Smtp", "Timeout", P_NUMBER, "30", "seconds for each SMTP step"},
    {"Smtp", "Retry_Max_Seconds", P_NUMBER, "300", "seconds a temporary failure is retried"},
    {"Smtp", "Idle_Close", P_NUMBER, "20",
     "seconds an unused connection stays open before QUIT (0: until exit)"},
    {"Smtp", "Max_In_Flight", P_INTEGER, "16", "deliveries at once"},
    {"Smtp", "Queue_Size", P_INTEGER, "1024", "records held while deliveries run"},
    {"Smtp", "TLS_Verify", P_BOOL, "no", "verify the MX host's certificate"},
    {"Smtp", "From", P_STRING, NULL, "sender of reports (default: postmaster@ the Hostname)"},
    {"Smtp", "Helo", P_STRING, NULL, "HELO name (default: [Listen] Hostname or the host name)"},
    /* [Report] */
    {"Report", "Address", P_HOSTPORT, "127.0.0.1:8888", "host:port of the web report"},
    {"Report", "State_File", P_PATH, "./report-state.json", "the counters saved across restarts"},
    {"Report", "Request_Timeout", P_NUMBER, "10", "seconds for a whole HTTP request"},
    {"Report", "Max_Connections_Per_Address", P_INTEGER, "64",
     "HTTP connections at once from one client address"},
    {"Report", "Allowed_Hosts", P_LIST, "localhost",
     "Host names answered besides the report's own address (* for any)"},
    {"Report", "CORS_Origin", P_STRING, NULL,
     "Access-Control-Allow-Origin value (default: none sent)"},
    {"Report", "History", P_STRING, NULL,
     "SQLite database of per-message events (default: report-history.sqlite beside "
     "State_File; none: no history kept)"},
    {"Report", "History_Days", P_INTEGER, "30", "days a message's events are kept (0: no limit)"},
    {"Report", "History_Max_Rows", P_INTEGER, "1000000",
     "records kept at most in the history (oldest dropped)"},
    {"Report", "Chart_JS", P_STRING, "/usr/share/javascript/chart.js/chart.min.js",
     "Chart.js file the page's charts load (libjs-chart.js)"},
    /* [Track_Server] */
    {"Track_Server", "Address", P_STRING, "127.0.0.1:8025", "host:port to listen on"},
    {"Track_Server", "Landing", P_STRING, NULL, "landing URL clicks are redirected to"},
    {"Track_Server", "Server", P_STRING, "msys-http", "Server header sent"},
    {"Track_Server", "Delay_Ms", P_INTEGER, "0", "milliseconds before each answer"},
};
const size_t bs_nparams = sizeof bs_params / sizeof *bs_params;

const bs_param *params_find(const char *section, const char *key)
{
    for (size_t i = 0; i < bs_nparams; i++)
        if (bs_strcaseeq(bs_params[i].section, section) && bs_strcaseeq(bs_params[i].key, key))
            return &bs_params[i];
    return NULL;
}

const char *param_default(const char *section, const char *key)
{
    const bs_param *p = params_find(section, key);
    if (!p)
        bs_panic("[%s] %s: not in the table of settings (src/global/params.c)", section, key);
    return p->def;
}

/* The table's default, which a typed getter needs. */
static const char *needed_default(const char *section, const char *key)
{
    const char *def = param_default(section, key);
    if (!def)
        bs_panic("[%s] %s: the table of settings gives no default", section, key);
    return def;
}

size_t param_default_list(const char *section, const char *key, char ***out)
{
    const char *def = param_default(section, key);
    size_t n = 0;
    *out = NULL;
    for (const char *p = def; p && *p;) {
        size_t len = strcspn(p, ",");
        char *raw = xstrndup(p, len);
        *out = xrealloc(*out, (n + 1) * sizeof **out);
        (*out)[n++] = xstrdup(bs_trim(raw));
        free(raw);
        p += len + (p[len] == ',');
    }
    return n;
}

int param_string(bs_config *cfg, const char *section, const char *key, const char **out)
{
    return cfg_string(cfg, section, key, param_default(section, key), out);
}

int param_long(bs_config *cfg, const char *section, const char *key, long min, long max, long *out)
{
    long def;
    if (bs_parse_long(needed_default(section, key), &def) < 0)
        bs_panic("[%s] %s: the table's default is not a whole number", section, key);
    return cfg_long(cfg, section, key, def, min, max, out);
}

int param_double_range(bs_config *cfg, const char *section, const char *key, double min, double max,
                       double *out)
{
    double def;
    if (bs_parse_double(needed_default(section, key), &def) < 0)
        bs_panic("[%s] %s: the table's default is not a number", section, key);
    return cfg_double_range(cfg, section, key, def, min, max, out);
}

int param_bool(bs_config *cfg, const char *section, const char *key, int *out)
{
    int def;
    if (cfg_parse_bool(needed_default(section, key), &def) < 0)
        bs_panic("[%s] %s: the table's default is not yes or no", section, key);
    return cfg_bool(cfg, section, key, def, out);
}

int param_fsync(bs_config *cfg, const char *section, const char *key, int *out)
{
    const char *v = cfg_get(cfg, section, key);
    if (!v)
        v = needed_default(section, key);
    if (bs_strcaseeq(v, "syncfs")) {
        *out = 2;
        return 0;
    }
    if (cfg_parse_bool(v, out) == 0)
        return 0;
    return cfg_fail(cfg, section, key, "'%s' is not yes, no or syncfs", v);
}

#ifndef BS_DATADIR
#define BS_DATADIR "/usr/local/share/bouncy-sink/data"
#endif

static char data_dir[PATH_MAX];
static pthread_once_t data_dir_once = PTHREAD_ONCE_INIT;

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void find_data_dir(void)
{
    const char *env = getenv("BS_DATA_DIR");
    if (env && *env) {
        snprintf(data_dir, sizeof data_dir, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            /* An installed program: PREFIX/bin/x next to PREFIX/share/bouncy-sink/data,
             * whatever PREFIX it was installed to (DESTDIR, a moved tree). */
            char *cand = xasprintf("%s/../share/bouncy-sink/data", exe);
            int found = is_dir(cand) && realpath(cand, data_dir);
            free(cand);
            if (found)
                return;
#ifdef BS_SOURCE_DIR
            /* A program of the build tree (bin/ or build/<variant>/bin/): the repository's
             * data. */
            size_t len = strlen(BS_SOURCE_DIR);
            if (strncmp(exe, BS_SOURCE_DIR, len) == 0 && (exe[len] == '/' || !exe[len])) {
                snprintf(data_dir, sizeof data_dir, "%s/data/reference", BS_SOURCE_DIR);
                return;
            }
#endif
        }
    }
    snprintf(data_dir, sizeof data_dir, "%s", BS_DATADIR);
}

const char *params_data_dir(void)
{
    pthread_once(&data_dir_once, find_data_dir);
    return data_dir;
}

const char *params_data_file(bs_config *cfg, const char *name)
{
    return cfg_own(cfg, xasprintf("%s/%s", params_data_dir(), name));
}

int param_size(bs_config *cfg, const char *section, const char *key, size_t min, size_t max,
               size_t *out)
{
    const char *v = cfg_get(cfg, section, key);
    if (!v && bs_parse_size(needed_default(section, key), out) < 0)
        bs_panic("[%s] %s: the table's default is not a size", section, key);
    if (v && (bs_parse_size(v, out) < 0 || *out < min || *out > max))
        return cfg_fail(
            cfg, section, key,
            "expected a size in bytes (suffix K, M or G allowed) from %zu to %zu, not '%s'", min,
            max, v);
    return 0;
}

int param_file(bs_config *cfg, const char *section, const char *key, const char **out)
{
    const bs_param *p = params_find(section, key);
    if (!p || (p->type != P_PATH && p->type != P_DATA))
        bs_panic("[%s] %s: not a path in the table of settings", section, key);
    const char *v = cfg_get(cfg, section, key);
    if (v)
        *out = cfg_resolve(cfg, v);
    else if (p->type == P_DATA && p->def)
        *out = params_data_file(cfg, p->def);
    else
        *out = p->def;
    return 0;
}

int param_hostport(bs_config *cfg, const char *section, const char *key, const char **host,
                   int *port)
{
    return cfg_hostport(cfg, section, key, param_default(section, key), host, port);
}

const bs_param_section *params_find_section(const char *section)
{
    for (size_t i = 0; i < bs_nparam_sections; i++)
        if (bs_strcaseeq(bs_param_sections[i].name, section))
            return &bs_param_sections[i];
    return NULL;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

size_t params_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = xcalloc(lb + 1, sizeof *row);
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (lower((unsigned char)a[i - 1]) != lower((unsigned char)b[j - 1]));
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    size_t d = row[lb];
    free(row);
    return d;
}

/* Near enough to be the name meant: at most a third of its letters wrong (and 1 at least). */
static int near(const char *typed, const char *known, size_t d)
{
    size_t l = strlen(known) > strlen(typed) ? strlen(known) : strlen(typed);
    return d <= (l / 3 > 1 ? l / 3 : 1);
}

static const char *nearest_section(const char *name)
{
    const char *best = NULL;
    size_t bd = (size_t)-1;
    for (size_t i = 0; i < bs_nparam_sections; i++) {
        size_t d = params_distance(name, bs_param_sections[i].name);
        if (d < bd && near(name, bs_param_sections[i].name, d)) {
            bd = d;
            best = bs_param_sections[i].name;
        }
    }
    return best;
}

/* The suggestion for an unknown key: the nearest key of its section, else the same key
 * in another section. Written into buf. */
static void suggest_key(const char *section, const char *key, char *buf, size_t size)
{
    const bs_param *best = NULL;
    size_t bd = (size_t)-1;
    for (size_t i = 0; i < bs_nparams; i++) {
        if (!bs_strcaseeq(bs_params[i].section, section))
            continue;
        size_t d = params_distance(key, bs_params[i].key);
        if (d < bd && near(key, bs_params[i].key, d)) {
            bd = d;
            best = &bs_params[i];
        }
    }
    if (best) {
        snprintf(buf, size, " (did you mean %s?)", best->key);
        return;
    }
    for (size_t i = 0; i < bs_nparams; i++) {
        if (bs_strcaseeq(bs_params[i].key, key)) {
            snprintf(buf, size, " (%s belongs in [%s])", bs_params[i].key, bs_params[i].section);
            return;
        }
    }
    buf[0] = '\0';
}

typedef struct {
    int line;
    char *text;
} warning;

static int by_line(const void *a, const void *b)
{
    const warning *x = a, *y = b;
    return (x->line > y->line) - (x->line < y->line);
}

size_t params_check(const bs_config *cfg, void (*warn)(void *ctx, const char *text), void *ctx)
{
    size_t nsec = cfg_nsections(cfg), nkeys = cfg_nkeys(cfg), n = 0;
    warning *w = xcalloc(nsec + nkeys + 1, sizeof *w);
    char hint[160];
    for (size_t i = 0; i < nsec; i++) {
        int line;
        const char *name = cfg_section_at(cfg, i, &line);
        if (params_find_section(name))
            continue;
        const char *best = nearest_section(name);
        if (best)
            snprintf(hint, sizeof hint, " (did you mean [%s]?)", best);
        else
            hint[0] = '\0';
        w[n].line = line;
        w[n++].text = xasprintf("%s:%d: [%s]: unknown section%s", cfg_path(cfg), line, name, hint);
    }
    for (size_t i = 0; i < nkeys; i++) {
        const char *section;
        int line;
        const char *key = cfg_key_at(cfg, i, &section, &line);
        const bs_param_section *s = params_find_section(section);
        if (!s || s->any_key || params_find(section, key))
            continue;
        suggest_key(section, key, hint, sizeof hint);
        w[n].line = line;
        w[n++].text =
            xasprintf("%s:%d: [%s] %s: unknown key%s", cfg_path(cfg), line, section, key, hint);
    }
    qsort(w, n, sizeof *w, by_line);
    for (size_t i = 0; i < n; i++) {
        warn(ctx, w[i].text);
        free(w[i].text);
    }
    free(w);
    return n;
}

int params_check_values(bs_config *cfg)
{
    for (size_t i = 0; i < bs_nparams; i++) {
        const bs_param *p = &bs_params[i];
        if (!cfg_get(cfg, p->section, p->key))
            continue;
        const char *const *items;
        const double *numbers;
        const char *host;
        size_t n;
        double d;
        long l;
        int b, port, rc = 0;
        size_t sz;
        switch (p->type) {
        case P_SIZE:
            if (bs_parse_size(cfg_get(cfg, p->section, p->key), &sz) < 0)
                rc = cfg_fail(cfg, p->section, p->key,
                              "expected a size in bytes (suffix K, M or G allowed)");
            break;
        case P_STRING:
        case P_PATH:
        case P_DATA:
            break;
        case P_LIST:
            rc = cfg_list(cfg, p->section, p->key, &items, &n);
            break;
        case P_NUMLIST:
            rc = cfg_double_list(cfg, p->section, p->key, &numbers, &n);
            break;
        case P_NUMBER:
            rc = cfg_double(cfg, p->section, p->key, 0, &d);
            break;
        case P_INTEGER:
            rc = cfg_long(cfg, p->section, p->key, 0, LONG_MIN, LONG_MAX, &l);
            break;
        case P_BOOL:
            rc = cfg_bool(cfg, p->section, p->key, 0, &b);
            break;
        case P_FSYNC:
            rc = param_fsync(cfg, p->section, p->key, &b);
            break;
        case P_HOSTPORT:
            rc = cfg_hostport(cfg, p->section, p->key, NULL, &host, &port);
            break;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}
