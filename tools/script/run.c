/* The script executor: one fresh finack stack at end A of a simulated link
 * with no latency; the script plays the remote host at end B. Inbound lines
 * are built into packets and injected at their time, outbound lines are
 * compared with what the stack sent, system calls go to the socket API, all
 * on the sim's virtual clock.
 *
 * Blocking calls: finack's sockets never block, so a call on a socket the
 * script has not made non-blocking that answers EAGAIN/EINPROGRESS becomes
 * the pending call. It is retried after every simulator event while the
 * script goes on injecting and expecting packets (packetdrill runs it in a
 * thread), and it must be complete before the next system call starts. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "finack/pcap.h"
#include "finack/sim.h"
#include "finack/socket.h"
#include "script.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

/* packetdrill's default addresses: the stack is 192.168.0.1, the remote
 * host 192.0.2.1; bind() takes port 8080, connect() goes to port 8080. */
#define LOCAL_IP 0xc0a80001u
#define REMOTE_IP 0xc0000201u
#define SCRIPT_PORT 8080
#define REMOTE_EPHEMERAL_PORT 47123 /* the remote end of connections it opens */
#define MAX_FDS 64
#define FIRST_FD 3
#define MAX_PACKET 65536
/* How far past an expected packet's time the runner looks, to tell "late"
 * from "never sent" in the message. */
#define LOOK_AHEAD FINACK_SEC(600)

struct captured {
    finack_time_t t;
    size_t len;
    uint8_t *bytes;
};

struct fd_entry {
    bool open;
    int handle;           /* finack socket handle */
    bool nonblock;
    bool bound;           /* bind() gave it port 8080 */
};

struct pending_call {
    bool active;
    const struct script_event *ev;
    finack_time_t start;  /* when it was called */
    size_t done;          /* write: bytes written so far */
    bool retry;           /* the call was made once and blocked */
};

struct runner {
    const struct script *s;
    const struct script_options *o;
    struct finack_sim *sim;
    struct finack_sim_link *link;
    struct finack_stack *stack;
    struct finack_pcap *pcap;
    FILE *trace;              /* --trace: JSON lines, or NULL */
    bool quiet;               /* tearing down: nothing more is reported */

    struct captured *queue;
    size_t q_head, q_count, q_cap;

    /* Sequence numbers as packetdrill maps them (tcpdump's convention): on
     * segments with SYN they are absolute, on the others relative to the
     * ISN of that direction. The remote ISN is the script's own (from its
     * SYN line); the local one is learned from the stack's SYN. */
    bool have_local_isn;
    uint32_t local_isn, script_local_isn; /* live ISN, and the seq the script gave it */
    uint32_t remote_isn;
    bool have_remote_isn;
    /* Timestamps: the script's TSval on each expected outbound line and the
     * stack's real one, so that an inbound TSecr can echo the real value. */
    struct { uint32_t script, live; } ts_map[64];
    size_t ts_count, ts_next;
    /* Outbound TSvals print in the script's terms, counted from the first
     * one matched (packetdrill's mapping), not as the stack's random base. */
    bool ts_base_known;
    uint32_t ts_script_base, ts_live_base;
    uint16_t local_port, remote_port;
    bool local_port_known;
    uint32_t remote_next; /* the next inbound sequence number (for lines that omit it) */

    struct fd_entry fds[MAX_FDS];
    struct pending_call pending;

    finack_time_t last_time;  /* the previous event's time, for relative times */
    finack_time_t tol;        /* this event's timing tolerance */
    int line;                 /* the event being run */
    enum script_result result;
    char *why;
    size_t why_len;
    bool failed;
    const char *conn_state;   /* the last connection's state (static string) */
    int unsupported_line;     /* first skipped construct, for an UNSUPPORTED result */
    char unsupported_what[160];
};

/* ---- Messages ---------------------------------------------------------------------- */

static void fmt_time(finack_time_t t, char *buf, size_t n)
{
    snprintf(buf, n, "%" PRIu64 ".%06" PRIu64, t / 1000000u, t % 1000000u);
}

__attribute__((format(printf, 3, 4))) static void fail_at(struct runner *r, int line,
                                                            const char *fmt, ...)
{
    if (r->failed) return;
    r->failed = true;
    r->result = SCRIPT_FAIL;
    int n = snprintf(r->why, r->why_len, "line %d: ", line);
    if (n < 0 || (size_t)n >= r->why_len) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why + n, r->why_len - (size_t)n, fmt, ap);
    va_end(ap);
}

#define fail(r, ...) fail_at(r, (r)->line, __VA_ARGS__)

static void note_unsupported(struct runner *r, int line, const char *what)
{
    if (r->unsupported_line) return;
    r->unsupported_line = line;
    snprintf(r->unsupported_what, sizeof r->unsupported_what, "%s", what);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

/* One event as it happens: a line on --verbose, a JSON object on --trace
 * ({"t_us":..., "line":..., "kind":"in|out|call|block|state|skip|fail",
 * "text":...}, one per line). kind names what happened. */
static void verbose(struct runner *r, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void verbose(struct runner *r, const char *kind, const char *fmt, ...)
{
    if ((!r->o->verbose || r->quiet) && !r->trace) return;
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    finack_time_t now = finack_sim_now(r->sim);
    if (r->o->verbose && !r->quiet) {
        char t[32];
        fmt_time(now, t, sizeof t);
        fprintf(r->o->out, "%4d %10s  %s\n", r->line, t, text);
    }
    if (r->trace) {
        fprintf(r->trace, "{\"t_us\":%" PRIu64 ",\"line\":%d,\"kind\":", (uint64_t)now, r->line);
        json_string(r->trace, kind);
        fputs(",\"text\":", r->trace);
        const char *p = text;
        while (*p == ' ') p++;
        json_string(r->trace, p);
        fputs("}\n", r->trace);
    }
}

/* ---- Packets in packetdrill's notation ---------------------------------------------- */

static size_t describe_options(const struct script_option *opts, size_t count, char *out,
                               size_t n)
{
    size_t w = 0;
#define PUT(...) w += (size_t)snprintf(out + w, w < n ? n - w : 0, __VA_ARGS__)
    PUT(" <");
    for (size_t i = 0; i < count; i++) {
        const struct script_option *o = &opts[i];
        if (i) PUT(",");
        switch (o->kind) {
        case SCRIPT_OPT_NOP: PUT("nop"); break;
        case SCRIPT_OPT_EOL: PUT("eol"); break;
        case SCRIPT_OPT_MSS: PUT("mss %u", o->a); break;
        case SCRIPT_OPT_WSCALE: PUT("wscale %u", o->a); break;
        case SCRIPT_OPT_SACK_PERMITTED: PUT("sackOK"); break;
        case SCRIPT_OPT_TIMESTAMP: PUT("TS val %u ecr %u", o->a, o->b); break;
        case SCRIPT_OPT_SACK:
            PUT("sack");
            for (unsigned b = 0; b < o->block_count; b++)
                PUT(" %u:%u", o->blocks[b][0], o->blocks[b][1]);
            break;
        }
    }
    PUT(">");
#undef PUT
    return w;
}

static void describe_script_packet(const struct script_packet *p, char *out, size_t n)
{
    char flags[16];
    size_t w = (size_t)snprintf(out, n, "%s %s", p->outbound ? ">" : "<",
                                tcp_flags_string(p->flags, flags));
#define PUT(...) w += (size_t)snprintf(out + w, w < n ? n - w : 0, __VA_ARGS__)
    if (p->has_seq) PUT(" %u:%u(%u)", p->seq, p->seq_end, p->len);
    if (p->has_ack) PUT(" ack %u", p->ack);
    if (p->has_win) PUT(" win %u", p->win);
    if (p->has_urg) PUT(" urg %u", p->urg);
    if (p->any_options) PUT(" <...>");
    else if (p->option_count && w < n) w += describe_options(p->options, p->option_count, out + w, n - w);
#undef PUT
}

/* An actual segment, seq/ack relative to the ISNs as the script writes them. */
struct actual {
    struct ipv4_header ip;
    struct tcp_segment seg;
    struct script_option options[SCRIPT_MAX_OPTIONS + 8];
    size_t option_count;
};

static void actual_options(const struct tcp_segment *seg, uint32_t remote_isn, struct actual *a)
{
    a->option_count = 0;
    for (size_t i = 0; i < seg->opt.kind_count && a->option_count < SCRIPT_MAX_OPTIONS + 8; i++) {
        struct script_option *o = &a->options[a->option_count++];
        memset(o, 0, sizeof *o);
        switch (seg->opt.kinds[i]) {
        case TCP_OPT_NOP: o->kind = SCRIPT_OPT_NOP; break;
        case TCP_OPT_MSS: o->kind = SCRIPT_OPT_MSS; o->a = seg->opt.mss; break;
        case TCP_OPT_WSCALE: o->kind = SCRIPT_OPT_WSCALE; o->a = seg->opt.wscale; break;
        case TCP_OPT_SACK_PERMITTED: o->kind = SCRIPT_OPT_SACK_PERMITTED; break;
        case TCP_OPT_TIMESTAMP:
            o->kind = SCRIPT_OPT_TIMESTAMP;
            o->a = seg->opt.ts_val;
            o->b = seg->opt.ts_ecr;
            break;
        case TCP_OPT_SACK:
            o->kind = SCRIPT_OPT_SACK;
            o->block_count = seg->opt.sack_count;
            for (unsigned b = 0; b < seg->opt.sack_count && b < SCRIPT_MAX_SACK; b++) {
                o->blocks[b][0] = seg->opt.sack[b].left - remote_isn;
                o->blocks[b][1] = seg->opt.sack[b].right - remote_isn;
            }
            break;
        default: o->kind = SCRIPT_OPT_EOL; break; /* an unknown kind: never expected */
        }
    }
}

static void describe_actual(const struct runner *r, const struct actual *a, char *out, size_t n)
{
    char flags[16];
    const struct tcp_segment *seg = &a->seg;
    bool syn = seg->flags & TCP_FLAG_SYN;
    uint32_t base = !r->have_local_isn ? 0 : syn ? r->local_isn - r->script_local_isn : r->local_isn;
    uint32_t seq = seg->seq - base;
    uint32_t len = (uint32_t)seg->payload_len;
    size_t w = (size_t)snprintf(out, n, "> %s %u:%u(%u)", tcp_flags_string(seg->flags, flags), seq,
                                seq + len, len);
    if (seg->flags & TCP_FLAG_ACK)
        w += (size_t)snprintf(out + w, w < n ? n - w : 0, " ack %u",
                              seg->ack - (syn ? 0 : r->remote_isn));
    w += (size_t)snprintf(out + w, w < n ? n - w : 0, " win %u", seg->window);
    if (seg->flags & TCP_FLAG_URG)
        w += (size_t)snprintf(out + w, w < n ? n - w : 0, " urg %u", seg->urgent);
    if (!a->option_count || w >= n) return;
    struct script_option shown[SCRIPT_MAX_OPTIONS + 8];
    memcpy(shown, a->options, a->option_count * sizeof shown[0]);
    for (size_t i = 0; i < a->option_count; i++)
        if (shown[i].kind == SCRIPT_OPT_TIMESTAMP && r->ts_base_known)
            shown[i].a = shown[i].a - r->ts_live_base + r->ts_script_base;
    describe_options(shown, a->option_count, out + w, n - w);
}

/* ---- The outbound queue ------------------------------------------------------------ */

static void on_outbound(void *ctx, const uint8_t *packet, size_t len, finack_time_t now)
{
    struct runner *r = ctx;
    if (r->q_count == r->q_cap) {
        size_t cap = r->q_cap ? 2 * r->q_cap : 64;
        struct captured *q = calloc(cap, sizeof *q);
        if (!q) return;
        for (size_t i = 0; i < r->q_count; i++) q[i] = r->queue[(r->q_head + i) % r->q_cap];
        free(r->queue);
        r->queue = q;
        r->q_cap = cap;
        r->q_head = 0;
    }
    struct captured *c = &r->queue[(r->q_head + r->q_count) % r->q_cap];
    c->bytes = malloc(len);
    if (!c->bytes) return;
    memcpy(c->bytes, packet, len);
    c->len = len;
    c->t = now;
    r->q_count++;
}

static struct captured *queue_peek(struct runner *r)
{
    return r->q_count ? &r->queue[r->q_head] : NULL;
}

static void queue_pop(struct runner *r)
{
    free(r->queue[r->q_head].bytes);
    r->q_head = (r->q_head + 1) % r->q_cap;
    r->q_count--;
}

/* Parse a captured packet; false (with the run failed) if it is not TCP
 * from the stack's address. */
static bool parse_captured(struct runner *r, const struct captured *c, struct actual *a)
{
    if (wire_ipv4_parse(c->bytes, c->len, true, &a->ip) != FINACK_DROP_NONE) {
        fail(r, "the stack sent a malformed IPv4 packet (%zu bytes)", c->len);
        return false;
    }
    if (a->ip.protocol != IPPROTO_TCP) {
        fail(r, "the stack sent an IP packet of protocol %u, expected TCP", a->ip.protocol);
        return false;
    }
    enum finack_drop_reason why =
        wire_tcp_parse(a->ip.payload, a->ip.payload_len, a->ip.src, a->ip.dst, true, &a->seg);
    if (why != FINACK_DROP_NONE) {
        fail(r, "the stack sent a malformed TCP segment: %s", finack_drop_reason_text(why));
        return false;
    }
    actual_options(&a->seg, r->remote_isn, a);
    return true;
}

/* ---- Driving the clock ---------------------------------------------------------------- */

static void try_pending(struct runner *r);

/* A blocking poll() times out on the virtual clock even when the stack has
 * nothing to do then: its deadline is an event of its own. */
static finack_time_t pending_deadline(const struct runner *r)
{
    const struct pending_call *p = &r->pending;
    if (!p->active || strcmp(p->ev->call.name, "poll") != 0 || p->ev->call.arg_count < 3)
        return FINACK_TIME_NEVER;
    const struct script_expr *t = p->ev->call.args[2];
    if (t->kind != SCRIPT_EXPR_INT || t->value <= 0) return FINACK_TIME_NEVER;
    return p->start + (finack_time_t)t->value * 1000;
}

/* The next thing to happen: a simulator event or the pending call's
 * deadline. Runs it if it is due by t; false if nothing is. */
static bool step_until(struct runner *r, finack_time_t t)
{
    finack_time_t next = finack_sim_next_event(r->sim);
    finack_time_t deadline = pending_deadline(r);
    if (deadline < next && deadline <= t) {
        if (finack_sim_now(r->sim) < deadline) finack_sim_run_until(r->sim, deadline);
        try_pending(r);
        return true;
    }
    if (next == FINACK_TIME_NEVER || next > t) return false;
    finack_sim_step(r->sim);
    try_pending(r);
    return true;
}

/* Run the simulator up to and including time t, retrying the pending call
 * after every event. With stop_on_packet, return as soon as the stack has
 * sent something (the clock is then at its send time). */
static void advance(struct runner *r, finack_time_t t, bool stop_on_packet)
{
    for (;;) {
        if (r->failed) return;
        if (stop_on_packet && r->q_count) return;
        if (!step_until(r, t)) break;
    }
    if (finack_sim_now(r->sim) < t) {
        finack_sim_run_until(r->sim, t);
        try_pending(r);
    }
}

/* ---- Inbound packets ---------------------------------------------------------------- */

static size_t put_options(const struct script_packet *p, uint32_t local_isn, uint8_t *o)
{
    size_t n = 0;
    for (size_t i = 0; i < p->option_count; i++) {
        const struct script_option *opt = &p->options[i];
        switch (opt->kind) {
        case SCRIPT_OPT_NOP: o[n++] = TCP_OPT_NOP; break;
        case SCRIPT_OPT_EOL: o[n++] = TCP_OPT_EOL; break;
        case SCRIPT_OPT_MSS:
            o[n++] = TCP_OPT_MSS, o[n++] = 4;
            o[n++] = (uint8_t)(opt->a >> 8), o[n++] = (uint8_t)opt->a;
            break;
        case SCRIPT_OPT_WSCALE: o[n++] = TCP_OPT_WSCALE, o[n++] = 3, o[n++] = (uint8_t)opt->a; break;
        case SCRIPT_OPT_SACK_PERMITTED: o[n++] = TCP_OPT_SACK_PERMITTED, o[n++] = 2; break;
        case SCRIPT_OPT_TIMESTAMP:
            o[n++] = TCP_OPT_TIMESTAMP, o[n++] = 10;
            for (int s = 24; s >= 0; s -= 8) o[n++] = (uint8_t)(opt->a >> s);
            for (int s = 24; s >= 0; s -= 8) o[n++] = (uint8_t)(opt->b >> s);
            break;
        case SCRIPT_OPT_SACK:
            o[n++] = TCP_OPT_SACK, o[n++] = (uint8_t)(2 + 8 * opt->block_count);
            for (unsigned b = 0; b < opt->block_count; b++)
                for (int e = 0; e < 2; e++) {
                    uint32_t v = opt->blocks[b][e] + local_isn;
                    for (int s = 24; s >= 0; s -= 8) o[n++] = (uint8_t)(v >> s);
                }
            break;
        }
    }
    while (n % 4) o[n++] = TCP_OPT_EOL;
    return n;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* The stack's TSval for the script's, as the script saw it sent. */
static bool ts_live(const struct runner *r, uint32_t script_val, uint32_t *live)
{
    for (size_t i = r->ts_count; i-- > 0;) /* the latest first */
        if (r->ts_map[(r->ts_next + 64 - r->ts_count + i) % 64].script == script_val) {
            *live = r->ts_map[(r->ts_next + 64 - r->ts_count + i) % 64].live;
            return true;
        }
    return false;
}

static void ts_remember(struct runner *r, uint32_t script_val, uint32_t live)
{
    if (!r->ts_base_known) {
        r->ts_base_known = true;
        r->ts_script_base = script_val;
        r->ts_live_base = live;
    }
    r->ts_map[r->ts_next] .script = script_val;
    r->ts_map[r->ts_next].live = live;
    r->ts_next = (r->ts_next + 1) % 64;
    if (r->ts_count < 64) r->ts_count++;
}

static void inject(struct runner *r, const struct script_packet *p)
{
    static uint8_t buf[MAX_PACKET];
    uint8_t opts[64];
    bool syn = p->flags & TCP_FLAG_SYN;
    struct script_packet mapped = *p;
    for (size_t i = 0; i < mapped.option_count; i++) {
        struct script_option *o = &mapped.options[i];
        if (o->kind == SCRIPT_OPT_TIMESTAMP && (p->flags & TCP_FLAG_ACK) &&
            !ts_live(r, o->b, &o->b)) {
            fail(r, "TS ecr %u echoes no TS val of an earlier outbound line", o->b);
            return;
        }
    }
    /* The script's first SYN fixes the remote ISN (packetdrill sets it
     * only in the handshake); a later SYN is just a segment. */
    if (syn && !r->have_remote_isn) {
        r->remote_isn = p->seq;
        r->have_remote_isn = true;
    }
    uint32_t ack_base = syn ? r->local_isn - r->script_local_isn : r->local_isn;
    size_t opt_len = put_options(&mapped, ack_base, opts);
    if (opt_len > TCP_OPTIONS_MAX) {
        fail(r, "the packet's options take %zu bytes, TCP allows 40", opt_len);
        return;
    }
    uint32_t len = p->has_seq ? p->len : 0;
    size_t tcp_len = TCP_HEADER_MIN + opt_len + len;
    if (20 + tcp_len > MAX_PACKET - 1) {
        fail(r, "inbound packet of %zu bytes is too long for IPv4", 20 + tcp_len);
        return;
    }
    uint8_t *t = buf + 20;
    memset(t, 0, tcp_len);
    uint32_t seq = !p->has_seq ? r->remote_next : syn ? p->seq : r->remote_isn + p->seq;
    put16(t, r->remote_port);
    put16(t + 2, r->local_port);
    put32(t + 4, seq);
    put32(t + 8, p->has_ack ? p->ack + ack_base : 0);
    t[12] = (uint8_t)(((TCP_HEADER_MIN + opt_len) / 4) << 4);
    t[13] = p->flags;
    put16(t + 14, (uint16_t)(p->has_win ? p->win : 65535));
    put16(t + 18, (uint16_t)(p->has_urg ? p->urg : 0));
    memcpy(t + TCP_HEADER_MIN, opts, opt_len);
    uint64_t sum = csum_pseudo_ipv4(REMOTE_IP, LOCAL_IP, IPPROTO_TCP, (uint16_t)tcp_len);
    put16(t + 16, csum_finish(csum_add(sum, t, tcp_len)));
    struct ipv4_header ip = {.total_len = (uint16_t)(20 + tcp_len), .ttl = 64,
                             .protocol = IPPROTO_TCP, .src = REMOTE_IP, .dst = LOCAL_IP,
                             .frag = 0x4000};
    wire_ipv4_emit(buf, 20, &ip);
    uint32_t seg_len = len + !!(p->flags & TCP_FLAG_SYN) + !!(p->flags & TCP_FLAG_FIN);
    r->remote_next = seq + seg_len;
    finack_sim_link_inject(r->link, FINACK_SIM_B, buf, 20 + tcp_len);
}

/* ---- Outbound packets ---------------------------------------------------------------- */

static bool options_match(const struct script_packet *want, const struct actual *got, char *diff,
                          size_t n)
{
    if (want->any_options) return true;
    if (want->option_count != got->option_count) {
        snprintf(diff, n, "options differ");
        return false;
    }
    for (size_t i = 0; i < want->option_count; i++) {
        const struct script_option *w = &want->options[i], *g = &got->options[i];
        if (w->kind != g->kind) {
            snprintf(diff, n, "option %zu differs", i + 1);
            return false;
        }
        switch (w->kind) {
        case SCRIPT_OPT_MSS:
        case SCRIPT_OPT_WSCALE:
            if (w->a != g->a) {
                snprintf(diff, n, "%s %u, expected %u", w->kind == SCRIPT_OPT_MSS ? "mss" : "wscale",
                         g->a, w->a);
                return false;
            }
            break;
        case SCRIPT_OPT_TIMESTAMP:
            /* TSval is the stack's own clock: not compared (packetdrill
             * checks it only loosely). TSecr must echo the script's TSval. */
            if (w->b != g->b) {
                snprintf(diff, n, "TS ecr %u, expected %u", g->b, w->b);
                return false;
            }
            break;
        case SCRIPT_OPT_SACK:
            if (w->block_count != g->block_count ||
                memcmp(w->blocks, g->blocks, sizeof w->blocks[0] * w->block_count) != 0) {
                snprintf(diff, n, "SACK blocks differ");
                return false;
            }
            break;
        default:
            break;
        }
    }
    return true;
}

/* Compare one captured segment with the expectation; seq_want/len_want may
 * be a slice of a super-packet. Returns false with diff filled. */
static bool segment_matches(struct runner *r, const struct script_packet *want, uint8_t flags_want,
                            uint32_t seq_want, uint32_t len_want, const struct actual *a,
                            char *diff, size_t n)
{
    const struct tcp_segment *seg = &a->seg;
    char f1[16], f2[16];
    if (a->ip.src != LOCAL_IP || a->ip.dst != REMOTE_IP || seg->dst_port != r->remote_port ||
        (r->local_port_known && seg->src_port != r->local_port)) {
        snprintf(diff, n, "addressed to another connection");
        return false;
    }
    if (seg->flags != flags_want) {
        snprintf(diff, n, "flags %s, expected %s", tcp_flags_string(seg->flags, f1),
                 tcp_flags_string(flags_want, f2));
        return false;
    }
    bool syn = seg->flags & TCP_FLAG_SYN;
    if (want->has_seq) {
        uint32_t seq = seg->seq - (syn ? r->local_isn - r->script_local_isn : r->local_isn);
        if (seq != seq_want) {
            snprintf(diff, n, "seq %u, expected %u", seq, seq_want);
            return false;
        }
        if (seg->payload_len != len_want) {
            snprintf(diff, n, "length %zu, expected %u", seg->payload_len, len_want);
            return false;
        }
    }
    uint32_t ack = seg->ack - (syn ? 0 : r->remote_isn);
    if (want->has_ack && (seg->flags & TCP_FLAG_ACK) && ack != want->ack) {
        snprintf(diff, n, "ack %u, expected %u", ack, want->ack);
        return false;
    }
    if (want->has_win && seg->window != want->win) {
        snprintf(diff, n, "win %u, expected %u", seg->window, want->win);
        return false;
    }
    if (want->has_urg && seg->urgent != want->urg) {
        snprintf(diff, n, "urg %u, expected %u", seg->urgent, want->urg);
        return false;
    }
    return options_match(want, a, diff, n);
}

/* The window of acceptable send times of an event. */
static void time_window(struct runner *r, const struct script_event *ev, finack_time_t at,
                        finack_time_t *lo, finack_time_t *hi)
{
    finack_time_t tol = r->tol;
    if (ev->time.kind == SCRIPT_TIME_ANY) {
        *lo = finack_sim_now(r->sim);
        *hi = *lo + LOOK_AHEAD;
        return;
    }
    finack_time_t end = at;
    if (ev->time.has_range) end = at + (finack_time_t)(ev->time.range_end - ev->time.start);
    *lo = at > tol ? at - tol : 0;
    *hi = end + tol;
}

static void expect_outbound(struct runner *r, const struct script_event *ev, finack_time_t at)
{
    const struct script_packet *want = &ev->packet;
    char wtext[256], gtext[256], diff[128], when[32], got_at[32];
    describe_script_packet(want, wtext, sizeof wtext);
    finack_time_t lo, hi;
    time_window(r, ev, at, &lo, &hi);
    fmt_time(at, when, sizeof when);

    advance(r, hi, true);
    if (r->failed) return;
    if (!r->q_count) {
        advance(r, hi + LOOK_AHEAD, true);
        if (!r->q_count) {
            fail(r, "expected %s at %s, the stack sent nothing", wtext, when);
            return;
        }
        struct actual a;
        if (!parse_captured(r, queue_peek(r), &a)) return;
        describe_actual(r, &a, gtext, sizeof gtext);
        fmt_time(queue_peek(r)->t, got_at, sizeof got_at);
        fail(r, "expected %s at %s, the stack sent nothing until %s: %s", wtext, when, got_at,
             gtext);
        return;
    }
    /* A super-packet (TSO): the run of consecutive segments that make it up. */
    uint32_t seq_want = want->seq, remaining = want->has_seq ? want->len : 0;
    bool first = true;
    do {
        struct captured *c = queue_peek(r);
        if (!c) {
            advance(r, hi, true);
            if (!r->q_count) {
                fail(r, "expected %s at %s: the segments sent stop at seq %u", wtext, when,
                     seq_want);
                return;
            }
            c = queue_peek(r);
        }
        struct actual a;
        if (!parse_captured(r, c, &a)) return;
        if (first && (want->flags & TCP_FLAG_SYN) && (a.seg.flags & TCP_FLAG_SYN)) {
            r->local_isn = a.seg.seq;
            r->script_local_isn = want->seq;
            r->have_local_isn = true;
        }
        if (first && !r->local_port_known && a.seg.dst_port == r->remote_port) {
            r->local_port = a.seg.src_port;
            r->local_port_known = true;
        }
        for (size_t i = 0; i < want->option_count && i < a.option_count; i++)
            if (want->options[i].kind == SCRIPT_OPT_TIMESTAMP &&
                a.options[i].kind == SCRIPT_OPT_TIMESTAMP)
                ts_remember(r, want->options[i].a, a.options[i].a);
        describe_actual(r, &a, gtext, sizeof gtext);
        fmt_time(c->t, got_at, sizeof got_at);
        uint32_t len = (uint32_t)a.seg.payload_len;
        bool slice = want->has_seq && len && len < remaining;
        uint8_t flags_want = want->flags;
        if (slice) flags_want &= (uint8_t)~(TCP_FLAG_PSH | TCP_FLAG_FIN);
        if (!segment_matches(r, want, flags_want, seq_want, slice ? len : remaining, &a, diff,
                             sizeof diff)) {
            if (slice || !first)
                fail(r, "expected %s at %s, got %s at %s (as part of it: %s)", wtext, when, gtext,
                     got_at, diff);
            else
                fail(r, "expected %s at %s, got %s at %s (%s)", wtext, when, gtext, got_at, diff);
            return;
        }
        if (c->t < lo || c->t > hi) {
            fail(r, "expected %s at %s, got it at %s (tolerance %" PRIu64 " us)", wtext, when,
                 got_at, (uint64_t)r->tol);
            return;
        }
        verbose(r, "out", "%s", gtext);
        queue_pop(r);
        seq_want += len;
        remaining -= slice ? len : remaining;
        first = false;
    } while (remaining);
}

/* ---- System calls ------------------------------------------------------------------- */

static int64_t expr_int(struct runner *r, const struct script_expr *e, bool *ok)
{
    switch (e->kind) {
    case SCRIPT_EXPR_INT:
        return e->value;
    case SCRIPT_EXPR_SYMBOL: {
        int64_t v;
        if (script_symbol_value(e->name, &v)) return v;
        char what[160];
        snprintf(what, sizeof what, "symbol %s", e->name);
        note_unsupported(r, r->line, what);
        *ok = false;
        return 0;
    }
    case SCRIPT_EXPR_OR:
        return expr_int(r, e->items[0], ok) | expr_int(r, e->items[1], ok);
    case SCRIPT_EXPR_LIST:
        if (e->count == 1) return expr_int(r, e->items[0], ok);
        /* fallthrough */
    default:
        *ok = false;
        return 0;
    }
}

static const struct script_expr *arg(const struct script_syscall *c, size_t i)
{
    return i < c->arg_count ? c->args[i] : NULL;
}

static struct fd_entry *script_fd(struct runner *r, const struct script_expr *e)
{
    bool ok = true;
    if (!e) return NULL;
    int64_t fd = expr_int(r, e, &ok);
    if (!ok || fd < 0 || fd >= MAX_FDS || !r->fds[fd].open) return NULL;
    return &r->fds[fd];
}

/* A new descriptor: the number the script expects if it names a free one
 * (packetdrill maps script fds to live ones), else the lowest free. */
static int new_fd(struct runner *r, const struct script_syscall *c, int handle, bool nonblock)
{
    if (!c->ret_any && c->ret >= FIRST_FD && c->ret < MAX_FDS && !r->fds[c->ret].open) {
        r->fds[c->ret] = (struct fd_entry){.open = true, .handle = handle, .nonblock = nonblock};
        return (int)c->ret;
    }
    for (int fd = FIRST_FD; fd < MAX_FDS; fd++)
        if (!r->fds[fd].open) {
            r->fds[fd] = (struct fd_entry){.open = true, .handle = handle, .nonblock = nonblock};
            return fd;
        }
    return -EMFILE;
}

/* The outcome of a call: a return value (negative errno) or "would block". */
#define WOULD_BLOCK INT64_MIN

static const char *call_name(const struct script_syscall *c) { return c->name; }

static int64_t do_poll(struct runner *r, const struct script_syscall *c, bool check, bool *ok);

struct sockopt_value {
    union {
        int i;
        struct linger l;
    } u;
    socklen_t len;
};

static bool sockopt_value(struct runner *r, const struct script_expr *e, struct sockopt_value *v)
{
    bool ok = true;
    memset(v, 0, sizeof *v);
    if (!e) return false;
    if (e->kind == SCRIPT_EXPR_STRUCT) {
        for (size_t i = 0; i < e->count; i++) {
            const struct script_expr *f = e->items[i];
            if (f->kind != SCRIPT_EXPR_FIELD || !f->count) return false;
            int64_t val = expr_int(r, f->items[0], &ok);
            if (strstr(f->name, "onoff")) v->u.l.l_onoff = (int)val;
            else if (strstr(f->name, "linger")) v->u.l.l_linger = (int)val;
            else return false;
        }
        v->len = sizeof v->u.l;
        return ok;
    }
    v->u.i = (int)expr_int(r, e, &ok);
    v->len = sizeof v->u.i;
    return ok;
}

/* Run one call (or retry the pending one). */
static int64_t do_call(struct runner *r, const struct script_event *ev, struct pending_call *p,
                       bool *ok)
{
    const struct script_syscall *c = &ev->call;
    struct finack_stack *st = r->stack;
    const char *name = call_name(c);
    static const char *const known[] = {"socket", "bind", "listen", "accept", "connect",
                                        "write", "send", "sendto", "read", "recv", "recvfrom",
                                        "close", "shutdown", "setsockopt", "getsockopt",
                                        "fcntl", "poll"};
    bool is_known = false;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(name, known[i])) is_known = true;
    if (!is_known) {
        *ok = false;
        char what[96];
        snprintf(what, sizeof what, "system call %s()", name);
        note_unsupported(r, ev->line, what);
        return 0;
    }
    struct fd_entry *fe = NULL;
    if (strcmp(name, "socket") != 0 && strcmp(name, "poll") != 0) {
        fe = script_fd(r, arg(c, 0));
        if (!fe) return -EBADF;
    }
    bool blocking = fe && !fe->nonblock;

    if (strcmp(name, "socket") == 0) {
        int64_t type = arg(c, 1) ? expr_int(r, arg(c, 1), ok) : SOCK_STREAM;
        int64_t proto = arg(c, 2) && arg(c, 2)->kind != SCRIPT_EXPR_ELLIPSIS
                            ? expr_int(r, arg(c, 2), ok)
                            : 0;
        int h = finack_socket(st, AF_INET, (int)(type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)),
                              (int)proto);
        if (h < 0) return h;
        int fd = new_fd(r, c, h, type & SOCK_NONBLOCK);
        if (fd < 0) finack_close(st, h);
        return fd;
    }
    if (strcmp(name, "bind") == 0) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(SCRIPT_PORT),
                                  .sin_addr.s_addr = htonl(LOCAL_IP)};
        int rc = finack_bind(st, fe->handle, (struct sockaddr *)&sin, sizeof sin);
        if (rc == 0) {
            fe->bound = true;
            r->local_port = SCRIPT_PORT;
            r->local_port_known = true;
        }
        return rc;
    }
    if (strcmp(name, "listen") == 0)
        return finack_listen(st, fe->handle, (int)expr_int(r, arg(c, 1), ok));
    if (strcmp(name, "accept") == 0) {
        int h = finack_accept(st, fe->handle, NULL, NULL);
        if (h == -EAGAIN && blocking) return WOULD_BLOCK;
        if (h < 0) return h;
        int fd = new_fd(r, c, h, false);
        if (fd < 0) finack_close(st, h);
        return fd;
    }
    if (strcmp(name, "connect") == 0) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(SCRIPT_PORT),
                                  .sin_addr.s_addr = htonl(REMOTE_IP)};
        if (p->retry) {
            /* A blocking connect in progress: when writable or failed it
             * returns what connect() says then (0 or the error), which also
             * marks the socket connected, as Linux's inet_wait_for_connect
             * waking in __inet_stream_connect. */
            int ev_mask = finack_socket_events(st, fe->handle);
            if (!(ev_mask & (POLLOUT | POLLERR | POLLHUP))) return WOULD_BLOCK;
            return finack_connect(st, fe->handle, (struct sockaddr *)&sin, sizeof sin);
        }
        r->remote_port = SCRIPT_PORT;
        r->local_port_known = fe->bound; /* else learned from the SYN */
        int rc = finack_connect(st, fe->handle, (struct sockaddr *)&sin, sizeof sin);
        if (rc == -EINPROGRESS && blocking) return WOULD_BLOCK;
        return rc;
    }
    bool is_write = !strcmp(name, "write") || !strcmp(name, "send") || !strcmp(name, "sendto");
    bool is_read = !strcmp(name, "read") || !strcmp(name, "recv") || !strcmp(name, "recvfrom");
    if (is_write || is_read) {
        int64_t len = expr_int(r, arg(c, 2), ok);
        int flags = 0;
        if (strcmp(name, "write") != 0 && strcmp(name, "read") != 0 && arg(c, 3))
            flags = (int)expr_int(r, arg(c, 3), ok);
        if (!*ok || len < 0 || len > (1 << 26)) {
            *ok = false;
            return 0;
        }
        if (flags & MSG_DONTWAIT) blocking = false;
        flags &= ~(MSG_DONTWAIT | MSG_NOSIGNAL);
        uint8_t *buf = calloc(1, (size_t)len + 1);
        if (!buf) return -ENOMEM;
        ssize_t n;
        if (is_write) {
            n = finack_send(st, fe->handle, buf, (size_t)len - p->done, flags);
            if (n >= 0) p->done += (size_t)n;
            if (blocking && ((n >= 0 && p->done < (size_t)len) || n == -EAGAIN)) n = WOULD_BLOCK;
            else if (n >= 0 || (n < 0 && p->done)) n = (ssize_t)p->done;
        } else {
            n = finack_recv(st, fe->handle, buf, (size_t)len, flags);
            if (n == -EAGAIN && blocking) n = WOULD_BLOCK;
        }
        free(buf);
        return n;
    }
    if (strcmp(name, "close") == 0) {
        int rc = finack_close(st, fe->handle);
        fe->open = false;
        return rc;
    }
    if (strcmp(name, "shutdown") == 0)
        return finack_shutdown(st, fe->handle, (int)expr_int(r, arg(c, 1), ok));
    if (strcmp(name, "setsockopt") == 0 || strcmp(name, "getsockopt") == 0) {
        int level = (int)expr_int(r, arg(c, 1), ok);
        int opt = (int)expr_int(r, arg(c, 2), ok);
        if (!*ok) return 0;
        struct sockopt_value v;
        if (!sockopt_value(r, arg(c, 3), &v) && arg(c, 3) &&
            arg(c, 3)->kind != SCRIPT_EXPR_ELLIPSIS) {
            note_unsupported(r, ev->line, "a socket option value finack cannot express");
            *ok = false;
            return 0;
        }
        /* The length as the script gives it: a short one must fail. */
        const struct script_expr *len_arg = arg(c, 4);
        socklen_t len = v.len;
        if (len_arg && len_arg->kind != SCRIPT_EXPR_ELLIPSIS) {
            bool len_ok = true;
            int64_t l = expr_int(r, len_arg, &len_ok);
            if (len_ok && l >= 0 && l <= (int64_t)sizeof v.u) len = (socklen_t)l;
        }
        if (name[0] == 's') return finack_setsockopt(st, fe->handle, level, opt, &v.u, len);
        struct sockopt_value got = {.len = sizeof got.u};
        int rc = finack_getsockopt(st, fe->handle, level, opt, &got.u, &got.len);
        if (rc < 0) return rc;
        const struct script_expr *want = arg(c, 3);
        if (want && want->kind != SCRIPT_EXPR_ELLIPSIS && memcmp(&got.u, &v.u, v.len) != 0) {
            if (v.len == sizeof(int))
                fail_at(r, ev->line, "getsockopt value %d, expected %d", got.u.i, v.u.i);
            else
                fail_at(r, ev->line, "getsockopt value {l_onoff=%d, l_linger=%d}, expected {l_onoff=%d, l_linger=%d}",
                        got.u.l.l_onoff, got.u.l.l_linger, v.u.l.l_onoff, v.u.l.l_linger);
        }
        return rc;
    }
    if (strcmp(name, "fcntl") == 0) {
        int cmd = (int)expr_int(r, arg(c, 1), ok);
        if (cmd == F_GETFL) return O_RDWR | (fe->nonblock ? O_NONBLOCK : 0);
        if (cmd == F_SETFL) {
            fe->nonblock = expr_int(r, arg(c, 2), ok) & O_NONBLOCK;
            return 0;
        }
        *ok = false;
        note_unsupported(r, ev->line, "an fcntl command other than F_GETFL/F_SETFL");
        return 0;
    }
    if (strcmp(name, "poll") == 0) {
        int64_t rc = do_poll(r, c, false, ok);
        if (rc == 0 && *ok) {
            int64_t timeout = expr_int(r, arg(c, 2), ok);
            finack_time_t deadline = p->start + (finack_time_t)timeout * 1000;
            if (timeout != 0 && (timeout < 0 || finack_sim_now(r->sim) < deadline))
                return WOULD_BLOCK;
        }
        return rc;
    }
    return -ENOSYS; /* not reached: every known name is handled above */
}

/* poll([{fd=N, events=E, revents=R}, ...], n, timeout): the number of
 * entries with events; with check, compare each revents with the script. */
static int64_t do_poll(struct runner *r, const struct script_syscall *c, bool check, bool *ok)
{
    const struct script_expr *list = arg(c, 0);
    if (!list || list->kind != SCRIPT_EXPR_LIST) {
        *ok = false;
        note_unsupported(r, r->line, "poll() without a list of pollfds");
        return 0;
    }
    int64_t ready = 0;
    for (size_t i = 0; i < list->count; i++) {
        const struct script_expr *pfd = list->items[i];
        int64_t fd = -1, events = 0, revents_want = 0; /* revents omitted: none */
        for (size_t k = 0; pfd->kind == SCRIPT_EXPR_STRUCT && k < pfd->count; k++) {
            const struct script_expr *f = pfd->items[k];
            if (f->kind != SCRIPT_EXPR_FIELD || !f->count) continue;
            int64_t v = expr_int(r, f->items[0], ok);
            if (!strcmp(f->name, "fd")) fd = v;
            else if (!strcmp(f->name, "events")) events = v;
            else if (!strcmp(f->name, "revents")) revents_want = v;
        }
        int64_t revents;
        if (fd < 0 || fd >= MAX_FDS || !r->fds[fd].open) {
            revents = POLLNVAL;
        } else {
            int got = finack_socket_events(r->stack, r->fds[fd].handle);
            revents = got < 0 ? POLLNVAL : (got & (events | POLLERR | POLLHUP | POLLNVAL));
        }
        if (revents) ready++;
        if (check && revents != revents_want)
            fail(r, "poll: fd %" PRId64 " revents 0x%" PRIx64 ", expected 0x%" PRIx64, fd,
                 revents, revents_want);
    }
    return ready;
}

/* How long a blocking call `S...E` takes (the parser stores E - S). */
static finack_time_t call_duration(const struct script_event *ev)
{
    return ev->time.has_end && ev->time.end > 0 ? (finack_time_t)ev->time.end : 0;
}

static void check_result(struct runner *r, const struct script_event *ev, int64_t rc,
                         finack_time_t start)
{
    const struct script_syscall *c = &ev->call;
    int saved = r->line;
    r->line = ev->line;
    if (!strcmp(c->name, "poll")) {
        bool ok = true;
        do_poll(r, c, true, &ok);
    }
    finack_time_t now = finack_sim_now(r->sim);
    finack_time_t want_end = start + call_duration(ev);
    finack_time_t tol = r->tol;
    char t1[32], t2[32];
    if (!c->ret_any) {
        int64_t ret = rc < 0 ? -1 : rc;
        int err = rc < 0 ? (int)-rc : 0;
        /* As packetdrill: errno is compared only when the script names one. */
        if (ret != c->ret || (c->errno_value && err != c->errno_value)) {
            const char *en = err ? script_errno_name(err) : NULL;
            char got[96], want[96];
            if (err) snprintf(got, sizeof got, "-1 %s (%s)", en ? en : "?", strerror(err));
            else snprintf(got, sizeof got, "%" PRId64, ret);
            if (c->errno_value) snprintf(want, sizeof want, "%" PRId64 " %s", c->ret, c->errno_name);
            else snprintf(want, sizeof want, "%" PRId64, c->ret);
            fail(r, "%s() = %s, expected %s", c->name, got, want);
        }
    }
    if (!r->failed && (now + tol < want_end || now > want_end + tol)) {
        fmt_time(now, t1, sizeof t1);
        fmt_time(want_end, t2, sizeof t2);
        fail(r, "%s() returned at %s, expected at %s", c->name, t1, t2);
    }
    if (!r->failed) verbose(r, "call", "%s() = %" PRId64 "%s%s", c->name, rc < 0 ? -1 : rc,
                            rc < 0 ? " " : "", rc < 0 ? script_errno_name((int)-rc) : "");
    r->line = saved;
}

static void try_pending(struct runner *r)
{
    struct pending_call *p = &r->pending;
    if (!p->active || r->failed) return;
    bool ok = true;
    int64_t rc = do_call(r, p->ev, p, &ok);
    if (rc == WOULD_BLOCK) return;
    p->active = false;
    if (!ok) return;
    check_result(r, p->ev, rc, p->start);
}

/* The pending call must end before the next call starts; it may take until
 * its own end time plus the tolerance. */
static void finish_pending(struct runner *r)
{
    struct pending_call *p = &r->pending;
    if (!p->active) return;
    finack_time_t limit = p->start + call_duration(p->ev) +
                          r->tol;
    while (p->active && !r->failed && step_until(r, limit)) {
    }
    if (p->active && !r->failed) {
        char t[32];
        fmt_time(limit - r->tol, t, sizeof t);
        fail_at(r, p->ev->line, "%s() still blocked at %s", p->ev->call.name, t);
    }
}

static void run_syscall(struct runner *r, const struct script_event *ev, finack_time_t at)
{
    if (r->pending.active) {
        /* One call at a time: this one starts when the blocked one ends. */
        finish_pending(r);
        if (finack_sim_now(r->sim) > at) at = finack_sim_now(r->sim);
    }
    if (r->failed) return;
    advance(r, at, false);
    if (r->failed) return;
    r->pending = (struct pending_call){.active = true, .ev = ev, .start = at};
    bool ok = true;
    int64_t rc = do_call(r, ev, &r->pending, &ok);
    if (!ok) {
        r->pending.active = false;
        if (!r->unsupported_line) note_unsupported(r, ev->line, "arguments finack cannot run");
        return;
    }
    if (rc == WOULD_BLOCK) {
        r->pending.retry = true;
        verbose(r, "block", "%s() blocks", ev->call.name);
        return;
    }
    r->pending.active = false;
    check_result(r, ev, rc, at);
}

/* ---- The run ---------------------------------------------------------------------- */

static bool no_stray_packets(struct runner *r)
{
    if (!r->q_count) return true;
    struct actual a;
    char gtext[256], at[32];
    if (!parse_captured(r, queue_peek(r), &a)) return false;
    describe_actual(r, &a, gtext, sizeof gtext);
    fmt_time(queue_peek(r)->t, at, sizeof at);
    fail(r, "the stack sent %s at %s, which the script does not expect here", gtext, at);
    return false;
}

static finack_time_t event_time(struct runner *r, const struct script_event *ev)
{
    switch (ev->time.kind) {
    case SCRIPT_TIME_ABSOLUTE: return (finack_time_t)ev->time.start;
    case SCRIPT_TIME_RELATIVE: {
        int64_t t = (int64_t)r->last_time + ev->time.start;
        return t < 0 ? 0 : (finack_time_t)t;
    }
    case SCRIPT_TIME_ANY:
    default: return finack_sim_now(r->sim);
    }
}

static void on_state(void *ctx, const struct finack_state_event *ev)
{
    struct runner *r = ctx;
    if (ev->raddr != REMOTE_IP) return;
    r->conn_state = ev->to;
    verbose(r, "state", "  %s -> %s", ev->from, ev->to);
}

static int setup(struct runner *r)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = "script";
    int rc = finack_sim_create(&r->sim, r->o->seed);
    if (rc < 0) return rc;
    cfg.secret[0] = finack_sim_random(r->sim) | 1;
    cfg.secret[1] = finack_sim_random(r->sim);
    rc = finack_stack_create(&r->stack, &cfg);
    if (rc < 0) return rc;
    struct finack_sim_link_config lc;
    finack_sim_link_config_init(&lc);
    lc.a_to_b.latency = 0;
    lc.b_to_a.latency = 0;
    finack_stack_on_state_change(r->stack, on_state, r);
    rc = finack_sim_link_create(r->sim, &lc, &r->link);
    if (rc < 0) return rc;
    rc = finack_stack_add_interface(r->stack, finack_sim_link_end(r->link, FINACK_SIM_A), LOCAL_IP,
                                    0);
    if (rc < 0) return rc;
    rc = finack_sim_link_attach(r->link, FINACK_SIM_A, r->stack);
    if (rc < 0) return rc;
    rc = finack_sim_link_set_receiver(r->link, FINACK_SIM_B, on_outbound, r);
    if (rc < 0) return rc;
    if (r->o->trace_path) {
        r->trace = fopen(r->o->trace_path, "w");
        if (!r->trace) return -errno;
    }
    if (r->o->pcap_path) {
        rc = finack_pcap_open_file(&r->pcap, r->o->pcap_path);
        if (rc < 0) return rc;
        finack_sim_link_capture(r->link, FINACK_SIM_A, r->pcap);
    }
    r->remote_port = REMOTE_EPHEMERAL_PORT;
    r->local_port = SCRIPT_PORT;
    return 0;
}

static void teardown(struct runner *r)
{
    /* What closing the sockets does is not the script's: not traced, not
     * shown under the last line in --verbose. */
    if (r->trace) fclose(r->trace);
    r->trace = NULL;
    r->quiet = true;
    for (int fd = 0; fd < MAX_FDS; fd++)
        if (r->fds[fd].open) finack_close(r->stack, r->fds[fd].handle);
    if (r->sim) finack_sim_destroy(r->sim);
    if (r->stack) finack_stack_destroy(r->stack);
    if (r->pcap) finack_pcap_close(r->pcap);
    while (r->q_count) queue_pop(r);
    free(r->queue);
}

void script_options_init(struct script_options *o)
{
    memset(o, 0, sizeof *o);
    o->tolerance = 4000;
    o->out = stdout;
    o->seed = 1;
    o->strict = true;
}

enum script_result script_run(const struct script *s, const struct script_options *opts, char *why,
                              size_t why_len)
{
    struct script_options o = *opts;
    if (s->tolerance >= 0) o.tolerance = s->tolerance;
    struct runner r = {.s = s, .o = &o, .why = why, .why_len = why_len, .result = SCRIPT_PASS};
    if (why_len) why[0] = '\0';
    int rc = setup(&r);
    if (rc < 0) {
        snprintf(why, why_len, "cannot set up the simulator: %s", strerror(-rc));
        teardown(&r);
        return SCRIPT_FAIL;
    }
    for (size_t i = 0; i < s->count && !r.failed; i++) {
        const struct script_event *ev = &s->events[i];
        r.line = ev->line;
        if (ev->kind == SCRIPT_EVENT_SHELL) {
            verbose(&r, "skip", "not run (tunes a kernel): %s", ev->text);
            continue;
        }
        if (ev->kind == SCRIPT_EVENT_CODE) {
            note_unsupported(&r, ev->line, "%{ }% code block");
            continue;
        }
        if (ev->kind == SCRIPT_EVENT_UNSUPPORTED) {
            note_unsupported(&r, ev->line, ev->text ? ev->text : "construct");
            break;
        }
        finack_time_t at = event_time(&r, ev);
        /* packetdrill's tolerance: tolerance_usecs, or 12.5% of the time
         * since the previous event if that is more. */
        r.tol = (finack_time_t)o.tolerance;
        if (at > r.last_time && (at - r.last_time) / 8 > r.tol) r.tol = (at - r.last_time) / 8;
        if (ev->kind == SCRIPT_EVENT_PACKET && ev->packet.outbound) {
            expect_outbound(&r, ev, at);
        } else if (ev->kind == SCRIPT_EVENT_PACKET) {
            advance(&r, at, false);
            if (r.failed || (o.strict && !no_stray_packets(&r))) break;
            char text[256];
            describe_script_packet(&ev->packet, text, sizeof text);
            verbose(&r, "in", "%s", text);
            inject(&r, &ev->packet);
            advance(&r, at, false);
        } else {
            advance(&r, at, false);
            if (r.failed || (o.strict && !no_stray_packets(&r))) break;
            run_syscall(&r, ev, at);
            if (r.unsupported_line && !r.pending.active && r.unsupported_line == ev->line) break;
        }
        /* Relative times count from when this event happened (packetdrill
         * takes the time the next event is picked up). */
        r.last_time = finack_sim_now(r.sim);
    }
    if (!r.failed && !r.unsupported_line) finish_pending(&r);
    if (!r.failed && !r.unsupported_line && o.strict) no_stray_packets(&r);
    if (o.final_state && o.final_state_len)
        snprintf(o.final_state, o.final_state_len, "%s", r.conn_state ? r.conn_state : "");
    enum script_result result = r.result;
    if (!r.failed && r.unsupported_line) {
        result = SCRIPT_UNSUPPORTED;
        snprintf(why, why_len, "line %d: %s is not supported", r.unsupported_line,
                 r.unsupported_what);
    }
    if (result != SCRIPT_PASS) {
        bool was_verbose = o.verbose;
        o.verbose = false; /* the verdict line says it already */
        verbose(&r, result == SCRIPT_FAIL ? "fail" : "unsupported", "%s", why);
        o.verbose = was_verbose;
    }
    teardown(&r);
    return result;
}
