/* TCP header and option parsing: one crafted segment per rejection, a
 * captured Linux SYN, byte-exact option layouts, emit then parse. */
#include <errno.h>

#include "test.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define SRC 0x0a000001u /* 10.0.0.1 */
#define DST 0x0a000002u /* 10.0.0.2 */

/* A SYN from Linux (connect() to a closed port on 127.0.0.1), captured with
 * tcpdump on lo: "41332 > 9: Flags [S], seq 3134255000, win 65495, options
 * [mss 65495,sackOK,TS val 3097074838 ecr 0,nop,wscale 10]". Loopback
 * leaves the TCP checksum to offload, so the capture held a partial sum
 * (0xfe30); these bytes carry the full one tcpdump computed (0xaee7). */
static const uint8_t linux_syn[60] = {
    /* IPv4 */
    0x45, 0x00, 0x00, 0x3c, 0x03, 0x8c, 0x40, 0x00, 0x40, 0x06, 0x39, 0x2e, 0x7f, 0x00, 0x00,
    0x01, 0x7f, 0x00, 0x00, 0x01,
    /* TCP */
    0xa1, 0x74, 0x00, 0x09, 0xba, 0xd0, 0xef, 0x98, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xff,
    0xd7, 0xae, 0xe7, 0x00, 0x00,
    /* mss 65495, sackOK, TS, nop, wscale 10 */
    0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a, 0xb8, 0x99, 0x9c, 0x96, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x03, 0x03, 0x0a,
};

/* Build a segment by hand (not with emit): a 20-byte header, the given
 * options (a multiple of 4 bytes), payload_len bytes of 'x', and a correct
 * checksum for SRC -> DST. Returns the segment length. */
static size_t build(uint8_t *p, uint8_t flags, const uint8_t *options, size_t options_len,
                    size_t payload_len)
{
    size_t header_len = 20 + options_len;
    memset(p, 0, header_len);
    put_be16(p, 1234);
    put_be16(p + 2, 80);
    put_be32(p + 4, 1000);
    put_be32(p + 8, 2000);
    p[12] = (uint8_t)(header_len / 4 << 4);
    p[13] = flags;
    put_be16(p + 14, 8192);
    if (options_len) memcpy(p + 20, options, options_len);
    memset(p + header_len, 'x', payload_len);
    size_t len = header_len + payload_len;
    uint64_t sum = csum_pseudo_ipv4(SRC, DST, IPPROTO_TCP_, (uint16_t)len);
    put_be16(p + 16, csum_finish(csum_add(sum, p, len)));
    return len;
}

/* Parse a segment whose options are given; the checksum is always right. */
static enum finack_drop_reason parse_options_bytes(const uint8_t *options, size_t options_len,
                                                   struct tcp_segment *seg)
{
    static uint8_t p[100];
    size_t len = build(p, TCP_FLAG_SYN, options, options_len, 0);
    return wire_tcp_parse(p, len, SRC, DST, true, seg);
}

static enum finack_drop_reason option_reason(const uint8_t *options, size_t options_len)
{
    struct tcp_segment seg;
    return parse_options_bytes(options, options_len, &seg);
}

/* ---- The captured SYN --------------------------------------------------- */

static void test_parse_linux_syn(void)
{
    struct ipv4_header ip;
    REQUIRE(wire_ipv4_parse(linux_syn, sizeof linux_syn, true, &ip) == FINACK_DROP_NONE);
    struct tcp_segment seg;
    REQUIRE(wire_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, true, &seg) ==
            FINACK_DROP_NONE);
    CHECK_EQ(seg.src_port, 41332);
    CHECK_EQ(seg.dst_port, 9);
    CHECK_U64(seg.seq, 3134255000u);
    CHECK_U64(seg.ack, 0);
    CHECK_EQ(seg.flags, TCP_FLAG_SYN);
    CHECK_EQ(seg.header_len, 40);
    CHECK_EQ(seg.window, 65495);
    CHECK_EQ(seg.checksum, 0xaee7);
    CHECK_EQ(seg.urgent, 0);
    CHECK(seg.opt.has_mss);
    CHECK_EQ(seg.opt.mss, 65495);
    CHECK(seg.opt.sack_permitted);
    CHECK(seg.opt.has_timestamp);
    CHECK_U64(seg.opt.ts_val, 3097074838u);
    CHECK_U64(seg.opt.ts_ecr, 0);
    CHECK(seg.opt.has_wscale);
    CHECK_EQ(seg.opt.wscale, 10);
    CHECK_EQ(seg.opt.sack_count, 0);
    const uint8_t kinds[] = {TCP_OPT_MSS, TCP_OPT_SACK_PERMITTED, TCP_OPT_TIMESTAMP, TCP_OPT_NOP,
                             TCP_OPT_WSCALE};
    REQUIRE(seg.opt.kind_count == sizeof kinds);
    CHECK_MEM(seg.opt.kinds, kinds, sizeof kinds);
    CHECK_EQ(seg.payload_len, 0);
}

/* The same fields emitted give Linux's bytes exactly. */
static void test_emit_linux_syn_bytes(void)
{
    struct tcp_segment seg = {
        .src_port = 41332, .dst_port = 9, .seq = 3134255000u, .flags = TCP_FLAG_SYN,
        .window = 65495,
        .opt = {.has_mss = true, .mss = 65495, .sack_permitted = true, .has_timestamp = true,
                .ts_val = 3097074838u, .has_wscale = true, .wscale = 10}};
    uint8_t p[60];
    REQUIRE(wire_tcp_emit(p, sizeof p, 0x7f000001, 0x7f000001, &seg) == 40);
    CHECK_MEM(p, linux_syn + 20, 40);
}

/* ---- Rejections, one each ----------------------------------------------- */

static void test_reject_truncated(void)
{
    uint8_t p[20];
    size_t len = build(p, TCP_FLAG_ACK, NULL, 0, 0);
    struct tcp_segment seg;
    CHECK_EQ(wire_tcp_parse(p, len - 1, SRC, DST, false, &seg), FINACK_DROP_TCP_TRUNCATED);
    CHECK_EQ(wire_tcp_parse(p, 0, SRC, DST, false, &seg), FINACK_DROP_TCP_TRUNCATED);
}

static void test_reject_data_offset_below_five(void)
{
    uint8_t p[40];
    size_t len = build(p, TCP_FLAG_ACK, NULL, 0, 20);
    p[12] = 4 << 4;
    struct tcp_segment seg;
    CHECK_EQ(wire_tcp_parse(p, len, SRC, DST, false, &seg), FINACK_DROP_TCP_BAD_DATA_OFFSET);
    p[12] = 0;
    CHECK_EQ(wire_tcp_parse(p, len, SRC, DST, false, &seg), FINACK_DROP_TCP_BAD_DATA_OFFSET);
}

static void test_reject_data_offset_past_end(void)
{
    uint8_t p[24];
    size_t len = build(p, TCP_FLAG_ACK, NULL, 0, 4);
    p[12] = 7 << 4; /* 28-byte header in a 24-byte segment */
    struct tcp_segment seg;
    CHECK_EQ(wire_tcp_parse(p, len, SRC, DST, false, &seg),
             FINACK_DROP_TCP_DATA_OFFSET_PAST_END);
}

static void test_reject_option_length_zero(void)
{
    const uint8_t o[] = {0x01, 0x01, 0xfe, 0x00};
    CHECK_EQ(option_reason(o, sizeof o), FINACK_DROP_TCP_BAD_OPTION_LENGTH);
}

static void test_reject_option_length_one(void)
{
    const uint8_t o[] = {TCP_OPT_MSS, 0x01, 0x01, 0x01};
    CHECK_EQ(option_reason(o, sizeof o), FINACK_DROP_TCP_BAD_OPTION_LENGTH);
}

static void test_reject_mss_wrong_length(void)
{
    const uint8_t o[] = {TCP_OPT_MSS, 0x03, 0x05, 0x01};
    CHECK_EQ(option_reason(o, sizeof o), FINACK_DROP_TCP_BAD_OPTION_LENGTH);
}

static void test_reject_wscale_wrong_length(void)
{
    const uint8_t o[] = {TCP_OPT_WSCALE, 0x04, 0x07, 0x00};
    CHECK_EQ(option_reason(o, sizeof o), FINACK_DROP_TCP_BAD_OPTION_LENGTH);
}

static void test_reject_sack_permitted_wrong_length(void)
{
    const uint8_t o[] = {TCP_OPT_SACK_PERMITTED, 0x03, 0x00, 0x01};
    CHECK_EQ(option_reason(o, sizeof o), FINACK_DROP_TCP_BAD_OPTION_LENGTH);
}

static void test_reject_timestamp_wrong_length(void)
{
    const uint8_t o[] = {0x01, 0x01, TCP_OPT_TIMESTAMP, 0x08, 0, 0, 0, 1, 0, 0, 0, 0};
    CHECK_EQ(option_reason(o, sizeof o), FINACK_DROP_TCP_BAD_OPTION_LENGTH);
}

static void test_reject_sack_without_blocks(void)
{
    const uint8_t o[] = {0x01, 0x01, TCP_OPT_SACK, 0x02};
    CHECK_EQ(option_reason(o, sizeof o), FINACK_DROP_TCP_BAD_OPTION_LENGTH);
}

static void test_reject_sack_partial_block(void)
{
    const uint8_t o[] = {0x01, TCP_OPT_SACK, 0x0b, 0, 0, 0, 1, 0, 0, 0, 2, 0};
    CHECK_EQ(option_reason(o, sizeof o), FINACK_DROP_TCP_BAD_OPTION_LENGTH);
}

static void test_reject_option_past_header(void)
{
    const uint8_t o[] = {0x01, 0x01, TCP_OPT_MSS, 0x04}; /* MSS value cut off */
    CHECK_EQ(option_reason(o, sizeof o), FINACK_DROP_TCP_OPTION_PAST_HEADER);
    const uint8_t one_short[] = {0x01, TCP_OPT_MSS, 0x04, 0x05}; /* last byte missing */
    CHECK_EQ(option_reason(one_short, sizeof one_short), FINACK_DROP_TCP_OPTION_PAST_HEADER);
    const uint8_t exact[] = {0x01, 0x01, 0x01, 0x01, TCP_OPT_MSS, 0x04, 0x05, 0xb4};
    CHECK_EQ(option_reason(exact, sizeof exact), FINACK_DROP_NONE);
}

static void test_reject_unknown_option_past_header(void)
{
    const uint8_t o[] = {0x01, 0x01, 0xfe, 0x08};
    CHECK_EQ(option_reason(o, sizeof o), FINACK_DROP_TCP_OPTION_PAST_HEADER);
}

/* A kind in the header's last byte has no room for its length byte. */
static void test_reject_option_kind_without_length(void)
{
    const uint8_t o[] = {0x01, 0x01, 0x01, TCP_OPT_WSCALE};
    CHECK_EQ(option_reason(o, sizeof o), FINACK_DROP_TCP_OPTION_PAST_HEADER);
}

/* A length both wrong for the kind and past the header: the Linux order
 * (past the header first) decides. */
static void test_reject_long_mss_past_header(void)
{
    const uint8_t o[] = {TCP_OPT_MSS, 0x08, 0x05, 0xb4};
    CHECK_EQ(option_reason(o, sizeof o), FINACK_DROP_TCP_OPTION_PAST_HEADER);
}

static void test_reject_bad_checksum(void)
{
    uint8_t p[30];
    size_t len = build(p, TCP_FLAG_ACK | TCP_FLAG_PSH, NULL, 0, 10);
    p[25] ^= 0x01;
    struct tcp_segment seg;
    CHECK_EQ(wire_tcp_parse(p, len, SRC, DST, true, &seg), FINACK_DROP_TCP_BAD_CHECKSUM);
    CHECK_EQ(wire_tcp_parse(p, len, SRC, DST, false, &seg), FINACK_DROP_NONE);
    /* The pseudo header counts: right bytes, wrong addresses. */
    p[25] ^= 0x01;
    CHECK_EQ(wire_tcp_parse(p, len, SRC, DST, true, &seg), FINACK_DROP_NONE);
    CHECK_EQ(wire_tcp_parse(p, len, SRC, DST + 1, true, &seg), FINACK_DROP_TCP_BAD_CHECKSUM);
}

/* Corruption is counted as such, even when it lands in an option. */
static void test_checksum_checked_before_options(void)
{
    uint8_t p[24];
    const uint8_t o[] = {TCP_OPT_MSS, 0x04, 0x05, 0xb4};
    size_t len = build(p, TCP_FLAG_SYN, o, sizeof o, 0);
    p[21] = 0x00; /* MSS length becomes 0 in flight */
    struct tcp_segment seg;
    CHECK_EQ(wire_tcp_parse(p, len, SRC, DST, true, &seg), FINACK_DROP_TCP_BAD_CHECKSUM);
    CHECK_EQ(wire_tcp_parse(p, len, SRC, DST, false, &seg), FINACK_DROP_TCP_BAD_OPTION_LENGTH);
}

/* ---- Accepted option lists ---------------------------------------------- */

/* RFC 9293 §3.2: after EOL the rest of the option space is padding, even
 * bytes that would not parse as options. */
static void test_eol_ends_options(void)
{
    const uint8_t o[] = {TCP_OPT_MSS, 0x04, 0x05, 0xb4, TCP_OPT_EOL, 0x02, 0x00, 0xff};
    struct tcp_segment seg;
    REQUIRE(parse_options_bytes(o, sizeof o, &seg) == FINACK_DROP_NONE);
    CHECK(seg.opt.has_mss);
    CHECK_EQ(seg.opt.mss, 1460);
    CHECK_EQ(seg.opt.kind_count, 1);
    CHECK_EQ(seg.opt.kinds[0], TCP_OPT_MSS);
}

static void test_nop_and_unknown_kinds_recorded(void)
{
    /* NOP, kind 30 (MPTCP) of length 4, NOP, kind 254 of length 2, NOPs */
    const uint8_t o[] = {0x01, 0x1e, 0x04, 0xaa, 0xbb, 0x01, 0xfe, 0x02, 0x01, 0x01, 0x01, 0x01};
    struct tcp_segment seg;
    REQUIRE(parse_options_bytes(o, sizeof o, &seg) == FINACK_DROP_NONE);
    const uint8_t kinds[] = {1, 30, 1, 254, 1, 1, 1, 1};
    REQUIRE(seg.opt.kind_count == sizeof kinds);
    CHECK_MEM(seg.opt.kinds, kinds, sizeof kinds);
    CHECK(!seg.opt.has_mss && !seg.opt.has_wscale && !seg.opt.sack_permitted);
    CHECK(!seg.opt.has_timestamp);
    CHECK_EQ(seg.opt.sack_count, 0);
}

/* 40 NOPs: the longest kinds[] list possible. */
static void test_forty_nops(void)
{
    uint8_t o[40];
    memset(o, TCP_OPT_NOP, sizeof o);
    struct tcp_segment seg;
    REQUIRE(parse_options_bytes(o, sizeof o, &seg) == FINACK_DROP_NONE);
    CHECK_EQ(seg.opt.kind_count, 40);
    CHECK_EQ(seg.header_len, 60);
}

static void test_duplicate_option_last_wins(void)
{
    const uint8_t o[] = {TCP_OPT_MSS, 0x04, 0x05, 0xb4, TCP_OPT_MSS, 0x04, 0x02, 0x18};
    struct tcp_segment seg;
    REQUIRE(parse_options_bytes(o, sizeof o, &seg) == FINACK_DROP_NONE);
    CHECK_EQ(seg.opt.mss, 536);
    CHECK_EQ(seg.opt.kind_count, 2);
}

/* RFC 7323 §2.3: a shift above 14 is the TCP layer's to clamp, not ours. */
static void test_wscale_above_14_kept(void)
{
    const uint8_t o[] = {0x01, TCP_OPT_WSCALE, 0x03, 0x0f};
    struct tcp_segment seg;
    REQUIRE(parse_options_bytes(o, sizeof o, &seg) == FINACK_DROP_NONE);
    CHECK(seg.opt.has_wscale);
    CHECK_EQ(seg.opt.wscale, 15);
}

static void test_sack_one_to_four_blocks(void)
{
    for (uint8_t n = 1; n <= 4; n++) {
        uint8_t o[36] = {0x01, 0x01, TCP_OPT_SACK, (uint8_t)(2 + 8 * n)};
        for (uint8_t i = 0; i < n; i++) {
            put_be32(o + 4 + 8 * i, 1000u * i + 1);
            put_be32(o + 8 + 8 * i, 1000u * i + 501);
        }
        struct tcp_segment seg;
        REQUIRE(parse_options_bytes(o, 4 + 8u * n, &seg) == FINACK_DROP_NONE);
        CHECK_EQ(seg.opt.sack_count, n);
        for (uint8_t i = 0; i < n; i++) {
            CHECK_U64(seg.opt.sack[i].left, 1000u * i + 1);
            CHECK_U64(seg.opt.sack[i].right, 1000u * i + 501);
        }
    }
}

static void test_reserved_bits_ignored(void)
{
    uint8_t p[20];
    build(p, TCP_FLAG_ACK, NULL, 0, 0);
    p[12] |= 0x0f;
    struct tcp_segment seg;
    REQUIRE(wire_tcp_parse(p, 20, SRC, DST, false, &seg) == FINACK_DROP_NONE);
    CHECK_EQ(seg.header_len, 20);
    CHECK_EQ(seg.flags, TCP_FLAG_ACK);
}

static void test_parse_payload(void)
{
    uint8_t p[60];
    const uint8_t o[] = {0x01, 0x01, TCP_OPT_TIMESTAMP, 0x0a, 0, 0, 0, 5, 0, 0, 0, 6};
    size_t len = build(p, TCP_FLAG_ACK | TCP_FLAG_PSH, o, sizeof o, 17);
    struct tcp_segment seg;
    REQUIRE(wire_tcp_parse(p, len, SRC, DST, true, &seg) == FINACK_DROP_NONE);
    CHECK_EQ(seg.src_port, 1234);
    CHECK_EQ(seg.dst_port, 80);
    CHECK_U64(seg.seq, 1000);
    CHECK_U64(seg.ack, 2000);
    CHECK_EQ(seg.window, 8192);
    CHECK_EQ(seg.header_len, 32);
    CHECK(seg.payload == p + 32);
    CHECK_EQ(seg.payload_len, 17);
    CHECK_EQ(seg.payload[16], 'x');
    CHECK_U64(seg.opt.ts_val, 5);
    CHECK_U64(seg.opt.ts_ecr, 6);
}

/* ---- Emitted option layouts, byte for byte ------------------------------ */

/* Emit seg and compare its option bytes with want. */
static void check_options(const struct tcp_segment *seg, const uint8_t *want, size_t want_len)
{
    uint8_t p[100];
    CHECK_EQ(wire_tcp_options_len(seg), want_len);
    int len = wire_tcp_emit(p, sizeof p, SRC, DST, seg);
    REQUIRE(len == (int)(20 + want_len + seg->payload_len));
    CHECK_EQ(p[12] >> 4, (20 + want_len) / 4);
    if (want_len) CHECK_MEM(p + 20, want, want_len);
    struct tcp_segment back;
    CHECK_EQ(wire_tcp_parse(p, (size_t)len, SRC, DST, true, &back), FINACK_DROP_NONE);
}

#define SYN_WITH(...) \
    ((struct tcp_segment){.flags = TCP_FLAG_SYN, .opt = {__VA_ARGS__}})

static void test_emit_syn_mss_sackok_ts_ws(void)
{
    const uint8_t want[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x01, 0x02, 0x03, 0x04,
                            0, 0, 0, 0,       1, 3, 3, 7};
    struct tcp_segment seg = SYN_WITH(.has_mss = true, .mss = 1460, .sack_permitted = true,
                                      .has_timestamp = true, .ts_val = 0x01020304,
                                      .has_wscale = true, .wscale = 7);
    check_options(&seg, want, sizeof want);
}

/* Linux without timestamps: "mss, nop, nop, sackOK, nop, wscale". */
static void test_emit_syn_mss_sackok_ws(void)
{
    const uint8_t want[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7};
    struct tcp_segment seg = SYN_WITH(.has_mss = true, .mss = 1460, .sack_permitted = true,
                                      .has_wscale = true, .wscale = 7);
    check_options(&seg, want, sizeof want);
}

static void test_emit_syn_mss_ts_ws(void)
{
    const uint8_t want[] = {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 0, 1, 3, 3, 7};
    struct tcp_segment seg = SYN_WITH(.has_mss = true, .mss = 1460, .has_timestamp = true,
                                      .ts_val = 9, .has_wscale = true, .wscale = 7);
    check_options(&seg, want, sizeof want);
}

static void test_emit_syn_mss_only(void)
{
    const uint8_t want[] = {2, 4, 0x05, 0xb4};
    struct tcp_segment seg = SYN_WITH(.has_mss = true, .mss = 1460);
    check_options(&seg, want, sizeof want);
}

static void test_emit_syn_mss_ws(void)
{
    const uint8_t want[] = {2, 4, 0x02, 0x18, 1, 3, 3, 0};
    struct tcp_segment seg = SYN_WITH(.has_mss = true, .mss = 536, .has_wscale = true);
    check_options(&seg, want, sizeof want);
}

static void test_emit_syn_mss_sackok(void)
{
    const uint8_t want[] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};
    struct tcp_segment seg = SYN_WITH(.has_mss = true, .mss = 1460, .sack_permitted = true);
    check_options(&seg, want, sizeof want);
}

static void test_emit_syn_mss_sackok_ts(void)
{
    const uint8_t want[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    struct tcp_segment seg = SYN_WITH(.has_mss = true, .mss = 1460, .sack_permitted = true,
                                      .has_timestamp = true, .ts_val = 1, .ts_ecr = 2);
    check_options(&seg, want, sizeof want);
}

static void test_emit_no_options(void)
{
    struct tcp_segment seg = {.flags = TCP_FLAG_ACK, .ack = 5};
    check_options(&seg, NULL, 0);
}

static void test_emit_ack_ts(void)
{
    const uint8_t want[] = {1, 1, 8, 10, 0xaa, 0xbb, 0xcc, 0xdd, 0x11, 0x22, 0x33, 0x44};
    struct tcp_segment seg = {.flags = TCP_FLAG_ACK,
                              .opt = {.has_timestamp = true, .ts_val = 0xaabbccdd,
                                      .ts_ecr = 0x11223344}};
    check_options(&seg, want, sizeof want);
}

static void test_emit_ack_ts_sack(void)
{
    const uint8_t want[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2,
                            1, 1, 5, 18, 0, 0, 0x10, 0, 0, 0, 0x20, 0,
                            0, 0, 0x30, 0, 0, 0, 0x40, 0};
    struct tcp_segment seg = {
        .flags = TCP_FLAG_ACK,
        .opt = {.has_timestamp = true, .ts_val = 1, .ts_ecr = 2, .sack_count = 2,
                .sack = {{0x1000, 0x2000}, {0x3000, 0x4000}}}};
    check_options(&seg, want, sizeof want);
}

/* Four blocks fit without timestamps: 4 + 32 = 36 bytes. */
static void test_emit_sack_four_blocks(void)
{
    uint8_t want[36] = {1, 1, 5, 34};
    struct tcp_segment seg = {.flags = TCP_FLAG_ACK, .opt = {.sack_count = 4}};
    for (uint32_t i = 0; i < 4; i++) {
        seg.opt.sack[i] = (struct tcp_sack_block){100 * i, 100 * i + 50};
        put_be32(want + 4 + 8 * i, 100 * i);
        put_be32(want + 8 + 8 * i, 100 * i + 50);
    }
    check_options(&seg, want, sizeof want);
}

/* With timestamps only three fit (12 + 4 + 24 = 40), as on Linux; the first
 * blocks, the most recent (RFC 2018 §4), are kept. */
static void test_emit_sack_trimmed_beside_timestamps(void)
{
    struct tcp_segment seg = {.flags = TCP_FLAG_ACK,
                              .opt = {.has_timestamp = true, .sack_count = 4}};
    for (uint32_t i = 0; i < 4; i++) seg.opt.sack[i] = (struct tcp_sack_block){i, i + 1};
    CHECK_EQ(wire_tcp_options_len(&seg), 40);
    uint8_t p[60];
    REQUIRE(wire_tcp_emit(p, sizeof p, SRC, DST, &seg) == 60);
    struct tcp_segment back;
    REQUIRE(wire_tcp_parse(p, 60, SRC, DST, true, &back) == FINACK_DROP_NONE);
    CHECK_EQ(back.opt.sack_count, 3);
    CHECK_U64(back.opt.sack[2].left, 2);
    /* Every option present: 20 bytes of them leave room for two blocks. */
    seg.opt.has_mss = seg.opt.has_wscale = seg.opt.sack_permitted = true;
    CHECK_EQ(wire_tcp_options_len(&seg), 40);
    REQUIRE(wire_tcp_emit(p, sizeof p, SRC, DST, &seg) == 60);
    REQUIRE(wire_tcp_parse(p, 60, SRC, DST, true, &back) == FINACK_DROP_NONE);
    CHECK_EQ(back.opt.sack_count, 2);
}

/* ---- Emit then parse ---------------------------------------------------- */

static uint64_t rng_state = 0x2545f4914f6cdd1du;
static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static bool coin(void) { return rng_next() & 1; }

static struct tcp_options random_options(void)
{
    struct tcp_options o = {0};
    o.has_mss = coin();
    o.mss = (uint16_t)rng_next();
    o.has_wscale = coin();
    o.wscale = (uint8_t)rng_next();
    o.sack_permitted = coin();
    o.has_timestamp = coin();
    o.ts_val = (uint32_t)rng_next();
    o.ts_ecr = (uint32_t)rng_next();
    o.sack_count = (uint8_t)(rng_next() % 5);
    for (int i = 0; i < TCP_MAX_SACK_BLOCKS; i++)
        o.sack[i] = (struct tcp_sack_block){(uint32_t)rng_next(), (uint32_t)rng_next()};
    return o;
}

/* The blocks emit keeps, restated from the layout: MSS 4, TS 12, lone
 * SACK-permitted 4, WS 4, and the SACK option's own 4 bytes. */
static size_t expected_sack_blocks(const struct tcp_options *o)
{
    size_t used = (o->has_mss ? 4 : 0) + (o->has_timestamp ? 12 : 0) +
                  (o->sack_permitted && !o->has_timestamp ? 4 : 0) + (o->has_wscale ? 4 : 0);
    size_t room = (40 - used - 4) / 8;
    return o->sack_count < room ? o->sack_count : room;
}

static void check_round_trip(const struct tcp_segment *out, const struct tcp_segment *in,
                             size_t sack_emitted)
{
    CHECK_EQ(in->src_port, out->src_port);
    CHECK_EQ(in->dst_port, out->dst_port);
    CHECK_U64(in->seq, out->seq);
    CHECK_U64(in->ack, out->ack);
    CHECK_EQ(in->flags, out->flags);
    CHECK_EQ(in->window, out->window);
    CHECK_EQ(in->urgent, out->urgent);
    CHECK_EQ(in->header_len, 20 + wire_tcp_options_len(out));
    CHECK_EQ(in->opt.has_mss, out->opt.has_mss);
    if (out->opt.has_mss) CHECK_EQ(in->opt.mss, out->opt.mss);
    CHECK_EQ(in->opt.has_wscale, out->opt.has_wscale);
    if (out->opt.has_wscale) CHECK_EQ(in->opt.wscale, out->opt.wscale);
    CHECK_EQ(in->opt.sack_permitted, out->opt.sack_permitted);
    CHECK_EQ(in->opt.has_timestamp, out->opt.has_timestamp);
    if (out->opt.has_timestamp) {
        CHECK_U64(in->opt.ts_val, out->opt.ts_val);
        CHECK_U64(in->opt.ts_ecr, out->opt.ts_ecr);
    }
    CHECK_EQ(in->opt.sack_count, sack_emitted);
    for (size_t i = 0; i < sack_emitted; i++) {
        CHECK_U64(in->opt.sack[i].left, out->opt.sack[i].left);
        CHECK_U64(in->opt.sack[i].right, out->opt.sack[i].right);
    }
    CHECK_EQ(in->payload_len, out->payload_len);
    if (out->payload_len) CHECK_MEM(in->payload, out->payload, out->payload_len);
}

static void test_emit_parse_random(void)
{
    uint8_t payload[200], p[300];
    for (int round = 0; round < 5000 && !test_current_failed; round++) {
        for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)rng_next();
        struct tcp_segment out = {
            .src_port = (uint16_t)rng_next(), .dst_port = (uint16_t)rng_next(),
            .seq = (uint32_t)rng_next(), .ack = (uint32_t)rng_next(),
            .flags = (uint8_t)rng_next(), .window = (uint16_t)rng_next(),
            .urgent = (uint16_t)rng_next(), .opt = random_options(), .payload = payload,
            .payload_len = (size_t)(rng_next() % (sizeof payload + 1))};
        uint32_t src = (uint32_t)rng_next(), dst = (uint32_t)rng_next();
        int len = wire_tcp_emit(p, sizeof p, src, dst, &out);
        REQUIRE(len > 0);
        struct tcp_segment in;
        REQUIRE(wire_tcp_parse(p, (size_t)len, src, dst, true, &in) == FINACK_DROP_NONE);
        check_round_trip(&out, &in, expected_sack_blocks(&out.opt));
    }
}

/* A payload already in place after the header is not copied. */
static void test_emit_payload_in_place(void)
{
    uint8_t p[100];
    struct tcp_segment out = {.flags = TCP_FLAG_ACK | TCP_FLAG_PSH,
                              .opt = {.has_timestamp = true}, .payload_len = 5};
    memcpy(p + 32, "hello", 5);
    REQUIRE(wire_tcp_emit(p, sizeof p, SRC, DST, &out) == 37);
    struct tcp_segment in;
    REQUIRE(wire_tcp_parse(p, 37, SRC, DST, true, &in) == FINACK_DROP_NONE);
    CHECK_EQ(in.payload_len, 5);
    CHECK_MEM(in.payload, "hello", 5);
}

static void test_emit_no_space(void)
{
    uint8_t p[100];
    struct tcp_segment out = {.flags = TCP_FLAG_SYN, .opt = {.has_mss = true},
                              .payload = (const uint8_t *)"abc", .payload_len = 3};
    CHECK_EQ(wire_tcp_emit(p, 26, SRC, DST, &out), -ENOSPC);
    CHECK_EQ(wire_tcp_emit(p, 27, SRC, DST, &out), 27);
    CHECK_EQ(wire_tcp_emit(p, 0, SRC, DST, &out), -ENOSPC);
}

static void test_emit_too_long(void)
{
    uint8_t p[20];
    struct tcp_segment out = {.flags = TCP_FLAG_ACK, .payload_len = 65536 - 20};
    CHECK_EQ(wire_tcp_emit(p, sizeof p, SRC, DST, &out), -EMSGSIZE);
}

/* ---- Flags as text ------------------------------------------------------ */

static void test_flags_string(void)
{
    char buf[10];
    CHECK_STR(tcp_flags_string(TCP_FLAG_SYN, buf), "S");
    CHECK_STR(tcp_flags_string(TCP_FLAG_SYN | TCP_FLAG_ACK, buf), "S.");
    CHECK_STR(tcp_flags_string(TCP_FLAG_ACK, buf), ".");
    CHECK_STR(tcp_flags_string(TCP_FLAG_PSH | TCP_FLAG_ACK, buf), "P.");
    CHECK_STR(tcp_flags_string(TCP_FLAG_FIN | TCP_FLAG_ACK, buf), "F.");
    CHECK_STR(tcp_flags_string(TCP_FLAG_FIN | TCP_FLAG_PSH | TCP_FLAG_ACK, buf), "FP.");
    CHECK_STR(tcp_flags_string(TCP_FLAG_RST, buf), "R");
    CHECK_STR(tcp_flags_string(TCP_FLAG_RST | TCP_FLAG_ACK, buf), "R.");
    CHECK_STR(tcp_flags_string(TCP_FLAG_URG | TCP_FLAG_ACK, buf), ".U");
    CHECK_STR(tcp_flags_string(TCP_FLAG_SYN | TCP_FLAG_ECE | TCP_FLAG_CWR, buf), "SEW");
    CHECK_STR(tcp_flags_string(TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_ECE, buf), "S.E");
    CHECK_STR(tcp_flags_string(0xff, buf), "FSRP.UEW");
    CHECK_STR(tcp_flags_string(0, buf), "none");
}

TEST_MAIN("wire_tcp", TEST_CASE(test_parse_linux_syn), TEST_CASE(test_emit_linux_syn_bytes),
          TEST_CASE(test_reject_truncated), TEST_CASE(test_reject_data_offset_below_five),
          TEST_CASE(test_reject_data_offset_past_end), TEST_CASE(test_reject_option_length_zero),
          TEST_CASE(test_reject_option_length_one), TEST_CASE(test_reject_mss_wrong_length),
          TEST_CASE(test_reject_wscale_wrong_length),
          TEST_CASE(test_reject_sack_permitted_wrong_length),
          TEST_CASE(test_reject_timestamp_wrong_length),
          TEST_CASE(test_reject_sack_without_blocks), TEST_CASE(test_reject_sack_partial_block),
          TEST_CASE(test_reject_option_past_header),
          TEST_CASE(test_reject_unknown_option_past_header),
          TEST_CASE(test_reject_option_kind_without_length),
          TEST_CASE(test_reject_long_mss_past_header), TEST_CASE(test_reject_bad_checksum),
          TEST_CASE(test_checksum_checked_before_options), TEST_CASE(test_eol_ends_options),
          TEST_CASE(test_nop_and_unknown_kinds_recorded), TEST_CASE(test_forty_nops),
          TEST_CASE(test_duplicate_option_last_wins), TEST_CASE(test_wscale_above_14_kept),
          TEST_CASE(test_sack_one_to_four_blocks), TEST_CASE(test_reserved_bits_ignored),
          TEST_CASE(test_parse_payload), TEST_CASE(test_emit_syn_mss_sackok_ts_ws),
          TEST_CASE(test_emit_syn_mss_sackok_ws), TEST_CASE(test_emit_syn_mss_ts_ws),
          TEST_CASE(test_emit_syn_mss_only), TEST_CASE(test_emit_syn_mss_ws),
          TEST_CASE(test_emit_syn_mss_sackok), TEST_CASE(test_emit_syn_mss_sackok_ts),
          TEST_CASE(test_emit_no_options), TEST_CASE(test_emit_ack_ts),
          TEST_CASE(test_emit_ack_ts_sack), TEST_CASE(test_emit_sack_four_blocks),
          TEST_CASE(test_emit_sack_trimmed_beside_timestamps), TEST_CASE(test_emit_parse_random),
          TEST_CASE(test_emit_payload_in_place), TEST_CASE(test_emit_no_space),
          TEST_CASE(test_emit_too_long), TEST_CASE(test_flags_string))
