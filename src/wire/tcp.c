/* TCP headers and options (RFC 9293 §3.1, RFC 7323, RFC 2018): parse with a
 * named reason for every rejection, emit with Linux's option layout. */
#include "wire/tcp.h"

#include <errno.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

#define TCPOLEN_MSS 4
#define TCPOLEN_WSCALE 3
#define TCPOLEN_SACK_PERMITTED 2
#define TCPOLEN_TIMESTAMP 10
#define TCPOLEN_SACK_BASE 2
#define TCPOLEN_SACK_PERBLOCK 8

/* ---- Parsing --------------------------------------------------------------- */

/* Lengths every known kind must carry (RFC 9293 §3.2, RFC 7323 §2.2 and
 * §3.2, RFC 2018 §2 and §3). Unknown kinds accept any length >= 2. */
static bool option_length_fits_kind(uint8_t kind, size_t olen)
{
    switch (kind) {
    case TCP_OPT_MSS: return olen == TCPOLEN_MSS;
    case TCP_OPT_WSCALE: return olen == TCPOLEN_WSCALE;
    case TCP_OPT_SACK_PERMITTED: return olen == TCPOLEN_SACK_PERMITTED;
    case TCP_OPT_TIMESTAMP: return olen == TCPOLEN_TIMESTAMP;
    case TCP_OPT_SACK: {
        size_t blocks = (olen - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_PERBLOCK;
        return (olen - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_PERBLOCK == 0 && blocks >= 1 &&
               blocks <= TCP_MAX_SACK_BLOCKS;
    }
    default: return true;
    }
}

/* Record one option whose length is already known to be right for its kind.
 * A kind seen twice keeps its last value, as Linux does. */
static void record_option(uint8_t kind, const uint8_t *body, size_t olen, struct tcp_options *opt)
{
    switch (kind) {
    case TCP_OPT_MSS:
        opt->has_mss = true;
        opt->mss = get_be16(body);
        break;
    case TCP_OPT_WSCALE:
        opt->has_wscale = true;
        opt->wscale = body[0];
        break;
    case TCP_OPT_SACK_PERMITTED: opt->sack_permitted = true; break;
    case TCP_OPT_TIMESTAMP:
        opt->has_timestamp = true;
        opt->ts_val = get_be32(body);
        opt->ts_ecr = get_be32(body + 4);
        break;
    case TCP_OPT_SACK:
        opt->sack_count = (uint8_t)((olen - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_PERBLOCK);
        for (size_t i = 0; i < opt->sack_count; i++) {
            opt->sack[i].left = get_be32(body + 8 * i);
            opt->sack[i].right = get_be32(body + 8 * i + 4);
        }
        break;
    default: break; /* unknown: skipped by its length, listed in kinds[] */
    }
}

/* RFC 9293 §3.2: options are a kind byte, and for every kind but EOL and NOP
 * a length byte counting both. The checks follow Linux's tcp_parse_options()
 * order: a length below 2, then a length past the header, then a length
 * wrong for the kind. A kind byte in the last byte of the header with no room
 * for its length byte counts as running past the header. */
static enum finack_drop_reason parse_options(const uint8_t *o, size_t len, struct tcp_options *opt)
{
    size_t i = 0;
    while (i < len) {
        uint8_t kind = o[i];
        if (kind == TCP_OPT_EOL) break; /* RFC 9293 §3.2: the rest is padding */
        opt->kinds[opt->kind_count++] = kind; /* at most 40 options in 40 bytes */
        if (kind == TCP_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len) return FINACK_DROP_TCP_OPTION_PAST_HEADER;
        size_t olen = o[i + 1];
        if (olen < 2) return FINACK_DROP_TCP_BAD_OPTION_LENGTH;
        if (olen > len - i) return FINACK_DROP_TCP_OPTION_PAST_HEADER;
        if (!option_length_fits_kind(kind, olen)) return FINACK_DROP_TCP_BAD_OPTION_LENGTH;
        record_option(kind, o + i + 2, olen, opt);
        i += olen;
    }
    return FINACK_DROP_NONE;
}

static bool checksum_ok(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst)
{
    uint64_t sum = csum_pseudo_ipv4(src, dst, IPPROTO_TCP_, (uint16_t)len);
    return csum_finish(csum_add(sum, buf, len)) == 0;
}

static void fill_segment(const uint8_t *buf, size_t len, const struct tcp_options *opt,
                         struct tcp_segment *out)
{
    out->src_port = get_be16(buf);
    out->dst_port = get_be16(buf + 2);
    out->seq = get_be32(buf + 4);
    out->ack = get_be32(buf + 8);
    out->header_len = (uint8_t)((buf[12] >> 4) * 4);
    /* The low bits of byte 12 (reserved, AccECN's AE) are ignored. */
    out->flags = buf[13];
    out->window = get_be16(buf + 14);
    out->checksum = get_be16(buf + 16);
    out->urgent = get_be16(buf + 18);
    out->opt = *opt;
    out->payload = buf + out->header_len;
    out->payload_len = len - out->header_len;
}

/* The checksum is verified before the options are read, so that a segment
 * damaged in flight is counted as damaged, not as a malformed option. len is
 * at most 65535 (an IPv4 payload), as the pseudo header's TCP length is. */
enum finack_drop_reason wire_tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                                       bool verify_checksum, struct tcp_segment *out)
{
    if (len < TCP_HEADER_MIN) return FINACK_DROP_TCP_TRUNCATED;
    size_t header_len = (size_t)(buf[12] >> 4) * 4;
    if (header_len < TCP_HEADER_MIN) return FINACK_DROP_TCP_BAD_DATA_OFFSET;
    if (header_len > len) return FINACK_DROP_TCP_DATA_OFFSET_PAST_END;
    if (verify_checksum && !checksum_ok(buf, len, src, dst)) return FINACK_DROP_TCP_BAD_CHECKSUM;
    struct tcp_options opt;
    memset(&opt, 0, sizeof opt);
    enum finack_drop_reason reason =
        parse_options(buf + TCP_HEADER_MIN, header_len - TCP_HEADER_MIN, &opt);
    if (reason != FINACK_DROP_NONE) return reason;
    fill_segment(buf, len, &opt, out);
    return FINACK_DROP_NONE;
}

/* ---- Emitting -------------------------------------------------------------- */

/* Bytes of everything but SACK blocks, in Linux's layout (tcp_options_write()
 * in net/ipv4/tcp_output.c): MSS 4; TS 12 (SACK-permitted folded into its
 * two leading pad bytes when both are present); SACK-permitted alone 4 (two
 * NOPs in front); WS 4 (one NOP in front). Always <= 20. */
static size_t fixed_options_len(const struct tcp_options *opt)
{
    size_t len = 0;
    if (opt->has_mss) len += 4;
    if (opt->has_timestamp) len += 12;
    if (opt->sack_permitted && !opt->has_timestamp) len += 4;
    if (opt->has_wscale) len += 4;
    return len;
}

/* SACK blocks that fit after the other options: the first ones are kept,
 * since RFC 2018 §4 puts the most recently reported block first. With
 * timestamps that is 3 blocks, as on Linux; never fewer than 2. */
static size_t sack_blocks_to_emit(const struct tcp_options *opt)
{
    size_t count = opt->sack_count;
    if (count > TCP_MAX_SACK_BLOCKS) count = TCP_MAX_SACK_BLOCKS;
    size_t room = (TCP_OPTIONS_MAX - fixed_options_len(opt) - 4) / TCPOLEN_SACK_PERBLOCK;
    return count < room ? count : room;
}

size_t wire_tcp_options_len(const struct tcp_segment *seg)
{
    size_t blocks = sack_blocks_to_emit(&seg->opt);
    size_t sack_len = blocks ? 4 + TCPOLEN_SACK_PERBLOCK * blocks : 0;
    return fixed_options_len(&seg->opt) + sack_len;
}

static uint8_t *put_word(uint8_t *p, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
    p[0] = b0;
    p[1] = b1;
    p[2] = b2;
    p[3] = b3;
    return p + 4;
}

static uint8_t *write_timestamp(uint8_t *p, const struct tcp_options *opt)
{
    if (opt->sack_permitted)
        p = put_word(p, TCP_OPT_SACK_PERMITTED, TCPOLEN_SACK_PERMITTED, TCP_OPT_TIMESTAMP,
                     TCPOLEN_TIMESTAMP);
    else
        p = put_word(p, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_TIMESTAMP, TCPOLEN_TIMESTAMP);
    put_be32(p, opt->ts_val);
    put_be32(p + 4, opt->ts_ecr);
    return p + 8;
}

static uint8_t *write_sack(uint8_t *p, const struct tcp_options *opt, size_t blocks)
{
    p = put_word(p, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK,
                 (uint8_t)(TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK * blocks));
    for (size_t i = 0; i < blocks; i++, p += 8) {
        put_be32(p, opt->sack[i].left);
        put_be32(p + 4, opt->sack[i].right);
    }
    return p;
}

/* Every option present in seg->opt is written, SYN or not: which options a
 * segment carries (MSS and WS only on a SYN, RFC 9293 §3.7.1, RFC 7323 §2.2)
 * is the tcp/ layer's decision. Each option starts on its own 32-bit word,
 * so the result needs no trailing padding. */
static void write_options(uint8_t *p, const struct tcp_options *opt)
{
    if (opt->has_mss) {
        p = put_word(p, TCP_OPT_MSS, TCPOLEN_MSS, 0, 0);
        put_be16(p - 2, opt->mss);
    }
    if (opt->has_timestamp) p = write_timestamp(p, opt);
    if (opt->sack_permitted && !opt->has_timestamp)
        p = put_word(p, TCP_OPT_NOP, TCP_OPT_NOP, TCP_OPT_SACK_PERMITTED, TCPOLEN_SACK_PERMITTED);
    if (opt->has_wscale) p = put_word(p, TCP_OPT_NOP, TCP_OPT_WSCALE, TCPOLEN_WSCALE, opt->wscale);
    size_t blocks = sack_blocks_to_emit(opt);
    if (blocks) write_sack(p, opt, blocks);
}

static void write_header(uint8_t *buf, const struct tcp_segment *seg, size_t header_len)
{
    put_be16(buf, seg->src_port);
    put_be16(buf + 2, seg->dst_port);
    put_be32(buf + 4, seg->seq);
    put_be32(buf + 8, seg->ack);
    buf[12] = (uint8_t)(header_len / 4 << 4);
    buf[13] = seg->flags;
    put_be16(buf + 14, seg->window);
    put_be16(buf + 16, 0);
    put_be16(buf + 18, seg->urgent);
}

/* Returns -EMSGSIZE (beside the -ENOSPC the header names) for a segment
 * longer than 65535 bytes, which no IPv4 packet can carry. */
int wire_tcp_emit(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst,
                  const struct tcp_segment *seg)
{
    size_t header_len = TCP_HEADER_MIN + wire_tcp_options_len(seg);
    if (seg->payload_len > 0xffff - header_len) return -EMSGSIZE;
    size_t len = header_len + seg->payload_len;
    if (len > cap) return -ENOSPC;
    /* The payload may already sit right after the header (or overlap it). */
    if (seg->payload && seg->payload_len && seg->payload != buf + header_len)
        memmove(buf + header_len, seg->payload, seg->payload_len);
    write_header(buf, seg, header_len);
    write_options(buf + TCP_HEADER_MIN, &seg->opt);
    uint64_t sum = csum_pseudo_ipv4(src, dst, IPPROTO_TCP_, (uint16_t)len);
    put_be16(buf + 16, csum_finish(csum_add(sum, buf, len)));
    return (int)len;
}

/* ---- Printing -------------------------------------------------------------- */

/* The order packetdrill prints (packet_to_string.c, "the same order as
 * tcpdump 4.1.1", which tcpdump still uses): F S R P, "." for ACK, then U E W.
 * So SYN-ACK is "S.", FIN-ACK "F.", FIN-PSH-ACK "FP.", URG-ACK ".U". No flag
 * at all prints "none", as tcpdump does. */
const char *tcp_flags_string(uint8_t flags, char *buf)
{
    static const struct {
        uint8_t flag;
        char letter;
    } order[] = {
        {TCP_FLAG_FIN, 'F'}, {TCP_FLAG_SYN, 'S'}, {TCP_FLAG_RST, 'R'}, {TCP_FLAG_PSH, 'P'},
        {TCP_FLAG_ACK, '.'}, {TCP_FLAG_URG, 'U'}, {TCP_FLAG_ECE, 'E'}, {TCP_FLAG_CWR, 'W'},
    };
    if (flags == 0) return strcpy(buf, "none");
    size_t n = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (flags & order[i].flag) buf[n++] = order[i].letter;
    buf[n] = '\0';
    return buf;
}
