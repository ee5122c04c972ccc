/* Unit tests for ingest's [Ingest] settings: with nothing set, ingest and the message
 * reader's own defaults are those of the table of settings (src/global/params.c); a set
 * size takes K, M and G. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "params.h"
#include "tap.h"
#include "util.h"

static size_t table_size(const char *key)
{
    size_t v = 0;
    bs_parse_size(param_default("Ingest", key), &v);
    return v;
}

static bs_config *config_of(const char *text)
{
    char path[] = "/tmp/bs-ingest-config-XXXXXX";
    int fd = mkstemp(path);
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        return NULL;
    close(fd);
    char *err = NULL;
    bs_config *cfg = cfg_load(path, &err);
    unlink(path);
    free(err);
    return cfg;
}

int main(void)
{
    bs_config *cfg = cfg_empty();
    ingest_opts o;
    memset(&o, 0, sizeof o);
    ok(ingest_read_config(cfg, &o) == 0, "an empty configuration reads");
    is_int(o.max_size, 50 << 20, "Max_Message_Size: the table's 50M");
    is_int(o.max_size, table_size("Max_Message_Size"), "Max_Message_Size is the table's");
    is_int(o.limits.max_header, table_size("Max_Header_Size"), "Max_Header_Size");
    is_int(o.limits.max_decoded, table_size("Max_Decoded_Size"), "Max_Decoded_Size");
    is_int(o.limits.max_parts, table_size("Max_MIME_Parts"), "Max_MIME_Parts");
    is_int(o.limits.max_depth, table_size("Max_MIME_Depth"), "Max_MIME_Depth");
    is_int(o.limits.max_fields, table_size("Max_Header_Fields"), "Max_Header_Fields");
    is_int(o.max_time, table_size("Max_Message_Time"), "Max_Message_Time");
    is_int(o.quarantine_after, table_size("Quarantine_After"), "Quarantine_After");
    msg_limits d;
    msg_limits_default(&d);
    ok(memcmp(&d, &o.limits, sizeof d) == 0, "msg_limits_default is what ingest reads by default");
    cfg_free(cfg);

    cfg = config_of("[Ingest]\nMax_Message_Size = 2K\nMax_Header_Size = 3m\n"
                    "Max_Decoded_Size = 1G\n");
    memset(&o, 0, sizeof o);
    ok(cfg && ingest_read_config(cfg, &o) == 0, "sizes with suffixes read");
    ok(o.max_size == 2048 && o.limits.max_header == 3u << 20 && o.limits.max_decoded == 1u << 30,
       "K, M and G are binary multiples");
    cfg_free(cfg);
    cfg = config_of("[Ingest]\nMax_Header_Size = 1000\n");
    ok(cfg && ingest_read_config(cfg, &o) < 0 &&
           strstr(cfg_error(cfg), ":2: [Ingest] Max_Header_Size: expected a size in bytes") != NULL,
       "below the minimum: FILE:LINE and why");
    cfg_free(cfg);

    size_t v;
    ok(bs_parse_size(" 12k ", &v) == 0 && v == 12288, "bs_parse_size: blanks, lower-case k");
    ok(bs_parse_size("7", &v) == 0 && v == 7, "bs_parse_size: no suffix");
    ok(bs_parse_size("-1", &v) < 0 && bs_parse_size("1T", &v) < 0 && bs_parse_size("", &v) < 0 &&
           bs_parse_size("M", &v) < 0 && bs_parse_size("99999999999999999G", &v) < 0,
       "bs_parse_size: negative, unknown suffix, empty, overflow");
    return done_testing();
}
