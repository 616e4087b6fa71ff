/* ICMPv4 (RFC 792): parse and emit messages, read the quote in an error. */
#include "wire/icmp.h"

#include <errno.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

/* The second word is kept both raw (rest) and split in two halves (id, seq)
 * whatever the type, so that parse then emit gives back the same bytes. */
enum finack_drop_reason wire_icmp_parse(const uint8_t *buf, size_t len, bool verify_checksum,
                                        struct icmp_message *out)
{
    if (len < ICMP_HEADER_LEN) return FINACK_DROP_ICMP_TRUNCATED;
    /* RFC 792: the checksum covers the whole ICMP message. */
    if (verify_checksum && csum_compute(buf, len) != 0) return FINACK_DROP_ICMP_BAD_CHECKSUM;
    out->type = buf[0];
    out->code = buf[1];
    out->checksum = get_be16(buf + 2);
    out->rest = get_be32(buf + 4);
    out->id = (uint16_t)(out->rest >> 16);
    out->seq = (uint16_t)out->rest;
    out->payload = buf + ICMP_HEADER_LEN;
    out->payload_len = len - ICMP_HEADER_LEN;
    return FINACK_DROP_NONE;
}

static bool is_echo(uint8_t type)
{
    return type == ICMP_ECHO_REQUEST || type == ICMP_ECHO_REPLY;
}

/* As with TCP, a NULL payload with payload_len > 0 means the payload is
 * already in place after the header. Returns -EMSGSIZE for a message longer
 * than 65535 bytes, which no IPv4 packet can carry. */
int wire_icmp_emit(uint8_t *buf, size_t cap, const struct icmp_message *msg)
{
    if (msg->payload_len > 0xffff - ICMP_HEADER_LEN) return -EMSGSIZE;
    size_t len = ICMP_HEADER_LEN + msg->payload_len;
    if (len > cap) return -ENOSPC;
    if (msg->payload && msg->payload_len && msg->payload != buf + ICMP_HEADER_LEN)
        memmove(buf + ICMP_HEADER_LEN, msg->payload, msg->payload_len);
    buf[0] = msg->type;
    buf[1] = msg->code;
    put_be16(buf + 2, 0);
    if (is_echo(msg->type)) {
        put_be16(buf + 4, msg->id);
        put_be16(buf + 6, msg->seq);
    } else {
        put_be32(buf + 4, msg->rest);
    }
    put_be16(buf + 2, csum_compute(buf, len));
    return (int)len;
}

/* RFC 792 (and RFC 1122 §3.2.2): an error quotes the internet header and at
 * least the first 64 bits of the original datagram's data. Only what is
 * needed to find our connection is checked: a version-4 header that fits in
 * the quote, followed by at least 8 bytes. */
enum finack_drop_reason wire_icmp_parse_quote(const uint8_t *payload, size_t len,
                                              struct icmp_quote *out)
{
    if (len < IPV4_HEADER_MIN) return FINACK_DROP_ICMP_ERROR_BAD_QUOTE;
    if (payload[0] >> 4 != 4) return FINACK_DROP_ICMP_ERROR_BAD_QUOTE;
    size_t header_len = (size_t)(payload[0] & 0x0f) * 4;
    if (header_len < IPV4_HEADER_MIN) return FINACK_DROP_ICMP_ERROR_BAD_QUOTE;
    if (header_len > len || len - header_len < 8) return FINACK_DROP_ICMP_ERROR_BAD_QUOTE;
    out->protocol = payload[9];
    out->src = get_be32(payload + 12);
    out->dst = get_be32(payload + 16);
    out->transport = payload + header_len;
    out->transport_len = len - header_len;
    return FINACK_DROP_NONE;
}
