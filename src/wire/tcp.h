/* TCP headers and options (RFC 9293 §3.1, RFC 7323, RFC 2018): bytes to a
 * plain description of the segment and back. The tcp/ layer never touches
 * raw bytes. */
#ifndef FINACK_WIRE_TCP_H
#define FINACK_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finack/finack.h"

#define TCP_HEADER_MIN 20
#define TCP_HEADER_MAX 60
#define TCP_OPTIONS_MAX 40

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_URG 0x20
#define TCP_FLAG_ECE 0x40
#define TCP_FLAG_CWR 0x80

enum tcp_option_kind {
    TCP_OPT_EOL = 0,
    TCP_OPT_NOP = 1,
    TCP_OPT_MSS = 2,
    TCP_OPT_WSCALE = 3,
    TCP_OPT_SACK_PERMITTED = 4,
    TCP_OPT_SACK = 5,
    TCP_OPT_TIMESTAMP = 8,
};

#define TCP_MAX_SACK_BLOCKS 4
#define TCP_MAX_OPTION_LIST 40

struct tcp_sack_block {
    uint32_t left, right; /* [left, right) in sequence space */
};

struct tcp_options {
    bool has_mss, has_wscale, sack_permitted, has_timestamp;
    uint16_t mss;
    uint8_t wscale;       /* as received (may exceed 14; the TCP layer clamps) */
    uint32_t ts_val, ts_ecr;
    uint8_t sack_count;
    struct tcp_sack_block sack[TCP_MAX_SACK_BLOCKS];
    /* Kinds in the order they appeared on the wire, NOPs and unknown kinds
     * included (EOL ends the list and is not recorded): lets tests and the
     * script runner compare option layout exactly. */
    uint8_t kind_count;
    uint8_t kinds[TCP_MAX_OPTION_LIST];
};

struct tcp_segment {
    uint16_t src_port, dst_port;
    uint32_t seq, ack;
    uint8_t flags;          /* TCP_FLAG_* */
    uint8_t header_len;     /* bytes: data offset * 4 */
    uint16_t window;        /* as on the wire, unscaled */
    uint16_t checksum;      /* as received */
    uint16_t urgent;
    struct tcp_options opt;
    const uint8_t *payload;
    size_t payload_len;
};

/* Parse a TCP segment of len bytes carried between src and dst (host byte
 * order; used for the pseudo-header checksum when verify_checksum). Options
 * are validated: length 0 or 1 or past the header is rejected, known kinds
 * must have their fixed length (MSS 4, WS 3, SACK-permitted 2, TS 10, SACK
 * 2+8n with n >= 1), unknown kinds are skipped by their length. */
enum finack_drop_reason wire_tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                                       bool verify_checksum, struct tcp_segment *out);

/* Length in bytes of the options emit will write for seg (a multiple of 4). */
size_t wire_tcp_options_len(const struct tcp_segment *seg);

/* Write seg (header, options, then payload_len bytes from seg->payload, which
 * may be NULL only if payload_len is 0 or the payload is already in place
 * right after the header in buf) with its checksum. Options are laid out as
 * Linux does: on a SYN "mss, sackOK, TS, nop, wscale" (with NOPs filling in
 * for absent ones), otherwise "nop, nop, TS" then "nop, nop, sack...".
 * Every option set in seg->opt is written, whatever the flags; SACK blocks
 * that do not fit in 40 bytes are left out from the end (3 fit beside TS).
 * header_len and checksum of seg are ignored. Returns the segment length,
 * -ENOSPC if cap is too small, or -EMSGSIZE if it would exceed 65535. */
int wire_tcp_emit(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst,
                  const struct tcp_segment *seg);

/* "S", "S.", ".", "P.", "F.", "R", "R." ... as tcpdump and packetdrill
 * print them, in their order: F S R P, then "." for ACK, then U E W (so
 * "FP.", ".U"); "none" when no flag is set. buf >= 10 bytes. */
const char *tcp_flags_string(uint8_t flags, char *buf);

#endif
