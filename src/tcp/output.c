/* Building and sending segments (RFC 9293 §3.8.6 sender side, RFC 7323
 * options). Segments are built straight into the stack's transmit buffer. */
#include <string.h>

#include "ip/ip.h"
#include "stack.h"
#include "tcp/tcp.h"

/* TSval ticks in milliseconds like Linux, from a random per-connection base. */
uint32_t tcp_ts_now(const struct tcp_conn *conn, finack_time_t now)
{
    return (uint32_t)(now / 1000) + conn->ts_offset;
}

uint32_t tcp_receive_window(struct tcp_conn *conn)
{
    uint32_t free_space = (uint32_t)ring_free(&conn->rcv_buf);
    uint32_t max = (uint32_t)65535 << conn->rcv_wscale;
    if (free_space > max) free_space = max;
    /* Never shrink what was offered (RFC 9293 §3.8.6.2.2). With window
     * scaling the field counts units of 2^scale: the offer is rounded up to
     * a whole unit when the buffer has that room, as Linux's
     * tcp_select_window does; otherwise it goes out rounded down and the
     * right edge steps back by less than a unit (RFC 7323 Appendix F)
     * rather than offer space the ring does not have. */
    uint32_t offered = seq_gt(conn->rcv_adv, conn->rcv_nxt) ? conn->rcv_adv - conn->rcv_nxt : 0;
    uint32_t unit = (uint32_t)1 << conn->rcv_wscale;
    uint32_t up = offered > max - (unit - 1) ? max : (offered + unit - 1) & ~(unit - 1);
    uint32_t keep = up <= free_space ? up : offered;
    if (free_space < offered) return keep;
    /* Receiver SWS avoidance (§3.8.6.2.2): move the right edge only by at
     * least min(buffer/2, MSS). */
    uint32_t step = (uint32_t)conn->rcv_buf.cap / 2;
    if (step > conn->rcv_mss) step = conn->rcv_mss;
    if (free_space - offered < step && offered) return keep;
    if (free_space < step) return keep;
    /* Round down to the scale's granularity so the right edge we record is
     * the one the peer computes. */
    uint32_t wnd = free_space >> conn->rcv_wscale << conn->rcv_wscale;
    return wnd > keep ? wnd : keep;
}

/* RFC 2018 §4: the block holding the most recently received segment
 * first, then the others most recently added to first, so each block is
 * repeated in several ACKs (Linux moves an updated block to the front the
 * same way); the wire layer keeps as many as fit (3 beside timestamps). */
static void fill_sack(const struct tcp_conn *conn, struct tcp_segment *seg)
{
    uint8_t n = 0;
    uint32_t below = UINT32_MAX; /* stamps already taken are >= below */
    while (n < TCP_MAX_SACK_BLOCKS) {
        int best = -1;
        for (uint8_t i = 0; i < conn->ooo_count; i++)
            if (conn->ooo[i].stamp < below &&
                (best < 0 || conn->ooo[i].stamp > conn->ooo[best].stamp))
                best = i;
        if (best < 0) break;
        seg->opt.sack[n++] = (struct tcp_sack_block){conn->ooo[best].start, conn->ooo[best].end};
        below = conn->ooo[best].stamp;
    }
    seg->opt.sack_count = n;
}

static void fill_options(struct tcp_conn *conn, struct tcp_segment *seg, finack_time_t now)
{
    bool syn = seg->flags & TCP_FLAG_SYN;
    bool syn_ack = syn && (seg->flags & TCP_FLAG_ACK);
    if (syn) {
        seg->opt.has_mss = true;
        seg->opt.mss = conn->rcv_mss;
        /* On a SYN-ACK only what the peer's SYN offered (RFC 7323 §1.3). */
        if (!syn_ack || conn->wscale_ok) {
            seg->opt.has_wscale = true;
            seg->opt.wscale = conn->rcv_wscale;
        }
        /* RFC 2018: we report holes with SACK blocks when both agree. */
        if (syn_ack ? conn->sack_ok : !conn->tcp->stack->no_sack) seg->opt.sack_permitted = true;
    }
    if (syn ? (!syn_ack || conn->ts_ok) : conn->ts_ok) {
        seg->opt.has_timestamp = true;
        seg->opt.ts_val = tcp_ts_now(conn, now);
        seg->opt.ts_ecr = (seg->flags & TCP_FLAG_ACK) ? conn->ts_recent : 0;
    }
    if (!syn && conn->sack_ok && conn->ooo_count && (seg->flags & TCP_FLAG_ACK) &&
        !(seg->flags & TCP_FLAG_RST))
        fill_sack(conn, seg);
}

/* A traced segment on its way out: the event, then IP output with the
 * tuple at hand for a drop there. Kept out of line, off the fast path. */
static int __attribute__((noinline))
transmit_traced(struct finack_stack *stack, const struct tcp_tuple *tuple, size_t len,
                uint8_t wscale, bool retransmit, finack_time_t now)
{
    stack_trace_segment(stack, tuple, ip_tx_payload(stack), len, true, wscale, retransmit);
    const struct tcp_tuple *outer = stack->trace_tuple;
    stack->trace_tuple = tuple; /* an output drop is this connection's */
    int err = ip_output(stack, tuple->laddr, tuple->raddr, IPPROTO_TCP_, len, true, now);
    stack->trace_tuple = outer;
    return err;
}

/* Every TCP segment leaves through here or through send_segment(), which
 * does the same inline: built at ip_tx_payload() (len bytes) for tuple,
 * counted, traced as "out" (wscale: the shift of our window field;
 * retransmit: it re-sends sequence space), handed to IP. */
int tcp_transmit(struct finack_stack *stack, const struct tcp_tuple *tuple, size_t len,
                 uint8_t wscale, bool retransmit, finack_time_t now)
{
    stack_count(stack, FINACK_CTR_TCP_OUT_SEGS);
    if (stack->trace_fn) return transmit_traced(stack, tuple, len, wscale, retransmit, now);
    return ip_output(stack, tuple->laddr, tuple->raddr, IPPROTO_TCP_, len, true, now);
}

/* Send one segment of the connection: seq, flags and len bytes of the send
 * buffer starting at offset. The ACK field and window are always current. */
static int send_segment(struct tcp_conn *conn, uint32_t seq, uint8_t flags, size_t offset,
                        size_t len, finack_time_t now)
{
    struct finack_stack *stack = conn->tcp->stack;
    if ((len || (flags & TCP_FLAG_FIN)) && seq_lt(seq, conn->snd_max)) conn->total_retrans++;
    struct tcp_segment seg = {
        .src_port = conn->tuple.lport,
        .dst_port = conn->tuple.rport,
        .seq = seq,
        .ack = (flags & TCP_FLAG_ACK) ? conn->rcv_nxt : 0,
        .flags = flags,
    };
    uint32_t wnd = tcp_receive_window(conn);
    if (flags & TCP_FLAG_SYN) {
        seg.window = wnd > 65535 ? 65535 : (uint16_t)wnd; /* never scaled (RFC 7323 §2.2) */
        wnd = seg.window; /* the right edge is what was offered */
    } else {
        uint32_t scaled = wnd >> conn->rcv_wscale;
        seg.window = scaled > 65535 ? 65535 : (uint16_t)scaled;
        wnd = (uint32_t)seg.window << conn->rcv_wscale;
    }
    if (flags & TCP_FLAG_ACK) {
        uint32_t edge = conn->rcv_nxt + wnd;
        if (seq_gt(edge, conn->rcv_adv)) conn->rcv_adv = edge;
    }
    fill_options(conn, &seg, now);
    uint8_t *out = ip_tx_payload(stack);
    size_t header = TCP_HEADER_MIN + wire_tcp_options_len(&seg);
    if (len) ring_peek(&conn->snd_buf, offset, out + header, len);
    seg.payload = NULL; /* already in place after the header */
    seg.payload_len = len;
    int n = wire_tcp_emit(out, ip_tx_payload_cap(stack), conn->tuple.laddr, conn->tuple.raddr,
                          &seg);
    if (n < 0) return n;
    if (flags & TCP_FLAG_ACK) {
        conn->ack_now = false;
        conn->unacked_segments = 0;
        tcp_timer_cancel(conn, TCP_TIMER_DELACK);
    }
    stack_count(stack, FINACK_CTR_TCP_OUT_SEGS);
    if (stack->trace_fn) {
        /* Sequence space sent before goes again: data, a FIN, or our SYN
         * (a bare ACK or probe occupies none). A SYN's window is unscaled. */
        bool retransmit = (len || (flags & (TCP_FLAG_SYN | TCP_FLAG_FIN))) &&
                          seq_lt(seq, conn->snd_max);
        return transmit_traced(stack, &conn->tuple, (size_t)n,
                               (flags & TCP_FLAG_SYN) ? 0 : conn->rcv_wscale, retransmit, now);
    }
    return ip_output(stack, conn->tuple.laddr, conn->tuple.raddr, IPPROTO_TCP_, (size_t)n, true,
                     now);
}

/* A segment without text carries the highest sequence number sent, not
 * SND.NXT as a retransmission timeout rewound it (Linux's
 * tcp_acceptable_seq): the peer may hold everything up to SND.MAX already,
 * and would find a rewound number old, drop the segment as unacceptable
 * and never see its ACK. Two ends retransmitting at each other would then
 * ignore each other's ACKs for good. */
static uint32_t bare_seq(const struct tcp_conn *conn)
{
    return conn->snd_max;
}

void tcp_send_ack(struct tcp_conn *conn, finack_time_t now)
{
    send_segment(conn, bare_seq(conn), TCP_FLAG_ACK, 0, 0, now);
}

/* The SYN (active open) or SYN-ACK (passive open or simultaneous open). */
void tcp_send_syn_segment(struct tcp_conn *conn, finack_time_t now)
{
    uint8_t flags = TCP_FLAG_SYN;
    if (conn->state == TCPS_SYN_RCVD) flags |= TCP_FLAG_ACK;
    send_segment(conn, conn->iss, flags, 0, 0, now);
}

void tcp_send_syn(struct tcp_conn *conn, finack_time_t now)
{
    tcp_send_syn_segment(conn, now);
    if (seq_lt(conn->snd_nxt, conn->iss + 1)) conn->snd_nxt = conn->iss + 1;
    conn->snd_max = seq_max(conn->snd_max, conn->snd_nxt);
    tcp_arm_retransmit(conn, now);
}

void tcp_send_rst(struct tcp_conn *conn, finack_time_t now)
{
    send_segment(conn, bare_seq(conn), TCP_FLAG_RST | TCP_FLAG_ACK, 0, 0, now);
}

/* RFC 5961 §7 rate limit, per connection as Linux since 6.0 (one per
 * tcp_invalid_ratelimit, 500 ms). A stack-wide budget, as RFC 5961 and
 * older Linux had, is a side channel (CVE-2016-5696): an off-path host
 * that exhausts it learns from the missing challenge ACKs whether its
 * guess hit a connection. *last holds the time of the last one plus 1 µs
 * (0: none yet). */
bool tcp_challenge_ack_allowed(finack_time_t *last, finack_time_t now)
{
    if (*last && now + 1 - *last < TCP_CHALLENGE_ACK_INTERVAL) return false;
    *last = now + 1;
    return true;
}

void tcp_send_challenge_ack(struct tcp_conn *conn, finack_time_t now)
{
    if (tcp_challenge_ack_allowed(&conn->last_challenge, now)) tcp_send_ack(conn, now);
}

/* A RST answering a segment that has no connection (RFC 9293 §3.10.7.1):
 * <SEQ=SEG.ACK><CTL=RST> if it had ACK, else
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Never a RST for a RST. */
void tcp_send_rst_for(struct finack_stack *stack, const struct ipv4_header *ip,
                      const struct tcp_segment *in, finack_time_t now)
{
    if (in->flags & TCP_FLAG_RST) return;
    struct tcp_segment seg = {.src_port = in->dst_port, .dst_port = in->src_port};
    if (in->flags & TCP_FLAG_ACK) {
        seg.seq = in->ack;
        seg.flags = TCP_FLAG_RST;
    } else {
        uint32_t seg_len = (uint32_t)in->payload_len + !!(in->flags & TCP_FLAG_SYN) +
                           !!(in->flags & TCP_FLAG_FIN);
        seg.ack = in->seq + seg_len;
        seg.flags = TCP_FLAG_RST | TCP_FLAG_ACK;
    }
    int n = wire_tcp_emit(ip_tx_payload(stack), ip_tx_payload_cap(stack), ip->dst, ip->src, &seg);
    if (n < 0) return;
    struct tcp_tuple tuple = {.laddr = ip->dst, .raddr = ip->src, .lport = in->dst_port,
                              .rport = in->src_port};
    tcp_transmit(stack, &tuple, (size_t)n, 0, false, now);
}

/* Bytes of the send buffer not yet sent, and where the FIN goes. Once the
 * FIN is acknowledged SND.UNA counts it (RFC 9293 §3.4: the FIN occupies a
 * sequence number), so the data ends one before SND.UNA; without this the
 * ACK of our FIN made room for another FIN one higher, sent forever. */
static uint32_t data_end(const struct tcp_conn *conn)
{
    bool fin_acked = conn->fin_sent && conn->snd_una == conn->snd_max;
    return conn->snd_una + (uint32_t)conn->snd_buf.len - fin_acked;
}

/* Data from SND.NXT on (after a timeout rewound SND.NXT, not yet resent). */
static uint32_t unsent_bytes(const struct tcp_conn *conn)
{
    uint32_t end = data_end(conn);
    return seq_lt(conn->snd_nxt, end) ? end - conn->snd_nxt : 0;
}

/* Room the peer's window leaves after SND.NXT (the congestion window aside). */
static uint32_t window_room(const struct tcp_conn *conn)
{
    uint32_t limit = conn->snd_una + conn->snd_wnd;
    return seq_gt(limit, conn->snd_nxt) ? limit - conn->snd_nxt : 0;
}

/* Data or a FIN waits to be sent. */
bool tcp_has_unsent(const struct tcp_conn *conn)
{
    return unsent_bytes(conn) || (conn->fin_queued && !conn->fin_sent);
}

/* Payload per full segment: the MSS less the options every segment carries
 * (RFC 9293 §3.7.1: the MSS does not count TCP options), as Linux's mss_cache. */
uint32_t tcp_effective_mss(const struct tcp_conn *conn)
{
    uint32_t options = conn->ts_ok ? 12 : 0;
    return conn->snd_mss - options;
}

/* Payload a segment can carry now: the MSS less the SACK blocks our ACKs
 * report while a hole is open (Linux's tcp_current_mss), or a full-sized
 * segment would no longer fit the path. */
static uint32_t segment_room(const struct tcp_conn *conn)
{
    uint32_t mss = tcp_effective_mss(conn);
    if (!conn->sack_ok || !conn->ooo_count) return mss;
    struct tcp_segment probe = {.flags = TCP_FLAG_ACK};
    probe.opt.has_timestamp = conn->ts_ok;
    probe.opt.sack_count = conn->ooo_count < TCP_MAX_SACK_BLOCKS ? conn->ooo_count
                                                                  : TCP_MAX_SACK_BLOCKS;
    uint32_t with = (uint32_t)wire_tcp_options_len(&probe);
    probe.opt.sack_count = 0;
    uint32_t extra = with - (uint32_t)wire_tcp_options_len(&probe);
    return mss > extra + 64 ? mss - extra : 64;
}


/* Whether the peer's window takes the next segment (Linux tcp_ack_probe's
 * test on the head of the write queue): the rest of the data up to an MSS,
 * or the FIN alone. */
bool tcp_window_takes_next(const struct tcp_conn *conn)
{
    uint32_t unsent = unsent_bytes(conn), mss = segment_room(conn);
    uint32_t need = unsent ? (unsent < mss ? unsent : mss) : 1;
    return need <= window_room(conn);
}

/* Send len bytes from SND.NXT (new, or again after a timeout rewound
 * SND.NXT), and the FIN after them if fin, and account for them: RTT
 * timing, SND.NXT and SND.MAX, and the retransmission timer, which replaces
 * the persist timer now that something is in flight. */
static void send_new(struct tcp_conn *conn, uint32_t len, bool fin, bool psh, finack_time_t now)
{
    uint8_t flags = TCP_FLAG_ACK;
    if (psh) flags |= TCP_FLAG_PSH;
    if (fin) flags |= TCP_FLAG_FIN;
    uint32_t seq = conn->snd_nxt;
    send_segment(conn, seq, flags, seq - conn->snd_una, len, now);
    if (!conn->rtt_timing && conn->snd_nxt == conn->snd_max) {
        conn->rtt_timing = true;
        conn->rtt_seq = seq;
        conn->rtt_start = now;
    }
    conn->snd_nxt = seq + len + fin;
    if (fin) conn->fin_sent = true;
    conn->snd_max = seq_max(conn->snd_max, conn->snd_nxt);
    tcp_persist_stop(conn);
    tcp_arm_retransmit(conn, now);
}

/* The probe format, Linux's when nothing fits in the window
 * (tcp_xmit_probe_skb, "probe0"): an ACK with SEQ = SND.UNA - 1 and no
 * data. That sequence number is old, so any receiver finds the segment
 * unacceptable and must answer with an ACK carrying its current window
 * (RFC 9293 §3.10.7.4), and no byte goes beyond the window. RFC 1122
 * §4.2.2.17 and BSD probe with one byte of new data instead, which a
 * closed window drops and each probe sends again. The keepalive probe is
 * the same segment (SND.UNA = SND.NXT then: Linux's SEQ = SND.NXT - 1). */
void tcp_send_probe_ack(struct tcp_conn *conn, finack_time_t now)
{
    send_segment(conn, conn->snd_una - 1, TCP_FLAG_ACK, 0, 0, now);
}

/* A zero-window probe (Linux tcp_write_wakeup): if the window has room for
 * some of what waits (it was too small to pass the SWS rules), send what
 * fits, up to an MSS and ignoring Nagle and sender SWS avoidance, which
 * would otherwise hold it forever; if it has none, the probe ACK. */
void tcp_write_wakeup(struct tcp_conn *conn, finack_time_t now)
{
    uint32_t unsent = unsent_bytes(conn), room = window_room(conn);
    bool fin_waits = conn->fin_queued && !conn->fin_sent;
    if (!room || (!unsent && !fin_waits)) {
        tcp_send_probe_ack(conn, now);
        return;
    }
    uint32_t mss = segment_room(conn);
    uint32_t len = unsent < room ? unsent : room;
    if (len > mss) len = mss;
    send_new(conn, len, fin_waits && len == unsent && len < room, len > 0, now);
}

uint32_t tcp_retransmit_range(struct tcp_conn *conn, uint32_t seq, uint32_t max,
                              finack_time_t now)
{
    uint32_t end = data_end(conn);
    if (!seq_lt(seq, conn->snd_max) || !max) return 0;
    uint32_t data = seq_lt(seq, end) ? end - seq : 0;
    uint32_t mss = segment_room(conn);
    uint32_t len = data < mss ? data : mss;
    if (len > max) len = max;
    if (seq_gt(seq + len, conn->snd_max)) len = conn->snd_max - seq;
    bool fin = conn->fin_sent && seq + len == end;
    uint8_t flags = TCP_FLAG_ACK | (len && seq + len == end ? TCP_FLAG_PSH : 0) |
                    (fin ? TCP_FLAG_FIN : 0);
    conn->rtt_timing = false; /* Karn: nothing timed across a retransmission */
    send_segment(conn, seq, flags, seq - conn->snd_una, len, now);
    return len + fin;
}

void tcp_retransmit_at(struct tcp_conn *conn, uint32_t seq, finack_time_t now)
{
    tcp_retransmit_range(conn, seq, UINT32_MAX, now);
}

/* Resend the first segment after SND.UNA whatever the window says (Linux's
 * tcp_retransmit_skb lets the head go beyond the window): after a timeout
 * when the peer shrank its window below it, so that the retransmissions are
 * the window probes. SND.NXT continues after it, as after any timeout. */
void tcp_retransmit_head(struct tcp_conn *conn, finack_time_t now)
{
    uint32_t end = data_end(conn);
    uint32_t data = seq_lt(conn->snd_una, end) ? end - conn->snd_una : 0;
    uint32_t flight = conn->snd_max - conn->snd_una, mss = segment_room(conn);
    uint32_t len = data < flight ? data : flight;
    if (len > mss) len = mss;
    bool last = conn->snd_una + len == end;
    bool fin = conn->fin_sent && last;
    uint8_t flags = TCP_FLAG_ACK | (len && last ? TCP_FLAG_PSH : 0) | (fin ? TCP_FLAG_FIN : 0);
    send_segment(conn, conn->snd_una, flags, 0, len, now);
    conn->snd_nxt = conn->snd_una + len + fin;
}

/* What of the data at SND.NXT goes next within usable bytes of window
 * room: up to mss, unless sender SWS avoidance (RFC 9293 §3.8.6.2.1) or
 * Nagle (§3.7.4) hold it; *fin if the FIN follows it. 0 and no FIN: none.
 * A segment that ends where SACKed data starts (cut) is whole as it is. */
static uint32_t next_new_len(const struct tcp_conn *conn, uint32_t usable, uint32_t mss,
                             uint32_t stop, bool *fin)
{
    uint32_t end = data_end(conn);
    uint32_t unsent = seq_lt(conn->snd_nxt, end) ? end - conn->snd_nxt : 0;
    uint32_t len = unsent < usable ? unsent : usable;
    if (len > mss) len = mss;
    bool cut = len > stop;
    if (cut) len = stop;
    /* The FIN follows the last data byte and, like data, needs room in
     * the window; once sent, snd_nxt is past end. */
    *fin = conn->fin_queued && seq_leq(conn->snd_nxt, end) && conn->snd_nxt + len == end &&
           len < usable;
    if (!len || cut) return len;
    bool small = len < mss && len < unsent;
    if (small && len < conn->max_snd_wnd / 2) return 0; /* sender SWS avoidance */
    if (len < mss && !conn->nodelay && conn->snd_nxt != conn->snd_una && !*fin)
        return 0; /* Nagle: a small segment waits for outstanding data's ACK */
    return len;
}

uint32_t tcp_send_next_new(struct tcp_conn *conn, uint32_t max, finack_time_t now)
{
    uint32_t usable = window_room(conn);
    if (usable > max) usable = max;
    bool fin;
    uint32_t len = next_new_len(conn, usable, segment_room(conn), UINT32_MAX, &fin);
    if (!len && !fin) return 0;
    send_new(conn, len, fin, len == unsent_bytes(conn) && len, now);
    return len + fin;
}

/* After a timeout rewound SND.NXT, what the peer SACKed is not sent again
 * (as Linux, whose timeout marks only the unSACKed segments lost): SND.NXT
 * steps over SACKed ranges, and a segment stops where the next begins. */
static uint32_t skip_sacked(struct tcp_conn *conn)
{
    if (!conn->sacked_count || !seq_lt(conn->snd_nxt, conn->snd_max)) return UINT32_MAX;
    uint32_t end;
    while (seq_lt(conn->snd_nxt, conn->snd_max) && tcp_sack_covers(conn, conn->snd_nxt, &end))
        conn->snd_nxt = end;
    if (!seq_lt(conn->snd_nxt, conn->snd_max)) return UINT32_MAX;
    return tcp_sack_next_start(conn, conn->snd_nxt) - conn->snd_nxt;
}

/* Full segments while both windows allow, then a last partial one if
 * Nagle (RFC 9293 §3.7.4) permits, then the FIN once all data is out. */
static void send_window(struct tcp_conn *conn, finack_time_t now)
{
    uint32_t mss = segment_room(conn);
    for (;;) {
        uint32_t stop = skip_sacked(conn);
        /* Data the peer SACKed has left the network: it does not count
         * against cwnd (Linux's tcp_packets_in_flight), so each SACK lets
         * new data go before recovery starts, as RFC 3042's limited
         * transmit, and after a timeout only what was resent counts. */
        uint32_t flight = conn->snd_nxt - conn->snd_una;
        if (conn->sacked_count) flight -= tcp_sack_bytes_below(conn, conn->snd_nxt);
        uint32_t cwnd_room = conn->cwnd > flight ? conn->cwnd - flight : 0;
        uint32_t wnd_limit = conn->snd_una + conn->snd_wnd;
        uint32_t wnd_room = seq_gt(wnd_limit, conn->snd_nxt) ? wnd_limit - conn->snd_nxt : 0;
        uint32_t usable = cwnd_room < wnd_room ? cwnd_room : wnd_room;
        bool fin;
        uint32_t len = next_new_len(conn, usable, mss, stop, &fin);
        if (!len && !fin) return;
        send_new(conn, len, fin, len == unsent_bytes(conn) && len, now);
        if (fin) return;
    }
}

/* Send what the windows allow; in SACK recovery RFC 6675's NextSeg picks
 * the segments (tcp/sack.c). Then an ACK if one is owed and nothing
 * carried it. */
void tcp_output(struct tcp_conn *conn, finack_time_t now)
{
    if (!tcp_state_synchronized(conn->state) && conn->state != TCPS_SYN_RCVD) return;
    if (conn->state != TCPS_SYN_RCVD && conn->state != TCPS_TIME_WAIT) {
        if (conn->in_recovery && conn->sack_recovery) tcp_sack_output(conn, now);
        else send_window(conn, now);
        /* What the window held back and nothing in flight will bring an
         * ACK for: the persist timer probes for the window (§3.8.6.1). */
        tcp_check_probe_timer(conn, now);
    }
    /* Every segment sent carried the ACK and cleared ack_now. */
    if (conn->ack_now) tcp_send_ack(conn, now);
}
