/* The simulated link on its own: raw receivers at both ends, no stacks.
 * Timing is checked to the µs; fault rates over 100,000 packets are checked
 * against bounds more than 6 standard deviations wide, so a correct link
 * fails them about once in a billion seeds (and the seeds are fixed). */
#include "finack/pcap.h"
#include "finack/sim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "test.h"

#define N_STAT 100000u

/* ---- Helpers ---------------------------------------------------------------- */

/* What a receiver saw: every copy, in arrival order. */
struct rx_item {
    finack_time_t t;
    uint32_t id;
    size_t len;
    uint8_t head[64];
};

struct rx {
    struct rx_item *items;
    size_t count, cap;
    /* echo: send every packet straight back from this end */
    struct finack_sim_link *echo_link;
    int echo_side;
};

static void rx_record(void *ctx, const uint8_t *p, size_t len, finack_time_t now)
{
    struct rx *rx = ctx;
    if (rx->count == rx->cap) {
        rx->cap = rx->cap ? 2 * rx->cap : 1024;
        rx->items = realloc(rx->items, rx->cap * sizeof *rx->items);
        if (!rx->items) abort();
    }
    struct rx_item *it = &rx->items[rx->count++];
    it->t = now;
    it->len = len;
    it->id = len >= 24 ? (uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23]
                       : UINT32_MAX;
    memcpy(it->head, p, len < sizeof it->head ? len : sizeof it->head);
    if (rx->echo_link) finack_sim_link_inject(rx->echo_link, rx->echo_side, p, len);
}

/* A packet that looks like IPv4 (version 4, IHL 5, total length) carrying
 * its id in the first payload word and a pattern after it. */
static void make_packet(uint8_t *buf, size_t len, uint32_t id)
{
    for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)(i * 7 + id);
    buf[0] = 0x45;
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    buf[20] = (uint8_t)(id >> 24);
    buf[21] = (uint8_t)(id >> 16);
    buf[22] = (uint8_t)(id >> 8);
    buf[23] = (uint8_t)id;
}

struct bench {
    struct finack_sim *sim;
    struct finack_sim_link *link;
    struct rx rx[2]; /* what arrived at end A, at end B */
};

static bool bench_open(struct bench *b, uint64_t seed, const struct finack_sim_link_config *cfg)
{
    memset(b, 0, sizeof *b);
    if (finack_sim_create(&b->sim, seed) != 0) return false;
    if (finack_sim_link_create(b->sim, cfg, &b->link) != 0) return false;
    for (int side = 0; side < 2; side++)
        if (finack_sim_link_set_receiver(b->link, side, rx_record, &b->rx[side]) != 0) return false;
    return true;
}

static void bench_close(struct bench *b)
{
    finack_sim_destroy(b->sim);
    free(b->rx[0].items);
    free(b->rx[1].items);
}

static int send_one(struct bench *b, int side, size_t len, uint32_t id)
{
    uint8_t buf[2048];
    make_packet(buf, len, id);
    return finack_sim_link_inject(b->link, side, buf, len);
}

/* Send n packets from side, packet i at time t0 + i * spacing. */
static void send_spaced(struct bench *b, int side, uint32_t n, finack_time_t spacing, size_t len)
{
    finack_time_t t0 = finack_sim_now(b->sim);
    for (uint32_t i = 0; i < n; i++) {
        finack_sim_run_until(b->sim, t0 + i * spacing);
        send_one(b, side, len, i);
    }
}

/* count/n within p ± tol; says what it saw when not. */
static bool rate_near(const char *what, uint64_t count, uint64_t n, double p, double tol)
{
    double rate = (double)count / (double)n;
    if (fabs(rate - p) <= tol) return true;
    fprintf(stderr, "  %s: %" PRIu64 "/%" PRIu64 " = %.4f, expected %.4f +- %.4f\n", what, count, n,
            rate, p, tol);
    return false;
}

static struct finack_sim_link_config config_with(const struct finack_sim_path *path)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    cfg.a_to_b = *path;
    cfg.b_to_a = *path;
    return cfg;
}

static int popcount8(uint8_t x)
{
    int n = 0;
    for (; x; x &= (uint8_t)(x - 1)) n++;
    return n;
}

/* ---- Timing ------------------------------------------------------------------ */

static void test_defaults(void)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    CHECK_EQ(cfg.mtu, 1500);
    CHECK_U64(cfg.a_to_b.latency, FINACK_MSEC(1));
    CHECK_U64(cfg.b_to_a.latency, FINACK_MSEC(1));
    CHECK(cfg.a_to_b.loss == 0 && cfg.a_to_b.rate_bps == 0 && cfg.a_to_b.jitter == 0);

    struct bench b;
    REQUIRE(bench_open(&b, 1, &cfg));
    struct finack_link *a = finack_sim_link_end(b.link, FINACK_SIM_A);
    struct finack_link *bb = finack_sim_link_end(b.link, FINACK_SIM_B);
    REQUIRE(a && bb && a != bb);
    CHECK_EQ(a->mtu, 1500);
    CHECK_STR(a->name, "sim0.a");
    CHECK_STR(bb->name, "sim0.b");
    CHECK(finack_sim_link_end(b.link, 2) == NULL);
    CHECK_U64(finack_sim_now(b.sim), 0);
    bench_close(&b);
}

static void test_latency_exact_each_way(void)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    cfg.b_to_a.latency = 2500;
    struct bench b;
    REQUIRE(bench_open(&b, 1, &cfg));
    CHECK_EQ(send_one(&b, FINACK_SIM_A, 100, 1), 0);
    finack_sim_run_until(b.sim, 300);
    CHECK_EQ(send_one(&b, FINACK_SIM_B, 100, 2), 0);
    CHECK_U64(finack_sim_next_event(b.sim), 1000);
    CHECK_U64(finack_sim_run(b.sim, FINACK_TIME_NEVER), 2800);
    REQUIRE(b.rx[FINACK_SIM_B].count == 1 && b.rx[FINACK_SIM_A].count == 1);
    CHECK_U64(b.rx[FINACK_SIM_B].items[0].t, 1000);
    CHECK_EQ(b.rx[FINACK_SIM_B].items[0].id, 1);
    CHECK_U64(b.rx[FINACK_SIM_A].items[0].t, 2800);
    CHECK_EQ(b.rx[FINACK_SIM_A].items[0].id, 2);
    CHECK_U64(finack_sim_link_stats(b.link, FINACK_SIM_A).delivered, 1);
    CHECK_U64(finack_sim_link_stats(b.link, FINACK_SIM_B).delivered, 1);
    bench_close(&b);
}

/* A receiver may transmit from inside its callback: B echoes, and the echo
 * comes back after exactly one round trip. */
static void test_echo_from_receiver_takes_one_rtt(void)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    cfg.a_to_b.latency = 1234;
    cfg.b_to_a.latency = 4321;
    struct bench b;
    REQUIRE(bench_open(&b, 1, &cfg));
    b.rx[FINACK_SIM_B].echo_link = b.link;
    b.rx[FINACK_SIM_B].echo_side = FINACK_SIM_B;
    finack_sim_run_until(b.sim, 10000);
    send_one(&b, FINACK_SIM_A, 60, 7);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    REQUIRE(b.rx[FINACK_SIM_A].count == 1);
    CHECK_U64(b.rx[FINACK_SIM_A].items[0].t, 10000 + 1234 + 4321);
    CHECK_EQ(b.rx[FINACK_SIM_A].items[0].id, 7);
    bench_close(&b);
}

/* 1500 bytes at 12 Mbit/s is exactly 1 ms on the wire. */
static void test_serialization_exact(void)
{
    struct finack_sim_path path = {.latency = 1000, .rate_bps = 12000000};
    struct finack_sim_link_config cfg = config_with(&path);
    struct bench b;
    REQUIRE(bench_open(&b, 1, &cfg));
    for (uint32_t i = 0; i < 10; i++) CHECK_EQ(send_one(&b, FINACK_SIM_A, 1500, i), 0);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    REQUIRE(b.rx[FINACK_SIM_B].count == 10);
    for (uint32_t i = 0; i < 10; i++) {
        CHECK_EQ(b.rx[FINACK_SIM_B].items[i].id, i);
        CHECK_U64(b.rx[FINACK_SIM_B].items[i].t, (i + 1) * 1000 + 1000);
    }
    /* an idle wire starts serializing at once */
    finack_sim_run_until(b.sim, 50000);
    send_one(&b, FINACK_SIM_A, 1500, 10);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    REQUIRE(b.rx[FINACK_SIM_B].count == 11);
    CHECK_U64(b.rx[FINACK_SIM_B].items[10].t, 52000);
    bench_close(&b);
}

/* 1000 bytes at 3 Mbit/s is 2666.67 µs: each arrival is the exact finish
 * time rounded up, with no drift after hundreds of packets. */
static void test_serialization_fraction_does_not_drift(void)
{
    struct finack_sim_path path = {.latency = 500, .rate_bps = 3000000};
    struct finack_sim_link_config cfg = config_with(&path);
    struct bench b;
    REQUIRE(bench_open(&b, 1, &cfg));
    for (uint32_t i = 0; i < 300; i++) send_one(&b, FINACK_SIM_A, 1000, i);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    REQUIRE(b.rx[FINACK_SIM_B].count == 300);
    for (uint64_t k = 1; k <= 300; k++) {
        uint64_t finish = (k * 8000 + 2) / 3; /* ceil(k * 8000 / 3) */
        CHECK_U64(b.rx[FINACK_SIM_B].items[k - 1].t, finish + 500);
    }
    CHECK_U64(b.rx[FINACK_SIM_B].items[299].t, 800000 + 500);
    bench_close(&b);
}

/* Delays of the n packets received at B, packet i sent at t0 + i * spacing;
 * false if any arrived out of order. */
static bool delays_in_order(const struct rx *rx, finack_time_t t0, finack_time_t spacing,
                            finack_time_t *min_delay, finack_time_t *max_delay, double *mean)
{
    bool ordered = true;
    double sum = 0;
    *min_delay = FINACK_TIME_NEVER;
    *max_delay = 0;
    for (uint32_t i = 0; i < rx->count; i++) {
        ordered &= rx->items[i].id == i;
        finack_time_t delay = rx->items[i].t - (t0 + i * spacing);
        if (delay < *min_delay) *min_delay = delay;
        if (delay > *max_delay) *max_delay = delay;
        sum += (double)delay;
    }
    *mean = sum / (double)rx->count;
    return ordered;
}

/* Packets 100 µs apart with 5 ms of jitter would overtake each other all the
 * time; the path keeps them in order instead. Sent 20 ms apart, the delays
 * spread uniformly over [latency, latency + jitter]. */
static void test_jitter_keeps_fifo(void)
{
    struct finack_sim_path path = {.latency = FINACK_MSEC(10), .jitter = FINACK_MSEC(5)};
    struct finack_sim_link_config cfg = config_with(&path);
    struct bench b;
    REQUIRE(bench_open(&b, 7, &cfg));
    finack_time_t lo, hi;
    double mean;
    send_spaced(&b, FINACK_SIM_A, 2000, 100, 100);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    REQUIRE(b.rx[FINACK_SIM_B].count == 2000);
    CHECK(delays_in_order(&b.rx[FINACK_SIM_B], 0, 100, &lo, &hi, &mean));
    CHECK(lo >= FINACK_MSEC(10));
    CHECK(hi <= FINACK_MSEC(15));
    CHECK_U64(finack_sim_link_stats(b.link, FINACK_SIM_A).reordered, 0);
    bench_close(&b);

    REQUIRE(bench_open(&b, 8, &cfg));
    send_spaced(&b, FINACK_SIM_A, 1000, FINACK_MSEC(20), 100);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    REQUIRE(b.rx[FINACK_SIM_B].count == 1000);
    CHECK(delays_in_order(&b.rx[FINACK_SIM_B], 0, FINACK_MSEC(20), &lo, &hi, &mean));
    CHECK(lo >= FINACK_MSEC(10) && lo < FINACK_MSEC(10) + 100);
    CHECK(hi <= FINACK_MSEC(15) && hi > FINACK_MSEC(15) - 100);
    /* uniform: mean 12.5 ms, standard error 46 µs */
    CHECK(fabs(mean - 12500.0) < 300.0);
    bench_close(&b);
}

/* Two links, the same arrival µs: delivered in the order sent. */
static void test_ties_resolve_in_send_order(void)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    struct finack_sim *sim;
    REQUIRE(finack_sim_create(&sim, 1) == 0);
    struct finack_sim_link *l1, *l2;
    REQUIRE(finack_sim_link_create(sim, &cfg, &l1) == 0);
    REQUIRE(finack_sim_link_create(sim, &cfg, &l2) == 0);
    CHECK_STR(finack_sim_link_end(l2, FINACK_SIM_A)->name, "sim1.a");
    struct rx rx = {0};
    finack_sim_link_set_receiver(l1, FINACK_SIM_B, rx_record, &rx);
    finack_sim_link_set_receiver(l2, FINACK_SIM_B, rx_record, &rx);
    uint8_t p[40];
    for (uint32_t i = 0; i < 6; i++) {
        make_packet(p, sizeof p, i);
        finack_sim_link_inject(i % 3 == 1 ? l1 : l2, FINACK_SIM_A, p, sizeof p);
    }
    CHECK_EQ(finack_sim_step(sim), 1);
    CHECK_U64(finack_sim_now(sim), 1000);
    REQUIRE(rx.count == 6);
    for (uint32_t i = 0; i < 6; i++) CHECK_EQ(rx.items[i].id, i);
    CHECK_EQ(finack_sim_step(sim), 0);
    free(rx.items);
    finack_sim_destroy(sim);
}

static void test_clock_and_run_semantics(void)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    struct bench b;
    REQUIRE(bench_open(&b, 1, &cfg));
    CHECK_U64(finack_sim_next_event(b.sim), FINACK_TIME_NEVER);
    CHECK_EQ(finack_sim_step(b.sim), 0);
    CHECK_U64(finack_sim_run(b.sim, FINACK_SEC(60)), 0);
    finack_sim_run_until(b.sim, 5000);
    CHECK_U64(finack_sim_now(b.sim), 5000);
    finack_sim_run_until(b.sim, 100); /* never backwards */
    CHECK_U64(finack_sim_now(b.sim), 5000);
    send_one(&b, FINACK_SIM_A, 40, 1);
    /* the next event is past the limit: nothing happens, the clock stays */
    CHECK_U64(finack_sim_run(b.sim, 5500), 5000);
    CHECK_EQ(b.rx[FINACK_SIM_B].count, 0);
    /* run_until stops exactly at t even when an event lies beyond */
    finack_sim_run_until(b.sim, 5999);
    CHECK_EQ(b.rx[FINACK_SIM_B].count, 0);
    CHECK_U64(finack_sim_now(b.sim), 5999);
    finack_sim_run_until(b.sim, 6000);
    CHECK_EQ(b.rx[FINACK_SIM_B].count, 1);
    CHECK_U64(finack_sim_now(b.sim), 6000);
    CHECK_EQ(finack_sim_step(b.sim), 0);
    bench_close(&b);
}

/* Simulated time costs nothing: an hour of packets runs in test time. */
static void test_simulated_hour(void)
{
    struct finack_sim_path path = {.latency = FINACK_MSEC(50)};
    struct finack_sim_link_config cfg = config_with(&path);
    struct bench b;
    REQUIRE(bench_open(&b, 1, &cfg));
    send_spaced(&b, FINACK_SIM_A, 3600, FINACK_SEC(1), 60);
    CHECK_U64(finack_sim_run(b.sim, FINACK_TIME_NEVER), FINACK_SEC(3599) + FINACK_MSEC(50));
    CHECK_EQ(b.rx[FINACK_SIM_B].count, 3600);
    bench_close(&b);
}

/* ---- Faults -------------------------------------------------------------------- */

static void test_loss_rate(void)
{
    struct finack_sim_path path = {.latency = 1000, .loss = 0.10};
    struct finack_sim_link_config cfg = config_with(&path);
    struct bench b;
    REQUIRE(bench_open(&b, 11, &cfg));
    send_spaced(&b, FINACK_SIM_A, N_STAT, 10, 60);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    struct finack_sim_path_stats s = finack_sim_link_stats(b.link, FINACK_SIM_A);
    CHECK_U64(s.sent, N_STAT);
    CHECK(rate_near("lost", s.lost, N_STAT, 0.10, 0.006));
    CHECK_U64(s.delivered, N_STAT - s.lost);
    CHECK_U64(b.rx[FINACK_SIM_B].count, s.delivered);
    CHECK_U64(s.duplicated + s.reordered + s.corrupted + s.too_big + s.queue_drops, 0);
    /* the survivors still arrive in order */
    bool ordered = true;
    for (size_t i = 1; i < b.rx[FINACK_SIM_B].count; i++)
        ordered &= b.rx[FINACK_SIM_B].items[i].id > b.rx[FINACK_SIM_B].items[i - 1].id;
    CHECK(ordered);
    /* the other direction was left alone */
    CHECK_U64(finack_sim_link_stats(b.link, FINACK_SIM_B).sent, 0);
    bench_close(&b);
}

static void test_duplicate_rate(void)
{
    struct finack_sim_path path = {.latency = 1000, .duplicate = 0.05};
    struct finack_sim_link_config cfg = config_with(&path);
    struct bench b;
    REQUIRE(bench_open(&b, 12, &cfg));
    send_spaced(&b, FINACK_SIM_A, N_STAT, 10, 60);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    struct finack_sim_path_stats s = finack_sim_link_stats(b.link, FINACK_SIM_A);
    CHECK(rate_near("duplicated", s.duplicated, N_STAT, 0.05, 0.005));
    const struct rx *rx = &b.rx[FINACK_SIM_B];
    CHECK_U64(rx->count, N_STAT + s.duplicated);
    CHECK_U64(s.delivered, rx->count);
    /* each copy follows its original 1 µs later, byte for byte */
    uint64_t pairs = 0;
    bool exact = true;
    for (size_t i = 1; i < rx->count; i++) {
        if (rx->items[i].id != rx->items[i - 1].id) continue;
        pairs++;
        exact &= rx->items[i].t == rx->items[i - 1].t + 1;
        exact &= memcmp(rx->items[i].head, rx->items[i - 1].head, 60) == 0;
    }
    CHECK_U64(pairs, s.duplicated);
    CHECK(exact);
    bench_close(&b);
}

/* A reordered packet is exactly reorder_delay late and is overtaken; all
 * others keep their order, so the late arrivals are the reordered ones. */
static void test_reorder_rate_and_overtaking(void)
{
    struct finack_sim_path path = {.latency = 1000, .reorder = 0.10};
    struct finack_sim_link_config cfg = config_with(&path);
    struct bench b;
    REQUIRE(bench_open(&b, 13, &cfg));
    send_spaced(&b, FINACK_SIM_A, N_STAT, 100, 60);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    struct finack_sim_path_stats s = finack_sim_link_stats(b.link, FINACK_SIM_A);
    CHECK(rate_near("reordered", s.reordered, N_STAT, 0.10, 0.006));
    const struct rx *rx = &b.rx[FINACK_SIM_B];
    REQUIRE(rx->count == N_STAT);
    uint8_t *seen = calloc(N_STAT, 1);
    REQUIRE(seen);
    uint64_t late = 0, late_delay_wrong = 0, twice = 0;
    uint32_t highest = 0;
    for (size_t i = 0; i < rx->count; i++) {
        uint32_t id = rx->items[i].id;
        twice += seen[id]++;
        finack_time_t delay = rx->items[i].t - (finack_time_t)id * 100;
        if (i > 0 && id < highest) {
            late++;
            /* default reorder_delay: 2 * latency + 1 ms */
            late_delay_wrong += delay != 1000 + 3000;
        } else {
            late_delay_wrong += delay != 1000 && delay != 4000;
        }
        if (id > highest) highest = id;
    }
    CHECK_U64(twice, 0);
    CHECK_U64(late, s.reordered);
    CHECK_U64(late_delay_wrong, 0);
    free(seen);
    bench_close(&b);
}

static void test_reorder_delay_explicit(void)
{
    struct finack_sim_path path = {.latency = 1000, .reorder = 1.0, .reorder_delay = 250};
    struct finack_sim_link_config cfg = config_with(&path);
    struct bench b;
    REQUIRE(bench_open(&b, 1, &cfg));
    send_one(&b, FINACK_SIM_A, 40, 0);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    REQUIRE(b.rx[FINACK_SIM_B].count == 1);
    CHECK_U64(b.rx[FINACK_SIM_B].items[0].t, 1250);
    bench_close(&b);
}

/* Every corrupted copy differs from what was sent in exactly one bit, and
 * the flips land on every byte and every bit position. */
static void test_corrupt_flips_one_bit(void)
{
    enum { LEN = 40 };
    struct finack_sim_path path = {.latency = 1000, .corrupt = 0.10};
    struct finack_sim_link_config cfg = config_with(&path);
    struct bench b;
    REQUIRE(bench_open(&b, 14, &cfg));
    send_spaced(&b, FINACK_SIM_A, N_STAT, 10, LEN);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    struct finack_sim_path_stats s = finack_sim_link_stats(b.link, FINACK_SIM_A);
    CHECK(rate_near("corrupted", s.corrupted, N_STAT, 0.10, 0.006));
    const struct rx *rx = &b.rx[FINACK_SIM_B];
    REQUIRE(rx->count == N_STAT);
    uint64_t one_bit = 0, more = 0;
    bool byte_hit[LEN] = {0}, bit_hit[8] = {0};
    for (uint32_t i = 0; i < N_STAT; i++) {
        uint8_t want[LEN];
        make_packet(want, LEN, i); /* no jitter: the i-th arrival is packet i */
        int bits = 0;
        for (int j = 0; j < LEN; j++) {
            uint8_t diff = want[j] ^ rx->items[i].head[j];
            bits += popcount8(diff);
            if (diff) {
                byte_hit[j] = true;
                for (int k = 0; k < 8; k++) bit_hit[k] |= (diff >> k) & 1;
            }
        }
        one_bit += bits == 1;
        more += bits > 1;
    }
    CHECK_U64(more, 0);
    CHECK_U64(one_bit, s.corrupted);
    bool all = true;
    for (int j = 0; j < LEN; j++) all &= byte_hit[j];
    for (int k = 0; k < 8; k++) all &= bit_hit[k];
    CHECK(all);
    bench_close(&b);
}

static void test_mtu_drop(void)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    cfg.mtu = 576;
    struct bench b;
    REQUIRE(bench_open(&b, 1, &cfg));
    CHECK_EQ(finack_sim_link_end(b.link, FINACK_SIM_B)->mtu, 576);
    CHECK_EQ(send_one(&b, FINACK_SIM_A, 577, 1), -EMSGSIZE);
    CHECK_EQ(send_one(&b, FINACK_SIM_A, 576, 2), 0);
    /* through the finack_link interface a stack uses, too */
    struct finack_link *a = finack_sim_link_end(b.link, FINACK_SIM_A);
    uint8_t big[600];
    make_packet(big, sizeof big, 3);
    CHECK_EQ(a->ops->transmit(a, big, sizeof big, 0), -EMSGSIZE);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    struct finack_sim_path_stats s = finack_sim_link_stats(b.link, FINACK_SIM_A);
    CHECK_U64(s.sent, 3);
    CHECK_U64(s.too_big, 2);
    CHECK_U64(s.delivered, 1);
    REQUIRE(b.rx[FINACK_SIM_B].count == 1);
    CHECK_EQ(b.rx[FINACK_SIM_B].items[0].id, 2);
    bench_close(&b);
}

/* 4500 bytes of queue at 12 Mbit/s: three 1500-byte packets fit, the rest
 * of a burst is tail-dropped; once one is on its way, one more fits. */
static void test_queue_limit_tail_drop(void)
{
    struct finack_sim_path path = {.latency = 1000, .rate_bps = 12000000, .queue_limit = 4500};
    struct finack_sim_link_config cfg = config_with(&path);
    struct bench b;
    REQUIRE(bench_open(&b, 1, &cfg));
    for (uint32_t i = 0; i < 10; i++)
        CHECK_EQ(send_one(&b, FINACK_SIM_A, 1500, i), i < 3 ? 0 : -ENOBUFS);
    finack_sim_run_until(b.sim, 999);
    CHECK_EQ(send_one(&b, FINACK_SIM_A, 1500, 10), -ENOBUFS);
    finack_sim_run_until(b.sim, 1000); /* the first has left the queue */
    CHECK_EQ(send_one(&b, FINACK_SIM_A, 1500, 11), 0);
    CHECK_EQ(send_one(&b, FINACK_SIM_A, 1500, 12), -ENOBUFS);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    struct finack_sim_path_stats s = finack_sim_link_stats(b.link, FINACK_SIM_A);
    CHECK_U64(s.sent, 13);
    CHECK_U64(s.queue_drops, 9);
    CHECK_U64(s.delivered, 4);
    const struct rx *rx = &b.rx[FINACK_SIM_B];
    REQUIRE(rx->count == 4);
    CHECK_EQ(rx->items[3].id, 11);
    CHECK_U64(rx->items[3].t, 4000 + 1000);
    bench_close(&b);
}

static void test_set_path_partition_and_heal(void)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    struct bench b;
    REQUIRE(bench_open(&b, 1, &cfg));
    struct finack_sim_path cut = cfg.a_to_b;
    cut.loss = 1.0;
    REQUIRE(finack_sim_link_set_path(b.link, FINACK_SIM_A, &cut) == 0);
    send_spaced(&b, FINACK_SIM_A, 100, 10, 40);
    REQUIRE(finack_sim_link_set_path(b.link, FINACK_SIM_A, &cfg.a_to_b) == 0);
    send_one(&b, FINACK_SIM_A, 40, 100);
    send_one(&b, FINACK_SIM_B, 40, 200); /* the other way was never cut */
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    CHECK_U64(finack_sim_link_stats(b.link, FINACK_SIM_A).lost, 100);
    REQUIRE(b.rx[FINACK_SIM_B].count == 1);
    CHECK_EQ(b.rx[FINACK_SIM_B].items[0].id, 100);
    CHECK_EQ(b.rx[FINACK_SIM_A].count, 1);
    bench_close(&b);
}

static void test_invalid_arguments(void)
{
    struct finack_sim *sim;
    REQUIRE(finack_sim_create(&sim, 1) == 0);
    struct finack_sim_link_config cfg;
    struct finack_sim_link *link = NULL;
    finack_sim_link_config_init(&cfg);
    cfg.mtu = 67;
    CHECK_EQ(finack_sim_link_create(sim, &cfg, &link), -EINVAL);
    cfg.mtu = 65536;
    CHECK_EQ(finack_sim_link_create(sim, &cfg, &link), -EINVAL);
    finack_sim_link_config_init(&cfg);
    cfg.b_to_a.loss = 1.5;
    CHECK_EQ(finack_sim_link_create(sim, &cfg, &link), -EINVAL);
    cfg.b_to_a.loss = NAN;
    CHECK_EQ(finack_sim_link_create(sim, &cfg, &link), -EINVAL);
    cfg.b_to_a.loss = 0;
    cfg.a_to_b.corrupt = -0.1;
    CHECK_EQ(finack_sim_link_create(sim, &cfg, &link), -EINVAL);
    cfg.a_to_b.corrupt = 0;
    cfg.a_to_b.jitter = FINACK_TIME_NEVER;
    CHECK_EQ(finack_sim_link_create(sim, &cfg, &link), -EINVAL);
    finack_sim_link_config_init(&cfg);
    REQUIRE(finack_sim_link_create(sim, &cfg, &link) == 0);
    struct finack_sim_path bad = {.duplicate = 2};
    CHECK_EQ(finack_sim_link_set_path(link, FINACK_SIM_A, &bad), -EINVAL);
    CHECK_EQ(finack_sim_link_set_path(link, 2, &cfg.a_to_b), -EINVAL);
    CHECK_EQ(finack_sim_link_attach(link, -1, NULL), -EINVAL);
    CHECK_EQ(finack_sim_link_set_receiver(link, 5, NULL, NULL), -EINVAL);
    CHECK_EQ(finack_sim_link_capture(link, 2, NULL), -EINVAL);
    CHECK_EQ(finack_sim_link_inject(link, FINACK_SIM_A, NULL, 10), -EINVAL);
    CHECK_EQ(finack_sim_add_stack(sim, NULL), -EINVAL);
    CHECK_U64(finack_sim_link_stats(link, 3).sent, 0);
    /* a packet to an end with no receiver is delivered into the void */
    uint8_t p[40];
    make_packet(p, sizeof p, 0);
    CHECK_EQ(finack_sim_link_inject(link, FINACK_SIM_A, p, sizeof p), 0);
    finack_sim_run(sim, FINACK_TIME_NEVER);
    CHECK_U64(finack_sim_link_stats(link, FINACK_SIM_A).delivered, 1);
    finack_sim_destroy(sim);
}

/* ---- Capture and determinism ------------------------------------------------------ */

struct pcap_seen {
    size_t count;
    uint64_t t[8];
    size_t len[8];
    uint8_t bytes[8][64];
};

static int pcap_collect(void *ctx, const uint8_t *p, size_t len, uint64_t t_us)
{
    struct pcap_seen *seen = ctx;
    if (seen->count == 8) return -ENOSPC;
    seen->t[seen->count] = t_us;
    seen->len[seen->count] = len;
    memcpy(seen->bytes[seen->count], p, len < 64 ? len : 64);
    seen->count++;
    return 0;
}

/* tcpdump at each end: A's capture shows what A sent when it sent it, B's
 * shows it when it arrived, with the bit the wire flipped. */
static void test_capture_sees_tx_before_faults_and_rx_as_delivered(void)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    cfg.a_to_b.corrupt = 1.0;
    cfg.mtu = 100;
    struct bench b;
    REQUIRE(bench_open(&b, 5, &cfg));
    struct finack_pcap *cap_a, *cap_b;
    REQUIRE(finack_pcap_open_memory(&cap_a) == 0);
    REQUIRE(finack_pcap_open_memory(&cap_b) == 0);
    REQUIRE(finack_sim_link_capture(b.link, FINACK_SIM_A, cap_a) == 0);
    REQUIRE(finack_sim_link_capture(b.link, FINACK_SIM_B, cap_b) == 0);
    finack_sim_run_until(b.sim, 2000);
    CHECK_EQ(send_one(&b, FINACK_SIM_A, 48, 1), 0);
    CHECK_EQ(send_one(&b, FINACK_SIM_A, 101, 2), -EMSGSIZE); /* seen at A only */
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    CHECK_EQ(send_one(&b, FINACK_SIM_B, 44, 3), 0);
    finack_sim_run(b.sim, FINACK_TIME_NEVER);

    uint8_t sent1[48], sent3[44];
    make_packet(sent1, sizeof sent1, 1);
    make_packet(sent3, sizeof sent3, 3);
    size_t n;
    const uint8_t *bytes = finack_pcap_bytes(cap_a, &n);
    struct pcap_seen at_a = {0}, at_b = {0};
    CHECK_EQ(finack_pcap_read_memory(bytes, n, pcap_collect, &at_a), 0);
    bytes = finack_pcap_bytes(cap_b, &n);
    CHECK_EQ(finack_pcap_read_memory(bytes, n, pcap_collect, &at_b), 0);

    REQUIRE(at_a.count == 3);
    CHECK_U64(at_a.t[0], 2000);
    CHECK_MEM(at_a.bytes[0], sent1, sizeof sent1);
    CHECK_U64(at_a.t[1], 2000);
    CHECK_EQ(at_a.len[1], 101);
    CHECK_U64(at_a.t[2], 4000); /* B's packet, uncorrupted on the way back */
    CHECK_MEM(at_a.bytes[2], sent3, sizeof sent3);

    REQUIRE(at_b.count == 2);
    CHECK_U64(at_b.t[0], 3000);
    CHECK_EQ(at_b.len[0], 48);
    int bits = 0;
    for (size_t j = 0; j < sizeof sent1; j++) bits += popcount8(at_b.bytes[0][j] ^ sent1[j]);
    CHECK_EQ(bits, 1);
    /* the capture holds what the receiver got */
    REQUIRE(b.rx[FINACK_SIM_B].count == 1);
    CHECK_MEM(at_b.bytes[0], b.rx[FINACK_SIM_B].items[0].head, sizeof sent1);
    CHECK_U64(at_b.t[1], 3000);
    CHECK_MEM(at_b.bytes[1], sent3, sizeof sent3);

    finack_sim_destroy(b.sim);
    b.sim = NULL;
    CHECK_EQ(finack_pcap_close(cap_a), 0);
    CHECK_EQ(finack_pcap_close(cap_b), 0);
    bench_close(&b);
}

/* Every fault on, both ways, B echoing what it gets: the capture of both
 * ends into one pcap, and the counters. */
struct run_result {
    uint8_t *capture;
    size_t len;
    struct finack_sim_path_stats ab, ba;
};

static bool run_faulty_scenario(uint64_t seed, struct run_result *out)
{
    struct finack_sim_path path = {.latency = 3000,
                                   .jitter = 800,
                                   .rate_bps = 10000000,
                                   .queue_limit = 20000,
                                   .loss = 0.05,
                                   .duplicate = 0.05,
                                   .reorder = 0.05,
                                   .corrupt = 0.05};
    struct finack_sim_link_config cfg = config_with(&path);
    struct bench b;
    struct finack_pcap *cap;
    if (!bench_open(&b, seed, &cfg) || finack_pcap_open_memory(&cap) != 0) return false;
    b.rx[FINACK_SIM_B].echo_link = b.link;
    b.rx[FINACK_SIM_B].echo_side = FINACK_SIM_B;
    finack_sim_link_capture(b.link, FINACK_SIM_A, cap);
    finack_sim_link_capture(b.link, FINACK_SIM_B, cap);
    finack_time_t t0 = 0;
    for (uint32_t i = 0; i < 3000; i++) {
        finack_sim_run_until(b.sim, t0 += 50 + i % 200);
        send_one(&b, FINACK_SIM_A, 40 + (i * 37) % 1400, i);
    }
    finack_sim_run(b.sim, FINACK_TIME_NEVER);
    out->ab = finack_sim_link_stats(b.link, FINACK_SIM_A);
    out->ba = finack_sim_link_stats(b.link, FINACK_SIM_B);
    size_t n;
    const uint8_t *bytes = finack_pcap_bytes(cap, &n);
    out->capture = malloc(n);
    if (out->capture) memcpy(out->capture, bytes, n);
    out->len = n;
    bench_close(&b);
    finack_pcap_close(cap);
    return out->capture != NULL;
}

static void test_same_seed_same_bytes(void)
{
    struct run_result r1, r2, r3;
    REQUIRE(run_faulty_scenario(42, &r1));
    REQUIRE(run_faulty_scenario(42, &r2));
    REQUIRE(run_faulty_scenario(43, &r3));
    /* every fault happened, in both directions */
    CHECK(r1.ab.lost && r1.ab.duplicated && r1.ab.reordered && r1.ab.corrupted);
    CHECK(r1.ab.queue_drops > 0);
    CHECK(r1.ba.lost && r1.ba.duplicated && r1.ba.reordered && r1.ba.corrupted);
    CHECK_U64(r1.len, r2.len);
    CHECK(r1.len == r2.len && memcmp(r1.capture, r2.capture, r1.len) == 0);
    CHECK(memcmp(&r1.ab, &r2.ab, sizeof r1.ab) == 0);
    CHECK(r1.len != r3.len || memcmp(r1.capture, r3.capture, r1.len) != 0);
    free(r1.capture);
    free(r2.capture);
    free(r3.capture);
}

static void test_random_is_seeded(void)
{
    struct finack_sim *s1, *s2, *s3;
    REQUIRE(finack_sim_create(&s1, 99) == 0);
    REQUIRE(finack_sim_create(&s2, 99) == 0);
    REQUIRE(finack_sim_create(&s3, 100) == 0);
    bool same = true, differ = false;
    for (int i = 0; i < 100; i++) {
        uint64_t a = finack_sim_random(s1), b = finack_sim_random(s2), c = finack_sim_random(s3);
        same &= a == b;
        differ |= a != c;
    }
    CHECK(same);
    CHECK(differ);
    /* seed 0 is a seed like any other */
    struct finack_sim *s0;
    REQUIRE(finack_sim_create(&s0, 0) == 0);
    CHECK(finack_sim_random(s0) != 0 || finack_sim_random(s0) != 0);
    finack_sim_destroy(s0);
    finack_sim_destroy(s1);
    finack_sim_destroy(s2);
    finack_sim_destroy(s3);
}

TEST_MAIN("sim_link", TEST_CASE(test_defaults), TEST_CASE(test_latency_exact_each_way),
          TEST_CASE(test_echo_from_receiver_takes_one_rtt), TEST_CASE(test_serialization_exact),
          TEST_CASE(test_serialization_fraction_does_not_drift), TEST_CASE(test_jitter_keeps_fifo),
          TEST_CASE(test_ties_resolve_in_send_order), TEST_CASE(test_clock_and_run_semantics),
          TEST_CASE(test_simulated_hour), TEST_CASE(test_loss_rate), TEST_CASE(test_duplicate_rate),
          TEST_CASE(test_reorder_rate_and_overtaking), TEST_CASE(test_reorder_delay_explicit),
          TEST_CASE(test_corrupt_flips_one_bit), TEST_CASE(test_mtu_drop),
          TEST_CASE(test_queue_limit_tail_drop), TEST_CASE(test_set_path_partition_and_heal),
          TEST_CASE(test_invalid_arguments),
          TEST_CASE(test_capture_sees_tx_before_faults_and_rx_as_delivered),
          TEST_CASE(test_same_seed_same_bytes), TEST_CASE(test_random_is_seeded))
