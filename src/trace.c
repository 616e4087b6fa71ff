/* Traces (include/finack/trace.h): the events the stack reports while a
 * callback is set, and their text forms (tcpdump's flag letters and option
 * spelling, one line of JSON per event, docs/TRACE.md).
 *
 * The reporting functions here run only behind `if (stack->trace_fn)` at
 * each site, so a stack without a callback pays one branch per site. With a
 * callback they fill an event on the C stack and call it: no formatting,
 * no allocation; formatting is the callback's business. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "finack/trace.h"
#include "stack.h"
#include "tcp/tcp.h"
#include "wire/bytes.h"

void finack_stack_set_trace(struct finack_stack *stack, finack_trace_fn fn, void *ctx)
{
    if (!stack) return;
    stack->trace_fn = fn;
    stack->trace_ctx = fn ? ctx : NULL;
}

/* ---- Reporting ------------------------------------------------------------ */

static struct finack_trace_event event_for(const struct finack_stack *stack,
                                           enum finack_trace_kind kind,
                                           const struct tcp_tuple *tuple)
{
    struct finack_trace_event ev = {.t = stack->now, .kind = kind, .host = stack->name};
    if (tuple) {
        ev.laddr = tuple->laddr;
        ev.raddr = tuple->raddr;
        ev.lport = tuple->lport;
        ev.rport = tuple->rport;
    }
    return ev;
}

void stack_trace_state(struct finack_stack *stack, const struct tcp_state_change *ch)
{
    struct finack_trace_event ev = event_for(stack, FINACK_TRACE_STATE, &ch->tuple);
    ev.from = tcp_state_name(ch->from);
    ev.to = tcp_state_name(ch->to);
    stack->trace_fn(stack->trace_ctx, &ev);
}

/* The segment's fields straight from its bytes, the same way for what we
 * send and what we received (which wire_tcp_parse has accepted, so the
 * header is whole). A SYN's window is never scaled (RFC 7323 §2.2). */
void stack_trace_segment(struct finack_stack *stack, const struct tcp_tuple *tuple,
                         const uint8_t *tcp, size_t len, bool out, uint8_t wscale,
                         bool retransmit)
{
    if (len < TCP_HEADER_MIN) return;
    size_t header = (size_t)(tcp[12] >> 4) * 4;
    if (header < TCP_HEADER_MIN || header > len) return;
    struct finack_trace_event ev = event_for(stack, FINACK_TRACE_SEG, tuple);
    ev.out = out;
    ev.seq = get_be32(tcp + 4);
    ev.ack = get_be32(tcp + 8);
    ev.flags = tcp[13];
    ev.win = get_be16(tcp + 14);
    ev.win_scaled = (ev.flags & TCP_FLAG_SYN) ? ev.win : (uint32_t)ev.win << wscale;
    ev.len = (uint32_t)(len - header);
    ev.opts = tcp + TCP_HEADER_MIN;
    ev.opts_len = header - TCP_HEADER_MIN;
    ev.retransmit = out && retransmit;
    stack->trace_fn(stack->trace_ctx, &ev);
}

void stack_trace_drop(struct finack_stack *stack, enum finack_drop_reason reason)
{
    struct finack_trace_event ev = event_for(stack, FINACK_TRACE_DROP, stack->trace_tuple);
    ev.reason = reason;
    stack->trace_fn(stack->trace_ctx, &ev);
}

void stack_trace_timer(struct finack_stack *stack, const struct tcp_tuple *tuple,
                       const char *name)
{
    struct finack_trace_event ev = event_for(stack, FINACK_TRACE_TIMER, tuple);
    ev.timer = name;
    stack->trace_fn(stack->trace_ctx, &ev);
}

/* ---- Text ------------------------------------------------------------------- */

char *finack_trace_flags(uint8_t flags, char *buf)
{
    /* tcpdump's letters, in its order: F S R P A U E C. */
    static const struct {
        uint8_t bit;
        char letter;
    } order[] = {{FINACK_TCP_FIN, 'F'}, {FINACK_TCP_SYN, 'S'}, {FINACK_TCP_RST, 'R'},
                 {FINACK_TCP_PSH, 'P'}, {FINACK_TCP_ACK, 'A'}, {FINACK_TCP_URG, 'U'},
                 {FINACK_TCP_ECE, 'E'}, {FINACK_TCP_CWR, 'C'}};
    char *p = buf;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (flags & order[i].bit) *p++ = order[i].letter;
    *p = '\0';
    return buf;
}

/* An snprintf-like writer: counts what it would write, writes what fits,
 * and keeps the buffer NUL-terminated. */
struct text {
    char *buf;
    size_t size, len;
};

static void text_printf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_printf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *at = t->len < t->size ? t->buf + t->len : NULL;
    size_t room = t->len < t->size ? t->size - t->len : 0;
    int n = vsnprintf(at, room, fmt, ap);
    va_end(ap);
    if (n > 0) t->len += (size_t)n;
}

static void text_char(struct text *t, char c)
{
    if (t->len + 1 < t->size) {
        t->buf[t->len] = c;
        t->buf[t->len + 1] = '\0';
    }
    t->len++;
}

int finack_trace_options(const uint8_t *opts, size_t len, char *buf, size_t size)
{
    struct text t = {buf, size, 0};
    if (size) buf[0] = '\0';
    size_t i = 0;
    while (i < len) {
        if (t.len) text_char(&t, ',');
        uint8_t kind = opts[i];
        if (kind == 0) { /* the rest is padding (RFC 9293 §3.2) */
            text_printf(&t, "eol");
            break;
        }
        if (kind == 1) {
            text_printf(&t, "nop");
            i++;
            continue;
        }
        uint8_t olen = i + 1 < len ? opts[i + 1] : 0;
        if (olen < 2 || olen > len - i) {
            text_printf(&t, "[bad opt]");
            break;
        }
        const uint8_t *o = opts + i;
        if (kind == 2 && olen == 4) {
            text_printf(&t, "mss %u", (unsigned)get_be16(o + 2));
        } else if (kind == 3 && olen == 3) {
            text_printf(&t, "wscale %u", (unsigned)o[2]);
        } else if (kind == 4 && olen == 2) {
            text_printf(&t, "sackOK");
        } else if (kind == 5 && olen >= 10 && (olen - 2) % 8 == 0) {
            text_printf(&t, "sack %u ", (unsigned)(olen - 2) / 8);
            for (size_t b = 2; b < olen; b += 8)
                text_printf(&t, "{%u:%u}", (unsigned)get_be32(o + b),
                            (unsigned)get_be32(o + b + 4));
        } else if (kind == 8 && olen == 10) {
            text_printf(&t, "TS val %u ecr %u", (unsigned)get_be32(o + 2),
                        (unsigned)get_be32(o + 6));
        } else if (kind == 2 || kind == 3 || kind == 4 || kind == 5 || kind == 8) {
            text_printf(&t, "[bad opt]");
            break;
        } else {
            text_printf(&t, "opt-%u", (unsigned)kind);
        }
        i += olen;
    }
    return t.len > (size_t)INT32_MAX ? INT32_MAX : (int)t.len;
}

/* A JSON string with its quotes (RFC 8259 §7): quote, backslash and the
 * control characters escaped; other bytes as they are. */
static void text_json_string(struct text *t, const char *s)
{
    text_char(t, '"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            text_char(t, '\\');
            text_char(t, (char)c);
        } else if (c == '\n') {
            text_printf(t, "\\n");
        } else if (c == '\t') {
            text_printf(t, "\\t");
        } else if (c == '\r') {
            text_printf(t, "\\r");
        } else if (c < 0x20) {
            text_printf(t, "\\u%04x", c);
        } else {
            text_char(t, (char)c);
        }
    }
    text_char(t, '"');
}

static const char *kind_name(enum finack_trace_kind kind)
{
    switch (kind) {
    case FINACK_TRACE_STATE: return "state";
    case FINACK_TRACE_SEG: return "seg";
    case FINACK_TRACE_DROP: return "drop";
    case FINACK_TRACE_TIMER: return "timer";
    }
    return "unknown";
}

int finack_trace_format_json(const struct finack_trace_event *ev, char *buf, size_t size)
{
    struct text t = {buf, size, 0};
    if (size) buf[0] = '\0';
    char la[16], ra[16];
    text_printf(&t, "{\"t_us\":%llu,\"host\":", (unsigned long long)ev->t);
    text_json_string(&t, ev->host);
    text_printf(&t, ",\"conn\":\"%s:%u-%s:%u\",\"ev\":", finack_format_ipv4(ev->laddr, la),
                (unsigned)ev->lport, finack_format_ipv4(ev->raddr, ra), (unsigned)ev->rport);
    text_json_string(&t, kind_name(ev->kind));
    switch (ev->kind) {
    case FINACK_TRACE_STATE:
        text_printf(&t, ",\"from\":");
        text_json_string(&t, ev->from);
        text_printf(&t, ",\"to\":");
        text_json_string(&t, ev->to);
        break;
    case FINACK_TRACE_SEG: {
        char flags[9], opts[512];
        finack_trace_options(ev->opts, ev->opts ? ev->opts_len : 0, opts, sizeof opts);
        text_printf(&t, ",\"dir\":\"%s\",\"flags\":", ev->out ? "out" : "in");
        text_json_string(&t, finack_trace_flags(ev->flags, flags));
        text_printf(&t, ",\"seq\":%u,\"ack\":%u,\"win\":%u,\"win_raw\":%u,\"len\":%u,\"opts\":",
                    (unsigned)ev->seq, (unsigned)ev->ack, (unsigned)ev->win_scaled,
                    (unsigned)ev->win, (unsigned)ev->len);
        text_json_string(&t, opts);
        if (ev->retransmit) text_printf(&t, ",\"rtx\":true");
        break;
    }
    case FINACK_TRACE_DROP:
        text_printf(&t, ",\"reason\":");
        text_json_string(&t, finack_drop_reason_name(ev->reason));
        break;
    case FINACK_TRACE_TIMER:
        text_printf(&t, ",\"timer\":");
        text_json_string(&t, ev->timer);
        break;
    }
    text_printf(&t, "}\n");
    return t.len > (size_t)INT32_MAX ? INT32_MAX : (int)t.len;
}
