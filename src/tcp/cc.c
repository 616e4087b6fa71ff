/* Congestion control behind an interface (struct tcp_cc_ops): how the
 * window grows on ACKs and where ssthresh goes after a loss. Loss
 * detection and recovery (fast retransmit, NewReno's partial ACKs, SACK
 * recovery with PRR, the timeout) are the same for every algorithm and
 * live in tcp/input.c, tcp/sack.c and tcp/timer.c.
 *
 * Reno (RFC 5681): slow start below ssthresh, one SMSS per RTT above it,
 * ssthresh = max(FlightSize / 2, 2 * SMSS) after a loss.
 *
 * CUBIC (RFC 9438): the same slow start; above ssthresh the window follows
 * W_cubic(t) = C (t - K)^3 + W_max, or Reno's rate where that is faster
 * (the Reno-friendly region), and a loss cuts it to 0.7 of FlightSize.
 * All integer arithmetic: time in 1/1024 s, windows in bytes, K's cube
 * root taken once per congestion avoidance stage (icbrt64), no libm. */
#include <string.h>

#include "tcp/tcp.h"

static void reno_init(struct tcp_conn *conn)
{
    /* RFC 6928: ten segments, as Linux. */
    conn->cwnd = TCP_INITIAL_CWND_SEGMENTS * (uint32_t)conn->snd_mss;
}

/* Slow start, RFC 5681 §3.1, counting bytes acknowledged (RFC 3465) with
 * L = 2 SMSS: an ACK of two segments, as delayed ACKs are, grows the window
 * by two, so it doubles each RTT as Linux's does. */
static void slow_start(struct tcp_conn *conn, uint32_t acked)
{
    uint32_t mss = conn->snd_mss;
    conn->cwnd += acked < 2 * mss ? acked : 2 * mss;
}

static void reno_on_ack(struct tcp_conn *conn, uint32_t acked, finack_time_t now)
{
    (void)now;
    uint32_t mss = conn->snd_mss;
    if (conn->cwnd < conn->ssthresh) {
        slow_start(conn, acked);
        return;
    }
    /* Congestion avoidance, §3.1 eq. 3: cwnd += SMSS*SMSS/cwnd per ACK. */
    uint32_t add = mss * mss / conn->cwnd;
    conn->cwnd += add ? add : 1;
}

static uint32_t reno_ssthresh(struct tcp_conn *conn)
{
    uint32_t flight = conn->snd_max - conn->snd_una;
    uint32_t half = flight / 2;
    return half > 2u * conn->snd_mss ? half : 2u * conn->snd_mss; /* §3.1 eq. 4 */
}

static void reno_on_timeout(struct tcp_conn *conn)
{
    (void)conn; /* eq. 4 already set ssthresh; the core sets cwnd to 1 SMSS */
}

const struct tcp_cc_ops tcp_cc_reno = {
    .name = "reno",
    .init = reno_init,
    .on_ack = reno_on_ack,
    .ssthresh = reno_ssthresh,
    .on_timeout = reno_on_timeout,
};

/* ---- CUBIC (RFC 9438) ----------------------------------------------------- */

/* §4.1: C = 0.4 (segments / s^3), beta_cubic = 0.7, and the Reno-friendly
 * alpha_cubic = 3 (1 - beta) / (1 + beta) = 9/17. */
#define CUBIC_C_NUM 2
#define CUBIC_C_DEN 5
#define CUBIC_BETA_NUM 7
#define CUBIC_BETA_DEN 10
#define CUBIC_ALPHA_NUM 9
#define CUBIC_ALPHA_DEN 17
#define CUBIC_HZ_SHIFT 10            /* time unit: 1/1024 s */
#define CUBIC_T_MAX (1u << 20)       /* |t - K| is cut at 1024 s: its cube fits */
#define CUBIC_EST_SHIFT 16           /* W_est's fraction of a byte */

/* floor(cbrt(x)), bit by bit (Hacker's Delight icbrt, 64-bit). */
static uint64_t icbrt64(uint64_t x)
{
    uint64_t y = 0, y2 = 0;
    for (int s = 63; s >= 0; s -= 3) {
        y2 *= 4;
        y *= 2;
        uint64_t b = 3 * (y2 + y) + 1;
        if ((x >> s) >= b) {
            x -= b << s;
            y2 += 2 * y + 1;
            y++;
        }
    }
    return y;
}

static uint64_t to_cubic_time(finack_time_t us)
{
    return ((uint64_t)us << CUBIC_HZ_SHIFT) / 1000000u;
}

/* §4.2 eq. 2: K = cbrt((W_max - cwnd_epoch) / C) seconds, the windows in
 * segments; in 1/1024 s that is cbrt(segments / C * 2^30). */
static uint32_t cubic_k(uint32_t w_max, uint32_t cwnd_epoch, uint32_t mss)
{
    if (w_max <= cwnd_epoch || !mss) return 0;
    uint64_t x = ((uint64_t)(w_max - cwnd_epoch) << 20) / mss * CUBIC_C_DEN / CUBIC_C_NUM;
    if (x > UINT64_MAX >> 10) x = UINT64_MAX >> 10;
    return (uint32_t)icbrt64(x << 10);
}

/* §4.2 eq. 1 in bytes: W_cubic(t) = C (t - K)^3 + W_max, t in 1/1024 s
 * since t_epoch, never below 0 or above UINT32_MAX. */
static uint32_t w_cubic(const struct tcp_cubic *cu, uint64_t t, uint32_t mss)
{
    bool before = t < cu->k;
    uint64_t d = before ? cu->k - t : t - cu->k;
    if (d > CUBIC_T_MAX) d = CUBIC_T_MAX;
    /* C d^3 in segments << 10, then bytes: d^3 <= 2^60, the product <= 2^57. */
    uint64_t seg_1024 = d * d * d * CUBIC_C_NUM / CUBIC_C_DEN >> (3 * CUBIC_HZ_SHIFT - 10);
    uint64_t delta = seg_1024 * mss >> 10;
    if (before) return delta >= cu->w_max ? 0 : cu->w_max - (uint32_t)delta;
    uint64_t w = cu->w_max + delta;
    return w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
}

/* The first ACK of a congestion avoidance stage starts its clock (§4.2:
 * t is the time since the stage began; after a fast recovery that is its
 * end, as Linux's epoch_start). */
static void cubic_begin_epoch(struct tcp_conn *conn, finack_time_t now)
{
    struct tcp_cubic *cu = &conn->cc_state.cubic;
    cu->in_epoch = true;
    cu->t_epoch = now;
    cu->cwnd_epoch = conn->cwnd;
    /* §4.8: after a timeout the curve starts flat at the window this stage
     * starts with (K = 0); so does a window already above W_max (no loss
     * yet, or a switch of algorithm mid-connection). */
    if (cu->after_timeout || cu->w_max < conn->cwnd) cu->w_max = conn->cwnd;
    cu->after_timeout = false;
    cu->k = cubic_k(cu->w_max, conn->cwnd, conn->snd_mss);
    cu->w_est = (uint64_t)conn->cwnd << CUBIC_EST_SHIFT; /* §4.3 */
    cu->grow_rem = 0;
}

static void cubic_grow(struct tcp_conn *conn, uint32_t acked, finack_time_t now)
{
    struct tcp_cubic *cu = &conn->cc_state.cubic;
    uint32_t mss = conn->snd_mss, cwnd = conn->cwnd;
    if (cwnd < conn->ssthresh) {
        slow_start(conn, acked); /* as Reno's; no HyStart++ (§4.10) */
        return;
    }
    if (!cu->in_epoch) cubic_begin_epoch(conn, now);
    uint64_t t = to_cubic_time(now - cu->t_epoch);

    /* §4.3: W_est grows by alpha_cubic segments per window acknowledged,
     * by Reno's one segment once it passes cwnd_prior. */
    bool reno_rate = (cu->w_est >> CUBIC_EST_SHIFT) >= cu->cwnd_prior;
    uint64_t alpha_num = reno_rate ? 1 : CUBIC_ALPHA_NUM;
    uint64_t alpha_den = reno_rate ? 1 : CUBIC_ALPHA_DEN;
    cu->w_est += ((uint64_t)acked * mss * alpha_num << CUBIC_EST_SHIFT) / (alpha_den * cwnd);
    uint64_t w_est = cu->w_est >> CUBIC_EST_SHIFT;
    if (w_cubic(cu, t, mss) < w_est) {
        /* The Reno-friendly region: cwnd = W_est. */
        if (w_est > cwnd) conn->cwnd = w_est > UINT32_MAX ? UINT32_MAX : (uint32_t)w_est;
        return;
    }
    /* §4.4, §4.5: towards target = W_cubic(t + RTT), kept within
     * [cwnd, 1.5 cwnd], by (target - cwnd) / cwnd per segment acknowledged. */
    uint64_t target = w_cubic(cu, t + to_cubic_time(conn->srtt), mss);
    uint64_t most = (uint64_t)cwnd + cwnd / 2;
    if (target > most) target = most;
    if (target <= cwnd) return;
    uint64_t grow = (target - cwnd) * acked + cu->grow_rem;
    uint64_t add = grow / cwnd;
    cu->grow_rem = (uint32_t)(grow % cwnd);
    uint64_t next = cwnd + add;
    conn->cwnd = next > UINT32_MAX ? UINT32_MAX : (uint32_t)next;
}

/* §5.8: an idle period is not part of t, or the window would come back
 * on a far, steep point of the curve. An ACK that leaves nothing in flight
 * starts one; the next ACK comes an RTT after the send that ended it, so
 * the stage's clock moves on by the gap less SRTT (Linux shifts
 * epoch_start at that send, which the algorithm here does not see). */
static void cubic_on_ack(struct tcp_conn *conn, uint32_t acked, finack_time_t now)
{
    struct tcp_cubic *cu = &conn->cc_state.cubic;
    if (cu->idle) {
        cu->idle = false;
        finack_time_t gap = now - cu->idle_since;
        if (cu->in_epoch && gap > conn->srtt) cu->t_epoch += gap - conn->srtt;
    }
    cubic_grow(conn, acked, now);
    if (conn->snd_una == conn->snd_max) {
        cu->idle = true;
        cu->idle_since = now;
    }
}

/* §4.6 multiplicative decrease and §4.7 fast convergence. */
static uint32_t cubic_ssthresh(struct tcp_conn *conn)
{
    struct tcp_cubic *cu = &conn->cc_state.cubic;
    uint32_t mss = conn->snd_mss, flight = conn->snd_max - conn->snd_una;
    uint32_t ss = (uint32_t)((uint64_t)flight * CUBIC_BETA_NUM / CUBIC_BETA_DEN);
    if (ss < 2u * mss) ss = 2u * mss;
    /* Another timeout of the same segment is the same congestion event: the
     * window it found is long gone (cwnd is 1 SMSS), keep what the first
     * one recorded. */
    if (conn->retransmits > 1) return ss;
    uint32_t cwnd = conn->cwnd;
    if (cwnd < cu->w_max)
        cu->w_max = (uint32_t)((uint64_t)cwnd * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) /
                               (2 * CUBIC_BETA_DEN)); /* §4.7: release bandwidth */
    else
        cu->w_max = cwnd;
    cu->cwnd_prior = cwnd;
    cu->in_epoch = false;
    return ss;
}

static void cubic_on_timeout(struct tcp_conn *conn)
{
    /* §4.8: slow start to ssthresh, then a stage whose W_max and W_est
     * start at the window it begins with. */
    conn->cc_state.cubic.in_epoch = false;
    conn->cc_state.cubic.after_timeout = true;
}

const struct tcp_cc_ops tcp_cc_cubic = {
    .name = "cubic",
    .init = reno_init,
    .on_ack = cubic_on_ack,
    .ssthresh = cubic_ssthresh,
    .on_timeout = cubic_on_timeout,
};

/* ---- Choosing one ----------------------------------------------------------- */

static const struct tcp_cc_ops *const algorithms[] = {&tcp_cc_reno, &tcp_cc_cubic};

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
    for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++)
        if (strcmp(algorithms[i]->name, name) == 0) return algorithms[i];
    return NULL;
}

void tcp_cc_set(struct tcp_conn *conn, const struct tcp_cc_ops *cc)
{
    if (conn->cc == cc) return; /* Linux: asking for the current one changes nothing */
    conn->cc = cc;
    memset(&conn->cc_state, 0, sizeof conn->cc_state);
}
