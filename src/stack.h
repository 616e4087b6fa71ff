/* The stack object: what every layer of one finack instance shares. Private
 * to the library; applications see only the opaque struct finack_stack. */
#ifndef FINACK_STACK_H
#define FINACK_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include "finack/finack.h"
#include "ip/ip.h"
#include "socket/socket.h"
#include "util/timer_wheel.h"

#define STACK_MAX_IFACES 8
/* Room for the largest IPv4 packet, so output never needs to allocate. */
#define STACK_TX_BUFFER 65536

struct tcp_stack;
struct tcp_conn;
struct tcp_state_change;

struct stack_iface {
    struct finack_link *link;
    uint32_t addr, netmask;
    uint8_t prefix_len;
};

struct finack_stack {
    char name[32];
    uint64_t secret[2];
    uint8_t default_ttl;
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

/* Count a drop under its reason; returns the reason so callers can write
 * `return stack_drop(stack, FINACK_DROP_X);`. */
static inline enum finack_drop_reason stack_drop(struct finack_stack *stack,
                                                 enum finack_drop_reason reason)
{
    stack->drops[reason]++;
    return reason;
}

/* Move the stack's notion of time forward (never back). */
static inline void stack_set_now(struct finack_stack *stack, finack_time_t now)
{
    if (now > stack->now) stack->now = now;
}

#endif
