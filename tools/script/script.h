/* `finack script`: packetdrill scripts run against a finack stack on the
 * simulated link.
 *
 * Two halves with this header between them:
 *   parse.c  text → a list of events (pure; no stack, no clock)
 *   run.c    events → a fresh stack and sim, driven on the virtual clock,
 *            every outbound packet and every return value checked.
 *
 * The language is packetdrill's, for TCP over IPv4: docs/SCRIPT.md says
 * what is supported and where finack differs. */
#ifndef FINACK_TOOLS_SCRIPT_H
#define FINACK_TOOLS_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- Times -------------------------------------------------------------------
 * All script times are in microseconds. An event's time is one of:
 *   0.100        absolute (from the script's start)
 *   +0.1         relative to the previous event's time
 *   *            any time
 *   0.1~0.2      absolute range; +0.1~+0.2 relative range (both ends relative)
 * and a system call may add an end time for when it returns:
 *   +0...0.1     starts at +0, returns at 0.1 on the same base as the
 *                start (packetdrill's blocking form: `+.1...0.2` starts
 *                0.1 s and returns 0.2 s after the previous event). */
enum script_time_kind { SCRIPT_TIME_ABSOLUTE, SCRIPT_TIME_RELATIVE, SCRIPT_TIME_ANY };

struct script_time {
    enum script_time_kind kind;
    int64_t start;            /* µs; for RELATIVE an offset from the previous event */
    bool has_range;           /* a~b: the event may happen anywhere in [start, range_end] */
    int64_t range_end;        /* same kind as start */
    bool has_end;             /* a...b: a call that returns at time b */
    int64_t end;              /* µs from the start to b (b - a: both share a base) */
};

/* ---- Expressions (system call arguments and values) ------------------------- */
enum script_expr_kind {
    SCRIPT_EXPR_ELLIPSIS,     /* ... : anything / default */
    SCRIPT_EXPR_INT,          /* 42, -1, 0x10 */
    SCRIPT_EXPR_SYMBOL,       /* SOL_SOCKET, EINPROGRESS, O_NONBLOCK: value looked up */
    SCRIPT_EXPR_STRING,       /* "abc" */
    SCRIPT_EXPR_LIST,         /* [1] or [{fd=4, ...}] : items */
    SCRIPT_EXPR_STRUCT,       /* {l_onoff=1, l_linger=0} : items are FIELDs */
    SCRIPT_EXPR_FIELD,        /* name=value inside a struct: name, items[0] */
    SCRIPT_EXPR_OR,           /* a|b : items[0], items[1] */
};

struct script_expr {
    enum script_expr_kind kind;
    int64_t value;            /* INT; SYMBOL once resolved */
    char *name;               /* SYMBOL, FIELD name, STRING text */
    struct script_expr **items;
    size_t count;
};

/* ---- TCP packets --------------------------------------------------------------- */
enum script_option_kind {
    SCRIPT_OPT_NOP,
    SCRIPT_OPT_EOL,
    SCRIPT_OPT_MSS,           /* a = mss */
    SCRIPT_OPT_WSCALE,        /* a = shift */
    SCRIPT_OPT_SACK_PERMITTED,
    SCRIPT_OPT_TIMESTAMP,     /* a = val, b = ecr */
    SCRIPT_OPT_SACK,          /* blocks[0..block_count) */
};

#define SCRIPT_MAX_OPTIONS 20
#define SCRIPT_MAX_SACK 4

struct script_option {
    enum script_option_kind kind;
    uint32_t a, b;
    uint8_t block_count;
    uint32_t blocks[SCRIPT_MAX_SACK][2]; /* sack L:R as written (relative) */
};

struct script_packet {
    bool outbound;            /* '>' : the stack sends it; '<' : the script injects it */
    uint8_t flags;            /* TCP_FLAG_* bits as in wire/tcp.h */
    bool has_seq;             /* seq start:end(len); absent = any (outbound) or next */
    uint32_t seq, seq_end, len;
    bool has_ack;
    uint32_t ack;
    bool has_win;
    uint32_t win;
    bool any_options;         /* <...> */
    size_t option_count;      /* 0 with !any_options = no options at all */
    struct script_option options[SCRIPT_MAX_OPTIONS];
    bool has_urg;
    uint32_t urg;
};

/* ---- Events ---------------------------------------------------------------------- */
enum script_event_kind {
    SCRIPT_EVENT_PACKET,
    SCRIPT_EVENT_SYSCALL,
    SCRIPT_EVENT_SHELL,       /* `command`: tunes a kernel; not run, noted */
    SCRIPT_EVENT_CODE,        /* %{ python }%: not supported */
    SCRIPT_EVENT_UNSUPPORTED, /* a line the parser recognised but finack cannot run */
};

struct script_syscall {
    char *name;               /* "socket", "write", ... */
    struct script_expr **args;
    size_t arg_count;
    bool ret_any;             /* = ... (no check) */
    int64_t ret;              /* expected return value */
    char *errno_name;         /* "EINPROGRESS" when ret is -1, else NULL */
    int errno_value;          /* positive; 0 if none */
};

struct script_event {
    enum script_event_kind kind;
    int line;                 /* 1-based line in the file */
    struct script_time time;
    struct script_packet packet;
    struct script_syscall call;
    char *text;               /* SHELL/CODE/UNSUPPORTED: the text, for messages */
};

struct script {
    char *path;
    struct script_event *events;
    size_t count;
    /* A command-line option the script sets at the top (packetdrill's
     * --tolerance_usecs=N etc.): only tolerance is honoured. */
    int64_t tolerance;        /* µs; -1 = not set by the script */
};

/* Parse text (len bytes, need not be NUL-terminated) of file path. On
 * success returns 0 and fills *out (free with script_free). On a syntax error
 * returns -1 and writes "PATH:LINE: message" (one line, no newline) into err. */
int script_parse(const char *path, const char *text, size_t len, struct script *out, char *err,
                 size_t err_len);
void script_free(struct script *s);

/* Symbol values the parser and runner share: AF_INET, SOCK_STREAM,
 * SOL_SOCKET, SO_*, IPPROTO_TCP, TCP_*, O_NONBLOCK, F_GETFL, F_SETFL,
 * SHUT_*, POLL*, MSG_*, and every errno name. Returns false if unknown. */
bool script_symbol_value(const char *name, int64_t *value);
/* The errno name of a positive errno value ("EAGAIN"), or NULL. */
const char *script_errno_name(int err);

/* ---- Running ---------------------------------------------------------------------- */
enum script_result { SCRIPT_PASS, SCRIPT_FAIL, SCRIPT_UNSUPPORTED };

struct script_options {
    bool verbose;             /* print every event as it runs */
    int64_t tolerance;        /* µs; default 4000 like packetdrill's */
    FILE *out;                /* messages (verbose lines, the failure) */
    const char *pcap_path;    /* capture the stack's packets (--pcap FILE), or NULL */
    const char *trace_path;   /* every event as JSON lines (--trace FILE), or NULL */
    uint64_t seed;            /* the simulator's seed: ISNs, ports */
    /* If set, receives the RFC name of the state the script's connection
     * (the last one it opened, not a listener) ended in, "CLOSED" once it is
     * gone, or "" if there was none. */
    char *final_state;
    size_t final_state_len;
    bool strict;              /* a packet sent that no '>' line expects fails the script
                               * before the next inbound packet or call and at the end
                               * (packetdrill only notices it at the next '>' line) */
};

void script_options_init(struct script_options *o);

/* Run one parsed script. On FAIL or UNSUPPORTED writes a one-line reason
 * ("LINE: expected ... got ...") into why. */
enum script_result script_run(const struct script *s, const struct script_options *o, char *why,
                              size_t why_len);

#endif
