/* --trace FILE: the stack's trace events as JSON lines (docs/TRACE.md),
 * for `finack ladder FILE` and any other reader. */
#include <errno.h>
#include <stdlib.h>

#include "finack/trace.h"
#include "tool.h"

struct tool_trace {
    FILE *file;
    int error;  /* the first write error, as a negative errno */
};

int tool_trace_open(struct tool_trace **out, const char *path)
{
    struct tool_trace *t = calloc(1, sizeof *t);
    if (!t) return -ENOMEM;
    t->file = fopen(path, "w");
    if (!t->file) {
        int err = -errno;
        free(t);
        return err;
    }
    *out = t;
    return 0;
}

/* Runs inside the stack (the loop thread, lock held): format and buffer. */
void tool_trace_event(void *ctx, const struct finack_trace_event *event)
{
    struct tool_trace *t = ctx;
    char line[1024];
    int n = finack_trace_format_json(event, line, sizeof line);
    if (n < 0 || (size_t)n >= sizeof line) return; /* longer than any event we emit */
    if (fwrite(line, 1, (size_t)n, t->file) != (size_t)n && t->error == 0) t->error = -EIO;
}

int tool_trace_close(struct tool_trace *t)
{
    if (!t) return 0;
    int err = t->error;
    if (fclose(t->file) != 0 && err == 0) err = -errno;
    free(t);
    return err;
}
