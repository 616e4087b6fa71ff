/* Traces (include/finack/trace.h): the events the stack reports while a
 * callback is set, and their text forms (tcpdump's flag letters and option
 * spelling, one line of JSON per event, docs/TRACE.md).
 *
 * The reporting functions here run only behind `if (stack->trace_fn)` at
 * each site, so a stack without a callback pays one branch per site. With a
 * callback they fill an event on the C stack and call it: no formatting,
 * no allocation; formatting is the callback's business. */
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
 * and keeps the buffer NUL-terminated. No printf: a trace of a bulk
 * transfer is hundreds of thousands of lines. */
struct text {
    char *buf;
    size_t size, len;
};

static void text_put(struct text *t, const char *s, size_t n)
{
    if (t->len < t->size) {
        size_t room = t->size - 1 - t->len;
        size_t k = n < room ? n : room;
        memcpy(t->buf + t->len, s, k);
        t->buf[t->len + k] = '\0';
    }
    t->len += n;
}

static void text_str(struct text *t, const char *s) { text_put(t, s, strlen(s)); }
static void text_char(struct text *t, char c) { text_put(t, &c, 1); }

static void text_u64(struct text *t, uint64_t v)
{
    char digits[20];
    size_t i = sizeof digits;
    do {
        digits[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    text_put(t, digits + i, sizeof digits - i);
}

static void text_ipv4(struct text *t, uint32_t addr)
{
    for (int shift = 24; shift >= 0; shift -= 8) {
        text_u64(t, (addr >> shift) & 0xff);
        if (shift) text_char(t, '.');
    }
}

static int text_result(const struct text *t)
{
    return t->len > (size_t)INT32_MAX ? INT32_MAX : (int)t->len;
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
            text_str(&t, "eol");
            break;
        }
        if (kind == 1) {
            text_str(&t, "nop");
            i++;
            continue;
        }
        uint8_t olen = i + 1 < len ? opts[i + 1] : 0;
        if (olen < 2 || olen > len - i) {
            text_str(&t, "[bad opt]");
            break;
        }
        const uint8_t *o = opts + i;
        if (kind == 2 && olen == 4) {
            text_str(&t, "mss ");
            text_u64(&t, get_be16(o + 2));
        } else if (kind == 3 && olen == 3) {
            text_str(&t, "wscale ");
            text_u64(&t, o[2]);
        } else if (kind == 4 && olen == 2) {
            text_str(&t, "sackOK");
        } else if (kind == 5 && olen >= 10 && (olen - 2) % 8 == 0) {
            text_str(&t, "sack ");
            text_u64(&t, (olen - 2u) / 8);
            text_char(&t, ' ');
            for (size_t b = 2; b < olen; b += 8) {
                text_char(&t, '{');
                text_u64(&t, get_be32(o + b));
                text_char(&t, ':');
                text_u64(&t, get_be32(o + b + 4));
                text_char(&t, '}');
            }
        } else if (kind == 8 && olen == 10) {
            text_str(&t, "TS val ");
            text_u64(&t, get_be32(o + 2));
            text_str(&t, " ecr ");
            text_u64(&t, get_be32(o + 6));
        } else if (kind == 2 || kind == 3 || kind == 4 || kind == 5 || kind == 8) {
            text_str(&t, "[bad opt]");
            break;
        } else {
            text_str(&t, "opt-");
            text_u64(&t, kind);
        }
        i += olen;
    }
    return text_result(&t);
}

/* A JSON string with its quotes (RFC 8259 §7): quote, backslash and the
 * control characters escaped; other bytes as they are. */
static void text_json_string(struct text *t, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    text_char(t, '"');
    while (s && *s) {
        size_t safe = 0; /* a run that needs no escape goes in one copy */
        while (s[safe] && s[safe] != '"' && s[safe] != '\\' && (unsigned char)s[safe] >= 0x20)
            safe++;
        text_put(t, s, safe);
        s += safe;
        if (!*s) break;
        unsigned char c = (unsigned char)*s++;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            text_put(t, esc, 2);
        } else if (c == '\n') {
            text_put(t, "\\n", 2);
        } else if (c == '\t') {
            text_put(t, "\\t", 2);
        } else if (c == '\r') {
            text_put(t, "\\r", 2);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            text_put(t, esc, 6);
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
    text_str(&t, "{\"t_us\":");
    text_u64(&t, ev->t);
    text_str(&t, ",\"host\":");
    text_json_string(&t, ev->host);
    text_str(&t, ",\"conn\":\"");
    text_ipv4(&t, ev->laddr);
    text_char(&t, ':');
    text_u64(&t, ev->lport);
    text_char(&t, '-');
    text_ipv4(&t, ev->raddr);
    text_char(&t, ':');
    text_u64(&t, ev->rport);
    text_str(&t, "\",\"ev\":");
    text_json_string(&t, kind_name(ev->kind));
    switch (ev->kind) {
    case FINACK_TRACE_STATE:
        text_str(&t, ",\"from\":");
        text_json_string(&t, ev->from);
        text_str(&t, ",\"to\":");
        text_json_string(&t, ev->to);
        break;
    case FINACK_TRACE_SEG: {
        char flags[9], opts[512];
        finack_trace_options(ev->opts, ev->opts ? ev->opts_len : 0, opts, sizeof opts);
        text_str(&t, ev->out ? ",\"dir\":\"out\",\"flags\":" : ",\"dir\":\"in\",\"flags\":");
        text_json_string(&t, finack_trace_flags(ev->flags, flags));
        text_str(&t, ",\"seq\":");
        text_u64(&t, ev->seq);
        text_str(&t, ",\"ack\":");
        text_u64(&t, ev->ack);
        text_str(&t, ",\"win\":");
        text_u64(&t, ev->win_scaled);
        text_str(&t, ",\"win_raw\":");
        text_u64(&t, ev->win);
        text_str(&t, ",\"len\":");
        text_u64(&t, ev->len);
        text_str(&t, ",\"opts\":");
        text_json_string(&t, opts);
        if (ev->retransmit) text_str(&t, ",\"rtx\":true");
        break;
    }
    case FINACK_TRACE_DROP:
        text_str(&t, ",\"reason\":");
        text_json_string(&t, finack_drop_reason_name(ev->reason));
        break;
    case FINACK_TRACE_TIMER:
        text_str(&t, ",\"timer\":");
        text_json_string(&t, ev->timer);
        break;
    }
    text_str(&t, "}\n");
    return text_result(&t);
}
