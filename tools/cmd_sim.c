/* finack sim: one of the article's figures, played by two finack stacks on
 * the simulated link and drawn as a ladder (tools/sim/ plays, the ladder
 * library draws). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/scenario.h"
#include "tool.h"

const char cmd_sim_usage[] =
    "usage: finack sim SCENARIO [--seed N] [--format ascii|svg|json] [--ascii] [--out FILE]\n"
    "       finack sim custom [--loss P] [--delay MS] [--bytes N] [--rcvbuf N] [--sndbuf N]\n"
    "                         [--rate BPS] [--seed N] [--format ...] [--ascii] [--out FILE]\n"
    "       finack sim --list\n"
    "\n"
    "Plays a scenario of the TCP state machine between two finack stacks on the\n"
    "simulated link (virtual clock; the same seed gives the same run) and draws it:\n"
    "each segment with flags, seq/ack (relative to the ISNs), window and length,\n"
    "each end's states, the applications' calls and what they returned.\n"
    "\n"
    "  --list          the scenarios, one line each\n"
    "  --seed N        seed of the stacks' secrets (ISNs, ports) and the link (default 1)\n"
    "  --format F      ascii: a text ladder (default); svg: a standalone SVG;\n"
    "                  json: the trace as JSON lines (docs/TRACE.md), notes included\n"
    "  --ascii         the text ladder in plain ASCII instead of box drawing\n"
    "  --out FILE      write there instead of standard output\n"
    "\n"
    "custom only: a transfer of --bytes N (default 12000) from client to server on\n"
    "a link of --delay MS each way (default 10), --loss P each way (0..1, default 0),\n"
    "--rate BPS bits per second (default unlimited), with --rcvbuf/--sndbuf bytes\n"
    "on both ends (default the stack's: 131072 and 16384).\n";

struct sim_cli {
    const char *scenario;
    bool list, ascii, custom_option;
    enum sim_format format;
    const char *out;
    struct sim_params params;
};

static void print_list(void)
{
    size_t n;
    const struct sim_scenario *all = sim_scenarios(&n);
    for (size_t i = 0; i < n; i++) printf("  %-20s %s\n", all[i].name, all[i].summary);
}

static bool takes_value(const char *arg, const struct option *options)
{
    if (strncmp(arg, "--", 2) != 0 || strchr(arg, '=')) return false;
    for (const struct option *o = options; o->name; o++)
        if (strcmp(arg + 2, o->name) == 0) return o->has_arg == required_argument;
    return false;
}

static double parse_probability(const char *option, const char *text)
{
    char *end;
    double p = strtod(text, &end);
    if (*end || end == text || !(p >= 0 && p <= 1))
        tool_usage_error("%s: '%s' is not a probability in 0..1", option, text);
    return p;
}

static void parse(int argc, char **argv, struct sim_cli *cli)
{
    static const struct option options[] = {
        {"list", no_argument, NULL, 'L'},         {"seed", required_argument, NULL, 's'},
        {"format", required_argument, NULL, 'f'}, {"ascii", no_argument, NULL, 'a'},
        {"out", required_argument, NULL, 'o'},    {"loss", required_argument, NULL, 'l'},
        {"delay", required_argument, NULL, 'd'},  {"bytes", required_argument, NULL, 'b'},
        {"rcvbuf", required_argument, NULL, 'r'}, {"sndbuf", required_argument, NULL, 'S'},
        {"rate", required_argument, NULL, 'R'},   {NULL, 0, NULL, 0}};
    memset(cli, 0, sizeof *cli);
    sim_params_init(&cli->params);
    cli->params.delay = FINACK_MSEC(10);
    /* The scenario may come anywhere among the options: take it out. */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest) tool_usage_error("out of memory");
    int n = 0;
    rest[n++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-' && !cli->scenario) {
            cli->scenario = argv[i];
            continue;
        }
        rest[n++] = argv[i];
        if (takes_value(argv[i], options) && i + 1 < argc) rest[n++] = argv[++i];
    }
    int c;
    while ((c = tool_next_option(n, rest, options)) != -1) {
        switch (c) {
        case 'L': cli->list = true; break;
        case 's': cli->params.seed = tool_parse_uint("--seed", optarg, 0, UINT64_MAX); break;
        case 'a': cli->ascii = true; break;
        case 'o': cli->out = optarg; break;
        case 'f':
            if (strcmp(optarg, "ascii") == 0 || strcmp(optarg, "text") == 0)
                cli->format = SIM_FORMAT_TEXT;
            else if (strcmp(optarg, "svg") == 0)
                cli->format = SIM_FORMAT_SVG;
            else if (strcmp(optarg, "json") == 0)
                cli->format = SIM_FORMAT_JSON;
            else
                tool_usage_error("--format: '%s' is not ascii, svg or json", optarg);
            break;
        case 'l':
            cli->params.loss = parse_probability("--loss", optarg);
            cli->custom_option = true;
            break;
        case 'd':
            cli->params.delay = FINACK_MSEC(tool_parse_uint("--delay", optarg, 0, 10000));
            cli->custom_option = true;
            break;
        case 'b':
            cli->params.bytes = tool_parse_uint("--bytes", optarg, 1, 100u << 20);
            cli->custom_option = true;
            break;
        case 'r':
            cli->params.rcvbuf = (uint32_t)tool_parse_uint("--rcvbuf", optarg, 2304, 64u << 20);
            cli->custom_option = true;
            break;
        case 'S':
            cli->params.sndbuf = (uint32_t)tool_parse_uint("--sndbuf", optarg, 4608, 64u << 20);
            cli->custom_option = true;
            break;
        case 'R':
            cli->params.rate_bps = tool_parse_uint("--rate", optarg, 0, 100000000000ull);
            cli->custom_option = true;
            break;
        }
    }
    free(rest);
}

int cmd_sim(int argc, char **argv)
{
    struct sim_cli cli;
    parse(argc, argv, &cli);
    if (cli.list) {
        if (cli.scenario) tool_usage_error("--list takes no scenario");
        print_list();
        return TOOL_EXIT_OK;
    }
    if (!cli.scenario) tool_usage_error("which scenario? (try 'finack sim --list')");
    const struct sim_scenario *sc = sim_scenario_find(cli.scenario);
    if (!sc) tool_usage_error("unknown scenario '%s' (try 'finack sim --list')", cli.scenario);
    if (cli.custom_option && strcmp(sc->name, "custom") != 0)
        tool_usage_error("--loss, --delay, --bytes, --rcvbuf, --sndbuf and --rate are for "
                         "'custom' only");
    if (cli.ascii && cli.format != SIM_FORMAT_TEXT)
        tool_usage_error("--ascii is for the text ladder (--format ascii)");

    FILE *out = stdout;
    if (cli.out && !(out = fopen(cli.out, "w"))) {
        tool_error("cannot write %s: %s", cli.out, strerror(errno));
        return TOOL_EXIT_FAILURE;
    }
    struct sim_result r;
    int run_err = sim_run(sc, &cli.params, &r);
    int err = sim_draw(&r, cli.format, cli.ascii, out);
    if (out != stdout && fclose(out) && !err) err = -EIO;
    sim_result_free(&r);
    if (err) {
        tool_error("cannot draw the run: %s", tool_strerror(err));
        return TOOL_EXIT_FAILURE;
    }
    if (run_err) {
        tool_error("the scenario did not play out: %s", tool_strerror(run_err));
        return TOOL_EXIT_FAILURE;
    }
    return TOOL_EXIT_OK;
}
