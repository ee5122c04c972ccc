/* urls.h — URL helpers of act-http: base URL, allowlist, List-Unsubscribe, probe cache. */
#ifndef ACT_HTTP_URLS_H
#define ACT_HTTP_URLS_H

#include <stddef.h>

/* For an http(s) URL: 0, with *base = "<scheme>://<host>[:<port>]" (scheme and host in
 * lower case, the port only when the URL names one) and *host = the host name or
 * address (IPv6 without brackets), both for the caller to free. -1 for anything else
 * (another scheme, no host, unparsable). */
int url_base(const char *url, char **base, char **host);
/* The part of url_base that needs no URL parser: 0 with the same result, or 1 when the
 * URL is not of the simple shape (then url_base asks libcurl). */
int url_base_fast(const char *url, char **base, char **host);
/* The same through libcurl's URL parser only. */
int url_base_curl(const char *url, char **base, char **host);

/* True when host (or "host:port" taken from base) is in the allowlist: the whole host
 * name (bs_domain_under: case-insensitive, root dot ignored, subdomains NOT included),
 * "host:port", or the bracketed IPv6 form. */
int url_allowlisted(const char *host, const char *base, const char *const *allow, size_t n);

/* The URI for an RFC 8058 one-click unsubscribe from a List-Unsubscribe value
 * ("<mailto:x@y>, <https://h/u>"): the first https URI, or with allow_http the first
 * http(s) one. NULL when there is none (caller frees the result). */
char *unsub_uri(const char *list_unsubscribe, int allow_http);
/* True when a List-Unsubscribe-Post value asks for one-click ("List-Unsubscribe=One-Click"). */
int unsub_one_click(const char *list_unsubscribe_post);

/* Cache of tracking-probe results per base URL, with expiry. */
typedef enum { PROBE_UNKNOWN, PROBE_PENDING, PROBE_YES, PROBE_NO } probe_state;
typedef struct probe_entry {
    char *base;
    probe_state state;
    double expires; /* for YES and NO */
    char *why;      /* for NO: why it is not a tracking endpoint, or NULL */
    void **waiters; /* owner's objects waiting for a PENDING probe */
    size_t nwaiters, capwaiters;
    struct probe_entry *next;
} probe_entry;
typedef struct probe_cache probe_cache;

probe_cache *probe_cache_new(void);
void probe_cache_free(probe_cache *c);
/* The entry for base, created (state PROBE_UNKNOWN) when absent; an expired YES/NO entry
 * is returned as PROBE_UNKNOWN. Borrowed. */
probe_entry *probe_cache_get(probe_cache *c, const char *base, double now);
void probe_entry_wait(probe_entry *e, void *waiter);
/* Sets the outcome; the waiters list is left for the caller to walk, then cleared with
 * probe_entry_clear_waiters. */
void probe_entry_set(probe_entry *e, probe_state state, double expires, const char *why);
void probe_entry_clear_waiters(probe_entry *e);
/* Drops expired entries that nobody waits on; returns how many are left. */
size_t probe_cache_prune(probe_cache *c, double now);

#endif
