/* IPv4 input and output, routing to a link, and ICMP. The transports
 * register a handler per protocol number; ip/ never knows what is above it. */
#ifndef FINACK_IP_IP_H
#define FINACK_IP_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finack/finack.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

struct finack_stack;

/* Handlers a transport registers for its protocol number. */
struct ip_protocol {
    /* A packet for this protocol, addressed to us and valid at the IP layer.
     * Returns FINACK_DROP_NONE or the reason (already counted by the handler
     * through stack_drop). */
    enum finack_drop_reason (*input)(struct finack_stack *stack, const struct ipv4_header *ip,
                                     finack_time_t now);
    /* An ICMP error quoting a packet this protocol sent. */
    void (*icmp_error)(struct finack_stack *stack, const struct icmp_message *icmp,
                       const struct icmp_quote *quote, finack_time_t now);
};

/* Only the protocols finack may carry get a slot; the table stays small. */
#define IP_PROTOCOL_SLOTS 32

/* Token bucket for ICMP errors we send (RFC 1812 §4.3.2.8, as Linux's
 * icmp_msgs_per_sec / icmp_msgs_burst). */
struct icmp_state {
    uint32_t tokens;
    finack_time_t last_refill;
};
#define ICMP_ERRORS_PER_SEC 1000
#define ICMP_ERRORS_BURST 50

int ip_register_protocol(struct finack_stack *stack, uint8_t protocol,
                         const struct ip_protocol *handler);

enum finack_drop_reason ip_input(struct finack_stack *stack, struct finack_link *link,
                                 const uint8_t *packet, size_t len, finack_time_t now);

/* Output goes through the stack's one transmit buffer: the transport writes
 * its header and data at ip_tx_payload() (at most ip_tx_payload_cap()
 * bytes), then ip_output() puts the IPv4 header in front and hands the
 * packet to the link. src 0 picks the outgoing interface's address. */
uint8_t *ip_tx_payload(struct finack_stack *stack);
size_t ip_tx_payload_cap(const struct finack_stack *stack);
int ip_output(struct finack_stack *stack, uint32_t src, uint32_t dst, uint8_t protocol,
              size_t payload_len, bool dont_fragment, finack_time_t now);

/* The interface address used to reach dst (0 if no route) and its MTU. */
uint32_t ip_source_for(const struct finack_stack *stack, uint32_t dst);
uint32_t ip_route_mtu(const struct finack_stack *stack, uint32_t dst);
bool ip_is_local_address(const struct finack_stack *stack, uint32_t addr);

/* ICMP (ip/icmp.c). */
enum finack_drop_reason icmp_input(struct finack_stack *stack, const struct ipv4_header *ip,
                                   finack_time_t now);
/* Send an ICMP error of type/code about the packet `ip` (quoting its header
 * and the start of its payload), unless RFC 1122 §3.2.2 forbids it or the
 * rate limit says no. */
void icmp_send_error(struct finack_stack *stack, const struct ipv4_header *ip, uint8_t type,
                     uint8_t code, uint32_t rest, finack_time_t now);
int icmp_send_echo(struct finack_stack *stack, uint32_t dst, uint8_t type, uint16_t id,
                   uint16_t seq, const uint8_t *data, size_t len, finack_time_t now);

#endif
