/* libFuzzer target for wire/: arbitrary bytes go to every parser, as an IPv4
 * packet and directly as a TCP segment, an ICMP message and an ICMP quote,
 * with and without checksum verification. Whatever parses is emitted again
 * and must parse back to the same description; emitting that must give the
 * same bytes. Any broken promise traps. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Nothing that fits in an IPv4 packet needs more room than this. */
#define OUT_CAP (65536 + TCP_HEADER_MAX)
static uint8_t out_a[OUT_CAP], out_b[OUT_CAP];

/* Addresses for segments fed straight to the TCP parser. */
#define FUZZ_SRC 0x0a000001u
#define FUZZ_DST 0x0a000002u

static void require(bool cond)
{
    if (!cond) __builtin_trap();
}

/* ---- IPv4 ------------------------------------------------------------------- */

static void ipv4_round_trip(const struct ipv4_header *h)
{
    struct ipv4_header e = *h;
    e.total_len = (uint16_t)(IPV4_HEADER_MIN + h->payload_len);
    require(wire_ipv4_emit(out_a, OUT_CAP, &e) == IPV4_HEADER_MIN);
    memcpy(out_a + IPV4_HEADER_MIN, h->payload, h->payload_len);
    struct ipv4_header back;
    require(wire_ipv4_parse(out_a, e.total_len, true, &back) == FINACK_DROP_NONE);
    require(back.header_len == IPV4_HEADER_MIN && back.tos == h->tos && back.id == h->id);
    require(back.frag == h->frag && back.ttl == h->ttl && back.protocol == h->protocol);
    require(back.src == h->src && back.dst == h->dst);
    require(back.payload_len == h->payload_len);
    require(memcmp(back.payload, h->payload, h->payload_len) == 0);
}

/* ---- TCP -------------------------------------------------------------------- */

static size_t expected_sack_blocks(const struct tcp_options *o)
{
    size_t used = (o->has_mss ? 4 : 0) + (o->has_timestamp ? 12 : 0) +
                  (o->sack_permitted && !o->has_timestamp ? 4 : 0) + (o->has_wscale ? 4 : 0);
    size_t room = (TCP_OPTIONS_MAX - used - 4) / 8;
    return o->sack_count < room ? o->sack_count : room;
}

static void require_same_options(const struct tcp_options *a, const struct tcp_options *b)
{
    require(a->has_mss == b->has_mss && (!a->has_mss || a->mss == b->mss));
    require(a->has_wscale == b->has_wscale && (!a->has_wscale || a->wscale == b->wscale));
    require(a->sack_permitted == b->sack_permitted);
    require(a->has_timestamp == b->has_timestamp);
    require(!a->has_timestamp || (a->ts_val == b->ts_val && a->ts_ecr == b->ts_ecr));
    size_t blocks = expected_sack_blocks(a);
    require(b->sack_count == blocks);
    for (size_t i = 0; i < blocks; i++)
        require(a->sack[i].left == b->sack[i].left && a->sack[i].right == b->sack[i].right);
}

static void require_same_segment(const struct tcp_segment *a, const struct tcp_segment *b)
{
    require(a->src_port == b->src_port && a->dst_port == b->dst_port);
    require(a->seq == b->seq && a->ack == b->ack && a->flags == b->flags);
    require(a->window == b->window && a->urgent == b->urgent);
    require(a->payload_len == b->payload_len);
    require(memcmp(a->payload, b->payload, a->payload_len) == 0);
    require_same_options(&a->opt, &b->opt);
}

/* A parsed segment is self-consistent: the header and payload lie within the
 * input, and the kinds list holds what was parsed. */
static void check_tcp_invariants(const uint8_t *buf, size_t len, const struct tcp_segment *s)
{
    require(s->header_len >= TCP_HEADER_MIN && s->header_len <= TCP_HEADER_MAX);
    require(s->header_len <= len && s->payload == buf + s->header_len);
    require(s->header_len + s->payload_len == len);
    require(s->opt.kind_count <= TCP_MAX_OPTION_LIST && s->opt.sack_count <= TCP_MAX_SACK_BLOCKS);
}

static void tcp_round_trip(const struct tcp_segment *s, uint32_t src, uint32_t dst)
{
    int len = wire_tcp_emit(out_a, OUT_CAP, src, dst, s);
    require(len > 0 && (size_t)len == TCP_HEADER_MIN + wire_tcp_options_len(s) + s->payload_len);
    struct tcp_segment back;
    require(wire_tcp_parse(out_a, (size_t)len, src, dst, true, &back) == FINACK_DROP_NONE);
    require_same_segment(s, &back);
    /* Once in Linux's layout, emitting again gives the very same bytes. */
    require(wire_tcp_emit(out_b, OUT_CAP, src, dst, &back) == len);
    require(memcmp(out_a, out_b, (size_t)len) == 0);
}

static void fuzz_tcp(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst)
{
    struct tcp_segment seg;
    enum finack_drop_reason verified = wire_tcp_parse(buf, len, src, dst, true, &seg);
    if (verified == FINACK_DROP_NONE) check_tcp_invariants(buf, len, &seg);
    enum finack_drop_reason unverified = wire_tcp_parse(buf, len, src, dst, false, &seg);
    /* Verification only adds a reason; it never hides another one. */
    require(verified == unverified || verified == FINACK_DROP_TCP_BAD_CHECKSUM);
    if (unverified != FINACK_DROP_NONE) return;
    check_tcp_invariants(buf, len, &seg);
    char flags[10];
    require(strlen(tcp_flags_string(seg.flags, flags)) < sizeof flags);
    tcp_round_trip(&seg, src, dst);
}

/* ---- ICMP ------------------------------------------------------------------- */

static void fuzz_quote(const uint8_t *buf, size_t len)
{
    struct icmp_quote q;
    if (wire_icmp_parse_quote(buf, len, &q) != FINACK_DROP_NONE) return;
    require(q.transport_len >= 8 && q.transport >= buf + IPV4_HEADER_MIN);
    require(q.transport + q.transport_len == buf + len);
}

static void icmp_round_trip(const struct icmp_message *m, const uint8_t *original, size_t len)
{
    require(wire_icmp_emit(out_a, OUT_CAP, m) == (int)len);
    /* The same bytes but for the checksum, which emit computes afresh. */
    require(memcmp(out_a, original, 2) == 0 && memcmp(out_a + 4, original + 4, len - 4) == 0);
    struct icmp_message back;
    require(wire_icmp_parse(out_a, len, true, &back) == FINACK_DROP_NONE);
    require(back.type == m->type && back.code == m->code && back.rest == m->rest);
    require(back.id == m->id && back.seq == m->seq && back.payload_len == m->payload_len);
}

static void fuzz_icmp(const uint8_t *buf, size_t len)
{
    struct icmp_message m;
    enum finack_drop_reason verified = wire_icmp_parse(buf, len, true, &m);
    enum finack_drop_reason unverified = wire_icmp_parse(buf, len, false, &m);
    require(verified == unverified || verified == FINACK_DROP_ICMP_BAD_CHECKSUM);
    if (unverified != FINACK_DROP_NONE) return;
    require(m.payload == buf + ICMP_HEADER_LEN && m.payload_len == len - ICMP_HEADER_LEN);
    require(m.rest == ((uint32_t)m.id << 16 | m.seq));
    icmp_round_trip(&m, buf, len);
    fuzz_quote(m.payload, m.payload_len);
}

/* ---- Entry ------------------------------------------------------------------ */

static void fuzz_ipv4(const uint8_t *buf, size_t len)
{
    struct ipv4_header h;
    enum finack_drop_reason verified = wire_ipv4_parse(buf, len, true, &h);
    enum finack_drop_reason unverified = wire_ipv4_parse(buf, len, false, &h);
    require(verified == unverified || verified == FINACK_DROP_IP_BAD_CHECKSUM);
    if (unverified != FINACK_DROP_NONE) return;
    require(h.payload == buf + h.header_len && h.header_len + h.payload_len == len);
    (void)ipv4_is_martian_source(h.src);
    ipv4_round_trip(&h);
    if (h.protocol == IPPROTO_TCP_) fuzz_tcp(h.payload, h.payload_len, h.src, h.dst);
    if (h.protocol == IPPROTO_ICMP_) fuzz_icmp(h.payload, h.payload_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* No IPv4 packet, and so no segment or message, exceeds 65535 bytes. */
    if (size > 0xffff) return 0;
    fuzz_ipv4(data, size);
    fuzz_tcp(data, size, FUZZ_SRC, FUZZ_DST);
    fuzz_icmp(data, size);
    fuzz_quote(data, size);
    (void)csum_compute(data, size);
    return 0;
}
