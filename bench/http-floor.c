/* http-floor.c — the least a libcurl multi program does per keep-alive GET: the floor under
 * act-http's cost per fetch (issue 21), measured by bench/act-http.sh in the same run as
 * act-http and wrk.
 *
 * usage: http-floor BASE|@FILE N [IN_FLIGHT [USER_AGENT]]
 *      GETs BASE/q/1 .. BASE/q/4, BASE/f/1, BASE/f/2 (or the URLs of FILE, one a line) in
 *      turn, N in all, IN_FLIGHT (64) at once, on pooled easy handles with act-http's options
 *      and request headers, driven as act-http drives them (epoll, curl_multi_socket_action,
 *      socket and timer callbacks; a connection's socket leaves the epoll set when libcurl
 *      says CURL_POLL_REMOVE, as act-http did before issue 21's session 6). The request
 *      headers: User-Agent (USER_AGENT, default "Mozilla/5.0 (bench)"), then act-http's
 *      Accept and Accept-Language of an image.
 *      No records, no queues, no probes, no output but one line: "N fetches, M with 200".
 *      Exit 0 when every fetch had status 200, 1 otherwise, 64 on usage.
 * Built by the bench script (cc ... -lcurl); not installed.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

static const char *const paths[] = {"/q/1", "/q/2", "/q/3", "/q/4", "/f/1", "/f/2"};
enum { NPATHS = sizeof paths / sizeof paths[0] };

static CURLM *multi;
static int epfd;
static long deadline_ms = -1; /* monotonic ms of curl's timer, -1 when none */

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)userp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL);
        curl_multi_assign(multi, s, NULL);
        return 0;
    }
    struct epoll_event ev = {.data.fd = s};
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    if (epoll_ctl(epfd, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev) < 0) {
        perror("epoll_ctl");
        exit(71);
    }
    if (!socketp)
        curl_multi_assign(multi, s, &epfd);
    return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    (void)userp;
    deadline_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *userp)
{
    (void)p;
    (void)userp;
    return size * n;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: http-floor BASE|@FILE N [IN_FLIGHT [USER_AGENT]]\n");
        return 64;
    }
    const char *base = argv[1];
    long total = strtol(argv[2], NULL, 10), inflight = argc > 3 ? strtol(argv[3], NULL, 10) : 64;
    if (total <= 0 || inflight <= 0) {
        fprintf(stderr, "http-floor: N and IN_FLIGHT must be positive\n");
        return 64;
    }
    if (inflight > total)
        inflight = total;
    char **urls = NULL;
    size_t nurls = 0;
    if (base[0] == '@') {
        FILE *fp = fopen(base + 1, "r");
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        if (!fp) {
            perror(base + 1);
            return 66;
        }
        while ((n = getline(&line, &cap, fp)) > 0) {
            line[strcspn(line, "\r\n")] = 0;
            if (!*line)
                continue;
            urls = realloc(urls, (nurls + 1) * sizeof *urls);
            urls[nurls++] = strdup(line);
        }
        free(line);
        fclose(fp);
        if (nurls == 0) {
            fprintf(stderr, "http-floor: no URL in %s\n", base + 1);
            return 65;
        }
    } else {
        urls = calloc(NPATHS, sizeof *urls);
        for (nurls = 0; nurls < NPATHS; nurls++) {
            size_t n = strlen(base) + strlen(paths[nurls]) + 1;
            urls[nurls] = malloc(n);
            snprintf(urls[nurls], n, "%s%s", base, paths[nurls]);
        }
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    multi = curl_multi_init();
    epfd = epoll_create1(EPOLL_CLOEXEC);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, inflight * 2);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    /* act-http's image request: the user agent first, then the set's headers */
    char ua[1024];
    snprintf(ua, sizeof ua, "User-Agent: %s", argc > 4 ? argv[4] : "Mozilla/5.0 (bench)");
    struct curl_slist *hdrs = curl_slist_append(NULL, ua);
    hdrs = curl_slist_append(hdrs, "Accept: image/avif,image/webp,image/apng,image/svg+xml,"
                                   "image/*,*/*;q=0.8");
    hdrs = curl_slist_append(hdrs, "Accept-Language: en-US,en;q=0.9");
    long started = 0, done = 0, ok = 0;
    for (long i = 0; i < inflight; i++) {
        CURL *c = curl_easy_init();
        /* the options act-http's init_easy sets once per pooled handle */
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_PROXY, "");
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)1048576);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 4L);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_URL, urls[(size_t)started++ % nurls]);
        curl_multi_add_handle(multi, c);
    }
    int running;
    while (done < total) {
        int wait = 1000;
        if (deadline_ms >= 0) {
            long left = deadline_ms - now_ms();
            wait = left <= 0 ? 0 : (int)left;
        }
        struct epoll_event evs[128];
        int n = epoll_wait(epfd, evs, 128, wait);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            return 71;
        }
        for (int i = 0; i < n; i++) {
            int flags = ((evs[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                        ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                        ((evs[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(multi, evs[i].data.fd, flags, &running);
        }
        if (deadline_ms >= 0 && now_ms() >= deadline_ms) {
            deadline_ms = -1;
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE)
                continue;
            CURL *c = m->easy_handle;
            long code = 0;
            if (m->data.result == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
            ok += code == 200;
            done++;
            curl_multi_remove_handle(multi, c);
            if (started < total) {
                curl_easy_setopt(c, CURLOPT_URL, urls[(size_t)started++ % nurls]);
                curl_multi_add_handle(multi, c);
            } else {
                curl_easy_cleanup(c);
            }
        }
    }
    printf("%ld fetches, %ld with 200\n", done, ok);
    curl_multi_cleanup(multi);
    curl_slist_free_all(hdrs);
    for (size_t i = 0; i < nurls; i++)
        free(urls[i]);
    free(urls);
    curl_global_cleanup();
    return ok == total ? 0 : 1;
}
