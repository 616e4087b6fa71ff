/* Per-connection timers on the stack's wheel, RTO estimation (RFC 6298),
 * retransmission, zero-window probes, keepalive, TCP_USER_TIMEOUT, and
 * TIME_WAIT and FIN_WAIT_2 expiry. Where the RFCs leave a choice, Linux's
 * (net/ipv4/tcp_timer.c) is taken, under Linux's names. */
#include <errno.h>

#include "stack.h"
#include "tcp/tcp.h"

static void on_retransmit(struct tcp_conn *conn, finack_time_t now);
static void on_persist(struct tcp_conn *conn, finack_time_t now);
static void on_delack(struct tcp_conn *conn, finack_time_t now);
static void on_linger(struct tcp_conn *conn, finack_time_t now);
static void on_keepalive(struct tcp_conn *conn, finack_time_t now);

/* The handler table (FreeBSD's tcp_timersw): one entry per timer kind. */
static void (*const handlers[TCP_TIMER__COUNT])(struct tcp_conn *, finack_time_t) = {
    [TCP_TIMER_RETRANSMIT] = on_retransmit,
    [TCP_TIMER_PERSIST] = on_persist,
    [TCP_TIMER_DELACK] = on_delack,
    [TCP_TIMER_LINGER] = on_linger,
    [TCP_TIMER_KEEPALIVE] = on_keepalive,
};

/* The name a trace gives a timer: the retransmission timer after what it
 * resends, the linger timer after the state it ends. */
static const char *timer_name(const struct tcp_conn *conn, enum tcp_timer_kind kind)
{
    switch (kind) {
    case TCP_TIMER_RETRANSMIT:
        if (conn->state == TCPS_SYN_SENT) return "SYN";
        return conn->state == TCPS_SYN_RCVD ? "SYNACK" : "RTO";
    case TCP_TIMER_PERSIST: return "PERSIST";
    case TCP_TIMER_DELACK: return "DELACK";
    case TCP_TIMER_LINGER: return conn->state == TCPS_TIME_WAIT ? "TIME_WAIT" : "FIN_WAIT_2";
    case TCP_TIMER_KEEPALIVE: return "KEEPALIVE";
    case TCP_TIMER__COUNT: break;
    }
    return "UNKNOWN";
}

static void dispatch(struct timer *t, uint64_t now)
{
    struct tcp_conn_timer *ct = container_of(t, struct tcp_conn_timer, timer);
    struct tcp_conn *conn = ct->conn;
    enum tcp_timer_kind kind = (enum tcp_timer_kind)(ct - conn->timers);
    struct finack_stack *stack = conn->tcp->stack;
    if (stack->trace_fn) stack_trace_timer(stack, &conn->tuple, timer_name(conn, kind));
    handlers[kind](conn, now);
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
    conn->backoff = 0; /* a valid sample ends the backoff (RFC 6298 §5.7, Linux) */
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

/* A passive open's half-open connection: Linux keeps a request sock for
 * it, which counts SYN-ACK retries only (no TCP_USER_TIMEOUT). */
static bool passive_handshake(const struct tcp_conn *conn)
{
    return conn->state == TCPS_SYN_RCVD && conn->passive;
}

/* The application closed its socket: Linux's SOCK_DEAD. A child waiting in
 * the accept queue has no socket yet but is not an orphan. */
static bool orphaned(const struct tcp_conn *conn)
{
    return conn->socket < 0 && !conn->queued;
}

/* A timer ran out: the connection ends with ETIMEDOUT and no RST (Linux
 * tcp_write_err). */
static void timed_out(struct tcp_conn *conn)
{
    stack_count(conn->tcp->stack, FINACK_CTR_TCP_ABORT_ON_TIMEOUT);
    tcp_conn_close(conn, ETIMEDOUT);
}

/* RFC 6298 §5.1: start the timer when something is outstanding and it is
 * not running. The backoff doubles the RTO per consecutive timeout.
 *
 * retrans_stamp starts the TCP_USER_TIMEOUT clock when the timer starts
 * afresh: at the first transmission of the SYN, of data sent when nothing
 * was outstanding, or at the ACK that left the rest outstanding (finack
 * keeps no per-segment send times; Linux takes the send time of the segment
 * at SND.UNA, at most a round trip earlier). With a user timeout, a backed-
 * off timer is cut short so that the connection ends when the time is up,
 * as Linux's tcp_clamp_rto_to_user_timeout() does (one jiffy if it is up). */
void tcp_arm_retransmit(struct tcp_conn *conn, finack_time_t now)
{
    if (timer_armed(&conn->timers[TCP_TIMER_RETRANSMIT].timer)) return;
    if (conn->snd_max == conn->snd_una && conn->state != TCPS_SYN_SENT &&
        conn->state != TCPS_SYN_RCVD)
        return;
    if (!conn->retransmits) conn->retrans_stamp = now;
    finack_time_t rto = clamp_rto(conn->rto << (conn->backoff < 16 ? conn->backoff : 16));
    if (conn->user_timeout && conn->retransmits && !passive_handshake(conn)) {
        finack_time_t elapsed = now - conn->retrans_stamp;
        finack_time_t left =
            elapsed < conn->user_timeout ? conn->user_timeout - elapsed : FINACK_MSEC(1);
        if (left < rto) rto = left;
    }
    tcp_timer_arm(conn, TCP_TIMER_RETRANSMIT, now + rto);
}

static unsigned retry_limit(const struct tcp_conn *conn)
{
    if (conn->state == TCPS_SYN_SENT) return TCP_SYN_RETRIES;
    if (conn->state == TCPS_SYN_RCVD) return TCP_SYNACK_RETRIES;
    return TCP_DATA_RETRIES;
}

/* Linux tcp_write_timeout(): the handshake gives up after its retry count.
 * A TCP_USER_TIMEOUT then ends any connection but a passive half-open one
 * once that long has passed since retrans_stamp, judged from the second
 * timeout on (retransmits_timed_out() wants a retransmission first); for
 * data it replaces the retry count. */
static bool write_timed_out(const struct tcp_conn *conn, finack_time_t now, bool handshake)
{
    if (handshake && conn->retransmits >= retry_limit(conn)) return true;
    if (conn->user_timeout && !passive_handshake(conn))
        return conn->retransmits && now - conn->retrans_stamp >= conn->user_timeout;
    return !handshake && conn->retransmits >= retry_limit(conn);
}

/* Linux tcp_rtx_probe0_timed_out(): data in flight under a zero window
 * times out only once nothing has come from the peer for 2·TCP_RTO_MAX (or
 * the user timeout) and the retransmissions have gone on that long; with a
 * user timeout, also once they have gone on longer than it. */
static bool zero_window_timed_out(const struct tcp_conn *conn, finack_time_t now)
{
    finack_time_t rtx_delta = now - conn->retrans_stamp;
    finack_time_t timeout = TCP_ZERO_WINDOW_RTX_LIMIT;
    if (conn->user_timeout) {
        if (rtx_delta > conn->user_timeout) return true;
        if (conn->user_timeout < timeout) timeout = conn->user_timeout;
    }
    if (now - conn->rcv_tstamp <= timeout) return false;
    return rtx_delta > timeout;
}

/* RFC 5681 §3.1 eq. 4: the congestion response to a timeout. */
static void enter_loss(struct tcp_conn *conn)
{
    /* RFC 5681 eq. 4 (FlightSize counts from SND.MAX, so repeated timeouts
     * give the same value); a fast recovery already set it for this loss. */
    if (!conn->in_recovery) conn->ssthresh = conn->cc->ssthresh(conn);
    conn->cc->on_timeout(conn);
    conn->cwnd = conn->snd_mss;
    /* RFC 6582 §4: the duplicates this window still brings must not start
     * a fast retransmit. */
    conn->in_recovery = false;
    conn->sack_recovery = false;
    /* What the peer SACKed is kept and not resent (tcp_output steps over
     * it), as Linux keeps its scoreboard through a timeout. A second
     * timeout in a row may mean the peer discarded it (RFC 2018 §8): then
     * it is forgotten and everything goes again. */
    if (conn->retransmits >= 2) tcp_sack_clear(conn);
    conn->dupacks = 0;
    conn->recover = conn->snd_max;
}

static void on_retransmit(struct tcp_conn *conn, finack_time_t now)
{
    bool handshake = conn->state == TCPS_SYN_SENT || conn->state == TCPS_SYN_RCVD;
    if (!handshake && conn->snd_max == conn->snd_una) return;
    /* Data in flight under a window the peer shrank to zero (Linux
     * tcp_retransmit_timer): the retransmissions are the window probes, and
     * the connection lives while the peer answers them. */
    bool zero_window = !handshake && conn->snd_wnd == 0 && !orphaned(conn);
    if (zero_window ? zero_window_timed_out(conn, now) : write_timed_out(conn, now, handshake)) {
        timed_out(conn);
        return;
    }
    conn->retransmits++;
    conn->backoff++;
    conn->rtt_timing = false; /* Karn: no sample from a retransmitted segment */
    if (!handshake) stack_count(conn->tcp->stack, FINACK_CTR_TCP_TIMEOUTS);
    if (handshake) {
        tcp_send_syn(conn, now);
        return;
    }
    /* Restart from the oldest unacknowledged. The first segment goes out
     * even if the window no longer takes it, as Linux's tcp_retransmit_skb
     * lets it. */
    enter_loss(conn);
    conn->snd_nxt = conn->snd_una;
    tcp_output(conn, now);
    if (conn->snd_nxt == conn->snd_una) tcp_retransmit_head(conn, now);
    tcp_arm_retransmit(conn, now);
}

/* ---- Zero-window probes (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17) ------------
 *
 * When data waits, nothing is in flight and the peer's window is too small
 * for any of it, only a probe learns that the window opened: the peer's
 * window update may be lost, and nothing else makes it talk. As Linux: the
 * persist timer starts at the RTO (tcp_probe0_base), each probe doubles the
 * interval up to TCP_RTO_MAX, and each ACK restarts the current interval
 * from its arrival (tcp_ack_probe). The probe is the ACK with SEQ = SND.UNA
 * - 1 and no data (tcp_send_probe_ack), or, when the window has room that
 * sender SWS avoidance would leave unused, the data that fits
 * (tcp_write_wakeup). The connection lives as long as probes are answered:
 * every ACK clears probes_out, and only TCP_DATA_RETRIES unanswered probes
 * in a row end it (ETIMEDOUT, no RST). TCP_USER_TIMEOUT ends it that long
 * after the first probe of the stall, answered or not (Linux since 5.12);
 * an orphan ends after TCP_ORPHAN_RETRIES unanswered probes, or once the
 * interval reaches TCP_RTO_MAX (tcp_orphan_retries()). */

static finack_time_t probe0_base(const struct tcp_conn *conn) { return clamp_rto(conn->rto); }

static finack_time_t probe0_when(const struct tcp_conn *conn)
{
    unsigned backoff = conn->persist_backoff < 10 ? conn->persist_backoff : 10;
    finack_time_t when = probe0_base(conn) << backoff;
    return when < TCP_MAX_RTO ? when : TCP_MAX_RTO;
}

/* Linux tcp_clamp_probe0_to_user_timeout(): the next probe no later than
 * the end of the user timeout, so that the connection ends on time. */
static finack_time_t clamp_probe0_to_user_timeout(const struct tcp_conn *conn,
                                                  finack_time_t when, finack_time_t now)
{
    if (!conn->user_timeout || conn->probes_tstamp == FINACK_TIME_NEVER) return when;
    finack_time_t elapsed = now - conn->probes_tstamp;
    finack_time_t left = elapsed < conn->user_timeout ? conn->user_timeout - elapsed : 0;
    if (left < TCP_TIMEOUT_MIN) left = TCP_TIMEOUT_MIN;
    return left < when ? left : when;
}

static bool nothing_to_probe(const struct tcp_conn *conn)
{
    return conn->snd_max != conn->snd_una || !tcp_has_unsent(conn);
}

void tcp_persist_stop(struct tcp_conn *conn)
{
    tcp_timer_cancel(conn, TCP_TIMER_PERSIST);
    conn->persist_backoff = 0;
    conn->probes_tstamp = FINACK_TIME_NEVER;
}

/* Linux tcp_check_probe_timer(), after output: start probing if something
 * waits, nothing is in flight and no transmit timer runs. */
void tcp_check_probe_timer(struct tcp_conn *conn, finack_time_t now)
{
    if (nothing_to_probe(conn)) return;
    if (timer_armed(&conn->timers[TCP_TIMER_RETRANSMIT].timer) ||
        timer_armed(&conn->timers[TCP_TIMER_PERSIST].timer))
        return;
    tcp_timer_arm(conn, TCP_TIMER_PERSIST, now + probe0_base(conn));
}

/* An ACK came while nothing was in flight (Linux tcp_ack_probe): if the
 * window now takes the next segment, probing is over and tcp_output() sends
 * it; if not, the next probe is one backed-off interval from now. */
void tcp_ack_probe(struct tcp_conn *conn, finack_time_t now)
{
    if (nothing_to_probe(conn)) return;
    if (tcp_window_takes_next(conn)) {
        tcp_persist_stop(conn);
        return;
    }
    finack_time_t when = clamp_probe0_to_user_timeout(conn, probe0_when(conn), now);
    tcp_timer_arm(conn, TCP_TIMER_PERSIST, now + when);
}

/* Linux tcp_send_probe0(). */
static void send_probe0(struct tcp_conn *conn, finack_time_t now)
{
    stack_count(conn->tcp->stack, FINACK_CTR_TCP_WIN_PROBE);
    tcp_write_wakeup(conn, now);
    if (nothing_to_probe(conn)) {
        conn->probes_out = 0; /* data went out: the retransmission timer took over */
        return;
    }
    conn->probes_out++;
    if (conn->persist_backoff < TCP_DATA_RETRIES) conn->persist_backoff++;
    finack_time_t when = clamp_probe0_to_user_timeout(conn, probe0_when(conn), now);
    tcp_timer_arm(conn, TCP_TIMER_PERSIST, now + when);
}

/* Linux tcp_probe_timer(). */
static void on_persist(struct tcp_conn *conn, finack_time_t now)
{
    if (nothing_to_probe(conn)) {
        conn->probes_out = 0;
        conn->probes_tstamp = FINACK_TIME_NEVER;
        return;
    }
    if (conn->probes_tstamp == FINACK_TIME_NEVER) {
        conn->probes_tstamp = now;
    } else if (conn->user_timeout && now - conn->probes_tstamp >= conn->user_timeout) {
        timed_out(conn);
        return;
    }
    unsigned max_probes = TCP_DATA_RETRIES;
    if (orphaned(conn)) {
        unsigned shift = conn->persist_backoff < 16 ? conn->persist_backoff : 16;
        bool alive = (conn->rto << shift) < TCP_MAX_RTO;
        max_probes = alive ? TCP_ORPHAN_RETRIES : 0;
        if (!alive && conn->persist_backoff >= max_probes) {
            timed_out(conn);
            return;
        }
    }
    if (conn->probes_out >= max_probes) {
        timed_out(conn);
        return;
    }
    send_probe0(conn, now);
}

/* ---- Keepalive (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) --------------------------
 *
 * Off unless SO_KEEPALIVE. As Linux (tcp_keepalive_timer): once nothing has
 * been received for TCP_KEEPIDLE, with nothing in flight or waiting, send
 * the probe ACK with SEQ = SND.NXT - 1 and no data, which the peer must
 * answer; then one every TCP_KEEPINTVL while none is answered. At the
 * timer after the TCP_KEEPCNT-th unanswered probe (with TCP_USER_TIMEOUT:
 * the first one after that long without a word) a RST goes out and the
 * socket reports ETIMEDOUT. The idle clock is rcv_tstamp, the last
 * acceptable ACK; the timer is not moved per segment but, when it fires
 * early, re-armed for what is left of the idle time. */

static bool keepalive_state(const struct tcp_conn *conn)
{
    return tcp_state_synchronized(conn->state) && conn->state != TCPS_TIME_WAIT;
}

static void on_keepalive(struct tcp_conn *conn, finack_time_t now)
{
    if (!conn->keepalive || !keepalive_state(conn)) return;
    if (conn->state == TCPS_FIN_WAIT_2 && orphaned(conn)) return; /* TCP_TIMER_LINGER ends it */
    finack_time_t idle = FINACK_SEC(conn->keepidle);
    if (conn->snd_max != conn->snd_una || tcp_has_unsent(conn)) {
        /* Alive without keepalive: retransmission or persist watch it. */
        tcp_timer_arm(conn, TCP_TIMER_KEEPALIVE, now + idle);
        return;
    }
    finack_time_t elapsed = now - conn->rcv_tstamp;
    if (elapsed < idle) {
        tcp_timer_arm(conn, TCP_TIMER_KEEPALIVE, now + idle - elapsed);
        return;
    }
    bool dead = conn->user_timeout ? elapsed >= conn->user_timeout && conn->probes_out > 0
                                   : conn->probes_out >= conn->keepcnt;
    if (dead) {
        tcp_send_rst(conn, now);
        timed_out(conn);
        return;
    }
    stack_count(conn->tcp->stack, FINACK_CTR_TCP_KEEPALIVE);
    tcp_send_probe_ack(conn, now);
    if (conn->probes_out < UINT8_MAX) conn->probes_out++;
    tcp_timer_arm(conn, TCP_TIMER_KEEPALIVE, now + FINACK_SEC(conn->keepintvl));
}

/* SO_KEEPALIVE (Linux tcp_set_keepalive): turned on, the first probe is
 * due a full TCP_KEEPIDLE from now (on again changes nothing); off, none. */
void tcp_set_keepalive(struct tcp_conn *conn, bool on, finack_time_t now)
{
    bool was_on = conn->keepalive;
    conn->keepalive = on;
    if (!on)
        tcp_timer_cancel(conn, TCP_TIMER_KEEPALIVE);
    else if (!was_on && keepalive_state(conn))
        tcp_timer_arm(conn, TCP_TIMER_KEEPALIVE, now + FINACK_SEC(conn->keepidle));
}

/* TCP_KEEPIDLE (Linux tcp_sock_set_keepidle_locked): the new idle time
 * counts from the last ACK received. */
void tcp_set_keepidle(struct tcp_conn *conn, unsigned seconds, finack_time_t now)
{
    conn->keepidle = (uint16_t)seconds;
    if (!conn->keepalive || !keepalive_state(conn)) return;
    finack_time_t idle = FINACK_SEC(seconds), elapsed = now - conn->rcv_tstamp;
    tcp_timer_arm(conn, TCP_TIMER_KEEPALIVE, now + (elapsed < idle ? idle - elapsed : 0));
}

/* The connection is synchronized (Linux tcp_finish_connect() and
 * tcp_create_openreq_child()): the idle clock starts. */
void tcp_keepalive_start(struct tcp_conn *conn, finack_time_t now)
{
    conn->rcv_tstamp = now;
    if (conn->keepalive)
        tcp_timer_arm(conn, TCP_TIMER_KEEPALIVE, now + FINACK_SEC(conn->keepidle));
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
    tcp_timer_cancel(conn, TCP_TIMER_PERSIST);
    tcp_timer_cancel(conn, TCP_TIMER_DELACK);
    tcp_timer_cancel(conn, TCP_TIMER_KEEPALIVE);
    tcp_timer_arm(conn, TCP_TIMER_LINGER, now + 2 * conn->msl);
    /* TIME_WAIT keeps no data: give the buffers back now. */
    ring_free_memory(&conn->snd_buf);
}
