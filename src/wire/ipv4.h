/* IPv4 headers (RFC 791): bytes to a plain description and back. Pure
 * functions: no state, no allocation, never a read past the given length. */
#ifndef FINACK_WIRE_IPV4_H
#define FINACK_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finack/finack.h"

#define IPV4_HEADER_MIN 20
#define IPV4_HEADER_MAX 60
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

#define IPV4_FLAG_DF 0x4000
#define IPV4_FLAG_MF 0x2000
#define IPV4_FRAG_OFFSET_MASK 0x1fff

struct ipv4_header {
    uint8_t header_len;    /* bytes: IHL * 4 */
    uint8_t tos;
    uint16_t total_len;
    uint16_t id;
    uint16_t frag;         /* flags (DF, MF) and fragment offset, as on the wire */
    uint8_t ttl;
    uint8_t protocol;
    uint16_t checksum;     /* as received; computed by emit */
    uint32_t src, dst;     /* host byte order */
    const uint8_t *options; /* header_len - 20 bytes, not interpreted */
    const uint8_t *payload;
    uint16_t payload_len;
};

/* Parse and validate one IPv4 packet of exactly len bytes: version, IHL,
 * total length equal to len, header checksum (if verify_checksum), and no
 * fragmentation (MF set or offset non-zero). Returns FINACK_DROP_NONE or the
 * reason it is rejected; out is filled only on success. */
enum finack_drop_reason wire_ipv4_parse(const uint8_t *buf, size_t len, bool verify_checksum,
                                        struct ipv4_header *out);

/* Write a 20-byte header (no options) for h->total_len bytes of packet into
 * buf, computing the checksum; header_len, options and payload are ignored.
 * Returns 20, or -ENOSPC if cap < 20. */
int wire_ipv4_emit(uint8_t *buf, size_t cap, const struct ipv4_header *h);

/* True if addr cannot be a unicast source: 0.0.0.0/8, 127/8, 224/4 and up. */
bool ipv4_is_martian_source(uint32_t addr);

#endif
