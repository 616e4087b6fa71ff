/* IPv4 headers (RFC 791 §3.1): parse with a named reason for every rejection,
 * emit a 20-byte header. */
#include "wire/ipv4.h"

#include <errno.h>

#include "wire/bytes.h"
#include "wire/checksum.h"

/* RFC 1122 §3.2.1.2 lists what a header must pass; the order of the checks
 * below decides which reason a packet with several faults is counted under:
 * the first fault met reading the header front to back. */
static enum finack_drop_reason check_lengths(const uint8_t *buf, size_t len)
{
    if (len < IPV4_HEADER_MIN) return FINACK_DROP_IP_TRUNCATED;
    if (buf[0] >> 4 != 4) return FINACK_DROP_IP_BAD_VERSION;
    size_t header_len = (size_t)(buf[0] & 0x0f) * 4;
    if (header_len < IPV4_HEADER_MIN || header_len > len) return FINACK_DROP_IP_BAD_IHL;
    size_t total_len = get_be16(buf + 2);
    if (total_len > len) return FINACK_DROP_IP_TOTAL_LEN_LONG;
    /* A total length below the header length is also shorter than the
     * received bytes (header_len <= len here), so it lands in the same
     * reason: the field claims less than what arrived. Trailing bytes past
     * total_len are not accepted either: a TUN or simulated link delivers
     * exact packets, so extra bytes mean a broken sender. */
    if (total_len < len) return FINACK_DROP_IP_TOTAL_LEN_SHORT;
    return FINACK_DROP_NONE;
}

static bool is_fragment(uint16_t frag)
{
    return (frag & IPV4_FLAG_MF) || (frag & IPV4_FRAG_OFFSET_MASK);
}

static void fill_header(const uint8_t *buf, struct ipv4_header *out)
{
    out->header_len = (uint8_t)((buf[0] & 0x0f) * 4);
    out->tos = buf[1];
    out->total_len = get_be16(buf + 2);
    out->id = get_be16(buf + 4);
    out->frag = get_be16(buf + 6);
    out->ttl = buf[8];
    out->protocol = buf[9];
    out->checksum = get_be16(buf + 10);
    out->src = get_be32(buf + 12);
    out->dst = get_be32(buf + 16);
    out->options = buf + IPV4_HEADER_MIN;
    out->payload = buf + out->header_len;
    out->payload_len = (uint16_t)(out->total_len - out->header_len);
}

enum finack_drop_reason wire_ipv4_parse(const uint8_t *buf, size_t len, bool verify_checksum,
                                        struct ipv4_header *out)
{
    enum finack_drop_reason reason = check_lengths(buf, len);
    if (reason != FINACK_DROP_NONE) return reason;
    size_t header_len = (size_t)(buf[0] & 0x0f) * 4;
    /* RFC 791 §3.1: the checksum covers the header only; a correct header
     * sums to 0xffff, i.e. csum_compute() gives 0. */
    if (verify_checksum && csum_compute(buf, header_len) != 0) return FINACK_DROP_IP_BAD_CHECKSUM;
    /* RFC 1122 §3.3.2 asks hosts to reassemble; finack does not (yet), so a
     * fragment is dropped and counted rather than half-delivered. */
    if (is_fragment(get_be16(buf + 6))) return FINACK_DROP_IP_FRAGMENT;
    fill_header(buf, out);
    return FINACK_DROP_NONE;
}

int wire_ipv4_emit(uint8_t *buf, size_t cap, const struct ipv4_header *h)
{
    if (cap < IPV4_HEADER_MIN) return -ENOSPC;
    buf[0] = 0x45; /* version 4, IHL 5: no options */
    buf[1] = h->tos;
    put_be16(buf + 2, h->total_len);
    put_be16(buf + 4, h->id);
    put_be16(buf + 6, h->frag);
    buf[8] = h->ttl;
    buf[9] = h->protocol;
    put_be16(buf + 10, 0);
    put_be32(buf + 12, h->src);
    put_be32(buf + 16, h->dst);
    put_be16(buf + 10, csum_compute(buf, IPV4_HEADER_MIN));
    return IPV4_HEADER_MIN;
}

/* RFC 1122 §3.2.1.3 and RFC 6890: "this network" 0/8, loopback 127/8, and
 * class D (multicast) and E (reserved, including limited broadcast) never
 * appear as the source of a packet from the network. */
bool ipv4_is_martian_source(uint32_t addr)
{
    uint8_t first = (uint8_t)(addr >> 24);
    return first == 0 || first == 127 || first >= 224;
}
