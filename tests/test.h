/*
 * tests/test.h — the minimal test harness: checks that print file:line and the values, and a
 * report whose exit status is non-zero on any failure. One binary per module; `make check`
 * runs them all (plain and under ASan+UBSan).
 */
#ifndef SOMA_TEST_H
#define SOMA_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int test_checks_, test_failures_;

#define CHECK(expr)                                                                         \
    do {                                                                                    \
        test_checks_++;                                                                     \
        if (!(expr)) {                                                                      \
            test_failures_++;                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);        \
        }                                                                                   \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                               \
    do {                                                                                    \
        double a_ = (double)(a), b_ = (double)(b);                                          \
        test_checks_++;                                                                     \
        if (!(fabs(a_ - b_) <= (tol)) || a_ != a_ || b_ != b_) {                            \
            test_failures_++;                                                               \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, %s = %.9g (tol %g)\n",    \
                    __FILE__, __LINE__, #a, a_, #b, b_, (double)(tol));                     \
        }                                                                                   \
    } while (0)

/* Checks a status and, on failure, that the message contains a fragment. */
#define CHECK_STATUS(rc, want) CHECK((rc) == (want))
#define CHECK_MSG(err, fragment)                                                            \
    do {                                                                                    \
        test_checks_++;                                                                     \
        if (!strstr((err).msg, (fragment))) {                                               \
            test_failures_++;                                                               \
            fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,     \
                    (err).msg, (fragment));                                                 \
        }                                                                                   \
    } while (0)

#define TEST(name) static void name(void)
#define RUN(name)                                                                           \
    do {                                                                                    \
        int f0_ = test_failures_;                                                           \
        name();                                                                             \
        printf("%s %s\n", test_failures_ == f0_ ? "ok  " : "FAIL", #name);                 \
    } while (0)

/* Prints "<file>: N passed, N failed" and returns the process exit status. */
static inline int test_report(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, test_checks_ - test_failures_, test_failures_);
    return test_failures_ ? 1 : 0;
}

#endif
