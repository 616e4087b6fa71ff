/* IPv4 header parsing: one crafted packet per rejection, captured headers,
 * emit then parse. */
#include <errno.h>

#include "test.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

/* A Linux SYN from 127.0.0.1 to 127.0.0.1 captured with tcpdump on lo: the
 * IPv4 header and the 40-byte TCP segment after it. */
static const uint8_t captured_syn[60] = {
    0x45, 0x00, 0x00, 0x3c, 0x03, 0x8c, 0x40, 0x00, 0x40, 0x06, 0x39, 0x2e, 0x7f, 0x00, 0x00,
    0x01, 0x7f, 0x00, 0x00, 0x01, 0xa1, 0x74, 0x00, 0x09, 0xba, 0xd0, 0xef, 0x98, 0x00, 0x00,
    0x00, 0x00, 0xa0, 0x02, 0xff, 0xd7, 0xae, 0xe7, 0x00, 0x00, 0x02, 0x04, 0xff, 0xd7, 0x04,
    0x02, 0x08, 0x0a, 0xb8, 0x99, 0x9c, 0x96, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x0a,
};

/* Rewrites the header checksum after a test changed a field, so that the
 * parse fails for the reason under test and not for the checksum. */
static void fix_checksum(uint8_t *p)
{
    size_t header_len = (size_t)(p[0] & 0x0f) * 4;
    put_be16(p + 10, 0);
    put_be16(p + 10, csum_compute(p, header_len));
}

/* A valid packet of total bytes: 20-byte header then a zero payload. */
static void make_packet(uint8_t *p, size_t total)
{
    memset(p, 0, total);
    struct ipv4_header h = {.total_len = (uint16_t)total, .id = 7, .frag = IPV4_FLAG_DF,
                            .ttl = 64, .protocol = IPPROTO_TCP_, .src = 0x0a000001,
                            .dst = 0x0a000002};
    wire_ipv4_emit(p, total, &h);
}

static enum finack_drop_reason parse(const uint8_t *p, size_t len)
{
    struct ipv4_header h;
    return wire_ipv4_parse(p, len, true, &h);
}

static void test_parse_captured_syn(void)
{
    struct ipv4_header h;
    REQUIRE(wire_ipv4_parse(captured_syn, sizeof captured_syn, true, &h) == FINACK_DROP_NONE);
    CHECK_EQ(h.header_len, 20);
    CHECK_EQ(h.tos, 0);
    CHECK_EQ(h.total_len, 60);
    CHECK_EQ(h.id, 0x038c);
    CHECK_EQ(h.frag, IPV4_FLAG_DF);
    CHECK_EQ(h.ttl, 64);
    CHECK_EQ(h.protocol, IPPROTO_TCP_);
    CHECK_EQ(h.checksum, 0x392e);
    CHECK_U64(h.src, 0x7f000001);
    CHECK_U64(h.dst, 0x7f000001);
    CHECK(h.payload == captured_syn + 20);
    CHECK_EQ(h.payload_len, 40);
}

/* The header in RFC-style examples (UDP, 0x73 bytes long). */
static void test_parse_known_udp_header(void)
{
    uint8_t p[0x73] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                       0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    struct ipv4_header h;
    REQUIRE(wire_ipv4_parse(p, sizeof p, true, &h) == FINACK_DROP_NONE);
    CHECK_EQ(h.protocol, IPPROTO_UDP_);
    CHECK_U64(h.src, 0xc0a80001);
    CHECK_U64(h.dst, 0xc0a800c7);
    CHECK_EQ(h.payload_len, 0x73 - 20);
}

static void test_reject_truncated(void)
{
    uint8_t p[20];
    make_packet(p, sizeof p);
    CHECK_EQ(parse(p, 19), FINACK_DROP_IP_TRUNCATED);
    CHECK_EQ(parse(p, 0), FINACK_DROP_IP_TRUNCATED);
}

static void test_reject_bad_version(void)
{
    uint8_t p[40];
    make_packet(p, sizeof p);
    p[0] = 0x65; /* an IPv6-looking version nibble */
    fix_checksum(p);
    CHECK_EQ(parse(p, sizeof p), FINACK_DROP_IP_BAD_VERSION);
}

static void test_reject_ihl_below_five(void)
{
    uint8_t p[40];
    make_packet(p, sizeof p);
    p[0] = 0x44;
    CHECK_EQ(parse(p, sizeof p), FINACK_DROP_IP_BAD_IHL);
}

static void test_reject_ihl_past_packet(void)
{
    uint8_t p[40];
    make_packet(p, sizeof p);
    p[0] = 0x4f; /* 60-byte header in a 40-byte packet */
    CHECK_EQ(parse(p, sizeof p), FINACK_DROP_IP_BAD_IHL);
}

static void test_reject_total_len_long(void)
{
    uint8_t p[40];
    make_packet(p, sizeof p);
    put_be16(p + 2, 41);
    fix_checksum(p);
    CHECK_EQ(parse(p, sizeof p), FINACK_DROP_IP_TOTAL_LEN_LONG);
}

static void test_reject_total_len_short(void)
{
    uint8_t p[40];
    make_packet(p, sizeof p);
    put_be16(p + 2, 39); /* one trailing byte the header does not claim */
    fix_checksum(p);
    CHECK_EQ(parse(p, sizeof p), FINACK_DROP_IP_TOTAL_LEN_SHORT);
}

/* A total length below the header length is counted as "short" too. */
static void test_reject_total_len_below_header(void)
{
    uint8_t p[40];
    make_packet(p, sizeof p);
    put_be16(p + 2, 19);
    fix_checksum(p);
    CHECK_EQ(parse(p, sizeof p), FINACK_DROP_IP_TOTAL_LEN_SHORT);
    put_be16(p + 2, 0);
    fix_checksum(p);
    CHECK_EQ(parse(p, sizeof p), FINACK_DROP_IP_TOTAL_LEN_SHORT);
}

static void test_reject_bad_checksum(void)
{
    uint8_t p[sizeof captured_syn];
    memcpy(p, captured_syn, sizeof p);
    p[8] = 63; /* TTL changed, checksum not updated */
    CHECK_EQ(parse(p, sizeof p), FINACK_DROP_IP_BAD_CHECKSUM);
    struct ipv4_header h;
    CHECK_EQ(wire_ipv4_parse(p, sizeof p, false, &h), FINACK_DROP_NONE);
    CHECK_EQ(h.ttl, 63);
}

static void test_reject_more_fragments(void)
{
    uint8_t p[40];
    make_packet(p, sizeof p);
    put_be16(p + 6, IPV4_FLAG_MF);
    fix_checksum(p);
    CHECK_EQ(parse(p, sizeof p), FINACK_DROP_IP_FRAGMENT);
}

static void test_reject_fragment_offset(void)
{
    uint8_t p[40];
    make_packet(p, sizeof p);
    put_be16(p + 6, IPV4_FLAG_DF | 185); /* the last fragment: offset, no MF */
    fix_checksum(p);
    CHECK_EQ(parse(p, sizeof p), FINACK_DROP_IP_FRAGMENT);
}

/* DF alone, and the reserved flag bit, are not fragments. */
static void test_accept_df_and_reserved_bit(void)
{
    uint8_t p[40];
    make_packet(p, sizeof p);
    CHECK_EQ(parse(p, sizeof p), FINACK_DROP_NONE);
    put_be16(p + 6, 0x8000);
    fix_checksum(p);
    CHECK_EQ(parse(p, sizeof p), FINACK_DROP_NONE);
}

static void test_parse_with_options(void)
{
    uint8_t p[32];
    make_packet(p, sizeof p);
    p[0] = 0x46;
    memcpy(p + 20, (const uint8_t[]){0x94, 0x04, 0x00, 0x00}, 4); /* router alert */
    p[24] = 0xaa;
    fix_checksum(p);
    struct ipv4_header h;
    REQUIRE(wire_ipv4_parse(p, sizeof p, true, &h) == FINACK_DROP_NONE);
    CHECK_EQ(h.header_len, 24);
    CHECK(h.options == p + 20);
    CHECK(h.payload == p + 24);
    CHECK_EQ(h.payload_len, 8);
    CHECK_EQ(h.payload[0], 0xaa);
}

/* A bare 20-byte header with no payload is a valid packet. */
static void test_parse_header_only(void)
{
    uint8_t p[20];
    make_packet(p, sizeof p);
    struct ipv4_header h;
    REQUIRE(wire_ipv4_parse(p, sizeof p, true, &h) == FINACK_DROP_NONE);
    CHECK_EQ(h.payload_len, 0);
}

static void test_emit_parse_round_trip(void)
{
    uint8_t p[100];
    const char payload[] = "hello, finack";
    struct ipv4_header out = {.tos = 0x10, .total_len = 20 + sizeof payload, .id = 0xbeef,
                              .frag = IPV4_FLAG_DF, .ttl = 3, .protocol = IPPROTO_ICMP_,
                              .src = 0xc0000201, .dst = 0xc6336402};
    REQUIRE(wire_ipv4_emit(p, sizeof p, &out) == 20);
    memcpy(p + 20, payload, sizeof payload);
    struct ipv4_header in;
    REQUIRE(wire_ipv4_parse(p, out.total_len, true, &in) == FINACK_DROP_NONE);
    CHECK_EQ(in.header_len, 20);
    CHECK_EQ(in.tos, out.tos);
    CHECK_EQ(in.total_len, out.total_len);
    CHECK_EQ(in.id, out.id);
    CHECK_EQ(in.frag, out.frag);
    CHECK_EQ(in.ttl, out.ttl);
    CHECK_EQ(in.protocol, out.protocol);
    CHECK_U64(in.src, out.src);
    CHECK_U64(in.dst, out.dst);
    CHECK_EQ(in.payload_len, sizeof payload);
    CHECK_MEM(in.payload, payload, sizeof payload);
}

/* Emitting the captured header's fields gives back its bytes. */
static void test_emit_matches_capture(void)
{
    struct ipv4_header h = {.total_len = 60, .id = 0x038c, .frag = IPV4_FLAG_DF, .ttl = 64,
                            .protocol = IPPROTO_TCP_, .src = 0x7f000001, .dst = 0x7f000001};
    uint8_t p[20];
    REQUIRE(wire_ipv4_emit(p, sizeof p, &h) == 20);
    CHECK_MEM(p, captured_syn, 20);
}

static void test_emit_no_space(void)
{
    uint8_t p[19];
    struct ipv4_header h = {.total_len = 20};
    CHECK_EQ(wire_ipv4_emit(p, sizeof p, &h), -ENOSPC);
}

static void test_martian_sources(void)
{
    CHECK(ipv4_is_martian_source(0x00000000));       /* 0.0.0.0 */
    CHECK(ipv4_is_martian_source(0x00ffffff));       /* 0.255.255.255 */
    CHECK(ipv4_is_martian_source(0x7f000001));       /* 127.0.0.1 */
    CHECK(ipv4_is_martian_source(0x7fffffff));       /* 127.255.255.255 */
    CHECK(ipv4_is_martian_source(0xe0000001));       /* 224.0.0.1 */
    CHECK(ipv4_is_martian_source(0xefffffff));       /* 239.255.255.255 */
    CHECK(ipv4_is_martian_source(0xf0000000));       /* 240.0.0.0 */
    CHECK(ipv4_is_martian_source(0xffffffff));       /* limited broadcast */
    CHECK(!ipv4_is_martian_source(0x01000000));      /* 1.0.0.0 */
    CHECK(!ipv4_is_martian_source(0x0a000001));      /* 10.0.0.1 */
    CHECK(!ipv4_is_martian_source(0x7effffff));      /* 126.255.255.255 */
    CHECK(!ipv4_is_martian_source(0x80000000));      /* 128.0.0.0 */
    CHECK(!ipv4_is_martian_source(0xdfffffff));      /* 223.255.255.255 */
}

TEST_MAIN("wire_ipv4", TEST_CASE(test_parse_captured_syn), TEST_CASE(test_parse_known_udp_header),
          TEST_CASE(test_reject_truncated), TEST_CASE(test_reject_bad_version),
          TEST_CASE(test_reject_ihl_below_five), TEST_CASE(test_reject_ihl_past_packet),
          TEST_CASE(test_reject_total_len_long), TEST_CASE(test_reject_total_len_short),
          TEST_CASE(test_reject_total_len_below_header), TEST_CASE(test_reject_bad_checksum),
          TEST_CASE(test_reject_more_fragments), TEST_CASE(test_reject_fragment_offset),
          TEST_CASE(test_accept_df_and_reserved_bit), TEST_CASE(test_parse_with_options),
          TEST_CASE(test_parse_header_only), TEST_CASE(test_emit_parse_round_trip),
          TEST_CASE(test_emit_matches_capture), TEST_CASE(test_emit_no_space),
          TEST_CASE(test_martian_sources))
