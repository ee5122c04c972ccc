/* facts.c — computing the costly facts of a transaction off the event loop (facts.h). */
#include "facts.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

struct facts_ctx {
    auth_ctx *auth;
};

static const char *const fcrdns_names[] = {
    [FCRDNS_NONE] = "none",       [FCRDNS_PASS] = "pass",           [FCRDNS_FAIL] = "fail",
    [FCRDNS_NOPTR] = "permerror", [FCRDNS_TEMPERROR] = "temperror",
};

const char *facts_fcrdns_name(facts_fcrdns r)
{
    return (unsigned)r < sizeof fcrdns_names / sizeof fcrdns_names[0] ? fcrdns_names[r] : "?";
}

facts_ctx *facts_ctx_new(bs_config *cfg, char **err)
{
    facts_ctx *fc = xcalloc(1, sizeof *fc);
    fc->auth = auth_new(cfg, err);
    if (!fc->auth) {
        free(fc);
        return NULL;
    }
    return fc;
}

void facts_ctx_free(facts_ctx *fc)
{
    if (!fc)
        return;
    auth_free(fc->auth);
    free(fc);
}

void facts_run(facts_ctx *fc, facts_job *job)
{
    (void)fc;
    listen_facts *o = &job->out;
    o->auth = (auth_results){.dkim = {.chosen = -1, .cover = {.l = -1}},
                             .spf = {.result = AUTH_OFF},
                             .dmarc = {.result = AUTH_OFF}};
    if (job->want & FACT_RDNS)
        o->fcrdns = FCRDNS_TEMPERROR;
    o->known = job->want;
}

void facts_clear(listen_facts *f)
{
    free(f->ptr);
    f->ptr = NULL;
    f->fcrdns = FCRDNS_NONE;
    auth_results_clear(&f->auth);
    f->known = 0;
}

void facts_job_free(facts_job *job)
{
    if (!job)
        return;
    free(job->client_ip);
    free(job->helo);
    free(job->mail_from);
    free(job->msg);
    facts_clear(&job->out);
    free(job);
}

int facts_dkim_pass_domain(const listen_facts *f, const char *domain)
{
    for (size_t i = 0; i < f->auth.dkim.nsigs; i++)
        if (f->auth.dkim.sigs[i].result == AUTH_PASS && f->auth.dkim.sigs[i].domain &&
            strcasecmp(f->auth.dkim.sigs[i].domain, domain) == 0)
            return 1;
    return 0;
}
