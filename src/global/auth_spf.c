/* auth_spf.c — SPF (RFC 7208) with libspf2. See auth_spf.h.
 *
 * libspf2 reports its outcome in two places: the response's result, and, when the
 * evaluation stopped before a result was set (the top-level record lookup failed),
 * only an error code with result SPF_RESULT_INVALID. to_result() folds both into the
 * seven RFC 7208 results:
 *   - a DNS failure (SERVFAIL, time-out: libspf2's TRY_AGAIN, and other rcodes) is
 *     SPF_E_DNS_ERROR: temperror;
 *   - no record, NXDOMAIN, no TXT: SPF_E_NOT_SPF: none — but libspf2 also returns
 *     SPF_E_NOT_SPF when the record exists and does not compile, after logging the
 *     syntax error in the response: then permerror;
 *   - several v=spf1 records: SPF_E_MULTIPLE_RECORDS: permerror.
 * Errors met while interpreting (include/redirect/a/mx lookups, too many lookups)
 * already come back as SPF_RESULT_TEMPERROR / SPF_RESULT_PERMERROR.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>

#include "auth_spf.h"
#include "util.h"

struct spf_checker {
    SPF_server_t *server;
};

static const struct {
    SPF_result_t spf;
    auth_result result;
} results[] = {
    {SPF_RESULT_PASS, AUTH_PASS},           {SPF_RESULT_FAIL, AUTH_FAIL},
    {SPF_RESULT_SOFTFAIL, AUTH_SOFTFAIL},   {SPF_RESULT_NEUTRAL, AUTH_NEUTRAL},
    {SPF_RESULT_NONE, AUTH_NONE},           {SPF_RESULT_TEMPERROR, AUTH_TEMPERROR},
    {SPF_RESULT_PERMERROR, AUTH_PERMERROR},
};

/* libspf2 logs warnings and notes on stderr; our outcome is in the record. */
static void quiet(const char *file, int line, const char *msg)
{
    (void)file;
    (void)line;
    (void)msg;
}

spf_checker *spfc_new(char **err)
{
    *err = NULL;
    SPF_warning_handler = quiet;
    SPF_info_handler = quiet;
    SPF_debug_handler = quiet;
    spf_checker *c = xcalloc(1, sizeof *c);
    c->server = SPF_server_new(SPF_DNS_CACHE, 0);
    if (!c->server) {
        *err = xstrdup("SPF_server_new failed");
        free(c);
        return NULL;
    }
    return c;
}

void spfc_free(spf_checker *c)
{
    if (!c)
        return;
    if (c->server)
        SPF_server_free(c->server);
    free(c);
}

static void set_result(auth_spf *out, auth_result result, const char *domain, const char *reason)
{
    out->result = result;
    out->domain = xstrdup(domain ? domain : "");
    out->reason = xstrdup(reason ? reason : "");
}

/* True when the response holds an error other than "not SPF" (a syntax error
 * found while compiling the record). Sets *why to its message. */
static int has_compile_error(SPF_response_t *resp, const char **why)
{
    int n = SPF_response_messages(resp);
    for (int i = 0; i < n; i++) {
        SPF_error_t *e = SPF_response_message(resp, i);
        if (SPF_error_errorp(e) && SPF_error_code(e) != SPF_E_NOT_SPF &&
            SPF_error_code(e) != SPF_E_SUCCESS) {
            *why = SPF_error_message(e);
            return 1;
        }
    }
    return 0;
}

static const char *first_error(SPF_response_t *resp)
{
    int n = SPF_response_messages(resp);
    for (int i = 0; i < n; i++) {
        SPF_error_t *e = SPF_response_message(resp, i);
        if (SPF_error_errorp(e))
            return SPF_error_message(e);
    }
    return NULL;
}

static auth_result to_result(SPF_response_t *resp, SPF_errcode_t err, const char **why)
{
    SPF_result_t r = SPF_response_result(resp);
    for (size_t i = 0; i < sizeof results / sizeof results[0]; i++)
        if (results[i].spf == r) {
            if (r == SPF_RESULT_NONE || r == SPF_RESULT_TEMPERROR || r == SPF_RESULT_PERMERROR) {
                const char *e = first_error(resp);
                *why = e ? e : SPF_strerror(SPF_response_errcode(resp));
            }
            return results[i].result;
        }
    /* SPF_RESULT_INVALID: stopped at the top-level record lookup. */
    if (err == SPF_E_SUCCESS)
        err = SPF_response_errcode(resp);
    const char *e = first_error(resp);
    *why = e ? e : SPF_strerror(err);
    switch (err) {
    case SPF_E_DNS_ERROR:
    case SPF_E_NO_MEMORY:
        return AUTH_TEMPERROR;
    case SPF_E_NOT_SPF:
        return has_compile_error(resp, why) ? AUTH_PERMERROR : AUTH_NONE;
    default:
        return AUTH_PERMERROR;
    }
}

/* The reason text of a definite result: libspf2's header comment without the
 * leading "<receiving host>: ". */
static const char *comment_reason(SPF_response_t *resp)
{
    const char *c = SPF_response_get_header_comment(resp);
    if (!c)
        return "";
    const char *colon = strstr(c, ": ");
    return colon ? colon + 2 : c;
}

void spfc_check(spf_checker *c, const char *client_ip, const char *helo, const char *mail_from,
                auth_spf *out)
{
    if (!client_ip || !*client_ip) {
        set_result(out, AUTH_NONE, "", "client IP unknown");
        return;
    }
    if (!mail_from) {
        set_result(out, AUTH_NONE, "", "envelope sender unknown");
        return;
    }

    /* "<a@b>" as written in a Return-Path: strip the brackets. */
    char *from = NULL;
    size_t flen = strlen(mail_from);
    if (flen >= 2 && mail_from[0] == '<' && mail_from[flen - 1] == '>')
        from = xstrndup(mail_from + 1, flen - 2);
    else
        from = xstrdup(mail_from);
    if (!*from) {
        /* RFC 7208 2.4: the null sender is checked as postmaster@<HELO>. */
        free(from);
        if (!helo || !*helo) {
            set_result(out, AUTH_NONE, "", "null sender and no HELO name");
            return;
        }
        from = xasprintf("postmaster@%s", helo);
    }
    const char *at = strrchr(from, '@');
    const char *domain = at ? at + 1 : from;
    if (!*domain) {
        set_result(out, AUTH_NONE, "", "envelope sender has no domain");
        free(from);
        return;
    }

    SPF_request_t *req = SPF_request_new(c->server);
    SPF_errcode_t err;
    if (strchr(client_ip, ':'))
        err = SPF_request_set_ipv6_str(req, client_ip);
    else
        err = SPF_request_set_ipv4_str(req, client_ip);
    if (err != SPF_E_SUCCESS) {
        SPF_request_free(req);
        set_result(out, AUTH_NONE, domain, "client IP not an IP address");
        free(from);
        return;
    }
    if (helo && *helo)
        SPF_request_set_helo_dom(req, helo);
    SPF_request_set_env_from(req, from);

    SPF_response_t *resp = NULL;
    err = SPF_request_query_mailfrom(req, &resp);
    if (!resp) {
        set_result(out, AUTH_TEMPERROR, domain, SPF_strerror(err));
    } else {
        const char *why = NULL;
        auth_result result = to_result(resp, err, &why);
        if (result == AUTH_PASS)
            why = "";
        else if (!why)
            why = comment_reason(resp);
        set_result(out, result, domain, why); /* copies why before resp goes */
        SPF_response_free(resp);
    }
    SPF_request_free(req);
    free(from);
}
