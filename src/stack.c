/* The stack object and its drive: input, poll, counters. */
#include "stack.h"

#include "socket/socket.h"
#include "tcp/tcp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char *const drop_names[] = {
#define FINACK_X_NAME(name, text) #name,
    FINACK_DROP_REASONS(FINACK_X_NAME)
#undef FINACK_X_NAME
};
static const char *const drop_texts[] = {
#define FINACK_X_TEXT(name, text) text,
    FINACK_DROP_REASONS(FINACK_X_TEXT)
#undef FINACK_X_TEXT
};
static const char *const counter_names[] = {
#define FINACK_X_NAME(name, nstat, text) nstat,
    FINACK_COUNTERS(FINACK_X_NAME)
#undef FINACK_X_NAME
};
static const char *const counter_texts[] = {
#define FINACK_X_TEXT(name, nstat, text) text,
    FINACK_COUNTERS(FINACK_X_TEXT)
#undef FINACK_X_TEXT
};

const char *finack_drop_reason_name(enum finack_drop_reason reason)
{
    return (unsigned)reason < FINACK_DROP__COUNT ? drop_names[reason] : "UNKNOWN";
}

const char *finack_drop_reason_text(enum finack_drop_reason reason)
{
    return (unsigned)reason < FINACK_DROP__COUNT ? drop_texts[reason] : "unknown drop reason";
}

const char *finack_counter_name(enum finack_counter counter)
{
    return (unsigned)counter < FINACK_CTR__COUNT ? counter_names[counter] : "Unknown";
}

const char *finack_counter_text(enum finack_counter counter)
{
    return (unsigned)counter < FINACK_CTR__COUNT ? counter_texts[counter] : "unknown counter";
}

void finack_stack_config_init(struct finack_stack_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->default_ttl = 64;
}

static int draw_secret(uint64_t secret[2])
{
    size_t got = 0;
    uint8_t *p = (uint8_t *)secret;
    while (got < 2 * sizeof(uint64_t)) {
        ssize_t n = getrandom(p + got, 2 * sizeof(uint64_t) - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        got += (size_t)n;
    }
    return 0;
}

int finack_stack_create(struct finack_stack **out, const struct finack_stack_config *cfg)
{
    struct finack_stack_config defaults;
    if (!out) return -EINVAL;
    if (!cfg) {
        finack_stack_config_init(&defaults);
        cfg = &defaults;
    }
    struct finack_stack *stack = calloc(1, sizeof *stack);
    if (!stack) return -ENOMEM;
    snprintf(stack->name, sizeof stack->name, "%s", cfg->name ? cfg->name : "finack");
    stack->secret[0] = cfg->secret[0];
    stack->secret[1] = cfg->secret[1];
    if (!stack->secret[0] && !stack->secret[1]) {
        int err = draw_secret(stack->secret);
        if (err) {
            free(stack);
            return err;
        }
    }
    stack->default_ttl = cfg->default_ttl ? cfg->default_ttl : 64;
    stack->no_sack = cfg->no_sack;
    stack->msl = cfg->msl ? cfg->msl : TCP_DEFAULT_MSL;
    stack->next_ip_id = (uint16_t)(stack->secret[0] >> 48);
    timer_wheel_init(&stack->timers, 0);
    stack->icmp.tokens = ICMP_ERRORS_BURST;
    int err = tcp_stack_init(stack);
    if (err) {
        finack_stack_destroy(stack);
        return err;
    }
    *out = stack;
    return 0;
}

void finack_stack_destroy(struct finack_stack *stack)
{
    if (!stack) return;
    socket_table_free(stack);
    tcp_stack_free(stack);
    free(stack);
}

int finack_stack_add_interface(struct finack_stack *stack, struct finack_link *link,
                               uint32_t addr, uint8_t prefix_len)
{
    if (!stack || !link || !link->ops || !link->ops->transmit || prefix_len > 32 || addr == 0)
        return -EINVAL;
    if (link->mtu < 68) return -EINVAL; /* RFC 791: every link carries 68 bytes */
    if (ip_is_local_address(stack, addr)) return -EADDRINUSE;
    if (stack->iface_count == STACK_MAX_IFACES) return -ENOSPC;
    struct stack_iface *iface = &stack->ifaces[stack->iface_count++];
    iface->link = link;
    iface->addr = addr;
    iface->prefix_len = prefix_len;
    iface->netmask = prefix_len ? ~UINT32_C(0) << (32 - prefix_len) : 0;
    return 0;
}

enum finack_drop_reason finack_stack_input(struct finack_stack *stack, struct finack_link *link,
                                           const uint8_t *packet, size_t len, finack_time_t now)
{
    stack_set_now(stack, now);
    return ip_input(stack, link, packet, len, stack->now);
}

finack_time_t finack_stack_poll(struct finack_stack *stack, finack_time_t now)
{
    stack_set_now(stack, now);
    timer_wheel_advance(&stack->timers, stack->now);
    return finack_stack_next_deadline(stack);
}

finack_time_t finack_stack_next_deadline(const struct finack_stack *stack)
{
    uint64_t next = timer_wheel_next(&stack->timers);
    return next == UINT64_MAX ? FINACK_TIME_NEVER : next;
}

uint64_t finack_stack_counter(const struct finack_stack *stack, enum finack_counter counter)
{
    return (unsigned)counter < FINACK_CTR__COUNT ? stack->counters[counter] : 0;
}

uint64_t finack_stack_drops(const struct finack_stack *stack, enum finack_drop_reason reason)
{
    return (unsigned)reason < FINACK_DROP__COUNT ? stack->drops[reason] : 0;
}

void finack_stack_on_echo_reply(struct finack_stack *stack, finack_echo_reply_fn fn, void *ctx)
{
    stack->on_echo_reply = fn;
    stack->on_echo_reply_ctx = ctx;
}

int finack_stack_ping(struct finack_stack *stack, uint32_t dst, uint16_t id, uint16_t seq,
                      const uint8_t *data, size_t len, finack_time_t now)
{
    if (!stack || (len && !data)) return -EINVAL;
    stack_set_now(stack, now);
    return icmp_send_echo(stack, dst, ICMP_ECHO_REQUEST, id, seq, data, len, stack->now);
}

void finack_stack_on_state_change(struct finack_stack *stack, finack_state_fn fn, void *ctx)
{
    stack->on_state_event = fn;
    stack->on_state_event_ctx = ctx;
}
