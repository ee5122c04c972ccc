/* tap.h — minimal TAP output for C unit tests. Every check prints `ok N - desc` or
 * `not ok N - desc`; done_testing() prints the plan and returns the exit status. */
#ifndef BS_TAP_H
#define BS_TAP_H
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int tap_ok(int cond, const char *desc, const char *file, int line)
{
    tap_n++;
    printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, desc);
    if (!cond) {
        tap_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return cond;
}
#define ok(cond, desc) tap_ok(!!(cond), (desc), __FILE__, __LINE__)
#define is_int(got, want, desc)                                                                    \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (!ok(g_ == w_, desc))                                                                   \
            printf("#   got %lld, expected %lld\n", g_, w_);                                       \
    } while (0)
#define is_str(got, want, desc)                                                                    \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (!ok(g_ && w_ ? strcmp(g_, w_) == 0 : g_ == w_, desc))                                  \
            printf("#   got '%s', expected '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)");       \
    } while (0)
static inline int done_testing(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
#endif
