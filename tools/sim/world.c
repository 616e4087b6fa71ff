/* The stage of the scenarios: two traced stacks on one simulated link, and
 * what the applications on them use (see world.h). */
#include "sim/world.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/ipv4.h"
#include "wire/tcp.h"

static struct sim_event *record(struct sim_world *w)
{
    struct sim_result *r = w->r;
    if (r->count == r->capacity) {
        size_t cap = r->capacity ? 2 * r->capacity : 256;
        struct sim_event *grown = realloc(r->events, cap * sizeof *grown);
        if (!grown) {
            w->error = -ENOMEM;
            return NULL;
        }
        r->events = grown;
        r->capacity = cap;
    }
    struct sim_event *e = &r->events[r->count++];
    memset(e, 0, sizeof *e);
    return e;
}

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static void on_trace(void *ctx, const struct finack_trace_event *ev)
{
    struct sim_trace_ctx *tc = ctx;
    struct sim_event *e = record(tc->w);
    if (!e) return;
    e->t = ev->t;
    e->side = tc->side;
    e->kind = ev->kind;
    e->laddr = ev->laddr;
    e->raddr = ev->raddr;
    e->lport = ev->lport;
    e->rport = ev->rport;
    switch (ev->kind) {
    case FINACK_TRACE_STATE:
        copy_str(e->from, sizeof e->from, ev->from);
        copy_str(e->to, sizeof e->to, ev->to);
        break;
    case FINACK_TRACE_SEG:
        e->out = ev->out;
        e->flags = ev->flags;
        e->seq = ev->seq;
        e->ack = ev->ack;
        e->win = ev->win;
        e->win_scaled = ev->win_scaled;
        e->len = ev->len;
        e->retransmit = ev->retransmit;
        e->opts_len = (uint8_t)(ev->opts_len < sizeof e->opts ? ev->opts_len : sizeof e->opts);
        if (e->opts_len) memcpy(e->opts, ev->opts, e->opts_len);
        break;
    case FINACK_TRACE_DROP:
        e->reason = ev->reason;
        break;
    case FINACK_TRACE_TIMER:
        copy_str(e->timer, sizeof e->timer, ev->timer);
        break;
    }
}

static struct finack_stack *new_stack(const char *name, uint64_t seed)
{
    /* The same secrets as `finack demo` always drew, so its runs keep
     * their numbers. */
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = name;
    cfg.secret[0] = seed * 0x9e3779b97f4a7c15ull + 1;
    cfg.secret[1] = seed ^ 0x5851f42d4c957f2dull;
    struct finack_stack *s = NULL;
    return finack_stack_create(&s, &cfg) == 0 ? s : NULL;
}

int world_open(struct sim_world *w, struct sim_result *r, uint64_t seed,
               const struct finack_sim_link_config *link, struct finack_pcap *capture)
{
    memset(w, 0, sizeof *w);
    w->r = r;
    struct finack_sim_link_config def;
    if (!link) {
        finack_sim_link_config_init(&def);
        def.a_to_b.latency = def.b_to_a.latency = FINACK_MSEC(10);
        link = &def;
    }
    int err = finack_sim_create(&w->sim, seed);
    if (!err) err = finack_sim_link_create(w->sim, link, &w->link);
    if (err) return err;
    static const uint32_t addr[2] = {SIM_LEFT_ADDR, SIM_RIGHT_ADDR};
    for (int side = 0; side < 2; side++) {
        w->stack[side] = new_stack(r->host[side], seed + (uint64_t)side);
        if (!w->stack[side]) return -ENOMEM;
        struct finack_link *end = finack_sim_link_end(w->link, side);
        err = finack_stack_add_interface(w->stack[side], end, addr[side], 24);
        if (!err) err = finack_sim_link_attach(w->link, side, w->stack[side]);
        if (err) return err;
        w->trace_ctx[side] = (struct sim_trace_ctx){w, side};
        finack_stack_set_trace(w->stack[side], on_trace, &w->trace_ctx[side]);
    }
    return capture ? finack_sim_link_capture(w->link, SIM_LEFT, capture) : 0;
}

void world_close(struct sim_world *w)
{
    for (int side = 0; side < 2; side++)
        if (w->stack[side]) finack_stack_set_trace(w->stack[side], NULL, NULL);
    if (w->sim) finack_sim_destroy(w->sim);
    for (int side = 0; side < 2; side++) finack_stack_destroy(w->stack[side]);
    memset(w, 0, sizeof *w);
}

void world_run_until(struct sim_world *w, finack_time_t t) { finack_sim_run_until(w->sim, t); }

void world_run_for(struct sim_world *w, finack_time_t dt)
{
    finack_sim_run_until(w->sim, world_now(w) + dt);
}

bool world_step(struct sim_world *w, finack_time_t limit)
{
    finack_time_t next = finack_sim_next_event(w->sim);
    if (next == FINACK_TIME_NEVER || next > limit) return false;
    finack_sim_step(w->sim);
    finack_sim_run_until(w->sim, world_now(w));
    return true;
}

static void vnote(struct sim_world *w, int side, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void vnote(struct sim_world *w, int side, const char *fmt, va_list ap)
{
    struct sim_event *e = record(w);
    if (!e) return;
    e->t = world_now(w);
    e->side = side;
    e->note = true;
    vsnprintf(e->text, sizeof e->text, fmt, ap);
}

void world_note(struct sim_world *w, int side, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(w, side, fmt, ap);
    va_end(ap);
}

const char *world_errno_name(long negative_errno, char *buf, size_t size)
{
    static const struct {
        int err;
        const char *name;
    } names[] = {
        {EAGAIN, "EAGAIN"},         {EINPROGRESS, "EINPROGRESS"}, {EADDRINUSE, "EADDRINUSE"},
        {EPIPE, "EPIPE"},           {ECONNRESET, "ECONNRESET"},   {ECONNREFUSED, "ECONNREFUSED"},
        {ENOTCONN, "ENOTCONN"},     {ETIMEDOUT, "ETIMEDOUT"},     {EINVAL, "EINVAL"},
        {EISCONN, "EISCONN"},       {EALREADY, "EALREADY"},       {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
        {EBADF, "EBADF"},           {ENOMEM, "ENOMEM"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (-negative_errno == names[i].err) return names[i].name;
    snprintf(buf, size, "%ld", negative_errno);
    return buf;
}

long world_call(struct sim_world *w, int side, long result, const char *fmt, ...)
{
    char call[80], num[24];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call, sizeof call, fmt, ap);
    va_end(ap);
    if (result >= 0) snprintf(num, sizeof num, "%ld", result);
    const char *shown = result >= 0 ? num : world_errno_name(result, num, sizeof num);
    world_note(w, side, "%s = %s", call, shown);
    return result;
}

int world_inject(struct sim_world *w, int side, uint16_t sport, uint16_t dport, uint32_t seq,
                 uint32_t ack, uint8_t flags, uint16_t window)
{
    static const uint32_t addr[2] = {SIM_LEFT_ADDR, SIM_RIGHT_ADDR};
    uint32_t src = addr[side], dst = addr[!side];
    struct tcp_segment seg = {.src_port = sport, .dst_port = dport, .seq = seq, .ack = ack,
                              .flags = flags, .window = window};
    uint8_t buf[IPV4_HEADER_MIN + TCP_HEADER_MAX];
    int n = wire_tcp_emit(buf + IPV4_HEADER_MIN, sizeof buf - IPV4_HEADER_MIN, src, dst, &seg);
    if (n < 0) return n;
    struct ipv4_header ip = {.total_len = (uint16_t)(IPV4_HEADER_MIN + n), .ttl = 64,
                             .frag = IPV4_FLAG_DF, .protocol = IPPROTO_TCP_, .src = src,
                             .dst = dst};
    int err = wire_ipv4_emit(buf, sizeof buf, &ip);
    if (err < 0) return err;
    struct sim_event *e = record(w); /* zeroed, padding too: runs compare bytewise */
    if (e) {
        e->t = world_now(w);
        e->side = side;
        e->kind = FINACK_TRACE_SEG;
        e->laddr = src;
        e->raddr = dst;
        e->lport = sport;
        e->rport = dport;
        e->out = true;
        e->flags = flags;
        e->seq = seq;
        e->ack = ack;
        e->win = window;
        e->win_scaled = window;
        e->injected = true;
    }
    return finack_sim_link_inject(w->link, side, buf, ip.total_len);
}

static struct sockaddr_in sockaddr_of(uint32_t addr, uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(addr)};
    return sa;
}

int world_bind(struct sim_world *w, int side, int fd, uint32_t addr, uint16_t port)
{
    struct sockaddr_in sa = sockaddr_of(addr, port);
    return finack_bind(w->stack[side], fd, (struct sockaddr *)&sa, sizeof sa);
}

int world_connect(struct sim_world *w, int side, int fd, uint32_t addr, uint16_t port)
{
    struct sockaddr_in sa = sockaddr_of(addr, port);
    return finack_connect(w->stack[side], fd, (struct sockaddr *)&sa, sizeof sa);
}

int world_set_int(struct sim_world *w, int side, int fd, int level, int name, int value)
{
    return finack_setsockopt(w->stack[side], fd, level, name, &value, sizeof value);
}

bool world_state_is(struct sim_world *w, int side, int fd, const char *state)
{
    return strcmp(finack_socket_state(w->stack[side], fd), state) == 0;
}
