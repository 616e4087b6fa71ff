/* The sender's SACK scoreboard (src/tcp/sack.c): blocks merged into
 * sorted, disjoint ranges within (SND.UNA, SND.MAX], the bound on their
 * number, RFC 6675's IsLost and SetPipe, trimming on a cumulative ACK and
 * reneging. A TCB of a real stack, its sequence variables set by hand. */
#include <stdlib.h>

#include "stack.h"
#include "tcp/tcp.h"
#include "test.h"

struct fixture {
    struct finack_stack *stack;
    struct tcp_conn conn;
};

/* SND.UNA = una, SND.MAX = max, SMSS 1000, SACK on. */
static void setup(struct fixture *f, uint32_t una, uint32_t max)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.secret[0] = 1;
    if (finack_stack_create(&f->stack, &cfg)) abort();
    tcp_conn_init(&f->conn, f->stack->tcp);
    f->conn.snd_una = f->conn.snd_nxt = una;
    f->conn.snd_max = max;
    f->conn.snd_mss = 1000;
    f->conn.sack_ok = true;
}

static void teardown(struct fixture *f)
{
    finack_stack_destroy(f->stack);
}

/* An ACK at SND.UNA carrying up to four blocks [l, r), offsets from base. */
static bool sack(struct fixture *f, uint32_t base, int n, const uint32_t *lr)
{
    struct tcp_segment seg = {.ack = f->conn.snd_una, .flags = TCP_FLAG_ACK};
    seg.opt.sack_count = (uint8_t)n;
    for (int i = 0; i < n; i++)
        seg.opt.sack[i] = (struct tcp_sack_block){base + lr[2 * i], base + lr[2 * i + 1]};
    return tcp_sack_update(&f->conn, &seg);
}

static void check_range(const struct fixture *f, int i, uint32_t start, uint32_t end)
{
    CHECK(i < f->conn.sacked_count);
    if (i >= f->conn.sacked_count) return;
    CHECK_U64(f->conn.sacked[i].start, start);
    CHECK_U64(f->conn.sacked[i].end, end);
}

static void test_blocks_merge_in_order(void)
{
    struct fixture f;
    setup(&f, 1000, 20000);
    CHECK(sack(&f, 0, 2, (uint32_t[]){5000, 6000, 3000, 4000}));
    CHECK_EQ(f.conn.sacked_count, 2);
    check_range(&f, 0, 3000, 4000);
    check_range(&f, 1, 5000, 6000);
    /* The block between them joins all three. */
    CHECK(sack(&f, 0, 1, (uint32_t[]){4000, 5000}));
    CHECK_EQ(f.conn.sacked_count, 1);
    check_range(&f, 0, 3000, 6000);
    CHECK_U64(f.conn.sacked_bytes, 3000);
    /* The same again is no news. */
    CHECK(!sack(&f, 0, 1, (uint32_t[]){3000, 6000}));
    teardown(&f);
}

static void test_blocks_outside_flight_ignored_or_clamped(void)
{
    struct fixture f;
    setup(&f, 1000, 20000);
    /* Below SND.UNA (a D-SACK), beyond SND.MAX, empty: ignored. */
    CHECK(!sack(&f, 0, 3, (uint32_t[]){0, 1000, 19000, 21000, 7000, 7000}));
    CHECK_EQ(f.conn.sacked_count, 0);
    /* Across SND.UNA: only the part above it. */
    CHECK(sack(&f, 0, 1, (uint32_t[]){500, 2000}));
    check_range(&f, 0, 1000, 2000);
    teardown(&f);
}

static void test_full_scoreboard_drops_the_highest(void)
{
    struct fixture f;
    setup(&f, 0, 100000);
    for (uint32_t i = 0; i < TCP_SACK_RANGES; i++)
        sack(&f, 0, 1, (uint32_t[]){2000 * i + 1000, 2000 * i + 2000});
    CHECK_EQ(f.conn.sacked_count, TCP_SACK_RANGES);
    /* Above all of them: news (a duplicate ACK for RFC 6675), not kept. */
    CHECK(sack(&f, 0, 1, (uint32_t[]){90000, 91000}));
    CHECK_EQ(f.conn.sacked_count, TCP_SACK_RANGES);
    check_range(&f, TCP_SACK_RANGES - 1, 2000 * (TCP_SACK_RANGES - 1) + 1000,
                2000 * TCP_SACK_RANGES);
    /* Between two: kept, the highest goes (news though the total fell). */
    CHECK(sack(&f, 0, 1, (uint32_t[]){2200, 2400}));
    CHECK_EQ(f.conn.sacked_count, TCP_SACK_RANGES);
    check_range(&f, 1, 2200, 2400);
    check_range(&f, TCP_SACK_RANGES - 1, 2000 * (TCP_SACK_RANGES - 2) + 1000,
                2000 * (TCP_SACK_RANGES - 1));
    teardown(&f);
}

/* RFC 6675 IsLost: three discontiguous ranges above, or more than
 * 2 SMSS SACKed above. */
static void test_is_lost(void)
{
    struct fixture f;
    setup(&f, 0, 20000);
    sack(&f, 0, 1, (uint32_t[]){1000, 3000}); /* 2000 above 0: not yet */
    CHECK(!tcp_sack_is_lost(&f.conn, 0));
    sack(&f, 0, 1, (uint32_t[]){4000, 4500}); /* 2500 above 0 */
    CHECK(tcp_sack_is_lost(&f.conn, 0));
    CHECK(!tcp_sack_is_lost(&f.conn, 3000)); /* 500 above */
    teardown(&f);

    setup(&f, 0, 20000);
    sack(&f, 0, 3, (uint32_t[]){1000, 1100, 2000, 2100, 3000, 3100}); /* three ranges */
    CHECK(tcp_sack_is_lost(&f.conn, 0));
    CHECK(!tcp_sack_is_lost(&f.conn, 1100));
    teardown(&f);
}

/* SetPipe: unSACKed bytes not lost, plus those resent in recovery. */
static void test_pipe(void)
{
    struct fixture f;
    setup(&f, 0, 10000);
    CHECK_U64(tcp_sack_pipe(&f.conn), 10000);
    sack(&f, 0, 1, (uint32_t[]){1000, 4000}); /* [0,1000) lost */
    CHECK_U64(tcp_sack_pipe(&f.conn), 6000);
    f.conn.in_recovery = true;
    f.conn.high_rxt = 1000; /* [0,1000) resent */
    CHECK_U64(tcp_sack_pipe(&f.conn), 7000);
    teardown(&f);
}

static void test_trim_and_reneging(void)
{
    struct fixture f;
    setup(&f, 0, 10000);
    sack(&f, 0, 2, (uint32_t[]){1000, 2000, 3000, 4000});
    f.conn.snd_una = 2000; /* an ACK through the first range */
    CHECK(!tcp_sack_trim(&f.conn));
    CHECK_EQ(f.conn.sacked_count, 1);
    CHECK_U64(f.conn.sacked_bytes, 1000);
    /* An ACK that stops where SACKed data starts: the peer dropped it. */
    f.conn.snd_una = 3000;
    CHECK(tcp_sack_trim(&f.conn));
    CHECK_EQ(f.conn.sacked_count, 0);
    CHECK_U64(f.conn.sacked_bytes, 0);
    CHECK_EQ(finack_stack_counter(f.stack, FINACK_CTR_TCP_SACK_RENEGING), 1);
    teardown(&f);
}

/* Sequence numbers wrap through 2^32 inside the flight. */
static void test_across_sequence_wrap(void)
{
    struct fixture f;
    uint32_t base = UINT32_MAX - 2500;
    setup(&f, base, base + 10000);
    CHECK(sack(&f, base, 2, (uint32_t[]){4000, 5000, 1000, 3000}));
    check_range(&f, 0, base + 1000, base + 3000);
    check_range(&f, 1, base + 4000, base + 5000);
    CHECK(tcp_sack_is_lost(&f.conn, base));
    CHECK_U64(tcp_sack_pipe(&f.conn), 10000 - 3000 - 1000);
    CHECK_U64(tcp_sack_bytes_below(&f.conn, base + 4500), 2500);
    teardown(&f);
}

TEST_MAIN("tcp_sack", TEST_CASE(test_blocks_merge_in_order),
          TEST_CASE(test_blocks_outside_flight_ignored_or_clamped),
          TEST_CASE(test_full_scoreboard_drops_the_highest), TEST_CASE(test_is_lost),
          TEST_CASE(test_pipe), TEST_CASE(test_trim_and_reneging),
          TEST_CASE(test_across_sequence_wrap))
