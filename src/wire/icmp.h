/* ICMPv4 (RFC 792): echo, destination unreachable, time exceeded. */
#ifndef FINACK_WIRE_ICMP_H
#define FINACK_WIRE_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finack/finack.h"

#define ICMP_HEADER_LEN 8

enum icmp_type {
    ICMP_ECHO_REPLY = 0,
    ICMP_DEST_UNREACH = 3,
    ICMP_ECHO_REQUEST = 8,
    ICMP_TIME_EXCEEDED = 11,
};

enum icmp_unreach_code {
    ICMP_UNREACH_NET = 0,
    ICMP_UNREACH_HOST = 1,
    ICMP_UNREACH_PROTOCOL = 2,
    ICMP_UNREACH_PORT = 3,
    ICMP_UNREACH_NEEDFRAG = 4,
};

struct icmp_message {
    uint8_t type, code;
    uint16_t checksum;     /* as received */
    /* Echo: identifier and sequence number. Unreachable code 4: next-hop MTU
     * in the low 16 bits of rest. Otherwise rest is the raw second word. */
    uint16_t id, seq;
    uint32_t rest;
    const uint8_t *payload; /* echo data, or the quoted IPv4 header + 8 bytes */
    size_t payload_len;
};

/* Parse an ICMP message of len bytes. Rejects truncated messages and (if
 * verify_checksum) bad checksums. Unknown types parse fine; the IP layer
 * decides what to act on. */
enum finack_drop_reason wire_icmp_parse(const uint8_t *buf, size_t len, bool verify_checksum,
                                        struct icmp_message *out);

/* Write msg with its checksum: the 8-byte header, then payload_len bytes
 * from msg->payload. For echo types id/seq fill the second word, otherwise
 * rest does. Returns the length or -ENOSPC. */
int wire_icmp_emit(uint8_t *buf, size_t cap, const struct icmp_message *msg);

/* The quoted part of an ICMP error: the original IPv4 header and at least the
 * first 8 bytes of its payload (ports, and for TCP the sequence number). */
struct icmp_quote {
    uint32_t src, dst;     /* of the original packet, i.e. our packet */
    uint8_t protocol;
    const uint8_t *transport; /* first bytes of the original transport header */
    size_t transport_len;     /* >= 8 */
};

/* Parse the quote in an ICMP error's payload. Returns FINACK_DROP_NONE or
 * FINACK_DROP_ICMP_ERROR_BAD_QUOTE. The quoted header's checksum and total
 * length are not checked (routers may have changed them). */
enum finack_drop_reason wire_icmp_parse_quote(const uint8_t *payload, size_t len,
                                              struct icmp_quote *out);

#endif
