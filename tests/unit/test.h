/* test.h - the few macros stbfarm's C unit tests need. A test file is one executable: its
 * TEST functions run in order from main, a failed CHECK reports file:line and fails the run. */
#ifndef SF_TEST_H
#define SF_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, a_ ? a_ : "(null)",   \
                    b_ ? b_ : "(null)");                                                           \
            test_failures++;                                                                       \
        }                                                                                          \
    } while (0)

#define RUN(test)                                                                                  \
    do {                                                                                           \
        int before_ = test_failures;                                                               \
        test();                                                                                    \
        fprintf(stderr, "%s %s\n", test_failures == before_ ? "ok  " : "FAIL", #test);             \
    } while (0)

#define TEST_EXIT() (test_failures ? 1 : 0)

#endif
