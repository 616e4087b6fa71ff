/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624). */
#ifndef FINACK_WIRE_CHECKSUM_H
#define FINACK_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add the bytes to a running one's-complement sum (not yet folded). Bytes are
 * taken as big-endian 16-bit words; an odd last byte is padded with zero.
 * Sums of several buffers chain only if every buffer but the last has an even
 * length. */
uint64_t csum_add(uint64_t sum, const void *data, size_t len);

/* Fold a running sum to 16 bits and complement it: the value to store in a
 * checksum field (host byte order). */
uint16_t csum_finish(uint64_t sum);

/* The checksum of one buffer: csum_finish(csum_add(0, data, len)). */
uint16_t csum_compute(const void *data, size_t len);

/* The TCP/UDP pseudo-header sum (RFC 9293 §3.1) for IPv4 addresses in host
 * byte order. */
uint64_t csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* RFC 1624 eqn. 3: the new checksum when one 16-bit word of the covered data
 * changes from old_word to new_word: HC' = ~(~HC + ~m + m'). */
uint16_t csum_update16(uint16_t checksum, uint16_t old_word, uint16_t new_word);
uint16_t csum_update32(uint16_t checksum, uint32_t old_value, uint32_t new_value);

#endif
