/* finack stats: the non-zero counters and drop reasons of every finack
 * process on this machine, read through their control sockets, one
 * nstat-like block per process. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "finack/control.h"
#include "tool.h"

const char cmd_stats_usage[] =
    "usage: finack stats [--process PID]\n"
    "\n"
    "The non-zero counters and drop reasons of every running finack process on\n"
    "this machine (those that serve a control socket, as finack ss reads them),\n"
    "like nstat: one block per process,\n"
    "\n"
    "  #finack PID NAME\n"
    "  TcpInSegs                       42          TCP segments received\n"
    "  #finack drops\n"
    "  TCP_NO_SOCKET                   1           no TCP connection or listener ...\n"
    "\n"
    "  --process PID    only the finack process PID\n";

/* "counter NAME VALUE TEXT..." or "drop NAME VALUE TEXT...": the three
 * columns, printed as tool_print_counters() lays them out. */
static void print_line(char *line, bool *drops_header)
{
    bool drop = strncmp(line, "drop ", 5) == 0;
    if (!drop && strncmp(line, "counter ", 8) != 0) return;
    char *name = line + (drop ? 5 : 8);
    char *value = strchr(name, ' ');
    if (!value) return;
    *value++ = '\0';
    char *text = strchr(value, ' ');
    if (text) *text++ = '\0';
    if (drop && !*drops_header) {
        puts("#finack drops");
        *drops_header = true;
    }
    printf("%-32s%-12s%s\n", name, value, text ? text : "");
}

static int on_answer(void *ctx, long pid, const char *answer, int err)
{
    (void)ctx;
    if (err) {
        tool_error("process %ld did not answer: %s", pid, tool_strerror(err));
        return 0;
    }
    char *copy = strdup(answer);
    if (!copy) return -ENOMEM;
    char *line = copy;
    char *next = strchr(line, '\n');
    if (next) *next++ = '\0';
    /* "finack-control 1 PID NAME" */
    const char *name = "?";
    char *p = strncmp(line, "finack-control ", 15) == 0 ? strchr(line + 15, ' ') : NULL;
    p = p ? strchr(p + 1, ' ') : NULL;
    if (p && p[1]) name = p + 1;
    printf("#finack %ld %s\n", pid, name);
    bool drops_header = false;
    for (line = next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        if (strncmp(line, "error ", 6) == 0) tool_error("process %ld: %s", pid, line + 6);
        else print_line(line, &drops_header);
    }
    free(copy);
    return 0;
}

enum { OPT_PROCESS = 1 };

int cmd_stats(int argc, char **argv)
{
    static const struct option options[] = {
        {"process", required_argument, NULL, OPT_PROCESS},
        {NULL, 0, NULL, 0},
    };
    long pid = 0;
    int c;
    while ((c = tool_next_option(argc, argv, options)) != -1)
        if (c == OPT_PROCESS) pid = (long)tool_parse_uint("--process", optarg, 1, INT32_MAX);
    int rc = finack_control_query_all("stats", pid, on_answer, NULL);
    if (rc < 0) {
        tool_error("cannot read the control sockets: %s", tool_strerror(rc));
        return TOOL_EXIT_FAILURE;
    }
    if (pid && rc == 0) {
        tool_error("no finack process with pid %ld answers", pid);
        return TOOL_EXIT_FAILURE;
    }
    return TOOL_EXIT_OK;
}
