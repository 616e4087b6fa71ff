/* A small test harness: each test file defines test functions, lists them in
 * TEST_MAIN(...), and links against finack_testlib. A failed CHECK reports
 * file:line and the values, marks the test failed and goes on; REQUIRE
 * returns from the test function. The process exits non-zero if any failed. */
#ifndef FINACK_TEST_H
#define FINACK_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
struct test_case {
    const char *name;
    test_fn fn;
};

void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int test_run_all(const char *suite, const struct test_case *cases, size_t count, int argc,
                 char **argv);
extern int test_current_failed;

/* Whether a command is on PATH (tests of external tools skip without it). */
bool test_have_tool(const char *name);
/* Run cmd through the shell; true if it exits 0, its output contains none
 * of bad[] and all of want[] (NULL-terminated lists, either may be NULL).
 * Says on stderr what was wrong. */
bool test_tool_accepts(const char *cmd, const char *const *bad, const char *const *want);

#define CHECK(cond)                                                    \
    do {                                                               \
        if (!(cond)) test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
    } while (0)

#define CHECK_EQ(a, b)                                                                 \
    do {                                                                               \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                \
        if (check_a_ != check_b_)                                                      \
            test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, check_a_, \
                      check_b_);                                                       \
    } while (0)

#define CHECK_U64(a, b)                                                                  \
    do {                                                                                 \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                     \
        if (check_a_ != check_b_)                                                        \
            test_fail(__FILE__, __LINE__, "%s == %s: %" PRIu64 " != %" PRIu64, #a, #b,   \
                      check_a_, check_b_);                                               \
    } while (0)

#define CHECK_STR(a, b)                                                                  \
    do {                                                                                 \
        const char *check_a_ = (a), *check_b_ = (b);                                     \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0)                  \
            test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,          \
                      check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");   \
    } while (0)

#define CHECK_MEM(a, b, n)                                                          \
    do {                                                                            \
        if (memcmp((a), (b), (n)) != 0)                                             \
            test_fail(__FILE__, __LINE__, "memcmp(%s, %s, %s) != 0", #a, #b, #n);   \
    } while (0)

#define REQUIRE(cond)                                                    \
    do {                                                                 \
        if (!(cond)) {                                                   \
            test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);         \
            return;                                                      \
        }                                                                \
    } while (0)

#define TEST_CASE(fn) {#fn, fn}
#define TEST_MAIN(suite, ...)                                                          \
    int main(int argc, char **argv)                                                    \
    {                                                                                  \
        static const struct test_case cases_[] = {__VA_ARGS__};                        \
        return test_run_all(suite, cases_, sizeof cases_ / sizeof cases_[0], argc, argv); \
    }

#endif
