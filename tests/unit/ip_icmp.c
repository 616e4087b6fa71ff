/* IPv4 input/output and ICMP through a stack whose only link records what it
 * is asked to send. Packets are built with wire/ and checked byte for byte
 * where bytes matter. */
#include <errno.h>
#include <stdlib.h>

#include "ip/ip.h"
#include "stack.h"
#include "test.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define US 0x0a000001u   /* 10.0.0.1, the stack */
#define PEER 0x0a000002u /* 10.0.0.2 */
#define FAR 0xc6336401u  /* 198.51.100.1, off-link: default route */

struct recorder {
    struct finack_link link;
    int count;
    size_t len;
    uint8_t last[2048];
    int fail_with;
};

static int record_transmit(struct finack_link *link, const uint8_t *packet, size_t len,
                           finack_time_t now)
{
    (void)now;
    struct recorder *r = link->driver;
    if (r->fail_with) return r->fail_with;
    r->count++;
    r->len = len < sizeof r->last ? len : sizeof r->last;
    memcpy(r->last, packet, r->len);
    return 0;
}

static const struct finack_link_ops recorder_ops = {.transmit = record_transmit};

static struct finack_stack *make_stack(struct recorder *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->link = (struct finack_link){.ops = &recorder_ops, .driver = rec, .mtu = 1500,
                                     .name = "rec"};
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.secret[0] = 1;
    cfg.secret[1] = 2;
    struct finack_stack *stack = NULL;
    if (finack_stack_create(&stack, &cfg) != 0) abort();
    if (finack_stack_add_interface(stack, &rec->link, US, 24) != 0) abort();
    return stack;
}

/* An IPv4 packet from src to dst carrying payload, with a valid checksum. */
static size_t build_ip(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto,
                       const uint8_t *payload, size_t len)
{
    struct ipv4_header h = {.total_len = (uint16_t)(20 + len), .id = 7, .ttl = 64,
                            .protocol = proto, .src = src, .dst = dst};
    wire_ipv4_emit(buf, 20, &h);
    memcpy(buf + 20, payload, len);
    return 20 + len;
}

static size_t build_echo(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t type)
{
    uint8_t icmp[64];
    static const uint8_t data[] = "finack ping data";
    struct icmp_message m = {.type = type, .id = 0x1234, .seq = 9, .payload = data,
                             .payload_len = sizeof data};
    int n = wire_icmp_emit(icmp, sizeof icmp, &m);
    return build_ip(buf, src, dst, IPPROTO_ICMP_, icmp, (size_t)n);
}

static void test_echo_request_gets_exact_reply(void)
{
    struct recorder rec;
    struct finack_stack *stack = make_stack(&rec);
    uint8_t pkt[128];
    size_t len = build_echo(pkt, PEER, US, ICMP_ECHO_REQUEST);
    CHECK_EQ(finack_stack_input(stack, &rec.link, pkt, len, 1000), FINACK_DROP_NONE);
    REQUIRE(rec.count == 1);
    CHECK_EQ(rec.len, len);
    struct ipv4_header ip;
    REQUIRE(wire_ipv4_parse(rec.last, rec.len, true, &ip) == FINACK_DROP_NONE);
    CHECK_EQ(ip.src, US);
    CHECK_EQ(ip.dst, PEER);
    CHECK_EQ(ip.ttl, 64);
    CHECK_EQ(ip.protocol, IPPROTO_ICMP_);
    struct icmp_message m;
    REQUIRE(wire_icmp_parse(ip.payload, ip.payload_len, true, &m) == FINACK_DROP_NONE);
    CHECK_EQ(m.type, ICMP_ECHO_REPLY);
    CHECK_EQ(m.id, 0x1234);
    CHECK_EQ(m.seq, 9);
    /* The reply's ICMP bytes equal the request's but for type and checksum. */
    CHECK_MEM(rec.last + 24, pkt + 24, len - 24);
    CHECK_EQ(finack_stack_counter(stack, FINACK_CTR_ICMP_IN_ECHOS), 1);
    CHECK_EQ(finack_stack_counter(stack, FINACK_CTR_ICMP_OUT_ECHO_REPS), 1);
    CHECK_EQ(finack_stack_counter(stack, FINACK_CTR_IP_IN_DELIVERS), 1);
    CHECK_EQ(finack_stack_counter(stack, FINACK_CTR_IP_OUT_REQUESTS), 1);
    finack_stack_destroy(stack);
}

static void test_drops_are_named_and_counted(void)
{
    struct recorder rec;
    struct finack_stack *stack = make_stack(&rec);
    uint8_t pkt[128];
    size_t len = build_echo(pkt, PEER, 0x0a000009u, ICMP_ECHO_REQUEST);
    CHECK_EQ(finack_stack_input(stack, &rec.link, pkt, len, 0), FINACK_DROP_IP_NOT_FOR_US);
    len = build_echo(pkt, 0x7f000001u, US, ICMP_ECHO_REQUEST);
    CHECK_EQ(finack_stack_input(stack, &rec.link, pkt, len, 0), FINACK_DROP_IP_BAD_SOURCE);
    len = build_echo(pkt, PEER, US, ICMP_ECHO_REQUEST);
    pkt[10] ^= 1; /* IPv4 header checksum */
    CHECK_EQ(finack_stack_input(stack, &rec.link, pkt, len, 0), FINACK_DROP_IP_BAD_CHECKSUM);
    len = build_echo(pkt, PEER, US, ICMP_ECHO_REQUEST);
    pkt[len - 1] ^= 0x40; /* ICMP payload: ICMP checksum now wrong */
    CHECK_EQ(finack_stack_input(stack, &rec.link, pkt, len, 0), FINACK_DROP_ICMP_BAD_CHECKSUM);
    CHECK_EQ(finack_stack_input(stack, &rec.link, pkt, 3, 0), FINACK_DROP_IP_TRUNCATED);
    CHECK_EQ(rec.count, 0);
    CHECK_EQ(finack_stack_drops(stack, FINACK_DROP_IP_NOT_FOR_US), 1);
    CHECK_EQ(finack_stack_drops(stack, FINACK_DROP_IP_BAD_SOURCE), 1);
    CHECK_EQ(finack_stack_drops(stack, FINACK_DROP_IP_BAD_CHECKSUM), 1);
    CHECK_EQ(finack_stack_drops(stack, FINACK_DROP_ICMP_BAD_CHECKSUM), 1);
    CHECK_EQ(finack_stack_drops(stack, FINACK_DROP_IP_TRUNCATED), 1);
    CHECK_EQ(finack_stack_counter(stack, FINACK_CTR_IP_IN_RECEIVES), 5);
    CHECK_EQ(finack_stack_counter(stack, FINACK_CTR_IP_IN_DISCARDS), 4);
    CHECK_STR(finack_drop_reason_name(FINACK_DROP_IP_BAD_CHECKSUM), "IP_BAD_CHECKSUM");
    CHECK_STR(finack_counter_name(FINACK_CTR_IP_IN_RECEIVES), "IpInReceives");
    finack_stack_destroy(stack);
}

static void test_unknown_protocol_gets_protocol_unreachable(void)
{
    struct recorder rec;
    struct finack_stack *stack = make_stack(&rec);
    uint8_t pkt[128], payload[40];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)i;
    size_t len = build_ip(pkt, PEER, US, 47 /* GRE */, payload, sizeof payload);
    CHECK_EQ(finack_stack_input(stack, &rec.link, pkt, len, 0), FINACK_DROP_IP_UNKNOWN_PROTOCOL);
    REQUIRE(rec.count == 1);
    struct ipv4_header ip;
    REQUIRE(wire_ipv4_parse(rec.last, rec.len, true, &ip) == FINACK_DROP_NONE);
    CHECK_EQ(ip.dst, PEER);
    struct icmp_message m;
    REQUIRE(wire_icmp_parse(ip.payload, ip.payload_len, true, &m) == FINACK_DROP_NONE);
    CHECK_EQ(m.type, ICMP_DEST_UNREACH);
    CHECK_EQ(m.code, ICMP_UNREACH_PROTOCOL);
    /* The whole offending packet is quoted (it is well under 576 bytes). */
    CHECK_EQ(m.payload_len, len);
    CHECK_MEM(m.payload, pkt, len);
    finack_stack_destroy(stack);
}

static void test_no_icmp_error_about_icmp_error(void)
{
    struct recorder rec;
    struct finack_stack *stack = make_stack(&rec);
    uint8_t inner[64], icmp[128], pkt[256];
    size_t inner_len = build_ip(inner, US, PEER, 47, (const uint8_t *)"12345678", 8);
    struct icmp_message m = {.type = ICMP_DEST_UNREACH, .code = ICMP_UNREACH_PORT,
                             .payload = inner, .payload_len = inner_len};
    int n = wire_icmp_emit(icmp, sizeof icmp, &m);
    size_t len = build_ip(pkt, PEER, US, IPPROTO_ICMP_, icmp, (size_t)n);
    /* A destination unreachable about protocol 47 that nothing registered. */
    CHECK_EQ(finack_stack_input(stack, &rec.link, pkt, len, 0),
             FINACK_DROP_ICMP_ERROR_NO_TRANSPORT);
    CHECK_EQ(rec.count, 0);
    finack_stack_destroy(stack);
}

static int errors_seen;
static uint32_t error_quote_dst;
static uint8_t error_code;

static enum finack_drop_reason fake_input(struct finack_stack *stack,
                                          const struct ipv4_header *ip, finack_time_t now)
{
    (void)stack, (void)ip, (void)now;
    return FINACK_DROP_NONE;
}

static void fake_error(struct finack_stack *stack, const struct icmp_message *icmp,
                       const struct icmp_quote *quote, finack_time_t now)
{
    (void)stack, (void)now;
    errors_seen++;
    error_quote_dst = quote->dst;
    error_code = icmp->code;
    CHECK(quote->transport_len >= 8);
}

static void test_icmp_error_reaches_transport(void)
{
    struct recorder rec;
    struct finack_stack *stack = make_stack(&rec);
    struct ip_protocol proto = {.input = fake_input, .icmp_error = fake_error};
    REQUIRE(ip_register_protocol(stack, IPPROTO_TCP_, &proto) == 0);
    uint8_t inner[64], icmp[128], pkt[256];
    size_t inner_len = build_ip(inner, US, FAR, IPPROTO_TCP_,
                                (const uint8_t *)"\x13\x88\x00\x50\x00\x00\x00\x01", 8);
    struct icmp_message m = {.type = ICMP_DEST_UNREACH, .code = ICMP_UNREACH_PORT,
                             .payload = inner, .payload_len = inner_len};
    int n = wire_icmp_emit(icmp, sizeof icmp, &m);
    size_t len = build_ip(pkt, FAR, US, IPPROTO_ICMP_, icmp, (size_t)n);
    errors_seen = 0;
    CHECK_EQ(finack_stack_input(stack, &rec.link, pkt, len, 0), FINACK_DROP_NONE);
    CHECK_EQ(errors_seen, 1);
    CHECK_EQ(error_quote_dst, FAR);
    CHECK_EQ(error_code, ICMP_UNREACH_PORT);
    /* An error quoting a packet that was not ours is not believed. */
    inner_len = build_ip(inner, PEER, FAR, IPPROTO_TCP_, (const uint8_t *)"12345678", 8);
    m.payload_len = inner_len;
    n = wire_icmp_emit(icmp, sizeof icmp, &m);
    len = build_ip(pkt, FAR, US, IPPROTO_ICMP_, icmp, (size_t)n);
    CHECK_EQ(finack_stack_input(stack, &rec.link, pkt, len, 0), FINACK_DROP_ICMP_ERROR_BAD_QUOTE);
    CHECK_EQ(errors_seen, 1);
    finack_stack_destroy(stack);
}

static void test_icmp_errors_are_rate_limited(void)
{
    struct recorder rec;
    struct finack_stack *stack = make_stack(&rec);
    uint8_t pkt[64];
    size_t len = build_ip(pkt, PEER, US, 47, (const uint8_t *)"12345678", 8);
    for (int i = 0; i < 200; i++) finack_stack_input(stack, &rec.link, pkt, len, 0);
    CHECK_EQ(rec.count, ICMP_ERRORS_BURST);
    /* 10 ms later ten more tokens have been earned. */
    for (int i = 0; i < 200; i++) finack_stack_input(stack, &rec.link, pkt, len, FINACK_MSEC(10));
    CHECK_EQ(rec.count, ICMP_ERRORS_BURST + 10);
    CHECK_EQ(finack_stack_drops(stack, FINACK_DROP_IP_UNKNOWN_PROTOCOL), 400);
    finack_stack_destroy(stack);
}

static void test_output_routes_and_checks_mtu(void)
{
    struct recorder rec;
    struct finack_stack *stack = make_stack(&rec);
    CHECK_EQ(ip_source_for(stack, FAR), US); /* default route */
    CHECK_EQ(ip_route_mtu(stack, PEER), 1500);
    memset(ip_tx_payload(stack), 0xab, 1481);
    CHECK_EQ(ip_output(stack, 0, PEER, 200, 1481, true, 0), -EMSGSIZE);
    CHECK_EQ(finack_stack_drops(stack, FINACK_DROP_OUT_TOO_BIG), 1);
    CHECK_EQ(ip_output(stack, 0, PEER, 200, 1480, true, 0), 0);
    REQUIRE(rec.count == 1);
    CHECK_EQ(rec.len, 1500);
    CHECK_EQ(get_be16(rec.last + 6), IPV4_FLAG_DF);
    rec.fail_with = -ENOBUFS;
    CHECK_EQ(ip_output(stack, 0, PEER, 200, 10, true, 0), -ENOBUFS);
    CHECK_EQ(finack_stack_drops(stack, FINACK_DROP_OUT_LINK_ERROR), 1);
    finack_stack_destroy(stack);
}

static void test_interfaces_validated(void)
{
    struct recorder rec;
    struct finack_stack *stack = make_stack(&rec);
    CHECK_EQ(finack_stack_add_interface(stack, &rec.link, US, 24), -EADDRINUSE);
    CHECK_EQ(finack_stack_add_interface(stack, &rec.link, PEER, 33), -EINVAL);
    CHECK_EQ(finack_stack_add_interface(stack, NULL, PEER, 24), -EINVAL);
    finack_stack_destroy(stack);
}

static void test_parse_and_format_addresses(void)
{
    uint32_t a;
    uint8_t len;
    char buf[16];
    CHECK_EQ(finack_parse_ipv4("10.0.0.2/24", &a, &len), 0);
    CHECK_EQ(a, 0x0a000002u);
    CHECK_EQ(len, 24);
    CHECK_EQ(finack_parse_ipv4("192.0.2.1", &a, &len), 0);
    CHECK_EQ(len, 32);
    CHECK_STR(finack_format_ipv4(a, buf), "192.0.2.1");
    static const char *const bad[] = {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.4/33",
                                      "1.2.3.4/", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4", "1..2.3",
                                      "1.2.3.0004", "1.2.3.4/24x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(finack_parse_ipv4(bad[i], &a, &len), -EINVAL);
    CHECK_EQ(finack_parse_ipv4("1.2.3.4/24", &a, NULL), -EINVAL);
}

TEST_MAIN("ip_icmp", TEST_CASE(test_echo_request_gets_exact_reply),
          TEST_CASE(test_drops_are_named_and_counted),
          TEST_CASE(test_unknown_protocol_gets_protocol_unreachable),
          TEST_CASE(test_no_icmp_error_about_icmp_error),
          TEST_CASE(test_icmp_error_reaches_transport),
          TEST_CASE(test_icmp_errors_are_rate_limited), TEST_CASE(test_output_routes_and_checks_mtu),
          TEST_CASE(test_interfaces_validated), TEST_CASE(test_parse_and_format_addresses))
