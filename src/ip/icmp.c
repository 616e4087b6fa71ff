/* ICMPv4 (RFC 792, RFC 1122 §3.2.2): echo, errors in both directions. */
#include <errno.h>
#include <string.h>

#include "ip/ip.h"
#include "stack.h"

/* RFC 1812 §4.3.2.3 asks for as much of the offending packet as fits in 576
 * bytes; Linux quotes that much too. */
#define ICMP_ERROR_MAX_TOTAL 576

int icmp_send_echo(struct finack_stack *stack, uint32_t dst, uint8_t type, uint16_t id,
                   uint16_t seq, const uint8_t *data, size_t len, finack_time_t now)
{
    struct icmp_message msg = {.type = type, .id = id, .seq = seq, .payload = data,
                               .payload_len = len};
    int n = wire_icmp_emit(ip_tx_payload(stack), ip_tx_payload_cap(stack), &msg);
    if (n < 0) return n;
    int err = ip_output(stack, 0, dst, IPPROTO_ICMP_, (size_t)n, false, now);
    if (err) return err;
    stack_count(stack, FINACK_CTR_ICMP_OUT_MSGS);
    stack_count(stack, type == ICMP_ECHO_REQUEST ? FINACK_CTR_ICMP_OUT_ECHOS
                                                 : FINACK_CTR_ICMP_OUT_ECHO_REPS);
    return 0;
}

static bool take_error_token(struct finack_stack *stack, finack_time_t now)
{
    struct icmp_state *s = &stack->icmp;
    uint64_t elapsed = now - s->last_refill;
    uint64_t earned = elapsed * ICMP_ERRORS_PER_SEC / FINACK_SEC(1);
    if (earned) {
        uint64_t tokens = s->tokens + earned;
        s->tokens = tokens > ICMP_ERRORS_BURST ? ICMP_ERRORS_BURST : (uint32_t)tokens;
        s->last_refill = now;
    }
    if (!s->tokens) return false;
    s->tokens--;
    return true;
}

static bool is_icmp_error_type(uint8_t type)
{
    return type != ICMP_ECHO_REQUEST && type != ICMP_ECHO_REPLY && type != 13 && type != 14 &&
           type != 15 && type != 16 && type != 17 && type != 18;
}

/* RFC 1122 §3.2.2: never about an ICMP error, a non-first fragment, or a
 * packet whose source does not name a single host. */
static bool may_send_error_about(const struct ipv4_header *ip)
{
    if (ipv4_is_martian_source(ip->src)) return false;
    if (ip->frag & IPV4_FRAG_OFFSET_MASK) return false;
    if (ip->protocol == IPPROTO_ICMP_) {
        if (ip->payload_len < 1 || is_icmp_error_type(ip->payload[0])) return false;
    }
    return true;
}

void icmp_send_error(struct finack_stack *stack, const struct ipv4_header *ip, uint8_t type,
                     uint8_t code, uint32_t rest, finack_time_t now)
{
    if (!may_send_error_about(ip) || !take_error_token(stack, now)) return;
    /* The quote is the original header and payload, contiguous in the
     * received packet. */
    const uint8_t *original = ip->payload - ip->header_len;
    size_t quote = ip->header_len + ip->payload_len;
    size_t room = ICMP_ERROR_MAX_TOTAL - IPV4_HEADER_MIN - ICMP_HEADER_LEN;
    if (quote > room) quote = room;
    struct icmp_message msg = {.type = type, .code = code, .rest = rest,
                               .payload = original, .payload_len = quote};
    int n = wire_icmp_emit(ip_tx_payload(stack), ip_tx_payload_cap(stack), &msg);
    if (n < 0) return;
    if (ip_output(stack, ip->dst, ip->src, IPPROTO_ICMP_, (size_t)n, false, now)) return;
    stack_count(stack, FINACK_CTR_ICMP_OUT_MSGS);
    if (type == ICMP_DEST_UNREACH) stack_count(stack, FINACK_CTR_ICMP_OUT_DEST_UNREACHS);
}

static enum finack_drop_reason deliver_error(struct finack_stack *stack,
                                             const struct icmp_message *msg, finack_time_t now)
{
    struct icmp_quote quote;
    if (wire_icmp_parse_quote(msg->payload, msg->payload_len, &quote) != FINACK_DROP_NONE)
        return stack_drop(stack, FINACK_DROP_ICMP_ERROR_BAD_QUOTE);
    /* Only errors about packets we could have sent. */
    if (!ip_is_local_address(stack, quote.src))
        return stack_drop(stack, FINACK_DROP_ICMP_ERROR_BAD_QUOTE);
    const struct ip_protocol *proto =
        quote.protocol < IP_PROTOCOL_SLOTS ? &stack->protocols[quote.protocol] : NULL;
    if (!proto || !proto->icmp_error) return stack_drop(stack, FINACK_DROP_ICMP_ERROR_NO_TRANSPORT);
    proto->icmp_error(stack, msg, &quote, now);
    return FINACK_DROP_NONE;
}

static enum finack_drop_reason echo_reply_to(struct finack_stack *stack,
                                             const struct ipv4_header *ip,
                                             const struct icmp_message *msg, finack_time_t now)
{
    /* Copy: the request lives in the caller's buffer, the reply is built in
     * the stack's transmit buffer, and the two must not alias. */
    struct icmp_message reply = {.type = ICMP_ECHO_REPLY, .id = msg->id, .seq = msg->seq,
                                 .payload = msg->payload, .payload_len = msg->payload_len};
    int n = wire_icmp_emit(ip_tx_payload(stack), ip_tx_payload_cap(stack), &reply);
    if (n < 0) return stack_drop(stack, FINACK_DROP_OUT_TOO_BIG);
    if (ip_output(stack, ip->dst, ip->src, IPPROTO_ICMP_, (size_t)n, false, now) == 0) {
        stack_count(stack, FINACK_CTR_ICMP_OUT_MSGS);
        stack_count(stack, FINACK_CTR_ICMP_OUT_ECHO_REPS);
    }
    return FINACK_DROP_NONE;
}

enum finack_drop_reason icmp_input(struct finack_stack *stack, const struct ipv4_header *ip,
                                   finack_time_t now)
{
    struct icmp_message msg;
    enum finack_drop_reason r = wire_icmp_parse(ip->payload, ip->payload_len, true, &msg);
    if (r != FINACK_DROP_NONE) return stack_drop(stack, r);
    stack_count(stack, FINACK_CTR_ICMP_IN_MSGS);
    switch (msg.type) {
    case ICMP_ECHO_REQUEST:
        stack_count(stack, FINACK_CTR_ICMP_IN_ECHOS);
        return echo_reply_to(stack, ip, &msg, now);
    case ICMP_ECHO_REPLY:
        stack_count(stack, FINACK_CTR_ICMP_IN_ECHO_REPS);
        if (stack->on_echo_reply)
            stack->on_echo_reply(stack->on_echo_reply_ctx, ip->src, msg.id, msg.seq, msg.payload,
                                 msg.payload_len, now);
        return FINACK_DROP_NONE;
    case ICMP_DEST_UNREACH:
        stack_count(stack, FINACK_CTR_ICMP_IN_DEST_UNREACHS);
        return deliver_error(stack, &msg, now);
    case ICMP_TIME_EXCEEDED:
        stack_count(stack, FINACK_CTR_ICMP_IN_TIME_EXCDS);
        return deliver_error(stack, &msg, now);
    default:
        return stack_drop(stack, FINACK_DROP_ICMP_UNHANDLED_TYPE);
    }
}
