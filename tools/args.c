/* Helpers shared by the finack subcommands: messages, option parsing,
 * counter reports (see tool.h). */
#include "tool.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *tool_command = NULL;

void tool_set_command(const char *name) { tool_command = name; }

__attribute__((format(printf, 1, 0))) static void tool_verror(const char *fmt, va_list ap)
{
    if (tool_command != NULL)
        fprintf(stderr, "finack %s: ", tool_command);
    else
        fputs("finack: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void tool_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tool_verror(fmt, ap);
    va_end(ap);
}

noreturn void tool_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tool_verror(fmt, ap);
    va_end(ap);
    exit(TOOL_EXIT_USAGE);
}

const char *tool_strerror(int negative_errno) { return strerror(-negative_errno); }

int tool_next_option(int argc, char **argv, const struct option *options)
{
    return tool_next_option_short(argc, argv, ":", options, false);
}

int tool_next_option_short(int argc, char **argv, const char *shortopts,
                           const struct option *options, bool positional)
{
    opterr = 0;  /* our own one-line messages instead of getopt's */
    int c = getopt_long(argc, argv, shortopts, options, NULL);
    switch (c) {
    case '?':
        if (optopt > 0 && optopt < 0x100)
            tool_usage_error("unknown option '-%c' (try 'finack help %s')", optopt, argv[0]);
        tool_usage_error("unknown option '%s' (try 'finack help %s')", argv[optind - 1],
                         argv[0]);
    case ':':
        tool_usage_error("option '%s' needs a value", argv[optind - 1]);
    case -1:
        if (optind < argc && !positional)
            tool_usage_error("unexpected argument '%s'", argv[optind]);
        return -1;
    default:
        return c;
    }
}

void tool_parse_ipv4_prefix(const char *option, const char *text, uint32_t *addr,
                            uint8_t *prefix_len)
{
    if (finack_parse_ipv4(text, addr, prefix_len) < 0)
        tool_usage_error("%s '%s': expected an IPv4 address A.B.C.D or A.B.C.D/LEN", option,
                         text);
}

uint64_t tool_parse_uint(const char *option, const char *text, uint64_t min, uint64_t max)
{
    char *end = NULL;
    errno = 0;
    /* strtoull accepts a sign and leading blanks; a count does not. */
    unsigned long long v = text[0] >= '0' && text[0] <= '9' ? strtoull(text, &end, 10) : 0;
    if (end == NULL || end == text || *end != '\0' || errno != 0 || v < min || v > max)
        tool_usage_error("%s '%s': expected a whole number from %" PRIu64 " to %" PRIu64,
                         option, text, min, max);
    return (uint64_t)v;
}

double tool_parse_probability(const char *option, const char *text)
{
    char *end = NULL;
    errno = 0;
    double v = (text[0] >= '0' && text[0] <= '9') || text[0] == '.' ? strtod(text, &end) : -1.0;
    bool percent = end != NULL && end != text && *end == '%' && end[1] == '\0';
    if (percent) v /= 100.0;
    /* The comparisons are false for NaN, so NaN is rejected too. */
    if (end == NULL || end == text || (*end != '\0' && !percent) || errno != 0 || !(v >= 0.0) ||
        !(v <= 1.0))
        tool_usage_error("%s '%s': expected a probability from 0 to 1 (or 0%% to 100%%)", option,
                         text);
    return v;
}

finack_time_t tool_parse_seconds(const char *option, const char *text, uint32_t max_seconds)
{
    char *end = NULL;
    errno = 0;
    double v = text[0] >= '0' && text[0] <= '9' ? strtod(text, &end) : 0.0;
    /* The comparisons are false for NaN, so NaN is rejected too. */
    if (end == NULL || end == text || *end != '\0' || errno != 0 || !(v > 0.0) ||
        !(v <= (double)max_seconds))
        tool_usage_error("%s '%s': expected seconds above 0 and at most %" PRIu32, option,
                         text, max_seconds);
    finack_time_t us = (finack_time_t)(v * 1e6);
    return us > 0 ? us : 1;
}

void tool_print_counters(FILE *out, const struct finack_stack *stack, const char *title)
{
    fprintf(out, "#finack %s\n", title);
    for (int i = 0; i < FINACK_CTR__COUNT; i++) {
        uint64_t v = finack_stack_counter(stack, (enum finack_counter)i);
        if (v != 0) fprintf(out, "%-32s%" PRIu64 "\n", finack_counter_name(i), v);
    }
    bool header = false;
    for (int i = 0; i < FINACK_DROP__COUNT; i++) {
        uint64_t v = finack_stack_drops(stack, (enum finack_drop_reason)i);
        if (v == 0 || i == FINACK_DROP_NONE) continue;
        if (!header) fputs("#finack drops\n", out);
        header = true;
        fprintf(out, "%-32s%-10" PRIu64 "%s\n", finack_drop_reason_name(i), v,
                finack_drop_reason_text(i));
    }
}

const char *tool_tun_hint(int rc)
{
    switch (rc) {
    case -EPERM:
    case -EACCES:
        return " (run as root, or make the device first with 'ip tuntap add dev IF mode "
               "tun user USER')";
    case -ENOENT:
    case -ENODEV:
        return " (no /dev/net/tun: is the tun module loaded?)";
    case -EBUSY:
        return " (another process is attached to it)";
    case -EINVAL:
        return " (is it a TAP device, or the MTU out of its range?)";
    default:
        return "";
    }
}
