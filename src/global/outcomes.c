/* outcomes.c — outcome codes as record values (see outcomes.h). */
#include "outcomes.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static const char *const skip_names[] = {
    [BS_SKIP_NONE] = "",
    [BS_SKIP_INPUT_ERROR] = "input_error",
    [BS_SKIP_DKIM_FAIL] = "dkim_fail",
    [BS_SKIP_SPF_FAIL] = "spf_fail",
    [BS_SKIP_NO_ONE_CLICK] = "no_one_click",
    [BS_SKIP_OTHER] = NULL,
};

static const char *const http_names[] = {
    [BS_HTTP_OK] = "",
    [BS_HTTP_POLICY_REFUSED] = "policy_refused",
    [BS_HTTP_CONNECTION_REFUSED] = "connection_refused",
    [BS_HTTP_TIMEOUT] = "timeout",
    [BS_HTTP_TOO_LARGE] = "too_large",
    [BS_HTTP_TOO_MANY_REDIRECTS] = "too_many_redirects",
    [BS_HTTP_TRANSPORT] = "transport",
    [BS_HTTP_NOT_ATTEMPTED] = "not_attempted",
    [BS_HTTP_OTHER] = NULL,
};

static const char *const read_names[BS_READ_NCODES] = {
    [BS_READ_OK] = "",
    [BS_READ_EMPTY] = "empty",
    [BS_READ_TOO_LARGE] = "too_large",
    [BS_READ_HEADER_TOO_LARGE] = "header_too_large",
    [BS_READ_BINARY_HEADER] = "binary_header",
    [BS_READ_NO_HEADER] = "no_header",
    [BS_READ_BROKEN_HEADER] = "broken_header",
    [BS_READ_TRUNCATED] = "truncated",
    [BS_READ_BROKEN_MIME] = "broken_mime",
    [BS_READ_OVER_LIMIT] = "over_limit",
};

const char *bs_read_error_name(bs_read_error code)
{
    return (unsigned)code < BS_READ_NCODES ? read_names[code] : "";
}

static const char *const smtp_names[BS_SMTP_NSTATUS] = {
    [BS_SMTP_SENT] = "sent",
    [BS_SMTP_DRY_RUN] = "dry_run",
    [BS_SMTP_SMTP_ERROR] = "smtp_error",
    [BS_SMTP_NO_MX] = "no_mx",
    [BS_SMTP_MISSING_RETURN_PATH] = "missing_return_path",
    [BS_SMTP_INVALID_RETURN_PATH] = "invalid_return_path",
    [BS_SMTP_MISSING_TO] = "missing_to",
    [BS_SMTP_RETURN_PATH_NOT_SPARKPOST] = "return_path_not_sparkpost",
    [BS_SMTP_AUTO_SUBMITTED] = "auto_submitted",
    [BS_SMTP_SYSTEM_SENDER] = "system_sender",
    [BS_SMTP_NOT_REQUESTED] = "not_requested",
};

#define NAMES(a) (sizeof a / sizeof a[0])

static const char *name_of(const char *const *names, size_t n, unsigned code)
{
    return code < n ? names[code] : NULL;
}

/* Index of name in names[1..n-2]; 0 for NULL, n-1 (the OTHER code) for unknown. */
static unsigned parse(const char *const *names, size_t n, const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 1; i + 1 < n; i++)
        if (strcmp(names[i], name) == 0)
            return (unsigned)i;
    return (unsigned)(n - 1);
}

const char *bs_skip_name(bs_skip code)
{
    return name_of(skip_names, NAMES(skip_names), (unsigned)code);
}

const char *bs_http_error_name(bs_http_error code)
{
    return name_of(http_names, NAMES(http_names), (unsigned)code);
}

const char *bs_smtp_status_name(bs_smtp_status status)
{
    return name_of(smtp_names, NAMES(smtp_names), (unsigned)status);
}

bs_skip bs_skip_parse(const char *name)
{
    return (bs_skip)parse(skip_names, NAMES(skip_names), name);
}

bs_http_error bs_http_error_parse(const char *name)
{
    return (bs_http_error)parse(http_names, NAMES(http_names), name);
}

bs_skip bs_skip_from_text(const char *skip)
{
    if (!skip)
        return BS_SKIP_NONE;
    if (strncmp(skip, "!DKIM", 5) == 0)
        return BS_SKIP_DKIM_FAIL;
    if (strncmp(skip, "!SPF", 4) == 0)
        return BS_SKIP_SPF_FAIL;
    return BS_SKIP_OTHER; /* the old rule told no other gate apart */
}

bs_http_error bs_http_error_from_text(const char *error)
{
    if (!error)
        return BS_HTTP_OK;
    return strcasestr(error, "refused") ? BS_HTTP_CONNECTION_REFUSED : BS_HTTP_OTHER;
}

int bs_http_error_is_refusal(bs_http_error code)
{
    return code == BS_HTTP_POLICY_REFUSED || code == BS_HTTP_CONNECTION_REFUSED;
}
