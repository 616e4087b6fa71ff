/* The Internet checksum against known vectors, a naive reference, and the
 * RFC 1624 incremental update against full recomputation. */
#include <stdlib.h>

#include "test.h"
#include "wire/bytes.h"
#include "wire/checksum.h"

/* xorshift64: a fixed seed keeps every run identical. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void fill_random(uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) p[i] = (uint8_t)rng_next();
}

/* The reference: big-endian 16-bit words one at a time (RFC 1071 §4.1). */
static uint16_t naive_checksum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1) sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void test_rfc1071_example(void)
{
    /* RFC 1071 §3: these bytes sum to ddf2 (with end-around carries). */
    const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK_EQ((uint16_t)~csum_finish(csum_add(0, bytes, sizeof bytes)), 0xddf2);
    CHECK_EQ(csum_compute(bytes, sizeof bytes), 0x220d);
}

static void test_known_ipv4_header(void)
{
    uint8_t header[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                        0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    /* A correct header, checksum included, sums to 0xffff. */
    CHECK_EQ(csum_compute(header, sizeof header), 0);
    header[10] = header[11] = 0;
    CHECK_EQ(csum_compute(header, sizeof header), 0xb861);
}

static void test_empty_and_zero_buffers(void)
{
    const uint8_t zeros[64] = {0};
    CHECK_EQ(csum_compute(zeros, 0), 0xffff);
    CHECK_EQ(csum_compute(zeros, sizeof zeros), 0xffff);
    CHECK_U64(csum_add(0, zeros, 0), 0);
    CHECK_U64(csum_add(1234, zeros, 0), 1234);
}

static void test_odd_length_pads_with_zero(void)
{
    const uint8_t odd[] = {0xab, 0xcd, 0xef};
    const uint8_t even[] = {0xab, 0xcd, 0xef, 0x00};
    CHECK_EQ(csum_compute(odd, sizeof odd), csum_compute(even, sizeof even));
    CHECK_EQ(csum_compute(odd, sizeof odd), (uint16_t)~(0xabcd + 0xef00 - 0xffff));
}

/* 64 KiB of 0xff: every 64-bit load is all ones; checks the accumulator
 * neither overflows nor loses carries. */
static void test_all_ones_large(void)
{
    enum { LEN = 65536 };
    static uint8_t buf[LEN + 1];
    memset(buf, 0xff, sizeof buf);
    CHECK_EQ(csum_compute(buf, LEN), naive_checksum(buf, LEN));
    CHECK_EQ(csum_compute(buf, LEN + 1), naive_checksum(buf, LEN + 1));
    CHECK_EQ(csum_compute(buf, LEN), 0);
}

static void test_matches_naive_every_length_and_alignment(void)
{
    enum { MAX_LEN = 2000 };
    static uint8_t buf[MAX_LEN + 16];
    for (size_t len = 0; len <= MAX_LEN; len++) {
        size_t align = (size_t)(rng_next() % 8);
        fill_random(buf, sizeof buf);
        uint16_t want = naive_checksum(buf + align, len);
        uint16_t got = csum_compute(buf + align, len);
        if (want != got) {
            test_fail(__FILE__, __LINE__, "len %zu align %zu: %04x != %04x", len, align, got,
                      want);
            return;
        }
    }
}

static void test_matches_naive_every_alignment_short(void)
{
    uint8_t buf[64];
    for (size_t align = 0; align < 8; align++)
        for (size_t len = 0; len + align <= sizeof buf; len++) {
            fill_random(buf, sizeof buf);
            CHECK_EQ(csum_compute(buf + align, len), naive_checksum(buf + align, len));
        }
}

/* Sums of several buffers chain when all but the last have an even length. */
static void test_chained_sums(void)
{
    uint8_t buf[300];
    for (int round = 0; round < 200; round++) {
        fill_random(buf, sizeof buf);
        size_t len = 1 + (size_t)(rng_next() % sizeof buf);
        size_t split = (size_t)(rng_next() % (len + 1)) & ~(size_t)1;
        uint64_t sum = csum_add(0, buf, split);
        sum = csum_add(sum, buf + split, len - split);
        CHECK_EQ(csum_finish(sum), naive_checksum(buf, len));
    }
}

static void test_pseudo_header(void)
{
    /* RFC 9293 §3.1: src, dst, zero, protocol, length, as bytes. */
    const uint8_t pseudo[] = {192, 168, 0, 1, 10, 0, 0, 99, 0, 6, 0x05, 0xdc};
    uint64_t sum = csum_pseudo_ipv4(0xc0a80001, 0x0a000063, 6, 1500);
    CHECK_EQ(csum_finish(sum), naive_checksum(pseudo, sizeof pseudo));
    /* Chained with a segment, as TCP uses it. */
    uint8_t seg[41];
    fill_random(seg, sizeof seg);
    uint8_t both[sizeof pseudo + sizeof seg];
    memcpy(both, pseudo, sizeof pseudo);
    memcpy(both + sizeof pseudo, seg, sizeof seg);
    CHECK_EQ(csum_finish(csum_add(sum, seg, sizeof seg)), naive_checksum(both, sizeof both));
}

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i]) return false;
    return true;
}

/* Eqn. 3 gives 0x0000 where recomputation gives 0xffff when the covered data
 * becomes all zero (both are one's-complement zero; see checksum.c). */
static uint16_t expected_after_change(const uint8_t *p, size_t len)
{
    return all_zero(p, len) ? 0x0000 : csum_compute(p, len);
}

/* Change one random 16-bit word of random data, update incrementally, and
 * compare with the checksum computed from scratch. */
static void test_update16_matches_recompute(void)
{
    uint8_t buf[64];
    for (int round = 0; round < 10000; round++) {
        size_t len = 2 * (1 + (size_t)(rng_next() % 32));
        fill_random(buf, len);
        uint16_t before = csum_compute(buf, len);
        size_t at = 2 * (size_t)(rng_next() % (len / 2));
        uint16_t old_word = get_be16(buf + at), new_word = (uint16_t)rng_next();
        if (round % 7 == 0) new_word = 0;
        if (round % 11 == 0) new_word = 0xffff;
        put_be16(buf + at, new_word);
        uint16_t want = expected_after_change(buf, len);
        uint16_t got = csum_update16(before, old_word, new_word);
        if (got != want) {
            test_fail(__FILE__, __LINE__, "round %d: %04x != %04x", round, got, want);
            return;
        }
    }
}

static void test_update32_matches_recompute(void)
{
    uint8_t buf[60];
    for (int round = 0; round < 10000; round++) {
        size_t len = 4 * (1 + (size_t)(rng_next() % 15));
        fill_random(buf, len);
        uint16_t before = csum_compute(buf, len);
        size_t at = 4 * (size_t)(rng_next() % (len / 4));
        uint32_t old_value = get_be32(buf + at), new_value = (uint32_t)rng_next();
        put_be32(buf + at, new_value);
        uint16_t want = expected_after_change(buf, len);
        uint16_t got = csum_update32(before, old_value, new_value);
        if (got != want) {
            test_fail(__FILE__, __LINE__, "round %d: %04x != %04x", round, got, want);
            return;
        }
    }
}

/* The classic use: decrement the TTL of the captured header in place. */
static void test_update16_ttl_decrement(void)
{
    uint8_t header[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                        0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    uint16_t old_word = get_be16(header + 8);
    header[8]--;
    uint16_t updated = csum_update16(get_be16(header + 10), old_word, get_be16(header + 8));
    put_be16(header + 10, updated);
    CHECK_EQ(updated, 0xb961);
    CHECK_EQ(csum_compute(header, sizeof header), 0);
}

/* RFC 1624 §3's own example: a checksum of 0xdd2f, a word changing from
 * 0x5555 to 0x3285, gives 0x0000 with eqn. 3 (and -0 with eqn. 2). */
static void test_rfc1624_example(void)
{
    CHECK_EQ(csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

TEST_MAIN("wire_checksum", TEST_CASE(test_rfc1071_example), TEST_CASE(test_known_ipv4_header),
          TEST_CASE(test_empty_and_zero_buffers), TEST_CASE(test_odd_length_pads_with_zero),
          TEST_CASE(test_all_ones_large),
          TEST_CASE(test_matches_naive_every_length_and_alignment),
          TEST_CASE(test_matches_naive_every_alignment_short), TEST_CASE(test_chained_sums),
          TEST_CASE(test_pseudo_header), TEST_CASE(test_update16_matches_recompute),
          TEST_CASE(test_update32_matches_recompute), TEST_CASE(test_update16_ttl_decrement),
          TEST_CASE(test_rfc1624_example))
