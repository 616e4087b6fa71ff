/* IPv4 input (RFC 791, RFC 1122 §3.2.1) and output. */
#include "ip/ip.h"

#include <errno.h>
#include <string.h>

#include "stack.h"

int ip_register_protocol(struct finack_stack *stack, uint8_t protocol,
                         const struct ip_protocol *handler)
{
    if (protocol >= IP_PROTOCOL_SLOTS || protocol == IPPROTO_ICMP_ || !handler) return -EINVAL;
    stack->protocols[protocol] = *handler;
    return 0;
}

bool ip_is_local_address(const struct finack_stack *stack, uint32_t addr)
{
    for (unsigned i = 0; i < stack->iface_count; i++)
        if (stack->ifaces[i].addr == addr) return true;
    return false;
}

/* Longest prefix wins; the first interface is the default route. */
static const struct stack_iface *route(const struct finack_stack *stack, uint32_t dst)
{
    const struct stack_iface *best = NULL;
    for (unsigned i = 0; i < stack->iface_count; i++) {
        const struct stack_iface *iface = &stack->ifaces[i];
        if ((dst & iface->netmask) != (iface->addr & iface->netmask)) continue;
        if (!best || iface->prefix_len > best->prefix_len) best = iface;
    }
    if (!best && stack->iface_count) best = &stack->ifaces[0];
    return best;
}

uint32_t ip_source_for(const struct finack_stack *stack, uint32_t dst)
{
    const struct stack_iface *iface = route(stack, dst);
    return iface ? iface->addr : 0;
}

uint32_t ip_route_mtu(const struct finack_stack *stack, uint32_t dst)
{
    const struct stack_iface *iface = route(stack, dst);
    return iface ? iface->link->mtu : 0;
}

uint8_t *ip_tx_payload(struct finack_stack *stack) { return stack->tx + IPV4_HEADER_MIN; }

size_t ip_tx_payload_cap(const struct finack_stack *stack)
{
    return sizeof stack->tx - IPV4_HEADER_MIN;
}

int ip_output(struct finack_stack *stack, uint32_t src, uint32_t dst, uint8_t protocol,
              size_t payload_len, bool dont_fragment, finack_time_t now)
{
    const struct stack_iface *iface = route(stack, dst);
    if (!iface) {
        stack_drop(stack, FINACK_DROP_OUT_NO_ROUTE);
        stack_count(stack, FINACK_CTR_IP_OUT_DISCARDS);
        return -ENETUNREACH;
    }
    size_t total = IPV4_HEADER_MIN + payload_len;
    if (total > iface->link->mtu || payload_len > ip_tx_payload_cap(stack)) {
        stack_drop(stack, FINACK_DROP_OUT_TOO_BIG);
        stack_count(stack, FINACK_CTR_IP_OUT_DISCARDS);
        return -EMSGSIZE;
    }
    struct ipv4_header h = {
        .total_len = (uint16_t)total,
        .id = stack->next_ip_id++,
        .frag = dont_fragment ? IPV4_FLAG_DF : 0,
        .ttl = stack->default_ttl,
        .protocol = protocol,
        .src = src ? src : iface->addr,
        .dst = dst,
    };
    wire_ipv4_emit(stack->tx, IPV4_HEADER_MIN, &h);
    int err = iface->link->ops->transmit(iface->link, stack->tx, total, now);
    if (err) {
        stack_drop(stack, FINACK_DROP_OUT_LINK_ERROR);
        stack_count(stack, FINACK_CTR_IP_OUT_DISCARDS);
        return err;
    }
    stack_count(stack, FINACK_CTR_IP_OUT_REQUESTS);
    return 0;
}

static enum finack_drop_reason input_drop(struct finack_stack *stack, enum finack_drop_reason r)
{
    stack_count(stack, FINACK_CTR_IP_IN_DISCARDS);
    return stack_drop(stack, r);
}

enum finack_drop_reason ip_input(struct finack_stack *stack, struct finack_link *link,
                                 const uint8_t *packet, size_t len, finack_time_t now)
{
    (void)link; /* weak host model (RFC 1122 §3.3.4.2): any local address on any link */
    stack_count(stack, FINACK_CTR_IP_IN_RECEIVES);
    struct ipv4_header ip;
    enum finack_drop_reason r = wire_ipv4_parse(packet, len, true, &ip);
    if (r != FINACK_DROP_NONE) return input_drop(stack, r);
    if (ipv4_is_martian_source(ip.src)) return input_drop(stack, FINACK_DROP_IP_BAD_SOURCE);
    if (!ip_is_local_address(stack, ip.dst)) return input_drop(stack, FINACK_DROP_IP_NOT_FOR_US);

    if (ip.protocol == IPPROTO_ICMP_) {
        r = icmp_input(stack, &ip, now);
    } else if (ip.protocol < IP_PROTOCOL_SLOTS && stack->protocols[ip.protocol].input) {
        r = stack->protocols[ip.protocol].input(stack, &ip, now);
    } else {
        /* RFC 1122 §3.2.2.1: protocol unreachable. */
        icmp_send_error(stack, &ip, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTOCOL, 0, now);
        return input_drop(stack, FINACK_DROP_IP_UNKNOWN_PROTOCOL);
    }
    if (r == FINACK_DROP_NONE) stack_count(stack, FINACK_CTR_IP_IN_DELIVERS);
    return r;
}
