/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624). */
#include "wire/checksum.h"

#include <string.h>

#include "wire/bytes.h"

/* Fold a wide one's-complement sum to 16 bits with end-around carries
 * (RFC 1071 §2(C)). A non-zero sum never folds to 0. */
static uint16_t fold16(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Loads in the machine's own byte order; memcpy because the buffer has no
 * alignment guarantee (compilers turn it into one load). */
static uint64_t load_native64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

static uint32_t load_native32(const uint8_t *p)
{
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

static uint16_t load_native16(const uint8_t *p)
{
    uint16_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* The sum of the bytes taken as 16-bit words in the machine's byte order.
 * RFC 1071 §2(B): the one's-complement sum is byte-order independent, so the
 * sum of native words, stored back natively, is the big-endian sum's bytes.
 * Each 64-bit load is added as two 32-bit halves, so the 64-bit accumulator
 * cannot overflow for any buffer shorter than 16 GiB. */
static uint64_t sum_native(const uint8_t *p, size_t len)
{
    uint64_t acc = 0;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t w = load_native64(p);
        acc += (w & 0xffffffffu) + (w >> 32);
    }
    if (len >= 4) {
        acc += load_native32(p);
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        acc += load_native16(p);
        p += 2;
        len -= 2;
    }
    if (len == 1) {
        /* RFC 1071 §4.1: an odd last byte is the high byte of a word whose
         * low byte is zero; build that word in memory order. */
        const uint8_t last[2] = {p[0], 0};
        acc += load_native16(last);
    }
    return acc;
}

uint64_t csum_add(uint64_t sum, const void *data, size_t len)
{
    uint16_t native = fold16(sum_native(data, len));
    uint8_t bytes[2];
    memcpy(bytes, &native, sizeof bytes);
    /* Chaining adds at most 0xffff per call: no overflow in practice. */
    return sum + get_be16(bytes);
}

uint16_t csum_finish(uint64_t sum)
{
    return (uint16_t)~fold16(sum);
}

uint16_t csum_compute(const void *data, size_t len)
{
    return csum_finish(csum_add(0, data, len));
}

/* RFC 9293 §3.1: source, destination, zero, protocol, TCP length. */
uint64_t csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (uint64_t)(src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

/* RFC 1624 §3 eqn. 3: HC' = ~(~HC + ~m + m'). Unlike eqn. 2 it never yields
 * the 0x0000 that §3 warns about, except when the covered data becomes all
 * zero (then a full computation gives 0xffff and this gives 0x0000, both
 * valid one's-complement zeros; no IPv4 or TCP header is ever all zero). */
uint16_t csum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word)
{
    uint32_t sum = (uint32_t)(uint16_t)~checksum + (uint16_t)~old_word + new_word;
    return (uint16_t)~fold16(sum);
}

uint16_t csum_update32(uint16_t checksum, uint32_t old_value, uint32_t new_value)
{
    checksum = csum_update16(checksum, (uint16_t)(old_value >> 16), (uint16_t)(new_value >> 16));
    return csum_update16(checksum, (uint16_t)old_value, (uint16_t)new_value);
}
