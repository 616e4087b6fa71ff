/* Per-connection timers on the stack's wheel, RTO estimation (RFC 6298),
 * retransmission, TIME_WAIT and FIN_WAIT_2 expiry. */
#include <errno.h>

#include "stack.h"
#include "tcp/tcp.h"

static void on_retransmit(struct tcp_conn *conn, finack_time_t now);
static void on_delack(struct tcp_conn *conn, finack_time_t now);
static void on_linger(struct tcp_conn *conn, finack_time_t now);

/* The handler table (FreeBSD's tcp_timersw): one entry per timer kind. */
static void (*const handlers[TCP_TIMER__COUNT])(struct tcp_conn *, finack_time_t) = {
    [TCP_TIMER_RETRANSMIT] = on_retransmit,
    [TCP_TIMER_DELACK] = on_delack,
    [TCP_TIMER_LINGER] = on_linger,
};

static void dispatch(struct timer *t, uint64_t now)
{
    struct tcp_conn_timer *ct = container_of(t, struct tcp_conn_timer, timer);
    handlers[ct - ct->conn->timers](ct->conn, now);
}

void tcp_timers_init(struct tcp_conn *conn)
{
    for (int k = 0; k < TCP_TIMER__COUNT; k++) {
        timer_init(&conn->timers[k].timer, dispatch);
        conn->timers[k].conn = conn;
    }
}

static struct timer_wheel *wheel_of(struct tcp_conn *conn) { return &conn->tcp->stack->timers; }

void tcp_timer_arm(struct tcp_conn *conn, enum tcp_timer_kind kind, finack_time_t when)
{
    timer_arm(wheel_of(conn), &conn->timers[kind].timer, when);
}

void tcp_timer_cancel(struct tcp_conn *conn, enum tcp_timer_kind kind)
{
    timer_cancel(wheel_of(conn), &conn->timers[kind].timer);
}

void tcp_timers_cancel_all(struct tcp_conn *conn)
{
    for (int k = 0; k < TCP_TIMER__COUNT; k++) tcp_timer_cancel(conn, (enum tcp_timer_kind)k);
}

static finack_time_t clamp_rto(finack_time_t rto)
{
    if (rto < TCP_MIN_RTO) return TCP_MIN_RTO;
    if (rto > TCP_MAX_RTO) return TCP_MAX_RTO;
    return rto;
}

/* RFC 6298 §2.2–2.3 with alpha 1/8, beta 1/4, K 4 (G folded into the 200 ms
 * floor, as Linux does). */
void tcp_rtt_sample(struct tcp_conn *conn, finack_time_t rtt)
{
    if (!conn->srtt) {
        conn->srtt = rtt;
        conn->rttvar = rtt / 2;
    } else {
        finack_time_t diff = conn->srtt > rtt ? conn->srtt - rtt : rtt - conn->srtt;
        conn->rttvar = (3 * conn->rttvar + diff) / 4;
        conn->srtt = (7 * conn->srtt + rtt) / 8;
    }
    conn->rto = clamp_rto(conn->srtt + 4 * conn->rttvar);
}

/* RFC 6298 §5.1: start the timer when something is outstanding and it is
 * not running. The backoff doubles the RTO per consecutive timeout. */
void tcp_arm_retransmit(struct tcp_conn *conn, finack_time_t now)
{
    if (timer_armed(&conn->timers[TCP_TIMER_RETRANSMIT].timer)) return;
    if (conn->snd_max == conn->snd_una && conn->state != TCPS_SYN_SENT &&
        conn->state != TCPS_SYN_RCVD)
        return;
    finack_time_t rto = conn->rto << (conn->retransmits < 16 ? conn->retransmits : 16);
    tcp_timer_arm(conn, TCP_TIMER_RETRANSMIT, now + clamp_rto(rto));
}

static unsigned retry_limit(const struct tcp_conn *conn)
{
    if (conn->state == TCPS_SYN_SENT) return TCP_SYN_RETRIES;
    if (conn->state == TCPS_SYN_RCVD) return TCP_SYNACK_RETRIES;
    return TCP_DATA_RETRIES;
}

static void on_retransmit(struct tcp_conn *conn, finack_time_t now)
{
    bool handshake = conn->state == TCPS_SYN_SENT || conn->state == TCPS_SYN_RCVD;
    if (!handshake && conn->snd_max == conn->snd_una) return;
    if (conn->retransmits >= retry_limit(conn)) {
        tcp_conn_close(conn, ETIMEDOUT);
        return;
    }
    conn->retransmits++;
    conn->rtt_timing = false; /* Karn: no sample from a retransmitted segment */
    if (handshake) {
        tcp_send_syn(conn, now);
        return;
    }
    /* RFC 5681 §3.1 eq. 4, then restart from the oldest unacknowledged. */
    uint32_t flight = conn->snd_max - conn->snd_una;
    uint32_t half = flight / 2;
    conn->ssthresh = half > 2u * conn->snd_mss ? half : 2u * conn->snd_mss;
    conn->cwnd = conn->snd_mss;
    conn->snd_nxt = conn->snd_una;
    tcp_output(conn, now);
    tcp_arm_retransmit(conn, now);
}

static void on_delack(struct tcp_conn *conn, finack_time_t now)
{
    tcp_send_ack(conn, now);
}

/* TIME_WAIT's 2·MSL, or an orphaned FIN_WAIT_2's tcp_fin_timeout, is over.
 * Both end silently: with Linux's defaults (tcp_fin_timeout no longer than
 * TCP_TIMEWAIT_LEN) an orphaned FIN_WAIT_2 becomes a timewait socket that
 * expires without a RST; Linux sends one only when linger2 < 0. */
static void on_linger(struct tcp_conn *conn, finack_time_t now)
{
    (void)now;
    tcp_conn_close(conn, 0);
}

void tcp_enter_time_wait(struct tcp_conn *conn, finack_time_t now)
{
    tcp_set_state(conn, TCPS_TIME_WAIT);
    tcp_timer_cancel(conn, TCP_TIMER_RETRANSMIT);
    tcp_timer_cancel(conn, TCP_TIMER_DELACK);
    tcp_timer_arm(conn, TCP_TIMER_LINGER, now + 2 * conn->msl);
    /* TIME_WAIT keeps no data: give the buffers back now. */
    ring_free_memory(&conn->snd_buf);
}
