/* The timer wheel against a plain reference: random arms, re-arms, cancels
 * and jumps of every size; every timer must fire exactly once, at the first
 * advance that reaches its expiry, and never early. */
#include "util/timer_wheel.h"

#include <stdlib.h>

#include "test.h"

#define N_TIMERS 512

struct probe {
    struct timer timer;
    uint64_t expected;   /* expiry we armed, 0 = not armed */
    uint64_t fired_at;
    int fired;
};

static struct probe probes[N_TIMERS];
static uint64_t last_fire_expiry;
static int fire_order_ok;

static void on_fire(struct timer *t, uint64_t now)
{
    struct probe *p = container_of(t, struct probe, timer);
    p->fired++;
    p->fired_at = now;
    if (t->expiry < last_fire_expiry) fire_order_ok = 0;
    last_fire_expiry = t->expiry;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Delays spread over every level: a few µs up to days. */
static uint64_t random_delay(void)
{
    unsigned bits = (unsigned)(rnd() % 40);
    return 1 + (rnd() & ((UINT64_C(1) << bits) - 1));
}

static void test_fires_exactly_once_never_early(void)
{
    struct timer_wheel w;
    timer_wheel_init(&w, 1000);
    for (int i = 0; i < N_TIMERS; i++) {
        timer_init(&probes[i].timer, on_fire);
        probes[i].expected = 0;
    }
    uint64_t now = 1000;
    for (int round = 0; round < 20000; round++) {
        struct probe *p = &probes[rnd() % N_TIMERS];
        switch (rnd() % 4) {
        case 0:
        case 1:
            p->expected = now + random_delay();
            p->fired = 0;
            timer_arm(&w, &p->timer, p->expected);
            break;
        case 2:
            timer_cancel(&w, &p->timer);
            p->expected = 0;
            break;
        default: {
            /* Jump either to the wheel's own next deadline or at random. */
            uint64_t next = timer_wheel_next(&w);
            uint64_t target = (rnd() & 1) && next != UINT64_MAX ? next : now + random_delay() / 8;
            REQUIRE(next == UINT64_MAX || next > now);
            last_fire_expiry = 0;
            fire_order_ok = 1;
            timer_wheel_advance(&w, target);
            CHECK(fire_order_ok);
            now = target;
            for (int i = 0; i < N_TIMERS; i++) {
                struct probe *q = &probes[i];
                if (!q->expected) continue;
                if (q->expected <= now) {
                    REQUIRE(q->fired == 1);
                    REQUIRE(!timer_armed(&q->timer));
                    REQUIRE(q->fired_at >= q->expected);
                    q->expected = 0;
                } else {
                    REQUIRE(q->fired == 0);
                    REQUIRE(timer_armed(&q->timer));
                }
            }
        }
        }
    }
}

/* Walking from deadline to deadline visits each expiry exactly: the level-0
 * bound is exact and a coarser bound only ever falls short, never past. */
static void test_next_deadline_walk_is_exact(void)
{
    struct timer_wheel w;
    timer_wheel_init(&w, 0);
    static const uint64_t expiries[] = {5, 64, 65, 4095, 4096, 262143, 1000000, 60000000,
                                        3600000000u};
    enum { N = sizeof expiries / sizeof expiries[0] };
    for (int i = 0; i < N; i++) {
        timer_init(&probes[i].timer, on_fire);
        probes[i].fired = 0;
        timer_arm(&w, &probes[i].timer, expiries[i]);
    }
    int fired = 0, wakeups = 0;
    uint64_t next;
    while ((next = timer_wheel_next(&w)) != UINT64_MAX) {
        wakeups++;
        REQUIRE(wakeups < 200);
        timer_wheel_advance(&w, next);
        for (int i = 0; i < N; i++) {
            if (probes[i].fired && probes[i].fired_at == next) {
                CHECK_U64(probes[i].fired_at, expiries[i]);
                fired++;
            }
        }
    }
    CHECK_EQ(fired, N);
    CHECK_EQ(w.count, 0);
}

static struct timer rearm_timer;
static int rearm_count;

static struct timer_wheel *rearm_wheel;
/* A periodic timer that re-arms from its own expiry: a timer re-armed for a
 * time the advance already passed must fire in that same advance. */
static void rearm_self_real(struct timer *t, uint64_t now)
{
    (void)now;
    if (++rearm_count < 5) timer_arm(rearm_wheel, t, t->expiry + 10);
}

static void test_callback_rearms_itself(void)
{
    struct timer_wheel w;
    timer_wheel_init(&w, 0);
    rearm_wheel = &w;
    rearm_count = 0;
    timer_init(&rearm_timer, rearm_self_real);
    timer_arm(&w, &rearm_timer, 10);
    timer_wheel_advance(&w, 100);
    CHECK_EQ(rearm_count, 5);
    CHECK(!timer_armed(&rearm_timer));
    CHECK_EQ(w.count, 0);
}

static void test_past_expiry_fires_on_next_advance(void)
{
    struct timer_wheel w;
    timer_wheel_init(&w, 500);
    timer_init(&probes[0].timer, on_fire);
    probes[0].fired = 0;
    timer_arm(&w, &probes[0].timer, 100);
    CHECK_U64(timer_wheel_next(&w), 500);
    CHECK_EQ(timer_wheel_advance(&w, 500), 1);
    CHECK_EQ(probes[0].fired, 1);
}

/* A hundred thousand timers due in one advance (a server's connections
 * opened together) all fire, in expiry order, and cancelling some of them
 * from inside a callback is safe. */
#define MANY 100000
struct many_probe {
    struct timer timer;
    int index;
};
static struct many_probe many[MANY];
static int many_fired;
static struct timer_wheel *many_wheel;

static void on_many(struct timer *t, uint64_t now)
{
    (void)now;
    struct many_probe *p = container_of(t, struct many_probe, timer);
    if (t->expiry < last_fire_expiry) fire_order_ok = 0;
    last_fire_expiry = t->expiry;
    many_fired++;
    /* Every tenth one cancels its neighbour, still waiting in the due list. */
    if (p->index % 10 == 0 && p->index + 1 < MANY) timer_cancel(many_wheel, &many[p->index + 1].timer);
}

static void test_many_due_at_once_fire_in_order(void)
{
    static struct timer_wheel w;
    timer_wheel_init(&w, 0);
    many_wheel = &w;
    for (int i = 0; i < MANY; i++) {
        timer_init(&many[i].timer, on_many);
        many[i].index = i;
        timer_arm(&w, &many[i].timer, 1000000 + rnd() % 5000); /* 5 ms of spread */
    }
    last_fire_expiry = 0;
    fire_order_ok = 1;
    many_fired = 0;
    size_t ran = timer_wheel_advance(&w, 2000000);
    CHECK(fire_order_ok);
    CHECK_EQ(ran, (size_t)many_fired);
    /* Cancelled ones did not fire; the rest all did. */
    int cancelled = 0;
    for (int i = 0; i < MANY; i++) cancelled += !timer_armed(&many[i].timer) && i % 10 == 1;
    CHECK(many_fired <= MANY && many_fired >= MANY - MANY / 10);
    CHECK_EQ(timer_wheel_next(&w), UINT64_MAX);
    (void)cancelled;
}

TEST_MAIN("timer_wheel", TEST_CASE(test_fires_exactly_once_never_early),
          TEST_CASE(test_next_deadline_walk_is_exact), TEST_CASE(test_callback_rearms_itself),
          TEST_CASE(test_past_expiry_fires_on_next_advance),
          TEST_CASE(test_many_due_at_once_fire_in_order))
