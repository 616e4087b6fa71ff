/* The finack command: shared helpers and the list of subcommands.
 *
 * Adding a subcommand takes one file, tools/cmd_NAME.c, defining
 * cmd_NAME() and cmd_NAME_usage[] (declared below), and one line in the
 * command table in tools/main.c.
 *
 * Exit status of every subcommand: 0 success, 1 failure while running,
 * 2 bad usage. Errors are one line on stderr: "finack CMD: what went wrong". */
#ifndef FINACK_TOOL_H
#define FINACK_TOOL_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdnoreturn.h>

#include "finack/finack.h"

#define TOOL_EXIT_OK 0
#define TOOL_EXIT_FAILURE 1
#define TOOL_EXIT_USAGE 2

/* ---- Subcommands -------------------------------------------------------------
 * Each runs with argv[0] = its own name; options start at argv[1]. Its usage
 * text is printed by `finack help NAME` and `finack NAME --help`. */
int cmd_up(int argc, char **argv);
extern const char cmd_up_usage[];

int cmd_demo(int argc, char **argv);
extern const char cmd_demo_usage[];

int cmd_script(int argc, char **argv);
extern const char cmd_script_usage[];

int cmd_ladder(int argc, char **argv);
extern const char cmd_ladder_usage[];

int cmd_sim(int argc, char **argv);
extern const char cmd_sim_usage[];

int cmd_cat(int argc, char **argv);
extern const char cmd_cat_usage[];

int cmd_echo(int argc, char **argv);
extern const char cmd_echo_usage[];

int cmd_http(int argc, char **argv);
extern const char cmd_http_usage[];

int cmd_iperf3(int argc, char **argv);
extern const char cmd_iperf3_usage[];

int cmd_ss(int argc, char **argv);
extern const char cmd_ss_usage[];

int cmd_stats(int argc, char **argv);
extern const char cmd_stats_usage[];

/* ---- Messages ----------------------------------------------------------------- */
/* The subcommand named in messages ("up"); main sets it before dispatching. */
void tool_set_command(const char *name);

/* "finack CMD: " + message + newline, on stderr. */
void tool_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* tool_error(), then exit with TOOL_EXIT_USAGE. */
noreturn void tool_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* strerror() of a negative errno as finack functions return it. */
const char *tool_strerror(int negative_errno);
/* What to try next when attaching to a TUN device failed with rc (the
 * errors a user can fix), as " (...)" to append to the message; "" if none. */
const char *tool_tun_hint(int rc);

/* ---- Options ------------------------------------------------------------------
 * getopt_long() over argv with the long options given (a leading "--" form
 * only, "--opt VALUE" or "--opt=VALUE"). Returns the next option's val, or
 * -1 at the end. An unknown option, a missing value or a stray positional
 * argument is a usage error (one line, exit 2). */
int tool_next_option(int argc, char **argv, const struct option *options);
/* The same with short options (getopt's string, starting with ':') and,
 * if positional, arguments left at argv[optind..] for the caller (getopt
 * moves them after the options). */
int tool_next_option_short(int argc, char **argv, const char *shortopts,
                           const struct option *options, bool positional);

/* Each parser below takes the option name for its message ("--mtu") and, on
 * a malformed or out-of-range value, is a usage error. */
/* "A.B.C.D" or "A.B.C.D/LEN" (LEN defaults to 32); host byte order. */
void tool_parse_ipv4_prefix(const char *option, const char *text, uint32_t *addr,
                            uint8_t *prefix_len);
/* A decimal integer in [min, max]. */
uint64_t tool_parse_uint(const char *option, const char *text, uint64_t min, uint64_t max);
/* A probability: "0.01", or a percentage "1%"; in [0, 1]. */
double tool_parse_probability(const char *option, const char *text);
/* Seconds, decimals allowed ("2", "0.5"), above 0 and at most max_seconds;
 * returned in microseconds. */
finack_time_t tool_parse_seconds(const char *option, const char *text, uint32_t max_seconds);

/* ---- Traces (--trace FILE) ----------------------------------------------------
 * A JSON-lines trace file (docs/TRACE.md): open it, hand tool_trace_event
 * and the handle to finack_stack_set_trace(), close it after the stack
 * stopped. Returns 0 or a negative errno (close: the first write error). */
struct tool_trace;
int tool_trace_open(struct tool_trace **out, const char *path);
struct finack_trace_event;
void tool_trace_event(void *ctx, const struct finack_trace_event *event);
int tool_trace_close(struct tool_trace *t);

/* ---- Reports ------------------------------------------------------------------ */
/* The stack's non-zero counters and drop reasons, nstat style, one per line:
 *   #finack TITLE
 *   IcmpInEchos                     5
 *   #finack drops
 *   IP_BAD_VERSION                  2   IP version is not 4            */
void tool_print_counters(FILE *out, const struct finack_stack *stack, const char *title);

#endif
