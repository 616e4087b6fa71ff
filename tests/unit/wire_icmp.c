/* ICMP parsing and emitting, and the quote inside an ICMP error. */
#include <errno.h>

#include "test.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

/* Echo request, id 0x1234, seq 1, data "abcdefgh"; checksum 0x5435 computed
 * independently of finack (a 16-bit word sum in Python). */
static const uint8_t echo_request[16] = {0x08, 0x00, 0x54, 0x35, 0x12, 0x34, 0x00, 0x01,
                                         'a',  'b',  'c',  'd',  'e',  'f',  'g',  'h'};

static void test_parse_echo_request(void)
{
    struct icmp_message m;
    REQUIRE(wire_icmp_parse(echo_request, sizeof echo_request, true, &m) == FINACK_DROP_NONE);
    CHECK_EQ(m.type, ICMP_ECHO_REQUEST);
    CHECK_EQ(m.code, 0);
    CHECK_EQ(m.checksum, 0x5435);
    CHECK_EQ(m.id, 0x1234);
    CHECK_EQ(m.seq, 1);
    CHECK_U64(m.rest, 0x12340001);
    CHECK(m.payload == echo_request + 8);
    CHECK_EQ(m.payload_len, 8);
}

static void test_parse_header_only(void)
{
    uint8_t b[8] = {ICMP_ECHO_REPLY, 0, 0, 0, 0, 7, 0, 9};
    put_be16(b + 2, csum_compute(b, sizeof b));
    struct icmp_message m;
    REQUIRE(wire_icmp_parse(b, sizeof b, true, &m) == FINACK_DROP_NONE);
    CHECK_EQ(m.payload_len, 0);
    CHECK_EQ(m.id, 7);
    CHECK_EQ(m.seq, 9);
}

static void test_reject_truncated(void)
{
    struct icmp_message m;
    CHECK_EQ(wire_icmp_parse(echo_request, 7, false, &m), FINACK_DROP_ICMP_TRUNCATED);
    CHECK_EQ(wire_icmp_parse(echo_request, 0, false, &m), FINACK_DROP_ICMP_TRUNCATED);
}

static void test_reject_bad_checksum(void)
{
    uint8_t b[sizeof echo_request];
    memcpy(b, echo_request, sizeof b);
    b[15] = 'H'; /* the checksum covers the data too */
    struct icmp_message m;
    CHECK_EQ(wire_icmp_parse(b, sizeof b, true, &m), FINACK_DROP_ICMP_BAD_CHECKSUM);
    CHECK_EQ(wire_icmp_parse(b, sizeof b, false, &m), FINACK_DROP_NONE);
}

/* The IP layer decides what to do with types it does not know. */
static void test_unknown_type_parses(void)
{
    uint8_t b[12] = {42, 7, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4};
    put_be16(b + 2, csum_compute(b, sizeof b));
    struct icmp_message m;
    REQUIRE(wire_icmp_parse(b, sizeof b, true, &m) == FINACK_DROP_NONE);
    CHECK_EQ(m.type, 42);
    CHECK_EQ(m.code, 7);
    CHECK_U64(m.rest, 0xdeadbeef);
    CHECK_EQ(m.payload_len, 4);
}

static void test_emit_echo_request_matches_bytes(void)
{
    struct icmp_message m = {.type = ICMP_ECHO_REQUEST, .id = 0x1234, .seq = 1,
                             .rest = 0xffffffff, /* ignored for echo */
                             .payload = echo_request + 8, .payload_len = 8};
    uint8_t b[32];
    REQUIRE(wire_icmp_emit(b, sizeof b, &m) == 16);
    CHECK_MEM(b, echo_request, sizeof echo_request);
}

static void test_emit_parse_echo_round_trip(void)
{
    const char data[] = "0123456789abcdefghijklmnopqrstuvwxyz!"; /* odd length */
    struct icmp_message out = {.type = ICMP_ECHO_REPLY, .id = 0xfffe, .seq = 0x8001,
                               .payload = (const uint8_t *)data, .payload_len = sizeof data};
    uint8_t b[64];
    int len = wire_icmp_emit(b, sizeof b, &out);
    REQUIRE(len == (int)(8 + sizeof data));
    struct icmp_message in;
    REQUIRE(wire_icmp_parse(b, (size_t)len, true, &in) == FINACK_DROP_NONE);
    CHECK_EQ(in.type, out.type);
    CHECK_EQ(in.code, 0);
    CHECK_EQ(in.id, out.id);
    CHECK_EQ(in.seq, out.seq);
    CHECK_EQ(in.payload_len, sizeof data);
    CHECK_MEM(in.payload, data, sizeof data);
}

/* Unreachable, code 4: the next-hop MTU in the low half of the second word
 * (RFC 1191 §4). */
static void test_emit_parse_needfrag(void)
{
    uint8_t quote[28] = {0x45};
    struct icmp_message out = {.type = ICMP_DEST_UNREACH, .code = ICMP_UNREACH_NEEDFRAG,
                               .id = 0x1111, .seq = 0x2222, /* ignored: not echo */
                               .rest = 1400, .payload = quote, .payload_len = sizeof quote};
    uint8_t b[64];
    REQUIRE(wire_icmp_emit(b, sizeof b, &out) == 36);
    CHECK_EQ(get_be32(b + 4), 1400);
    struct icmp_message in;
    REQUIRE(wire_icmp_parse(b, 36, true, &in) == FINACK_DROP_NONE);
    CHECK_EQ(in.type, ICMP_DEST_UNREACH);
    CHECK_EQ(in.code, ICMP_UNREACH_NEEDFRAG);
    CHECK_U64(in.rest, 1400);
    CHECK_EQ(in.rest & 0xffff, 1400);
    CHECK_MEM(in.payload, quote, sizeof quote);
}

static void test_emit_payload_in_place(void)
{
    uint8_t b[20];
    memcpy(b + 8, "ping", 4);
    struct icmp_message out = {.type = ICMP_ECHO_REQUEST, .id = 1, .seq = 2, .payload_len = 4};
    REQUIRE(wire_icmp_emit(b, sizeof b, &out) == 12);
    struct icmp_message in;
    REQUIRE(wire_icmp_parse(b, 12, true, &in) == FINACK_DROP_NONE);
    CHECK_MEM(in.payload, "ping", 4);
}

static void test_emit_no_space(void)
{
    uint8_t b[16];
    struct icmp_message out = {.type = ICMP_ECHO_REQUEST, .payload = echo_request,
                               .payload_len = 8};
    CHECK_EQ(wire_icmp_emit(b, 15, &out), -ENOSPC);
    CHECK_EQ(wire_icmp_emit(b, 7, &out), -ENOSPC);
    CHECK_EQ(wire_icmp_emit(b, 16, &out), 16);
}

/* ---- Quotes ------------------------------------------------------------- */

/* What a router sends back: our IPv4 header (ihl words) and the first
 * transport_len bytes of our TCP header. Returns the quote length. */
static size_t make_quote(uint8_t *q, size_t ihl, size_t transport_len)
{
    memset(q, 0, ihl * 4 + transport_len);
    struct ipv4_header h = {.total_len = 1500, .ttl = 1, .protocol = IPPROTO_TCP_,
                            .src = 0x0a000001, .dst = 0xc6336401};
    wire_ipv4_emit(q, 20, &h);
    q[0] = (uint8_t)(0x40 | ihl);
    uint8_t *t = q + ihl * 4;
    if (transport_len >= 8) {
        put_be16(t, 40000);
        put_be16(t + 2, 443);
        put_be32(t + 4, 0xcafef00d);
    }
    return ihl * 4 + transport_len;
}

static void test_quote_valid(void)
{
    uint8_t q[28];
    size_t len = make_quote(q, 5, 8);
    struct icmp_quote out;
    REQUIRE(wire_icmp_parse_quote(q, len, &out) == FINACK_DROP_NONE);
    CHECK_U64(out.src, 0x0a000001);
    CHECK_U64(out.dst, 0xc6336401);
    CHECK_EQ(out.protocol, IPPROTO_TCP_);
    CHECK(out.transport == q + 20);
    CHECK_EQ(out.transport_len, 8);
    CHECK_EQ(get_be16(out.transport), 40000);
    CHECK_EQ(get_be16(out.transport + 2), 443);
    CHECK_U64(get_be32(out.transport + 4), 0xcafef00d);
}

/* Modern routers quote more (RFC 1812 §4.3.2.3): the rest is kept. */
static void test_quote_with_ip_options_and_more_data(void)
{
    uint8_t q[24 + 40];
    size_t len = make_quote(q, 6, 40);
    struct icmp_quote out;
    REQUIRE(wire_icmp_parse_quote(q, len, &out) == FINACK_DROP_NONE);
    CHECK(out.transport == q + 24);
    CHECK_EQ(out.transport_len, 40);
    CHECK_EQ(get_be16(out.transport + 2), 443);
}

/* The quoted header's checksum and total length are not checked. */
static void test_quote_ignores_checksum_and_total_len(void)
{
    uint8_t q[28];
    size_t len = make_quote(q, 5, 8);
    q[10] ^= 0xff;
    put_be16(q + 2, 3);
    struct icmp_quote out;
    CHECK_EQ(wire_icmp_parse_quote(q, len, &out), FINACK_DROP_NONE);
}

static void test_quote_reject_truncated_header(void)
{
    uint8_t q[28];
    make_quote(q, 5, 8);
    struct icmp_quote out;
    CHECK_EQ(wire_icmp_parse_quote(q, 19, &out), FINACK_DROP_ICMP_ERROR_BAD_QUOTE);
    CHECK_EQ(wire_icmp_parse_quote(q, 0, &out), FINACK_DROP_ICMP_ERROR_BAD_QUOTE);
}

static void test_quote_reject_bad_version(void)
{
    uint8_t q[28];
    size_t len = make_quote(q, 5, 8);
    q[0] = 0x65;
    struct icmp_quote out;
    CHECK_EQ(wire_icmp_parse_quote(q, len, &out), FINACK_DROP_ICMP_ERROR_BAD_QUOTE);
}

static void test_quote_reject_ihl_below_five(void)
{
    uint8_t q[28];
    size_t len = make_quote(q, 5, 8);
    q[0] = 0x44;
    struct icmp_quote out;
    CHECK_EQ(wire_icmp_parse_quote(q, len, &out), FINACK_DROP_ICMP_ERROR_BAD_QUOTE);
}

static void test_quote_reject_header_past_quote(void)
{
    uint8_t q[28];
    size_t len = make_quote(q, 5, 8);
    q[0] = 0x48; /* a 32-byte header in 28 bytes */
    struct icmp_quote out;
    CHECK_EQ(wire_icmp_parse_quote(q, len, &out), FINACK_DROP_ICMP_ERROR_BAD_QUOTE);
}

/* RFC 792 promises 64 bits of the original data; fewer cannot name a TCP
 * connection (ports and sequence number). */
static void test_quote_reject_short_transport(void)
{
    uint8_t q[28];
    size_t len = make_quote(q, 5, 8);
    struct icmp_quote out;
    CHECK_EQ(wire_icmp_parse_quote(q, len - 1, &out), FINACK_DROP_ICMP_ERROR_BAD_QUOTE);
    CHECK_EQ(wire_icmp_parse_quote(q, 20, &out), FINACK_DROP_ICMP_ERROR_BAD_QUOTE);
}

/* A whole unreachable message: ICMP parse, then the quote inside it. */
static void test_unreachable_end_to_end(void)
{
    uint8_t q[28], b[64];
    size_t qlen = make_quote(q, 5, 8);
    struct icmp_message out = {.type = ICMP_DEST_UNREACH, .code = ICMP_UNREACH_PORT,
                               .payload = q, .payload_len = qlen};
    int len = wire_icmp_emit(b, sizeof b, &out);
    REQUIRE(len == 36);
    struct icmp_message in;
    REQUIRE(wire_icmp_parse(b, (size_t)len, true, &in) == FINACK_DROP_NONE);
    struct icmp_quote quote;
    REQUIRE(wire_icmp_parse_quote(in.payload, in.payload_len, &quote) == FINACK_DROP_NONE);
    CHECK_EQ(quote.protocol, IPPROTO_TCP_);
    CHECK_EQ(get_be16(quote.transport), 40000);
}

TEST_MAIN("wire_icmp", TEST_CASE(test_parse_echo_request), TEST_CASE(test_parse_header_only),
          TEST_CASE(test_reject_truncated), TEST_CASE(test_reject_bad_checksum),
          TEST_CASE(test_unknown_type_parses), TEST_CASE(test_emit_echo_request_matches_bytes),
          TEST_CASE(test_emit_parse_echo_round_trip), TEST_CASE(test_emit_parse_needfrag),
          TEST_CASE(test_emit_payload_in_place), TEST_CASE(test_emit_no_space),
          TEST_CASE(test_quote_valid), TEST_CASE(test_quote_with_ip_options_and_more_data),
          TEST_CASE(test_quote_ignores_checksum_and_total_len),
          TEST_CASE(test_quote_reject_truncated_header), TEST_CASE(test_quote_reject_bad_version),
          TEST_CASE(test_quote_reject_ihl_below_five),
          TEST_CASE(test_quote_reject_header_past_quote),
          TEST_CASE(test_quote_reject_short_transport), TEST_CASE(test_unreachable_end_to_end))
