/* Congestion control behind an interface (struct tcp_cc_ops): how the
 * window grows on ACKs and where ssthresh goes after a loss. Loss
 * detection and recovery (fast retransmit, NewReno's partial ACKs, the
 * timeout) are the same for every algorithm and live in tcp/input.c and
 * tcp/timer.c; an algorithm such as CUBIC adds one more table here.
 *
 * Reno (RFC 5681): slow start below ssthresh, one SMSS per RTT above it,
 * ssthresh = max(FlightSize / 2, 2 * SMSS) after a loss. */
#include "tcp/tcp.h"

static void reno_init(struct tcp_conn *conn)
{
    /* RFC 6928: ten segments, as Linux. */
    conn->cwnd = TCP_INITIAL_CWND_SEGMENTS * (uint32_t)conn->snd_mss;
}

static void reno_on_ack(struct tcp_conn *conn, uint32_t acked, finack_time_t now)
{
    (void)now;
    uint32_t mss = conn->snd_mss;
    if (conn->cwnd < conn->ssthresh) {
        /* Slow start, §3.1, counting bytes acknowledged (RFC 3465) with
         * L = 2 SMSS: an ACK of two segments, as delayed ACKs are, grows the
         * window by two, so it doubles each RTT as Linux's does. */
        conn->cwnd += acked < 2 * mss ? acked : 2 * mss;
        return;
    }
    /* Congestion avoidance, §3.1 eq. 3: cwnd += SMSS*SMSS/cwnd per ACK. */
    uint32_t add = mss * mss / conn->cwnd;
    conn->cwnd += add ? add : 1;
}

static uint32_t reno_ssthresh(const struct tcp_conn *conn)
{
    uint32_t flight = conn->snd_max - conn->snd_una;
    uint32_t half = flight / 2;
    return half > 2u * conn->snd_mss ? half : 2u * conn->snd_mss; /* §3.1 eq. 4 */
}

const struct tcp_cc_ops tcp_cc_reno = {
    .name = "reno",
    .init = reno_init,
    .on_ack = reno_on_ack,
    .ssthresh = reno_ssthresh,
};
