/* CUBIC (RFC 9438, src/tcp/cc.c) driven through its struct tcp_cc_ops at
 * explicit times: the cut after a loss, K, the window against the cubic
 * curve (concave, then convex), fast convergence, the Reno-friendly region
 * on a short path, and the stage after a timeout. A TCB of a real stack,
 * SMSS 1000 bytes; "segments" below are windows / 1000.
 *
 * The ACK clock is simulated: each RTT, one ACK per segment of cwnd, spread
 * evenly over the RTT, as a sender whose window is full sees them. */
#include <math.h>
#include <stdlib.h>

#include "stack.h"
#include "tcp/tcp.h"
#include "test.h"

#define MSS 1000u
#define SEG(n) ((uint32_t)((n) * MSS))
#define T0 FINACK_SEC(100) /* the loss happens here; any time would do */

struct fixture {
    struct finack_stack *stack;
    struct tcp_conn conn;
    double shadow_est; /* W_est replayed in floating point, segments */
};

static void setup(struct fixture *f)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.secret[0] = 1;
    if (finack_stack_create(&f->stack, &cfg)) abort();
    tcp_conn_init(&f->conn, f->stack->tcp);
    tcp_cc_set(&f->conn, &tcp_cc_cubic);
    f->conn.snd_mss = MSS;
    f->conn.snd_una = f->conn.snd_nxt = f->conn.snd_max = 1;
    f->shadow_est = 0;
}

static void teardown(struct fixture *f)
{
    finack_stack_destroy(f->stack);
}

static const struct tcp_cubic *cu(const struct fixture *f)
{
    return &f->conn.cc_state.cubic;
}

/* A fast retransmit with a full window of `segs` in flight; recovery then
 * ends with cwnd = ssthresh, as tcp/sack.c's does. */
static void loss_at(struct fixture *f, double segs)
{
    f->conn.cwnd = (uint32_t)(segs * MSS);
    f->conn.snd_max = f->conn.snd_una + f->conn.cwnd;
    f->conn.ssthresh = f->conn.cc->ssthresh(&f->conn);
    f->conn.snd_max = f->conn.snd_una;
    f->conn.cwnd = f->conn.ssthresh;
}

static double segs(uint32_t bytes) { return (double)bytes / MSS; }

/* RFC 9438 eq. 1 and 2, in segments and seconds. */
static double k_of(double w_max, double cwnd_epoch) { return cbrt((w_max - cwnd_epoch) / 0.4); }
static double w_cubic(double t, double k, double w_max) { return 0.4 * pow(t - k, 3) + w_max; }

/* ACKs of one segment each, round after round of cwnd of them per rtt,
 * from `from` until the next would come after `to`; returns its time. */
static finack_time_t drive(struct fixture *f, finack_time_t from, finack_time_t to,
                           finack_time_t rtt)
{
    f->conn.srtt = rtt;
    finack_time_t now = from;
    for (;;) {
        uint32_t n = f->conn.cwnd / MSS ? f->conn.cwnd / MSS : 1;
        for (uint32_t i = 0; i < n; i++) {
            finack_time_t t = now + rtt * i / n;
            if (t > to) return t;
            if (f->shadow_est > 0) {
                double alpha = f->shadow_est >= segs(cu(f)->cwnd_prior) ? 1.0 : 3 * 0.3 / 1.7;
                f->shadow_est += alpha / segs(f->conn.cwnd);
            }
            f->conn.cc->on_ack(&f->conn, MSS, t);
        }
        now += rtt;
    }
}

static finack_time_t sec(double s) { return (finack_time_t)(s * 1e6); }

static void test_loss_cuts_to_seventy_percent(void)
{
    struct fixture f;
    setup(&f);
    loss_at(&f, 100);
    CHECK_U64(f.conn.ssthresh, SEG(70));
    CHECK_U64(f.conn.cwnd, SEG(70));
    CHECK_U64(cu(&f)->w_max, SEG(100));
    CHECK_U64(cu(&f)->cwnd_prior, SEG(100));
    /* The floor is 2 SMSS. */
    loss_at(&f, 2);
    CHECK_U64(f.conn.ssthresh, SEG(2));
    teardown(&f);
}

static void test_k_from_w_max_and_cwnd_epoch(void)
{
    static const double w_maxes[] = {100, 1000, 10, 86000};
    for (size_t i = 0; i < sizeof w_maxes / sizeof w_maxes[0]; i++) {
        struct fixture f;
        setup(&f);
        loss_at(&f, w_maxes[i]);
        f.conn.cc->on_ack(&f.conn, MSS, T0); /* the stage's first ACK */
        double want = k_of(w_maxes[i], segs(cu(&f)->cwnd_epoch)) * 1024;
        printf("W_max %.0f: K = %u/1024 s (%.4f s), cbrt says %.4f s\n", w_maxes[i],
               cu(&f)->k, cu(&f)->k / 1024.0, want / 1024);
        CHECK(fabs(cu(&f)->k - want) <= 1.0);
        CHECK(cu(&f)->in_epoch);
        CHECK_U64(cu(&f)->t_epoch, T0);
        teardown(&f);
    }
    /* W_max = 100 segments: K = cbrt(100 * 0.3 / 0.4) = cbrt(75) = 4.217 s. */
    struct fixture f;
    setup(&f);
    loss_at(&f, 100);
    f.conn.cc->on_ack(&f.conn, MSS, T0);
    CHECK(cu(&f)->k >= 4318 && cu(&f)->k <= 4319);
    teardown(&f);
}

/* A 100 ms path: CUBIC's own region (W_est stays below the curve until
 * about 2K). Each ACK moves cwnd by (target - cwnd) / cwnd towards
 * W_cubic(t + RTT) (§4.4), which leaves it about one RTT behind: on the
 * curve W_cubic(t) itself. */
static void test_follows_cubic_curve_concave_then_convex(void)
{
    struct fixture f;
    setup(&f);
    loss_at(&f, 100);
    const finack_time_t rtt = FINACK_MSEC(100);
    const double k = k_of(100, 70), r = 0.1;
    finack_time_t at = T0;
    double points[] = {k / 2, k, 2 * k};
    for (size_t i = 0; i < 3; i++) {
        at = drive(&f, at, T0 + sec(points[i]), rtt);
        double want = w_cubic(points[i], k, 100), got = segs(f.conn.cwnd);
        printf("t = %.3f s (%s): cwnd %.2f segments, W_cubic(t) %.2f, W_cubic(t + RTT) %.2f\n",
               points[i], i == 0 ? "K/2" : i == 1 ? "K" : "2K", got, want,
               w_cubic(points[i] + r, k, 100));
        CHECK(fabs(got - want) <= 1.0);
        CHECK(got <= w_cubic(points[i] + r, k, 100) + 0.01); /* never past the target */
    }

    /* Growth per second: falling before K (concave), rising after (convex).
     * At 200 ms W_est (2.65 segments a second) stays out of the way. */
    struct fixture g;
    setup(&g);
    loss_at(&g, 100);
    double grown[8], last = segs(g.conn.cwnd);
    at = T0;
    for (int s = 0; s < 8; s++) {
        at = drive(&g, at, T0 + FINACK_SEC(s + 1), 2 * rtt);
        grown[s] = segs(g.conn.cwnd) - last;
        last = segs(g.conn.cwnd);
    }
    printf("growth per second:");
    for (int s = 0; s < 8; s++) printf(" %.2f", grown[s]);
    printf("\n");
    CHECK(grown[0] > grown[1] && grown[1] > grown[2] && grown[2] > grown[3]);
    CHECK(grown[5] > grown[4] && grown[6] > grown[5] && grown[7] > grown[6]);
    CHECK(segs(g.conn.cwnd) > 100); /* past the plateau */
    teardown(&f);
    teardown(&g);
}

static void test_fast_convergence_lowers_w_max(void)
{
    struct fixture f;
    setup(&f);
    loss_at(&f, 100);
    drive(&f, T0, T0 + FINACK_SEC(1), FINACK_MSEC(100));
    /* A loss below the previous W_max: another flow took bandwidth, so
     * W_max = cwnd (1 + beta) / 2 = 90 * 0.85 (§4.7). */
    loss_at(&f, 90);
    CHECK_U64(cu(&f)->w_max, SEG(76.5));
    CHECK_U64(f.conn.ssthresh, SEG(63));
    CHECK_U64(cu(&f)->cwnd_prior, SEG(90));
    CHECK(!cu(&f)->in_epoch);
    /* A loss above it: W_max is that window. */
    loss_at(&f, 120);
    CHECK_U64(cu(&f)->w_max, SEG(120));
    CHECK_U64(f.conn.ssthresh, SEG(84));
    teardown(&f);
}

/* A 10 ms path: Reno's one segment per RTT (alpha_cubic = 9/17 until W_est
 * reaches cwnd_prior) outgrows the curve within a second, and cwnd is W_est. */
static void test_reno_friendly_region_on_short_rtt(void)
{
    struct fixture f;
    setup(&f);
    loss_at(&f, 100);
    f.shadow_est = 70;
    drive(&f, T0, T0 + FINACK_SEC(3), FINACK_MSEC(10));
    double k = k_of(100, 70), got = segs(f.conn.cwnd);
    double cubic = w_cubic(3 + 0.01, k, 100);
    printf("after 3 s at RTT 10 ms: cwnd %.2f segments, W_est replayed %.2f, W_cubic %.2f\n",
           got, f.shadow_est, cubic);
    CHECK(got > cubic + 50);
    CHECK(fabs(got - f.shadow_est) <= 1.0);
    teardown(&f);
}

/* §4.8: a timeout keeps beta_cubic's ssthresh; after slow start the stage
 * starts flat (W_max = cwnd_epoch, K = 0), W_est at that window. */
static void test_after_timeout_stage_starts_flat(void)
{
    struct fixture f;
    setup(&f);
    f.conn.cwnd = SEG(100);
    f.conn.snd_max = f.conn.snd_una + f.conn.cwnd;
    f.conn.retransmits = 1;
    f.conn.ssthresh = f.conn.cc->ssthresh(&f.conn);
    f.conn.cc->on_timeout(&f.conn);
    f.conn.cwnd = MSS;
    CHECK_U64(f.conn.ssthresh, SEG(70));
    /* The second timeout of the same segment changes nothing recorded. */
    f.conn.retransmits = 2;
    CHECK_U64(f.conn.cc->ssthresh(&f.conn), SEG(70));
    f.conn.cc->on_timeout(&f.conn);
    CHECK_U64(cu(&f)->w_max, SEG(100));
    f.conn.retransmits = 0;
    f.conn.snd_max = f.conn.snd_una;
    /* Slow start as Reno's: two SMSS per ACK at most. */
    f.conn.cc->on_ack(&f.conn, 3 * MSS, T0);
    CHECK_U64(f.conn.cwnd, SEG(3));
    CHECK(!cu(&f)->in_epoch);
    drive(&f, T0, T0 + FINACK_SEC(2), FINACK_MSEC(100));
    CHECK(cu(&f)->in_epoch);
    CHECK_EQ(cu(&f)->k, 0);
    CHECK_U64(cu(&f)->w_max, cu(&f)->cwnd_epoch);
    CHECK(cu(&f)->cwnd_epoch >= SEG(70) && cu(&f)->cwnd_epoch <= SEG(72));
    CHECK(f.conn.cwnd > cu(&f)->cwnd_epoch); /* convex from there */
    teardown(&f);
}

/* §5.8: time with nothing in flight is not part of t. Two connections in
 * the same stage; ten seconds without an ACK, one idle (the last ACK left
 * nothing in flight), the other with data outstanding (a stall). */
static void test_idle_time_not_counted(void)
{
    struct fixture idle, busy;
    setup(&idle);
    setup(&busy);
    const finack_time_t rtt = FINACK_MSEC(100);
    struct fixture *both[2] = {&idle, &busy};
    for (int i = 0; i < 2; i++) {
        loss_at(both[i], 100);
        drive(both[i], T0, T0 + FINACK_SEC(1), rtt);
    }
    busy.conn.snd_max = busy.conn.snd_una + busy.conn.cwnd;
    finack_time_t last = T0 + FINACK_SEC(1), next = last + FINACK_SEC(10) + rtt;
    for (int i = 0; i < 2; i++) both[i]->conn.cc->on_ack(&both[i]->conn, MSS, last);
    CHECK(cu(&idle)->idle);
    CHECK(!cu(&busy)->idle);
    finack_time_t epoch = cu(&idle)->t_epoch;
    CHECK_U64(cu(&busy)->t_epoch, epoch);
    uint32_t before = idle.conn.cwnd;
    for (int i = 0; i < 2; i++) both[i]->conn.cc->on_ack(&both[i]->conn, MSS, next);
    /* The idle one's stage clock moved on by the 10 s; the other's did not. */
    CHECK_U64(cu(&idle)->t_epoch, epoch + FINACK_SEC(10));
    CHECK_U64(cu(&busy)->t_epoch, epoch);
    /* So one ACK grows the idle one's window by a few bytes (target
     * W_cubic(1.2 s), below the plateau), the other's by half a segment
     * (target W_cubic(11.1 s), held to 1.5 cwnd). */
    printf("one ACK after 10 s: idle +%u bytes, stalled +%u bytes\n", idle.conn.cwnd - before,
           busy.conn.cwnd - before);
    CHECK(idle.conn.cwnd - before < MSS / 10);
    CHECK(busy.conn.cwnd - before > MSS / 4);
    teardown(&idle);
    teardown(&busy);
}

static void test_algorithms_by_name(void)
{
    CHECK(tcp_cc_find("reno") == &tcp_cc_reno);
    CHECK(tcp_cc_find("cubic") == &tcp_cc_cubic);
    CHECK(tcp_cc_find("bbr") == NULL);
    CHECK(tcp_cc_find("") == NULL);
    CHECK(TCP_CC_DEFAULT == &tcp_cc_reno);
    /* Switching clears the state and keeps the window. */
    struct fixture f;
    setup(&f);
    loss_at(&f, 100);
    tcp_cc_set(&f.conn, &tcp_cc_reno);
    tcp_cc_set(&f.conn, &tcp_cc_cubic);
    CHECK_EQ(cu(&f)->w_max, 0);
    CHECK_U64(f.conn.cwnd, SEG(70));
    teardown(&f);
}

TEST_MAIN("tcp_cubic", TEST_CASE(test_loss_cuts_to_seventy_percent),
          TEST_CASE(test_k_from_w_max_and_cwnd_epoch),
          TEST_CASE(test_follows_cubic_curve_concave_then_convex),
          TEST_CASE(test_fast_convergence_lowers_w_max),
          TEST_CASE(test_reno_friendly_region_on_short_rtt),
          TEST_CASE(test_after_timeout_stage_starts_flat), TEST_CASE(test_idle_time_not_counted),
          TEST_CASE(test_algorithms_by_name))
