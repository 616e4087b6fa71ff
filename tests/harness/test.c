#include "test.h"

#include <stdarg.h>
#include <stdlib.h>

int test_current_failed;
static const char *current_name;

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "  FAIL %s (%s:%d): ", current_name, file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    test_current_failed = 1;
}

/* With arguments, runs only the tests whose names contain one of them. */
int test_run_all(const char *suite, const struct test_case *cases, size_t count, int argc,
                 char **argv)
{
    size_t passed = 0, failed = 0;
    for (size_t i = 0; i < count; i++) {
        bool selected = argc < 2;
        for (int a = 1; a < argc && !selected; a++)
            selected = strstr(cases[i].name, argv[a]) != NULL;
        if (!selected) continue;
        current_name = cases[i].name;
        test_current_failed = 0;
        cases[i].fn();
        if (test_current_failed) {
            failed++;
            printf("FAIL %s.%s\n", suite, cases[i].name);
        } else {
            passed++;
            printf("ok   %s.%s\n", suite, cases[i].name);
        }
    }
    printf("%s: %zu passed, %zu failed\n", suite, passed, failed);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
