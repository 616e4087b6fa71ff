#include "test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>

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

bool test_have_tool(const char *name)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* Run cmd; true if it exits 0 and its output contains none of bad[] and
 * every one of want[]. Says what was wrong when not. */
bool test_tool_accepts(const char *cmd, const char *const *bad, const char *const *want)
{
    FILE *out = popen(cmd, "r");
    if (!out) return false;
    size_t cap = 1 << 20, len = 0, got;
    char *text = malloc(cap);
    if (!text) {
        pclose(out);
        return false;
    }
    while (len + 1 < cap && (got = fread(text + len, 1, cap - 1 - len, out)) > 0) len += got;
    text[len] = '\0';
    int status = pclose(out);
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok) fprintf(stderr, "  `%s` failed (status %d):\n%.4000s\n", cmd, status, text);
    for (; bad && *bad; bad++) {
        const char *at = strstr(text, *bad);
        if (at) fprintf(stderr, "  `%s` said \"%s\": ...%.200s\n", cmd, *bad, at);
        ok &= at == NULL;
    }
    for (; want && *want; want++) {
        if (!strstr(text, *want)) fprintf(stderr, "  `%s` did not say \"%s\"\n", cmd, *want);
        ok &= strstr(text, *want) != NULL;
    }
    free(text);
    return ok;
}
