/* finack ss: the TCP connection table of every finack process on this
 * machine, read through their control sockets (finack/control.h), laid out
 * as `ss -tan` lays out Linux's. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "finack/control.h"
#include "tool.h"

const char cmd_ss_usage[] =
    "usage: finack ss [-a|--all] [-i|--info] [-n|--numeric] [-o|--options] [--process PID]\n"
    "\n"
    "The TCP connections of every running finack process on this machine (the\n"
    "ones that serve a control socket: finack up, cat, echo, http, and programs\n"
    "that call finack_control_start), in the layout of 'ss -tan', with the\n"
    "process (name, pid and finack socket handle) in the Process column.\n"
    "Addresses are always numeric. No finack process running: the header only.\n"
    "\n"
    "  -a, --all        also listeners, TIME_WAIT and half-open connections\n"
    "                   (as ss -a)\n"
    "  -i, --info       a second line per connection, as ss -i: rto and rtt in\n"
    "                   ms, and cwnd (in bytes, where ss counts segments)\n"
    "  -n, --numeric    accepted for ss's sake; finack ss is always numeric\n"
    "  -o, --options    the timer as ss -o shows it: timer:(on,200ms,0) for\n"
    "                   retransmission (the last figure: timeouts so far),\n"
    "                   persist, keepalive (probes unanswered), timewait\n"
    "  --process PID    only the finack process PID\n"
    "\n"
    "Control sockets live in $FINACK_RUN_DIR, else /run/finack for root, else\n"
    "$XDG_RUNTIME_DIR/finack, else /tmp/finack-UID; those of processes that\n"
    "died are removed.\n";

struct ss_row {
    long pid;
    const char *name; /* into the process's answer */
    char state[16];
    char laddr[16], raddr[16];
    unsigned lport, rport;
    int fd;
    uint32_t recv_q, send_q;
    char timer[16];
    uint64_t expires_us;
    uint32_t retransmits;
    uint32_t rtt_us, rto_us, cwnd;
    bool listening;
};

struct ss_table {
    struct ss_row *rows;
    size_t count, cap;
    char **answers; /* kept until printed: rows point into them */
    size_t nanswers;
    bool failed;
};

/* RFC 9293's names as ss (Linux's tcp_states) spells them. */
static const char *ss_state(const char *rfc)
{
    static const struct {
        const char *rfc, *linux;
    } names[] = {
        {"ESTABLISHED", "ESTAB"},     {"SYN_SENT", "SYN-SENT"},     {"SYN_RCVD", "SYN-RECV"},
        {"FIN_WAIT_1", "FIN-WAIT-1"}, {"FIN_WAIT_2", "FIN-WAIT-2"}, {"TIME_WAIT", "TIME-WAIT"},
        {"CLOSED", "UNCONN"},         {"CLOSE_WAIT", "CLOSE-WAIT"}, {"LAST_ACK", "LAST-ACK"},
        {"LISTEN", "LISTEN"},         {"CLOSING", "CLOSING"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].rfc, rfc) == 0) return names[i].linux;
    return rfc;
}

/* One "conn ..." line of the control protocol; false if malformed. */
static bool parse_row(const char *line, struct ss_row *r)
{
    unsigned long long expires;
    int n = sscanf(line,
                   "conn %15s %15[0-9.]:%u %15[0-9.]:%u %d %" SCNu32 " %" SCNu32 " %15s %llu %" SCNu32
                   " %" SCNu32 " %" SCNu32 " %" SCNu32,
                   r->state, r->laddr, &r->lport, r->raddr, &r->rport, &r->fd, &r->recv_q,
                   &r->send_q, r->timer, &expires, &r->retransmits, &r->rtt_us, &r->rto_us,
                   &r->cwnd);
    if (n != 14) return false;
    r->expires_us = expires;
    r->listening = strcmp(r->state, "LISTEN") == 0;
    return true;
}

static bool table_add(struct ss_table *t, const struct ss_row *row)
{
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct ss_row *rows = realloc(t->rows, cap * sizeof *rows);
        if (!rows) return false;
        t->rows = rows;
        t->cap = cap;
    }
    t->rows[t->count++] = *row;
    return true;
}

/* The process's name: the fourth word of "finack-control 1 PID NAME". */
static const char *answer_name(char *answer)
{
    char *nl = strchr(answer, '\n');
    if (nl) *nl = '\0';
    const char *name = "?";
    if (strncmp(answer, "finack-control ", 15) == 0) {
        char *p = strchr(answer + 15, ' ');
        p = p ? strchr(p + 1, ' ') : NULL;
        if (p && p[1]) name = p + 1;
    }
    return name;
}

static int on_answer(void *ctx, long pid, const char *answer, int err)
{
    struct ss_table *t = ctx;
    if (err) {
        tool_error("process %ld did not answer: %s", pid, tool_strerror(err));
        return 0;
    }
    char **answers = realloc(t->answers, (t->nanswers + 1) * sizeof *answers);
    char *copy = strdup(answer);
    if (!answers || !copy) {
        free(copy);
        if (answers) t->answers = answers;
        t->failed = true;
        return -ENOMEM;
    }
    t->answers = answers;
    t->answers[t->nanswers++] = copy;
    char *body = strchr(copy, '\n');
    const char *name = answer_name(copy); /* ends the header line */
    for (char *line = body ? body + 1 : NULL; line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = '\0';
        struct ss_row row = {.pid = pid, .name = name};
        if (strncmp(line, "conn ", 5) == 0 && parse_row(line, &row) && !table_add(t, &row)) {
            t->failed = true;
            return -ENOMEM;
        }
        if (strncmp(line, "error ", 6) == 0) tool_error("process %ld: %s", pid, line + 6);
        line = next;
    }
    return 0;
}

static int compare_addr(const char *a, unsigned pa, const char *b, unsigned pb)
{
    uint32_t x = 0, y = 0;
    uint8_t len;
    (void)finack_parse_ipv4(a, &x, &len);
    (void)finack_parse_ipv4(b, &y, &len);
    if (x != y) return x < y ? -1 : 1;
    return (pa > pb) - (pa < pb);
}

/* By process, listeners first, then by local and peer address. */
static int by_row(const void *a, const void *b)
{
    const struct ss_row *x = a, *y = b;
    if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
    if (x->listening != y->listening) return x->listening ? -1 : 1;
    int c = compare_addr(x->laddr, x->lport, y->laddr, y->lport);
    return c ? c : compare_addr(x->raddr, x->rport, y->raddr, y->rport);
}

/* ss's print_ms_timer(): "200ms", "59sec", "1.500sec", "1min59sec". */
static void format_timer(uint64_t us, char *buf, size_t len)
{
    uint64_t ms = us / 1000, msecs = ms % 1000, secs = ms / 1000, minutes = secs / 60;
    secs %= 60;
    size_t n = 0;
    buf[0] = '\0';
    if (minutes) {
        msecs = 0;
        n += (size_t)snprintf(buf + n, len - n, "%" PRIu64 "min", minutes);
        if (minutes > 9) secs = 0;
    }
    if (secs && n < len) {
        if (secs > 9) msecs = 0;
        n += (size_t)snprintf(buf + n, len - n, "%" PRIu64 "%s", secs, msecs ? "." : "sec");
    }
    if (msecs && n < len) snprintf(buf + n, len - n, "%03" PRIu64 "%s", msecs, secs ? "sec" : "ms");
}

struct widths {
    int state, recv_q, send_q, laddr, lport, raddr, rport;
};

static int max_int(int a, int b) { return a > b ? a : b; }

static int digits(uint32_t v)
{
    char buf[16];
    return snprintf(buf, sizeof buf, "%" PRIu32, v);
}

static const char *port_text(unsigned port, char *buf, size_t len)
{
    if (port == 0) snprintf(buf, len, "*");
    else snprintf(buf, len, "%u", port);
    return buf;
}

/* Widths as ss sizes its columns: the header's, or the widest value. */
static struct widths measure(const struct ss_table *t)
{
    struct widths w = {.state = 5, .recv_q = 6, .send_q = 6, .laddr = 13, .lport = 4,
                       .raddr = 12, .rport = 4};
    for (size_t i = 0; i < t->count; i++) {
        const struct ss_row *r = &t->rows[i];
        char port[12];
        w.state = max_int(w.state, (int)strlen(ss_state(r->state)));
        w.recv_q = max_int(w.recv_q, digits(r->recv_q));
        w.send_q = max_int(w.send_q, digits(r->send_q));
        w.laddr = max_int(w.laddr, (int)strlen(r->laddr));
        w.lport = max_int(w.lport, (int)strlen(port_text(r->lport, port, sizeof port)));
        w.raddr = max_int(w.raddr, (int)strlen(r->raddr));
        w.rport = max_int(w.rport, (int)strlen(port_text(r->rport, port, sizeof port)));
    }
    return w;
}

/* ss -i's second line, the figures finack has: the RTO and smoothed RTT
 * in ms as ss prints them, cwnd in bytes (ss counts segments). */
static void print_info(const struct ss_row *r)
{
    if (r->listening) return;
    printf("\t rto:%" PRIu32, r->rto_us / 1000);
    if (r->rtt_us) printf(" rtt:%" PRIu32 ".%03" PRIu32, r->rtt_us / 1000, r->rtt_us % 1000);
    if (r->cwnd) printf(" cwnd_bytes:%" PRIu32, r->cwnd);
    putchar('\n');
}

static void print_row(const struct ss_row *r, const struct widths *w, bool timers)
{
    char lport[12], rport[12], line[512];
    int n = snprintf(line, sizeof line, "%-*s %-*" PRIu32 " %-*" PRIu32 " %*s:%-*s %*s:%-*s",
                     w->state, ss_state(r->state), w->recv_q, r->recv_q, w->send_q, r->send_q,
                     w->laddr, r->laddr, w->lport, port_text(r->lport, lport, sizeof lport),
                     w->raddr, r->raddr, w->rport, port_text(r->rport, rport, sizeof rport));
    if (n < 0 || (size_t)n >= sizeof line) return;
    if (r->fd >= 0)
        n += snprintf(line + n, sizeof line - (size_t)n, " users:((\"%s\",pid=%ld,fd=%d))",
                      r->name, r->pid, r->fd);
    else
        n += snprintf(line + n, sizeof line - (size_t)n, " users:((\"%s\",pid=%ld))", r->name,
                      r->pid);
    if (timers && strcmp(r->timer, "-") != 0 && (size_t)n < sizeof line) {
        char left[32];
        format_timer(r->expires_us, left, sizeof left);
        snprintf(line + n, sizeof line - (size_t)n, " timer:(%s,%s,%" PRIu32 ")", r->timer, left,
                 r->retransmits);
    }
    puts(line);
}

static void print_table(const struct ss_table *t, bool timers, bool info)
{
    struct widths w = measure(t);
    /* The header is laid out as a row, so the ':' of "Address:Port" sits
     * over the address/port separators, as ss does. */
    printf("%-*s %-*s %-*s %*s:%-*s %*s:%-*sProcess\n", w.state, "State", w.recv_q, "Recv-Q",
           w.send_q, "Send-Q", w.laddr, "Local Address", w.lport, "Port", w.raddr,
           "Peer Address", w.rport, "Port");
    for (size_t i = 0; i < t->count; i++) {
        print_row(&t->rows[i], &w, timers);
        if (info) print_info(&t->rows[i]);
    }
}

enum { OPT_ALL = 'a', OPT_INFO = 'i', OPT_NUMERIC = 'n', OPT_OPTIONS = 'o', OPT_PROCESS = 1 };

int cmd_ss(int argc, char **argv)
{
    static const struct option options[] = {
        {"all", no_argument, NULL, OPT_ALL},
        {"info", no_argument, NULL, OPT_INFO},
        {"numeric", no_argument, NULL, OPT_NUMERIC},
        {"options", no_argument, NULL, OPT_OPTIONS},
        {"process", required_argument, NULL, OPT_PROCESS},
        {NULL, 0, NULL, 0},
    };
    bool all = false, timers = false, info = false;
    long pid = 0;
    int c;
    while ((c = tool_next_option_short(argc, argv, ":aino", options, false)) != -1) {
        switch (c) {
        case OPT_ALL: all = true; break;
        case OPT_INFO: info = true; break;
        case OPT_NUMERIC: break;
        case OPT_OPTIONS: timers = true; break;
        case OPT_PROCESS: pid = (long)tool_parse_uint("--process", optarg, 1, INT32_MAX); break;
        }
    }
    struct ss_table t = {0};
    int rc = finack_control_query_all(all ? "conns all" : "conns", pid, on_answer, &t);
    if (rc < 0 && !t.failed) tool_error("cannot read the control sockets: %s", tool_strerror(rc));
    if (t.failed) tool_error("out of memory");
    bool missing = pid && rc == 0;
    if (missing) tool_error("no finack process with pid %ld answers", pid);
    if (t.count) qsort(t.rows, t.count, sizeof t.rows[0], by_row);
    if (!missing) print_table(&t, timers, info);
    for (size_t i = 0; i < t.nanswers; i++) free(t.answers[i]);
    free(t.answers);
    free(t.rows);
    return rc < 0 || missing ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
}
