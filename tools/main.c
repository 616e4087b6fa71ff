/* The finack command: finds the subcommand and runs it. */
#include <stdio.h>
#include <string.h>

#include "tool.h"

struct tool_command {
    const char *name;
    const char *summary;  /* one line for `finack --help` */
    const char *usage;    /* the full text for `finack help NAME` */
    int (*run)(int argc, char **argv);
};

/* One line per subcommand (each lives in tools/cmd_NAME.c). */
static const struct tool_command commands[] = {
    {"up", "run a stack on a TUN device (it answers ping)", cmd_up_usage, cmd_up},
    {"demo", "TCP's key scenarios and a lossy transfer on the simulated link, as ladders",
     cmd_demo_usage, cmd_demo},
    {"script", "run packetdrill scripts against finack on the simulated link",
     cmd_script_usage, cmd_script},
    {"ladder", "draw a pcap or a JSON trace as a ladder diagram (text or SVG)",
     cmd_ladder_usage, cmd_ladder},
    {"sim", "an article's TCP scenario on the simulated link, drawn as a ladder", cmd_sim_usage,
     cmd_sim},
    {"cat", "like nc: stdin and stdout over one TCP connection on a TUN device",
     cmd_cat_usage, cmd_cat},
    {"echo", "a TCP echo server on a TUN device, many clients at once", cmd_echo_usage,
     cmd_echo},
    {"http", "a static-file HTTP/1.1 server on a TUN device", cmd_http_usage, cmd_http},
    {"iperf3", "an iperf3 server (TCP) on a TUN device, for iperf3 -c", cmd_iperf3_usage,
     cmd_iperf3},
    {"ss", "the TCP connections of every finack process, as ss -tan", cmd_ss_usage, cmd_ss},
    {"stats", "the counters and drops of every finack process, as nstat", cmd_stats_usage,
     cmd_stats},
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static void print_usage(FILE *out)
{
    fputs("usage: finack COMMAND [OPTIONS]\n"
          "       finack help COMMAND\n"
          "\n"
          "finack is a user-space TCP/IP stack. Commands:\n",
          out);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nRun 'finack help COMMAND' or 'finack COMMAND --help' for its options.\n", out);
}

static const struct tool_command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "finack: unknown command '%s' (try 'finack --help')\n", name);
    return TOOL_EXIT_USAGE;
}

static bool is_help_flag(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* `finack CMD ... --help`: asks for help anywhere before a "--". */
static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (is_help_flag(argv[i])) return true;
    return false;
}

/* `finack help [CMD]` */
static int help_command(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stdout);
        return TOOL_EXIT_OK;
    }
    const struct tool_command *cmd = find_command(argv[1]);
    if (cmd == NULL) return unknown_command(argv[1]);
    fputs(cmd->usage, stdout);
    return TOOL_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return TOOL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (is_help_flag(name)) {
        print_usage(stdout);
        return TOOL_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) return help_command(argc - 1, argv + 1);
    const struct tool_command *cmd = find_command(name);
    if (cmd == NULL) return unknown_command(name);
    if (wants_help(argc - 1, argv + 1)) {
        fputs(cmd->usage, stdout);
        return TOOL_EXIT_OK;
    }
    tool_set_command(cmd->name);
    return cmd->run(argc - 1, argv + 1);
}
