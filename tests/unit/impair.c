/* The impairments of finack/impair.h as a packet scheduler, driven with
 * explicit times (no device, no clock, no sleeps). Rates over 100,000
 * packets are checked against bounds more than 6 standard deviations
 * wide, with fixed seeds. */
#include "finack/impair.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "test.h"

#define N_STAT 100000u

struct seen {
    uint32_t *ids;
    finack_time_t *times;
    size_t count, cap;
};

static void record(void *ctx, enum finack_impair_dir dir, const uint8_t *p, size_t len,
                   finack_time_t now)
{
    (void)dir;
    struct seen *s = ctx;
    if (s->count == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 1024;
        s->ids = realloc(s->ids, s->cap * sizeof *s->ids);
        s->times = realloc(s->times, s->cap * sizeof *s->times);
        if (!s->ids || !s->times) abort();
    }
    uint32_t id = 0;
    if (len >= sizeof id) memcpy(&id, p, sizeof id);
    s->ids[s->count] = id;
    s->times[s->count] = now;
    s->count++;
}

static void seen_free(struct seen *s)
{
    free(s->ids);
    free(s->times);
    *s = (struct seen){0};
}

static struct finack_impair *make(double loss, double dup, double reorder, finack_time_t delay,
                                  uint64_t seed)
{
    struct finack_impair *imp = NULL;
    struct finack_impair_config cfg = {.loss = loss, .duplicate = dup, .reorder = reorder,
                                       .delay = delay, .seed = seed};
    if (finack_impair_create(&imp, &cfg) != 0) abort();
    return imp;
}

/* Push packet id at time t, then run the direction at t. */
static finack_time_t send_at(struct finack_impair *imp, enum finack_impair_dir dir, uint32_t id,
                             finack_time_t t, struct seen *s)
{
    uint8_t pkt[40] = {0};
    memcpy(pkt, &id, sizeof id);
    if (finack_impair_push(imp, dir, pkt, sizeof pkt, t) != 0) abort();
    return finack_impair_run(imp, dir, t, record, s);
}

/* Nothing configured: every packet goes on at once, in order. */
static void test_no_impairment_passes_through(void)
{
    struct finack_impair *imp = make(0, 0, 0, 0, 1);
    struct seen s = {0};
    for (uint32_t i = 0; i < 100; i++)
        CHECK_U64(send_at(imp, FINACK_IMPAIR_OUT, i, 1000 + i, &s), FINACK_TIME_NEVER);
    REQUIRE(s.count == 100);
    for (uint32_t i = 0; i < 100; i++) {
        CHECK_EQ(s.ids[i], i);
        CHECK_U64(s.times[i], 1000 + i);
    }
    seen_free(&s);
    finack_impair_destroy(imp);
}

/* A 5 ms delay: due to the µs, not a µs early, and the deadline reported. */
static void test_delay_exact(void)
{
    struct finack_impair *imp = make(0, 0, 0, FINACK_MSEC(5), 1);
    struct seen s = {0};
    CHECK_U64(send_at(imp, FINACK_IMPAIR_IN, 7, 1000, &s), 6000);
    CHECK_U64(send_at(imp, FINACK_IMPAIR_IN, 8, 2500, &s), 6000);
    CHECK_EQ(s.count, 0);
    CHECK_U64(finack_impair_run(imp, FINACK_IMPAIR_IN, 5999, record, &s), 6000);
    CHECK_EQ(s.count, 0);
    CHECK_U64(finack_impair_run(imp, FINACK_IMPAIR_IN, 6000, record, &s), 7500);
    REQUIRE(s.count == 1);
    CHECK_EQ(s.ids[0], 7);
    /* The other direction holds nothing. */
    CHECK_U64(finack_impair_run(imp, FINACK_IMPAIR_OUT, 6000, record, &s), FINACK_TIME_NEVER);
    CHECK_U64(finack_impair_run(imp, FINACK_IMPAIR_IN, 9000, record, &s), FINACK_TIME_NEVER);
    REQUIRE(s.count == 2);
    CHECK_EQ(s.ids[1], 8);
    CHECK_U64(s.times[1], 9000); /* handed on when run, stamped with that time */
    seen_free(&s);
    finack_impair_destroy(imp);
}

static void test_loss_rate(void)
{
    struct finack_impair *imp = make(0.01, 0, 0, 0, 42);
    struct seen s = {0};
    for (uint32_t i = 0; i < N_STAT; i++) send_at(imp, FINACK_IMPAIR_OUT, i, i, &s);
    struct finack_impair_stats st;
    finack_impair_get_stats(imp, FINACK_IMPAIR_OUT, &st);
    CHECK_U64(st.packets, N_STAT);
    CHECK_U64(st.lost + s.count, N_STAT);
    CHECK_U64(st.delivered, s.count);
    /* mean 1000, sd ~31.5 */
    CHECK(st.lost > 800 && st.lost < 1200);
    for (size_t i = 1; i < s.count; i++) CHECK(s.ids[i] > s.ids[i - 1]);
    seen_free(&s);
    finack_impair_destroy(imp);
}

static void test_duplicate_rate(void)
{
    struct finack_impair *imp = make(0, 0.05, 0, 0, 7);
    struct seen s = {0};
    for (uint32_t i = 0; i < N_STAT; i++) send_at(imp, FINACK_IMPAIR_IN, i, i, &s);
    struct finack_impair_stats st;
    finack_impair_get_stats(imp, FINACK_IMPAIR_IN, &st);
    CHECK_U64(s.count, N_STAT + st.duplicated);
    /* mean 5000, sd ~69 */
    CHECK(st.duplicated > 4500 && st.duplicated < 5500);
    size_t twins = 0;
    for (size_t i = 1; i < s.count; i++) {
        CHECK(s.ids[i] >= s.ids[i - 1]);
        if (s.ids[i] == s.ids[i - 1]) twins++;
    }
    CHECK_U64(twins, st.duplicated);
    seen_free(&s);
    finack_impair_destroy(imp);
}

/* A packet picked for reordering is overtaken by the next one and follows
 * it at once; alone, it goes after the hold. */
static void test_reorder_overtaken_by_next(void)
{
    struct finack_impair *imp = make(0, 0, 1.0, 0, 3);
    struct seen s = {0};
    CHECK_U64(send_at(imp, FINACK_IMPAIR_OUT, 1, 100, &s), 100 + FINACK_IMPAIR_REORDER_HOLD);
    CHECK_EQ(s.count, 0);
    CHECK_U64(finack_impair_run(imp, FINACK_IMPAIR_OUT, 100 + FINACK_IMPAIR_REORDER_HOLD - 1,
                                record, &s),
              100 + FINACK_IMPAIR_REORDER_HOLD);
    CHECK_EQ(s.count, 0);
    CHECK_U64(finack_impair_run(imp, FINACK_IMPAIR_OUT, 100 + FINACK_IMPAIR_REORDER_HOLD, record,
                                &s),
              FINACK_TIME_NEVER);
    REQUIRE(s.count == 1);
    CHECK_EQ(s.ids[0], 1);
    finack_impair_destroy(imp);
    seen_free(&s);

    /* Half picked: every packet arrives exactly once, some out of order,
     * and a packet is never overtaken by one that came more than the hold
     * later (here 1 packet per 100 µs). */
    imp = make(0, 0, 0.5, 0, 11);
    uint32_t n = 10000;
    for (uint32_t i = 0; i < n; i++) send_at(imp, FINACK_IMPAIR_OUT, i, (finack_time_t)i * 100, &s);
    finack_impair_run(imp, FINACK_IMPAIR_OUT, FINACK_SEC(10), record, &s);
    REQUIRE(s.count == n);
    uint8_t *got = calloc(n, 1);
    size_t inversions = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(s.ids[i] < n && !got[s.ids[i]]);
        got[s.ids[i]] = 1;
        if (i && s.ids[i] < s.ids[i - 1]) {
            inversions++;
            CHECK(s.ids[i - 1] - s.ids[i] <= FINACK_IMPAIR_REORDER_HOLD / 100);
        }
    }
    free(got);
    struct finack_impair_stats st;
    finack_impair_get_stats(imp, FINACK_IMPAIR_OUT, &st);
    CHECK(st.reordered > 4500 && st.reordered < 5500);
    CHECK(inversions > 1000);
    seen_free(&s);
    finack_impair_destroy(imp);
}

/* Reordering with a delay: nothing goes before its delay, and a packet
 * that is overtaken follows its overtaker at the same moment. */
static void test_reorder_with_delay(void)
{
    struct finack_impair *imp = make(0, 0, 0.5, FINACK_MSEC(20), 9);
    struct seen s = {0};
    for (uint32_t i = 0; i < 50; i++) send_at(imp, FINACK_IMPAIR_IN, i, FINACK_MSEC(i), &s);
    finack_impair_run(imp, FINACK_IMPAIR_IN, FINACK_SEC(1), record, &s);
    REQUIRE(s.count == 50);
    size_t inversions = 0;
    for (size_t i = 0; i < s.count; i++) {
        CHECK(s.times[i] >= FINACK_MSEC(s.ids[i]) + FINACK_MSEC(20));
        if (i && s.ids[i] < s.ids[i - 1]) {
            inversions++;
            CHECK_U64(s.times[i], s.times[i - 1]);
        }
    }
    CHECK(inversions > 0);
    seen_free(&s);
    finack_impair_destroy(imp);
}

/* Same seed, same deliveries; another seed, others. */
static void run_mixed(uint64_t seed, struct seen *s)
{
    struct finack_impair *imp = make(0.05, 0.02, 0.05, FINACK_MSEC(1), seed);
    for (uint32_t i = 0; i < 20000; i++) send_at(imp, FINACK_IMPAIR_OUT, i, (finack_time_t)i * 37, s);
    finack_impair_run(imp, FINACK_IMPAIR_OUT, FINACK_TIME_NEVER - 1, record, s);
    finack_impair_destroy(imp);
}

static void test_same_seed_same_deliveries(void)
{
    struct seen a = {0}, b = {0}, c = {0};
    run_mixed(1234, &a);
    run_mixed(1234, &b);
    run_mixed(1235, &c);
    REQUIRE(a.count == b.count);
    CHECK_MEM(a.ids, b.ids, a.count * sizeof *a.ids);
    CHECK_MEM(a.times, b.times, a.count * sizeof *a.times);
    CHECK(a.count != c.count || memcmp(a.ids, c.ids, a.count * sizeof *a.ids) != 0);
    seen_free(&a);
    seen_free(&b);
    seen_free(&c);
}

/* Traffic in one direction does not move the other's random stream. */
static void test_directions_independent(void)
{
    struct finack_impair *alone = make(0.3, 0, 0, 0, 77);
    struct finack_impair *mixed = make(0.3, 0, 0, 0, 77);
    struct seen a = {0}, b = {0}, other = {0};
    for (uint32_t i = 0; i < 1000; i++) {
        send_at(alone, FINACK_IMPAIR_OUT, i, i, &a);
        send_at(mixed, FINACK_IMPAIR_IN, i, i, &other);
        send_at(mixed, FINACK_IMPAIR_IN, i, i, &other);
        send_at(mixed, FINACK_IMPAIR_OUT, i, i, &b);
    }
    REQUIRE(a.count == b.count);
    CHECK_MEM(a.ids, b.ids, a.count * sizeof *a.ids);
    seen_free(&a);
    seen_free(&b);
    seen_free(&other);
    finack_impair_destroy(alone);
    finack_impair_destroy(mixed);
}

static void test_invalid_config(void)
{
    struct finack_impair *imp = (struct finack_impair *)1;
    struct finack_impair_config bad[] = {
        {.loss = -0.1}, {.loss = 1.5}, {.duplicate = 2}, {.reorder = NAN},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(finack_impair_create(&imp, &bad[i]), -EINVAL);
        CHECK(imp == NULL);
    }
    struct finack_impair_config all = {.loss = 1, .duplicate = 1, .reorder = 1};
    CHECK_EQ(finack_impair_create(&imp, &all), 0);
    struct seen s = {0};
    send_at(imp, FINACK_IMPAIR_OUT, 1, 0, &s);
    CHECK_EQ(s.count, 0);
    finack_impair_destroy(imp);
    finack_impair_destroy(NULL);
}

TEST_MAIN("impair", TEST_CASE(test_no_impairment_passes_through), TEST_CASE(test_delay_exact),
          TEST_CASE(test_loss_rate), TEST_CASE(test_duplicate_rate),
          TEST_CASE(test_reorder_overtaken_by_next), TEST_CASE(test_reorder_with_delay),
          TEST_CASE(test_same_seed_same_deliveries), TEST_CASE(test_directions_independent),
          TEST_CASE(test_invalid_config))
