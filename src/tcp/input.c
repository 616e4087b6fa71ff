/* Segment arrival, in the order of RFC 9293 §3.10.7: CLOSED, LISTEN,
 * SYN_SENT, then for the other states the sequence check, RST, SYN, ACK,
 * text and FIN, with RFC 5961 for RST, SYN and ACK validation. */
#include <errno.h>
#include <string.h>

#include "ip/ip.h"
#include "stack.h"
#include "tcp/tcp.h"

/* One received segment and what the checks made of it. */
struct arrival {
    const struct ipv4_header *ip;
    struct tcp_segment seg;
    finack_time_t now;
    bool window_unscaled; /* the window came on a SYN (RFC 7323 §2.2) */
    uint32_t seq;         /* SEG.SEQ as received, before trimming to the window */
};

static uint32_t seg_len(const struct tcp_segment *seg)
{
    return (uint32_t)seg->payload_len + !!(seg->flags & TCP_FLAG_SYN) +
           !!(seg->flags & TCP_FLAG_FIN);
}

static bool fin_acked(const struct tcp_conn *conn)
{
    return conn->fin_sent && conn->snd_una == conn->snd_max;
}

/* Options of the peer's SYN or SYN-ACK (RFC 9293 §3.7.1, RFC 7323). */
void tcp_take_syn_options(struct tcp_conn *conn, const struct tcp_segment *seg, bool offered_ws,
                             bool offered_ts)
{
    uint16_t peer_mss = seg->opt.has_mss ? seg->opt.mss : TCP_DEFAULT_MSS;
    uint16_t route_mss = conn->rcv_mss; /* the route's, lowered by TCP_MAXSEG (tcp_open_init) */
    conn->snd_mss = peer_mss < route_mss ? peer_mss : route_mss;
    if (conn->snd_mss < 64) conn->snd_mss = 64; /* Linux's floor, against tiny-MSS abuse */
    conn->wscale_ok = offered_ws && seg->opt.has_wscale;
    conn->snd_wscale = conn->wscale_ok ? (seg->opt.wscale > 14 ? 14 : seg->opt.wscale) : 0;
    if (!conn->wscale_ok) conn->rcv_wscale = 0;
    conn->ts_ok = offered_ts && seg->opt.has_timestamp;
    conn->sack_ok = seg->opt.sack_permitted && !conn->tcp->stack->no_sack;
    if (conn->ts_ok) {
        conn->ts_recent = seg->opt.ts_val;
        conn->ts_recent_stamp = conn->tcp->stack->now;
    }
    conn->irs = seg->seq;
    conn->rcv_nxt = seg->seq + 1;
    conn->rcv_adv = conn->rcv_nxt; /* nothing offered yet */
    conn->snd_wnd = seg->window; /* never scaled in a SYN (RFC 7323 §2.2) */
    conn->max_snd_wnd = conn->snd_wnd;
}

/* ---- LISTEN (§3.10.7.2) --------------------------------------------------- */

static enum finack_drop_reason listen_input(struct tcp_conn *lst, struct arrival *a,
                                            const uint32_t *isn)
{
    struct finack_stack *stack = lst->tcp->stack;
    const struct tcp_segment *seg = &a->seg;
    if (seg->flags & TCP_FLAG_RST) return stack_drop(stack, FINACK_DROP_TCP_LISTEN_NOT_SYN);
    if (seg->flags & TCP_FLAG_ACK) {
        tcp_send_rst_for(stack, a->ip, seg, a->now);
        return stack_drop(stack, FINACK_DROP_TCP_LISTEN_NOT_SYN);
    }
    if (!(seg->flags & TCP_FLAG_SYN)) return stack_drop(stack, FINACK_DROP_TCP_LISTEN_NOT_SYN);
    if (lst->half_open_count + lst->accept_count >= lst->backlog)
        return stack_drop(stack, FINACK_DROP_TCP_LISTEN_OVERFLOW);
    /* A small record until the handshake completes (tcp/synrecv.c). */
    struct tcp_tuple tuple = {.laddr = a->ip->dst, .raddr = a->ip->src, .lport = seg->dst_port,
                              .rport = seg->src_port};
    if (tcp_synrecv_create(lst, &tuple, seg, isn, a->now) < 0)
        return stack_drop(stack, FINACK_DROP_TCP_NO_MEMORY);
    return FINACK_DROP_NONE;
}

/* ---- SYN_SENT (§3.10.7.3) ------------------------------------------------- */

static void connection_established(struct tcp_conn *conn, finack_time_t now)
{
    tcp_timer_cancel(conn, TCP_TIMER_RETRANSMIT);
    if (conn->rtt_timing) {
        tcp_rtt_sample(conn, now - conn->rtt_start);
        conn->rtt_timing = false;
    } else if (conn->retransmits) {
        conn->rto = FINACK_SEC(3); /* RFC 6298 §5.7: SYN was retransmitted */
    }
    conn->retransmits = 0;
    conn->backoff = 0;
    conn->cc->init(conn);
    /* Linux acknowledges the first segments at once (tcp_incr_quickack). */
    uint32_t quick = (uint32_t)(conn->rcv_buf.cap / (2u * conn->rcv_mss));
    conn->quickacks = quick < 16 ? quick : 16;
    tcp_set_state(conn, TCPS_ESTABLISHED);
    tcp_keepalive_start(conn, now);
}

static enum finack_drop_reason syn_sent_input(struct tcp_conn *conn, struct arrival *a)
{
    struct finack_stack *stack = conn->tcp->stack;
    const struct tcp_segment *seg = &a->seg;
    if (seg->flags & TCP_FLAG_ACK) {
        if (seq_leq(seg->ack, conn->iss) || seq_gt(seg->ack, conn->snd_nxt)) {
            tcp_send_rst_for(stack, a->ip, seg, a->now);
            return stack_drop(stack, FINACK_DROP_TCP_BAD_ACK);
        }
    }
    if (seg->flags & TCP_FLAG_RST) {
        if (!(seg->flags & TCP_FLAG_ACK)) return stack_drop(stack, FINACK_DROP_TCP_RST_IGNORED);
        tcp_conn_close(conn, ECONNREFUSED);
        return FINACK_DROP_NONE;
    }
    if (!(seg->flags & TCP_FLAG_SYN)) return stack_drop(stack, FINACK_DROP_TCP_SYN_SENT_NOT_SYN);
    tcp_take_syn_options(conn, seg, true, true);
    conn->snd_wl1 = seg->seq;
    if (seg->flags & TCP_FLAG_ACK) {
        conn->snd_una = seg->ack;
        conn->snd_wl2 = seg->ack;
        connection_established(conn, a->now);
        conn->ack_now = true;
        tcp_output(conn, a->now);
        return FINACK_DROP_NONE;
    }
    /* Simultaneous open: answer with SYN-ACK from the same ISS. */
    tcp_set_state(conn, TCPS_SYN_RCVD);
    tcp_timer_cancel(conn, TCP_TIMER_RETRANSMIT);
    conn->rtt_timing = false;
    tcp_send_syn(conn, a->now);
    return FINACK_DROP_NONE;
}

/* ---- Synchronized states and SYN_RCVD (§3.10.7.4) ------------------------ */

/* First check: the four cases of the acceptability test. */
static bool acceptable(const struct tcp_conn *conn, const struct tcp_segment *seg)
{
    uint32_t wnd = seq_gt(conn->rcv_adv, conn->rcv_nxt) ? conn->rcv_adv - conn->rcv_nxt : 0;
    uint32_t len = seg_len(seg);
    if (len == 0 && wnd == 0) return seg->seq == conn->rcv_nxt;
    if (len == 0) return seq_in(seg->seq, conn->rcv_nxt, conn->rcv_nxt + wnd);
    if (wnd == 0) return false;
    return seq_in(seg->seq, conn->rcv_nxt, conn->rcv_nxt + wnd) ||
           seq_in(seg->seq + len - 1, conn->rcv_nxt, conn->rcv_nxt + wnd);
}

/* Cut what lies before RCV.NXT or past the window, so the rest of the
 * processing sees only new, in-window sequence space. */
static void trim_to_window(const struct tcp_conn *conn, struct tcp_segment *seg)
{
    if (seq_lt(seg->seq, conn->rcv_nxt)) {
        uint32_t skip = conn->rcv_nxt - seg->seq;
        if (seg->flags & TCP_FLAG_SYN) {
            seg->flags &= (uint8_t)~TCP_FLAG_SYN;
            seg->seq++;
            skip--;
        }
        if (skip > seg->payload_len) skip = (uint32_t)seg->payload_len;
        seg->payload += skip;
        seg->payload_len -= skip;
        seg->seq += skip;
    }
    uint32_t wnd = seq_gt(conn->rcv_adv, conn->rcv_nxt) ? conn->rcv_adv - conn->rcv_nxt : 0;
    uint32_t room = conn->rcv_nxt + wnd - seg->seq;
    if (seg->payload_len > room) {
        seg->payload_len = room;
        seg->flags &= (uint8_t)~TCP_FLAG_FIN;
    }
}

static enum finack_drop_reason not_acceptable(struct tcp_conn *conn, struct arrival *a)
{
    const struct tcp_segment *seg = &a->seg;
    struct finack_stack *stack = conn->tcp->stack;
    if (conn->state == TCPS_SYN_RCVD && (seg->flags & TCP_FLAG_SYN) &&
        !(seg->flags & TCP_FLAG_ACK) && seg->seq == conn->irs) {
        tcp_send_syn(conn, a->now); /* the peer's SYN again: our SYN-ACK was lost */
        return stack_drop(stack, FINACK_DROP_TCP_NOT_ACCEPTABLE);
    }
    if (seg->flags & TCP_FLAG_RST) return stack_drop(stack, FINACK_DROP_TCP_NOT_ACCEPTABLE);
    /* The last segment again, its ACK lost: echo this copy's TSval, not the
     * first's, or the sender would time the whole retransmission timeout
     * as a round trip (RFC 7323 §4.3: SEG.SEQ <= Last.ACK.sent; Linux's
     * tcp_sequence lets a segment ending at RCV.NXT update TS.Recent). */
    if (conn->ts_ok && seg->opt.has_timestamp && seg_len(seg) &&
        seg->seq + seg_len(seg) == conn->rcv_nxt &&
        (int32_t)(seg->opt.ts_val - conn->ts_recent) > 0) {
        conn->ts_recent = seg->opt.ts_val;
        conn->ts_recent_stamp = a->now;
    }
    /* A retransmitted FIN in TIME_WAIT: re-ACK it and restart 2·MSL. */
    if (conn->state == TCPS_TIME_WAIT && (seg->flags & TCP_FLAG_FIN) &&
        seg->seq + seg_len(seg) == conn->rcv_nxt)
        tcp_timer_arm(conn, TCP_TIMER_LINGER, a->now + 2 * conn->msl);
    tcp_send_ack(conn, a->now);
    return stack_drop(stack, FINACK_DROP_TCP_NOT_ACCEPTABLE);
}

/* Second check (RFC 5961 §3.2): only a RST exactly at RCV.NXT resets; one
 * elsewhere in the window gets a challenge ACK. */
static enum finack_drop_reason rst_input(struct tcp_conn *conn, struct arrival *a)
{
    struct finack_stack *stack = conn->tcp->stack;
    /* The segment's own SEG.SEQ: trimming a RST that carries data must not
     * make an old one exact (RFC 5961 §3.2). */
    if (a->seq != conn->rcv_nxt) {
        tcp_send_challenge_ack(conn, a->now);
        return stack_drop(stack, FINACK_DROP_TCP_RST_IGNORED);
    }
    switch (conn->state) {
    case TCPS_SYN_RCVD:
        tcp_conn_close(conn, conn->passive ? 0 : ECONNREFUSED);
        return FINACK_DROP_NONE;
    case TCPS_TIME_WAIT: /* RFC 1337: no assassination of TIME_WAIT */
        return stack_drop(stack, FINACK_DROP_TCP_RST_IGNORED);
    case TCPS_CLOSING:
    case TCPS_LAST_ACK:
        tcp_conn_close(conn, 0);
        return FINACK_DROP_NONE;
    case TCPS_CLOSE_WAIT:
        /* As Linux's tcp_reset(): the peer had finished sending, so reads
         * still end in EOF and only a write learns of the reset (EPIPE). */
        tcp_conn_close(conn, EPIPE);
        return FINACK_DROP_NONE;
    default:
        tcp_conn_close(conn, ECONNRESET);
        return FINACK_DROP_NONE;
    }
}

static void update_window(struct tcp_conn *conn, const struct tcp_segment *seg)
{
    if (seq_lt(conn->snd_wl1, seg->seq) ||
        (conn->snd_wl1 == seg->seq && seq_leq(conn->snd_wl2, seg->ack))) {
        conn->snd_wnd = (uint32_t)seg->window << conn->snd_wscale;
        conn->snd_wl1 = seg->seq;
        conn->snd_wl2 = seg->ack;
        if (conn->snd_wnd > conn->max_snd_wnd) conn->max_snd_wnd = conn->snd_wnd;
    }
}

/* New data acknowledged: free it, measure, grow cwnd, restart the timer. */
static void ack_advances(struct tcp_conn *conn, const struct tcp_segment *seg, finack_time_t now)
{
    uint32_t ack = seg->ack;
    uint32_t acked = ack - conn->snd_una;

    size_t data = acked < conn->snd_buf.len ? acked : conn->snd_buf.len;
    ring_consume(&conn->snd_buf, data);
    /* All sent data acknowledged: the ring's memory goes back until the
     * next write (an idle connection holds no buffers, as Linux's). Large
     * rings an application asked for are kept: reallocating megabytes at
     * every drain would cost more than it saves. */
    if (!conn->snd_buf.len && conn->snd_buf.cap <= TCP_RING_RELEASE_MAX)
        ring_free_memory(&conn->snd_buf);
    conn->bytes_acked += data;
    /* RTT: with timestamps every ACK of new data measures it, retransmitted
     * or not (RFC 7323 §4.1: the echo says which copy arrived); without
     * them one timed segment at a time, never a retransmitted one (Karn). */
    uint32_t ts_rtt = conn->ts_ok && seg->opt.has_timestamp && seg->opt.ts_ecr
                          ? tcp_ts_now(conn, now) - seg->opt.ts_ecr
                          : UINT32_MAX;
    if (ts_rtt < FINACK_SEC(120) / 1000) {
        tcp_rtt_sample(conn, ts_rtt ? FINACK_MSEC(ts_rtt) : 1);
        conn->rtt_timing = false;
    } else if (conn->rtt_timing && seq_gt(ack, conn->rtt_seq)) {
        tcp_rtt_sample(conn, now - conn->rtt_start);
        conn->rtt_timing = false;
    }
    /* The segment got through: a new count of timeouts. The backoff stays
     * until an RTT sample says what the RTO is (Karn's algorithm, RFC 6298
     * §5: an ACK of retransmitted data gives none). */
    conn->retransmits = 0;
    conn->snd_una = ack;
    conn->dupacks = 0;
    bool reneged = tcp_sack_trim(conn);
    if (!conn->in_recovery) {
        conn->cc->on_ack(conn, acked, now);
    } else if (conn->sack_recovery && seq_geq(ack, conn->recover)) {
        /* RecoveryPoint reached (RFC 6675 §5): PRR has brought what is in
         * flight down to ssthresh, which cwnd now is (RFC 6937 §3). */
        conn->cwnd = conn->ssthresh;
        conn->in_recovery = false;
        conn->sack_recovery = false;
    } else if (conn->sack_recovery) {
        /* A partial ACK: the scoreboard and PRR (sack_after_ack) decide.
         * When the new first hole was resent is not known; judging its
         * retransmission lost only from data sent after now keeps data
         * sent before it from condemning it. */
        conn->head_rxt_mark = conn->snd_max;
    } else if (seq_geq(ack, conn->recover)) {
        /* A full ACK ends fast recovery (RFC 6582 §3.2 step 3, option 1:
         * deflate to what is in flight, no burst). */
        uint32_t flight = conn->snd_max - ack;
        uint32_t mss = conn->snd_mss;
        conn->cwnd = conn->ssthresh < flight + mss ? conn->ssthresh : flight + mss;
        conn->in_recovery = false;
    } else {
        /* A partial ACK (step 4): the next hole is lost too. Resend it at
         * once, and deflate by what was acknowledged, adding back one SMSS. */
        tcp_retransmit_at(conn, ack, now);
        conn->cwnd = conn->cwnd > acked ? conn->cwnd - acked : 0;
        if (acked >= conn->snd_mss) conn->cwnd += conn->snd_mss;
        if (conn->cwnd < conn->snd_mss) conn->cwnd = conn->snd_mss;
    }
    /* Outside recovery RECOVER trails SND.UNA, so the check that keeps a
     * recovery from starting twice for one window (SND.UNA < RECOVER,
     * modulo 2^32) cannot turn true again once 2^31 bytes have gone by
     * without a loss. */
    if (!conn->in_recovery && seq_gt(ack, conn->recover)) conn->recover = ack;
    if (seq_lt(conn->snd_nxt, ack)) conn->snd_nxt = ack;
    tcp_timer_cancel(conn, TCP_TIMER_RETRANSMIT);
    if (reneged) {
        /* The peer dropped what it SACKed: let the timeout, due in half
         * an RTT (10 ms at least), resend all from SND.UNA, as Linux's
         * tcp_check_sack_reneging does. */
        finack_time_t soon = conn->srtt / 2 > FINACK_MSEC(10) ? conn->srtt / 2 : FINACK_MSEC(10);
        tcp_timer_arm(conn, TCP_TIMER_RETRANSMIT, now + soon);
    } else {
        tcp_arm_retransmit(conn, now);
    }
    tcp_notify(conn);
}

/* RFC 5681 §2's duplicate ACK: data outstanding, the segment carries no
 * text, SYN or FIN, acknowledges SND.UNA and leaves the window as it was. */
static bool is_duplicate_ack(const struct tcp_conn *conn, const struct tcp_segment *seg,
                             bool in_flight)
{
    return in_flight && seg->ack == conn->snd_una && !seg->payload_len &&
           !(seg->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) &&
           ((uint32_t)seg->window << conn->snd_wscale) == conn->snd_wnd;
}

/* Fast retransmit and fast recovery (RFC 5681 §3.2, NewReno RFC 6582):
 * the third duplicate ACK resends the first unacknowledged segment without
 * waiting for the timer; each further one means a segment left the
 * network, so cwnd grows by one SMSS and new data may go. */
static void duplicate_ack(struct tcp_conn *conn, finack_time_t now)
{
    stack_count(conn->tcp->stack, FINACK_CTR_TCP_DUP_ACKS);
    conn->dupacks++;
    if (conn->sack_ok) return; /* RFC 6675: sack_after_ack decides */
    uint32_t mss = conn->snd_mss;
    if (conn->in_recovery) {
        conn->cwnd += mss;
        tcp_output(conn, now);
        return;
    }
    if (conn->dupacks != TCP_DUPACK_THRESHOLD) return;
    /* RFC 6582 §3.2 step 2: not again for the window a recovery or a
     * timeout already dealt with, whose duplicates may still come in (an
     * ACK at RECOVER itself opens a new window). */
    if (seq_lt(conn->snd_una, conn->recover)) return;
    stack_count(conn->tcp->stack, FINACK_CTR_TCP_FAST_RETRANS);
    stack_count(conn->tcp->stack, FINACK_CTR_TCP_RENO_RECOVERY);
    conn->ssthresh = conn->cc->ssthresh(conn);
    conn->recover = conn->snd_max;
    conn->in_recovery = true;
    tcp_retransmit_at(conn, conn->snd_una, now);
    conn->cwnd = conn->ssthresh + TCP_DUPACK_THRESHOLD * mss;
    tcp_timer_cancel(conn, TCP_TIMER_RETRANSMIT);
    tcp_arm_retransmit(conn, now);
    tcp_output(conn, now);
}

/* With SACK (RFC 6675 §5): after the scoreboard took the ACK's blocks,
 * recovery starts on DupThresh duplicate ACKs or once the segment at
 * SND.UNA counts as lost, and in recovery every ACK sets PRR's cwnd from
 * what it delivered, cumulatively or by SACK (RFC 6937 DeliveredData). */
static void sack_after_ack(struct tcp_conn *conn, uint32_t prior_una, uint32_t prior_sacked,
                           finack_time_t now)
{
    if (conn->in_recovery) {
        int64_t delivered = (int64_t)(conn->snd_una - prior_una) + (int64_t)conn->sacked_bytes -
                            (int64_t)prior_sacked;
        tcp_sack_on_ack(conn, delivered > 0 ? (uint32_t)delivered : 0);
        return;
    }
    if (conn->snd_max == conn->snd_una) return;
    /* Not again for the window a recovery or a timeout dealt with
     * (RFC 6675 §5: the ACK must be beyond RecoveryPoint). */
    if (seq_lt(conn->snd_una, conn->recover)) return;
    if (conn->dupacks >= TCP_DUPACK_THRESHOLD || tcp_sack_is_lost(conn, conn->snd_una))
        tcp_sack_enter_recovery(conn, now);
}

static void accept_ready(struct tcp_conn *conn)
{
    struct tcp_conn *lst = conn->listener;
    if (!lst) return;
    lst->half_open_count--;
    lst->accept_count++;
    conn->queued = true;
    conn->accept_next = NULL;
    if (lst->accept_tail) lst->accept_tail->accept_next = conn;
    else lst->accept_head = conn;
    lst->accept_tail = conn;
    tcp_notify(lst);
}

/* Fifth check. Returns false if processing stops here. */
static bool ack_input(struct tcp_conn *conn, struct arrival *a, enum finack_drop_reason *r)
{
    struct finack_stack *stack = conn->tcp->stack;
    const struct tcp_segment *seg = &a->seg;
    if (conn->state == TCPS_SYN_RCVD) {
        if (!seq_in(seg->ack, conn->snd_una + 1, conn->snd_nxt + 1)) {
            tcp_send_rst_for(stack, a->ip, seg, a->now);
            *r = stack_drop(stack, FINACK_DROP_TCP_BAD_ACK);
            return false;
        }
        conn->snd_una = seg->ack;
        conn->snd_wnd = (uint32_t)seg->window << (a->window_unscaled ? 0 : conn->snd_wscale);
        conn->max_snd_wnd = conn->snd_wnd;
        conn->snd_wl1 = seg->seq;
        conn->snd_wl2 = seg->ack;
        connection_established(conn, a->now);
        if (conn->passive) accept_ready(conn);
        return true;
    }
    if (seq_gt(seg->ack, conn->snd_max)) {
        tcp_send_ack(conn, a->now); /* acknowledges something not yet sent */
        *r = stack_drop(stack, FINACK_DROP_TCP_BAD_ACK);
        return false;
    }
    if (seq_lt(seg->ack, conn->snd_una - conn->max_snd_wnd)) {
        tcp_send_challenge_ack(conn, a->now); /* RFC 5961 §5.2 */
        *r = stack_drop(stack, FINACK_DROP_TCP_BAD_ACK);
        return false;
    }
    bool prior_in_flight = conn->snd_max != conn->snd_una;
    uint32_t prior_wnd = conn->snd_wnd;
    uint32_t prior_una = conn->snd_una, prior_sacked = conn->sacked_bytes;
    /* An ACK that SACKs new data is a duplicate in RFC 6675's sense even
     * if its window moved. */
    bool new_sack = tcp_sack_update(conn, seg);
    if (seq_gt(seg->ack, conn->snd_una)) ack_advances(conn, seg, a->now);
    else if (is_duplicate_ack(conn, seg, prior_in_flight) ||
             (new_sack && seg->ack == conn->snd_una && prior_in_flight))
        duplicate_ack(conn, a->now);
    if (seq_geq(seg->ack, conn->snd_una)) {
        update_window(conn, seg);
        if (conn->snd_wnd != prior_wnd) conn->dupacks = 0; /* a window update, not a dup */
        /* The peer is alive (Linux tcp_ack): the keepalive idle clock
         * restarts and no probe is outstanding any more. */
        conn->rcv_tstamp = a->now;
        conn->probes_out = 0;
        if (!prior_in_flight) tcp_ack_probe(conn, a->now);
        if (conn->sack_ok && tcp_state_synchronized(conn->state))
            sack_after_ack(conn, prior_una, prior_sacked, a->now);
    }

    switch (conn->state) {
    case TCPS_FIN_WAIT_1:
        if (fin_acked(conn)) {
            tcp_set_state(conn, TCPS_FIN_WAIT_2);
            if (conn->socket < 0) tcp_timer_arm(conn, TCP_TIMER_LINGER, a->now + TCP_FIN_TIMEOUT);
        }
        break;
    case TCPS_CLOSING:
        if (fin_acked(conn)) tcp_enter_time_wait(conn, a->now);
        break;
    case TCPS_LAST_ACK:
        if (fin_acked(conn)) {
            tcp_conn_close(conn, 0);
            return false;
        }
        break;
    default:
        break;
    }
    return true;
}

/* Record [start, end) as held past the hole, merging with its neighbours.
 * False if that would take more than TCP_OOO_RANGES ranges. */
static bool ooo_insert(struct tcp_conn *conn, uint32_t start, uint32_t end)
{
    size_t i = 0;
    while (i < conn->ooo_count && seq_lt(conn->ooo[i].end, start)) i++;
    /* Every range from i that touches or overlaps [start, end) merges. */
    size_t j = i;
    while (j < conn->ooo_count && seq_leq(conn->ooo[j].start, end)) {
        start = seq_min(start, conn->ooo[j].start);
        end = seq_max(end, conn->ooo[j].end);
        j++;
    }
    size_t merged = j - i;
    if (merged == 0 && conn->ooo_count == TCP_OOO_RANGES) return false;
    size_t tail = conn->ooo_count - j;
    if (merged != 1)
        memmove(&conn->ooo[i + 1], &conn->ooo[j], tail * sizeof conn->ooo[0]);
    conn->ooo[i] = (struct tcp_seq_range){start, end, ++conn->ooo_clock};
    conn->ooo_count = (uint8_t)(i + 1 + tail);
    return true;
}

/* Data beyond RCV.NXT: into the ring at its final offset, and listed. */
static void text_out_of_order(struct tcp_conn *conn, struct tcp_segment *seg)
{
    struct finack_stack *stack = conn->tcp->stack;
    conn->ack_now = true; /* a duplicate ACK at once tells the sender of the hole */
    uint32_t offset = seg->seq - conn->rcv_nxt;
    size_t n = 0;
    if (!conn->rcv_shutdown && !ring_reserve(&conn->rcv_buf))
        n = ring_write_at(&conn->rcv_buf, offset, seg->payload, seg->payload_len);
    if (n < seg->payload_len || !ooo_insert(conn, seg->seq, seg->seq + (uint32_t)n)) {
        stack_drop(stack, FINACK_DROP_TCP_OUT_OF_ORDER);
        seg->flags &= (uint8_t)~TCP_FLAG_FIN;
        return;
    }
    if (seg->flags & TCP_FLAG_FIN) {
        conn->ooo_fin = true;
        conn->ooo_fin_seq = seg->seq + (uint32_t)n;
        seg->flags &= (uint8_t)~TCP_FLAG_FIN;
    }
}

/* RCV.NXT moved: take in the out-of-order ranges it reached. True if it
 * filled (part of) a hole. */
static bool ooo_advance(struct tcp_conn *conn)
{
    bool filled = false;
    while (conn->ooo_count && seq_leq(conn->ooo[0].start, conn->rcv_nxt)) {
        if (seq_gt(conn->ooo[0].end, conn->rcv_nxt)) {
            uint32_t more = conn->ooo[0].end - conn->rcv_nxt;
            ring_commit(&conn->rcv_buf, more);
            conn->rcv_nxt += more;
            conn->bytes_received += more;
        }
        memmove(&conn->ooo[0], &conn->ooo[1], (size_t)(conn->ooo_count - 1) * sizeof conn->ooo[0]);
        conn->ooo_count--;
        filled = true;
    }
    return filled;
}

/* Seventh check: data into the receive buffer, in order or not. */
static void text_input(struct tcp_conn *conn, struct arrival *a)
{
    struct tcp_segment *seg = &a->seg;
    struct finack_stack *stack = conn->tcp->stack;
    if (!tcp_state_can_receive_data(conn->state)) return;
    if (!seg->payload_len) {
        /* A bare FIN beyond a hole: held until the hole fills (RFC 9293
         * §3.10.7.4), answered at once with a duplicate ACK. */
        if ((seg->flags & TCP_FLAG_FIN) && seg->seq != conn->rcv_nxt) {
            conn->ooo_fin = true;
            conn->ooo_fin_seq = seg->seq;
            conn->ack_now = true;
            seg->flags &= (uint8_t)~TCP_FLAG_FIN;
        }
        return;
    }
    if (seg->seq != conn->rcv_nxt) {
        text_out_of_order(conn, seg);
        return;
    }
    if (ring_reserve(&conn->rcv_buf)) {
        stack_drop(stack, FINACK_DROP_TCP_NO_MEMORY);
        seg->flags &= (uint8_t)~TCP_FLAG_FIN;
        return;
    }
    size_t taken = conn->rcv_shutdown ? seg->payload_len
                                      : ring_write(&conn->rcv_buf, seg->payload, seg->payload_len);
    if (taken < seg->payload_len) {
        stack_drop(stack, FINACK_DROP_TCP_RCV_BUFFER_FULL);
        seg->flags &= (uint8_t)~TCP_FLAG_FIN;
    }
    conn->rcv_nxt += (uint32_t)taken;
    conn->bytes_received += taken;
    seg->payload_len = taken;
    /* RFC 5681 §4.2: a segment that fills all or part of a hole is ACKed
     * at once (as Linux does while anything is held out of order). */
    if (conn->ooo_count) {
        ooo_advance(conn);
        conn->ack_now = true;
    }
    /* Delayed ACK (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2): at least every
     * second full segment, within 40 ms; Linux's quick-ACK start-up. */
    conn->unacked_segments++;
    if (conn->unacked_segments >= 2 || conn->quickacks) {
        if (conn->quickacks) conn->quickacks--;
        conn->ack_now = true;
    } else if (!timer_armed(&conn->timers[TCP_TIMER_DELACK].timer)) {
        tcp_timer_arm(conn, TCP_TIMER_DELACK, a->now + TCP_DELACK_TIME);
    }
    tcp_notify(conn);
}

/* Eighth check: the FIN, once everything before it has arrived. */
static void fin_input(struct tcp_conn *conn, struct arrival *a)
{
    const struct tcp_segment *seg = &a->seg;
    bool fin = (seg->flags & TCP_FLAG_FIN) && seg->seq + seg->payload_len == conn->rcv_nxt;
    /* A FIN that came beyond a hole, now reached. */
    if (conn->ooo_fin && !conn->ooo_count && conn->rcv_nxt == conn->ooo_fin_seq &&
        tcp_state_can_receive_data(conn->state))
        fin = true;
    if (!fin) return;
    conn->ooo_fin = false;
    conn->rcv_nxt++;
    conn->fin_rcvd = true;
    conn->ack_now = true;
    switch (conn->state) {
    case TCPS_SYN_RCVD:
    case TCPS_ESTABLISHED:
        tcp_set_state(conn, TCPS_CLOSE_WAIT);
        break;
    case TCPS_FIN_WAIT_1:
        if (fin_acked(conn)) tcp_enter_time_wait(conn, a->now);
        else tcp_set_state(conn, TCPS_CLOSING);
        break;
    case TCPS_FIN_WAIT_2:
        tcp_enter_time_wait(conn, a->now);
        break;
    case TCPS_TIME_WAIT:
        tcp_timer_arm(conn, TCP_TIMER_LINGER, a->now + 2 * conn->msl);
        break;
    default:
        break;
    }
    tcp_notify(conn);
}

/* Simultaneous open (RFC 9293 §3.5, Figure 7, line 6): in SYN_RCVD after
 * our SYN-ACK, the peer's SYN-ACK repeats its SYN (already counted in
 * RCV.NXT) and acknowledges ours. It completes the handshake; the strict
 * acceptability test would see it as old and answer with an ACK instead,
 * adding two segments. Linux makes the same exception (tcp_validate_incoming). */
static bool simultaneous_open_syn_ack(const struct tcp_conn *conn, const struct tcp_segment *seg)
{
    return conn->state == TCPS_SYN_RCVD && !conn->passive &&
           (seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) ==
               (TCP_FLAG_SYN | TCP_FLAG_ACK) &&
           seg->seq + 1 == conn->rcv_nxt && seg->ack == conn->snd_nxt;
}

static bool data_after_close(const struct tcp_conn *conn, const struct tcp_segment *seg)
{
    return conn->rcv_shutdown && seg->payload_len &&
           (conn->state == TCPS_FIN_WAIT_1 || conn->state == TCPS_FIN_WAIT_2) &&
           seq_gt(seg->seq + (uint32_t)seg->payload_len, conn->rcv_nxt);
}

static enum finack_drop_reason established_input(struct tcp_conn *conn, struct arrival *a);

/* RFC 9293 §3.10.7.4: with RCV.WND zero no segment is acceptable, "but
 * special allowance should be made to accept valid ACKs, URGs, and RSTs".
 * Data (or a FIN) at RCV.NXT meeting a zero window loses its text, which
 * we cannot take, but its ACK and window update are processed, and our
 * ACK repeats the zero window (Linux's tcp_data_queue does the same). */
static void zero_window_allowance(struct tcp_conn *conn, struct arrival *a)
{
    struct tcp_segment *seg = &a->seg;
    bool wnd_zero = !seq_gt(conn->rcv_adv, conn->rcv_nxt);
    if (!wnd_zero || seg->seq != conn->rcv_nxt || !(seg->flags & TCP_FLAG_ACK) ||
        (seg->flags & (TCP_FLAG_SYN | TCP_FLAG_RST)) ||
        !(seg->payload_len || (seg->flags & TCP_FLAG_FIN)))
        return;
    stack_drop(conn->tcp->stack, FINACK_DROP_TCP_ZERO_WINDOW);
    seg->payload_len = 0;
    seg->flags &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
    conn->ack_now = true;
}

/* PAWS (RFC 7323 §5): with timestamps on, a segment (not a RST) whose
 * TSval is older than TS.Recent is a duplicate from long ago, unless
 * TS.Recent itself is older than 24 days (§5.5: the peer's clock may have
 * wrapped since). */
static bool paws_reject(const struct tcp_conn *conn, const struct tcp_segment *seg,
                        finack_time_t now)
{
    if (!conn->ts_ok || !seg->opt.has_timestamp || (seg->flags & TCP_FLAG_RST)) return false;
    if ((int32_t)(seg->opt.ts_val - conn->ts_recent) >= 0) return false;
    return now - conn->ts_recent_stamp <= TCP_PAWS_IDLE;
}

static enum finack_drop_reason synchronized_input(struct tcp_conn *conn, struct arrival *a)
{
    struct finack_stack *stack = conn->tcp->stack;
    struct tcp_segment *seg = &a->seg;
    if (simultaneous_open_syn_ack(conn, seg)) {
        seg->flags &= (uint8_t)~TCP_FLAG_SYN; /* the SYN is old; the rest is new */
        seg->seq++;
        a->window_unscaled = true;
    }
    zero_window_allowance(conn, a);
    if (paws_reject(conn, seg, a->now)) {
        /* RFC 7323 §5.3 R1: an old TSval marks a segment from an earlier
         * wrap of the sequence space: unacceptable, whatever its number. */
        tcp_send_ack(conn, a->now);
        return stack_drop(stack, FINACK_DROP_TCP_PAWS);
    }
    if (!acceptable(conn, seg)) return not_acceptable(conn, a);
    a->seq = seg->seq;
    trim_to_window(conn, seg);
    if (seg->flags & TCP_FLAG_RST) return rst_input(conn, a);
    if (seg->flags & TCP_FLAG_SYN) {
        if (conn->state == TCPS_SYN_RCVD && conn->passive) {
            tcp_conn_close(conn, 0); /* back to LISTEN: the listener still is */
            return stack_drop(stack, FINACK_DROP_TCP_SYN_IN_WINDOW);
        }
        tcp_send_challenge_ack(conn, a->now); /* RFC 5961 §4.2 */
        return stack_drop(stack, FINACK_DROP_TCP_SYN_IN_WINDOW);
    }
    if (!(seg->flags & TCP_FLAG_ACK)) return stack_drop(stack, FINACK_DROP_TCP_NO_ACK);
    if (conn->ts_ok && seg->opt.has_timestamp && seq_leq(seg->seq, conn->rcv_nxt)) {
        conn->ts_recent = seg->opt.ts_val; /* RFC 7323 §4.3 (R3) */
        conn->ts_recent_stamp = a->now;
    }
    enum finack_drop_reason r = FINACK_DROP_NONE;
    if (!ack_input(conn, a, &r)) return r;
    return established_input(conn, a);
}

/* Past the ACK check: text, FIN, then whatever there is to send. */
static enum finack_drop_reason established_input(struct tcp_conn *conn, struct arrival *a)
{
    struct finack_stack *stack = conn->tcp->stack;
    struct tcp_segment *seg = &a->seg;
    if (data_after_close(conn, seg)) {
        /* RFC 9293 §3.6.1 / RFC 1122 4.2.2.13: new data after the
         * application closed its receiving side is lost; say so with a RST
         * (SEQ = SEG.ACK), as Linux does in FIN_WAIT_1/2. */
        tcp_send_rst_for(stack, a->ip, seg, a->now);
        tcp_conn_close(conn, ECONNRESET);
        return stack_drop(stack, FINACK_DROP_TCP_DATA_AFTER_CLOSE);
    }
    text_input(conn, a);
    fin_input(conn, a);
    tcp_output(conn, a->now);
    /* Orphaned and in TIME_WAIT now: only the small record stays. */
    if (conn->state == TCPS_TIME_WAIT && conn->socket < 0) tcp_tw_compact(conn);
    return FINACK_DROP_NONE;
}

/* A listener's half-open connection, held as a record (tcp/synrecv.c):
 * §3.10.7.4 for SYN_RCVD as far as the record can answer alone; an
 * acceptable ACK of our SYN makes it a TCB, which takes the segment on. */
static enum finack_drop_reason synrecv_input(struct tcp_synrecv *sr, struct arrival *a)
{
    struct finack_stack *stack = sr->tcp->stack;
    const struct tcp_segment *seg = &a->seg;
    uint32_t rcv_nxt = sr->irs + 1, end = rcv_nxt + sr->rcv_wnd, len = seg_len(seg);
    bool acceptable = len == 0 ? seq_in(seg->seq, rcv_nxt, end) || seg->seq == rcv_nxt
                               : seq_in(seg->seq, rcv_nxt, end) ||
                                     seq_in(seg->seq + len - 1, rcv_nxt, end);
    if (!acceptable) {
        if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN &&
            seg->seq == sr->irs)
            tcp_synrecv_resend_synack(sr, a->now); /* the SYN again: our SYN-ACK was lost */
        else if (!(seg->flags & TCP_FLAG_RST))
            tcp_synrecv_send_ack(sr, a->now);
        return stack_drop(stack, FINACK_DROP_TCP_NOT_ACCEPTABLE);
    }
    if (seg->flags & TCP_FLAG_RST) {
        if (seg->seq == rcv_nxt) {
            tcp_synrecv_drop(sr); /* back to LISTEN, which never left */
            return FINACK_DROP_NONE;
        }
        if (tcp_challenge_ack_allowed(&sr->last_challenge, a->now)) tcp_synrecv_send_ack(sr, a->now);
        return stack_drop(stack, FINACK_DROP_TCP_RST_IGNORED);
    }
    if (seg->flags & TCP_FLAG_SYN) {
        tcp_synrecv_drop(sr); /* a passive SYN_RCVD returns to LISTEN (§3.10.7.4) */
        return stack_drop(stack, FINACK_DROP_TCP_SYN_IN_WINDOW);
    }
    if (!(seg->flags & TCP_FLAG_ACK)) return stack_drop(stack, FINACK_DROP_TCP_NO_ACK);
    if (seg->ack != sr->iss + 1) {
        tcp_send_rst_for(stack, a->ip, seg, a->now);
        return stack_drop(stack, FINACK_DROP_TCP_BAD_ACK);
    }
    struct tcp_conn *conn = tcp_synrecv_promote(sr, a->now);
    if (!conn) return stack_drop(stack, FINACK_DROP_TCP_NO_MEMORY);
    return synchronized_input(conn, a);
}

/* RFC 6191 in Linux's form: a SYN beyond the TIME_WAIT connection's RCV.NXT
 * may start a new incarnation of the 4-tuple. */
static bool time_wait_reusable(const struct tcp_conn *conn, const struct tcp_segment *seg)
{
    if (conn->state != TCPS_TIME_WAIT || !(seg->flags & TCP_FLAG_SYN) ||
        (seg->flags & (TCP_FLAG_ACK | TCP_FLAG_RST)))
        return false;
    if (seq_gt(seg->seq, conn->rcv_nxt)) return true;
    /* Or a newer timestamp (RFC 6191 §2, Linux's tcp_timewait_state_process). */
    return conn->ts_ok && seg->opt.has_timestamp &&
           (int32_t)(conn->ts_recent - seg->opt.ts_val) < 0;
}

/* The shift the peer's window field takes, for the trace: the TCB's, or a
 * record's, or none for a segment no connection knows (a SYN's window is
 * never scaled; stack_trace_segment knows that). */
static uint8_t peer_wscale(struct tcp_stack *tcp, const struct tcp_conn *conn,
                           const struct tcp_tuple *tuple)
{
    if (conn) return conn->snd_wscale;
    const struct tcp_timewait *tw = tcp_tw_lookup(tcp, tuple);
    if (tw) return tw->snd_wscale;
    const struct tcp_synrecv *sr = tcp_synrecv_lookup(tcp, tuple);
    if (sr && sr->has_wscale) return sr->peer_wscale > 14 ? 14 : sr->peer_wscale;
    return 0;
}

/* The "in" event, before any processing; drops from here until the
 * segment is done are this connection's. */
static void __attribute__((noinline))
trace_arrival(struct finack_stack *stack, const struct ipv4_header *ip,
              const struct tcp_tuple *tuple, const struct tcp_conn *conn)
{
    stack_trace_segment(stack, tuple, ip->payload, ip->payload_len, false,
                        peer_wscale(stack->tcp, conn, tuple), false);
    stack->trace_tuple = tuple;
}

static enum finack_drop_reason segment_arrives(struct finack_stack *stack, struct arrival *a,
                                               const struct tcp_tuple *tuple,
                                               struct tcp_conn *conn);

enum finack_drop_reason tcp_input(struct finack_stack *stack, const struct ipv4_header *ip,
                                  finack_time_t now)
{
    struct arrival a = {.ip = ip, .now = now};
    enum finack_drop_reason r =
        wire_tcp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, true, &a.seg);
    if (r != FINACK_DROP_NONE) return stack_drop(stack, r);
    stack_count(stack, FINACK_CTR_TCP_IN_SEGS);
    struct tcp_tuple tuple = {.laddr = ip->dst, .raddr = ip->src, .lport = a.seg.dst_port,
                              .rport = a.seg.src_port};
    struct tcp_conn *conn = tcp_table_lookup(stack->tcp, &tuple);
    const struct tcp_tuple *outer = stack->trace_tuple;
    if (stack->trace_fn) trace_arrival(stack, ip, &tuple, conn);
    r = segment_arrives(stack, &a, &tuple, conn);
    stack->trace_tuple = outer;
    return r;
}

/* Which connection, record or listener takes the segment (RFC 9293
 * §3.10.7), conn being the 4-tuple's TCB if there is one. */
static enum finack_drop_reason segment_arrives(struct finack_stack *stack, struct arrival *a,
                                               const struct tcp_tuple *tuple,
                                               struct tcp_conn *conn)
{
    const struct ipv4_header *ip = a->ip;
    finack_time_t now = a->now;
    struct tcp_conn *lst = tcp_listener_lookup(stack->tcp, ip->dst, a->seg.dst_port);
    /* A new incarnation out of TIME_WAIT starts its sequence space above
     * the old one's, whatever RFC 6528 would give (Linux's tw_isn). */
    uint32_t reuse_isn;
    const uint32_t *isn = NULL;
    if (conn && lst && time_wait_reusable(conn, &a->seg)) {
        reuse_isn = conn->snd_max + 65535 + 2;
        isn = &reuse_isn;
        tcp_conn_close(conn, 0);
        conn = NULL;
    }
    if (!conn) {
        struct tcp_timewait *tw = tcp_tw_lookup(stack->tcp, tuple);
        if (tw && lst && tcp_tw_reusable(tw, &a->seg)) {
            reuse_isn = tw->snd_nxt + 65535 + 2;
            isn = &reuse_isn;
            tcp_tw_close(tw);
        } else if (tw) {
            return tcp_tw_input(tw, &a->seg, now);
        }
        struct tcp_synrecv *sr = tcp_synrecv_lookup(stack->tcp, tuple);
        if (sr) return synrecv_input(sr, a);
    }
    if (conn && conn->state == TCPS_SYN_SENT) return syn_sent_input(conn, a);
    if (conn) return synchronized_input(conn, a);
    if (lst) return listen_input(lst, a, isn);
    tcp_send_rst_for(stack, ip, &a->seg, now); /* §3.10.7.1: CLOSED */
    return stack_drop(stack, FINACK_DROP_TCP_NO_SOCKET);
}
