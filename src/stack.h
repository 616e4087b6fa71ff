/* The stack object: what every layer of one finack instance shares. Private
 * to the library; applications see only the opaque struct finack_stack. */
#ifndef FINACK_STACK_H
#define FINACK_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finack/finack.h"
#include "finack/trace.h"
#include "ip/ip.h"
#include "socket/socket.h"
#include "util/timer_wheel.h"

#define STACK_MAX_IFACES 8
/* Room for the largest IPv4 packet, so output never needs to allocate. */
#define STACK_TX_BUFFER 65536

struct tcp_stack;
struct tcp_conn;
struct tcp_state_change;
struct tcp_tuple;

struct stack_iface {
    struct finack_link *link;
    uint32_t addr, netmask;
    uint8_t prefix_len;
};

struct finack_stack {
    char name[32];
    uint64_t secret[2];
    uint8_t default_ttl;
    bool no_sack;          /* finack_stack_config.no_sack */
    finack_time_t msl;     /* finack_stack_config.msl, default applied */
    uint16_t next_ip_id;

    struct stack_iface ifaces[STACK_MAX_IFACES];
    unsigned iface_count;

    struct timer_wheel timers;
    finack_time_t now;           /* time of the latest input or poll */

    struct ip_protocol protocols[IP_PROTOCOL_SLOTS];
    struct icmp_state icmp;

    struct tcp_stack *tcp;
    struct socket_table sockets;
    /* Observers (traces, tests): every TCP state change. */
    void (*on_state_change)(void *ctx, const struct tcp_state_change *change);
    void *on_state_change_ctx;

    finack_state_fn on_state_event;
    void *on_state_event_ctx;

    /* The trace callback (finack_stack_set_trace), NULL when off: every
     * reporting site tests it first and does nothing else without it. */
    finack_trace_fn trace_fn;
    void *trace_ctx;
    /* The connection TCP is working on (the segment being processed or
     * sent), so that a drop reported under it carries its 4-tuple; NULL
     * outside TCP. Set only while tracing. */
    const struct tcp_tuple *trace_tuple;

    finack_echo_reply_fn on_echo_reply;
    void *on_echo_reply_ctx;

    uint64_t counters[FINACK_CTR__COUNT];
    uint64_t drops[FINACK_DROP__COUNT];

    uint8_t tx[STACK_TX_BUFFER];
};

static inline void stack_count(struct finack_stack *stack, enum finack_counter counter)
{
    stack->counters[counter]++;
}

/* Trace reporters (src/trace.c), called only when stack->trace_fn is set. */
void stack_trace_state(struct finack_stack *stack, const struct tcp_state_change *change);
/* A TCP segment of len bytes (header and payload) at tcp, for the
 * connection tuple (local-remote); wscale: the shift its window field takes
 * (0 if none applies or none is known). */
void stack_trace_segment(struct finack_stack *stack, const struct tcp_tuple *tuple,
                         const uint8_t *tcp, size_t len, bool out, uint8_t wscale,
                         bool retransmit);
void stack_trace_drop(struct finack_stack *stack, enum finack_drop_reason reason);
void stack_trace_timer(struct finack_stack *stack, const struct tcp_tuple *tuple,
                       const char *name);

/* Count a drop under its reason (and trace it, under stack->trace_tuple);
 * returns the reason so callers can write
 * `return stack_drop(stack, FINACK_DROP_X);`. */
static inline enum finack_drop_reason stack_drop(struct finack_stack *stack,
                                                 enum finack_drop_reason reason)
{
    stack->drops[reason]++;
    if (stack->trace_fn) stack_trace_drop(stack, reason);
    return reason;
}

/* Move the stack's notion of time forward (never back). */
static inline void stack_set_now(struct finack_stack *stack, finack_time_t now)
{
    if (now > stack->now) stack->now = now;
}

#endif
