/* TIME_WAIT as a small record (Linux's inet_timewait_sock, FreeBSD's
 * tcptw): once no socket holds a connection in TIME_WAIT, its TCB (buffers,
 * congestion state, six timers) gives way to what 2·MSL still needs — the
 * 4-tuple, both sequence edges, the window last offered and the timestamp
 * state — about a fifth of the size. A server closing many connections
 * holds thousands of these.
 *
 * The record answers segments as RFC 9293 §3.10.7.4 says TIME_WAIT does:
 * a retransmitted FIN is re-ACKed and restarts 2·MSL; a RST does not end
 * it (RFC 1337) but one in the window that is not exact gets a challenge
 * ACK (RFC 5961); a SYN may start a new incarnation (RFC 6191, checked by
 * the caller, which knows the listener) or else is answered with an ACK;
 * other unacceptable segments get an ACK; text is ignored. They live in
 * their own hash table, looked up after the connection table misses, so a
 * packet still costs O(1). */
#include <stdlib.h>

#include "ip/ip.h"
#include "stack.h"
#include "tcp/tcp.h"

#define TW_INITIAL_BUCKETS 64

static void tw_grow(struct tcp_stack *tcp)
{
    if (tcp->tw_buckets && tcp->tw_count < tcp->tw_bucket_count) return;
    size_t count = tcp->tw_bucket_count ? tcp->tw_bucket_count * 2 : TW_INITIAL_BUCKETS;
    struct tcp_timewait **buckets = calloc(count, sizeof *buckets);
    if (!buckets) return; /* longer chains, still correct */
    for (size_t i = 0; i < tcp->tw_bucket_count; i++) {
        struct tcp_timewait *tw = tcp->tw_buckets[i];
        while (tw) {
            struct tcp_timewait *next = tw->hash_next;
            size_t b = tcp_tuple_hash(tcp, &tw->tuple) & (count - 1);
            tw->hash_next = buckets[b];
            buckets[b] = tw;
            tw = next;
        }
    }
    free(tcp->tw_buckets);
    tcp->tw_buckets = buckets;
    tcp->tw_bucket_count = count;
}

struct tcp_timewait *tcp_tw_lookup(struct tcp_stack *tcp, const struct tcp_tuple *tuple)
{
    if (!tcp->tw_count) return NULL;
    size_t b = tcp_tuple_hash(tcp, tuple) & (tcp->tw_bucket_count - 1);
    for (struct tcp_timewait *tw = tcp->tw_buckets[b]; tw; tw = tw->hash_next)
        if (tcp_tuple_equal(&tw->tuple, tuple)) return tw;
    return NULL;
}

static void tw_unlink(struct tcp_timewait *tw)
{
    struct tcp_stack *tcp = tw->tcp;
    size_t b = tcp_tuple_hash(tcp, &tw->tuple) & (tcp->tw_bucket_count - 1);
    for (struct tcp_timewait **p = &tcp->tw_buckets[b]; *p; p = &(*p)->hash_next) {
        if (*p == tw) {
            *p = tw->hash_next;
            tcp->tw_count--;
            return;
        }
    }
}

void tcp_tw_free(struct tcp_timewait *tw)
{
    timer_cancel(&tw->tcp->stack->timers, &tw->timer);
    tw_unlink(tw);
    free(tw);
}

/* 2·MSL is over: the 4-tuple is free again. */
void tcp_tw_close(struct tcp_timewait *tw)
{
    struct tcp_state_change ch = {.tuple = tw->tuple, .iss = tw->iss, .irs = tw->irs,
                                  .from = TCPS_TIME_WAIT, .to = TCPS_CLOSED};
    struct finack_stack *stack = tw->tcp->stack;
    tcp_tw_free(tw);
    tcp_report_state(stack, &ch);
}

static void on_expiry(struct timer *t, uint64_t now)
{
    (void)now;
    struct tcp_timewait *tw = container_of(t, struct tcp_timewait, timer);
    struct finack_stack *stack = tw->tcp->stack;
    if (stack->trace_fn) stack_trace_timer(stack, &tw->tuple, "TIME_WAIT");
    tcp_tw_close(tw);
}

bool tcp_tw_compact(struct tcp_conn *conn)
{
    struct tcp_stack *tcp = conn->tcp;
    if (conn->state != TCPS_TIME_WAIT || conn->socket >= 0 || conn->queued) return false;
    tw_grow(tcp);
    if (!tcp->tw_buckets) return false;
    struct tcp_timewait *tw = calloc(1, sizeof *tw);
    if (!tw) return false; /* the full TCB simply stays */
    tw->tcp = tcp;
    tw->tuple = conn->tuple;
    tw->iss = conn->iss;
    tw->irs = conn->irs;
    tw->snd_nxt = conn->snd_max;
    tw->rcv_nxt = conn->rcv_nxt;
    tw->rcv_wnd = seq_gt(conn->rcv_adv, conn->rcv_nxt) ? conn->rcv_adv - conn->rcv_nxt : 0;
    tw->rcv_wscale = conn->rcv_wscale;
    tw->snd_wscale = conn->snd_wscale;
    tw->ts_ok = conn->ts_ok;
    tw->reuseaddr = conn->reuseaddr;
    tw->ts_recent = conn->ts_recent;
    tw->ts_offset = conn->ts_offset;
    tw->msl = conn->msl;
    timer_init(&tw->timer, on_expiry);
    const struct timer *linger = &conn->timers[TCP_TIMER_LINGER].timer;
    finack_time_t expiry = timer_armed(linger) ? linger->expiry : tcp->stack->now + 2 * conn->msl;
    size_t b = tcp_tuple_hash(tcp, &tw->tuple) & (tcp->tw_bucket_count - 1);
    tw->hash_next = tcp->tw_buckets[b];
    tcp->tw_buckets[b] = tw;
    tcp->tw_count++;
    timer_arm(&tcp->stack->timers, &tw->timer, expiry);
    /* The TCB goes quietly: the connection is still in TIME_WAIT. */
    tcp_table_remove(conn);
    tcp_conn_free(conn);
    return true;
}

/* An ACK from the record, as the TCB would have sent it: SND.NXT, RCV.NXT,
 * the window last offered, timestamps if they were negotiated. */
static void tw_send_ack(struct tcp_timewait *tw, finack_time_t now)
{
    struct finack_stack *stack = tw->tcp->stack;
    uint32_t wnd = tw->rcv_wnd >> tw->rcv_wscale;
    struct tcp_segment seg = {
        .src_port = tw->tuple.lport,
        .dst_port = tw->tuple.rport,
        .seq = tw->snd_nxt,
        .ack = tw->rcv_nxt,
        .flags = TCP_FLAG_ACK,
        .window = wnd > 65535 ? 65535 : (uint16_t)wnd,
    };
    if (tw->ts_ok) {
        seg.opt.has_timestamp = true;
        seg.opt.ts_val = (uint32_t)(now / 1000) + tw->ts_offset;
        seg.opt.ts_ecr = tw->ts_recent;
    }
    int n = wire_tcp_emit(ip_tx_payload(stack), ip_tx_payload_cap(stack), tw->tuple.laddr,
                          tw->tuple.raddr, &seg);
    if (n < 0) return;
    tcp_transmit(stack, &tw->tuple, (size_t)n, tw->rcv_wscale, false, now);
}

/* RFC 6191 as Linux applies it: a SYN may reopen the 4-tuple if its
 * sequence number is beyond the old RCV.NXT, or, with timestamps, if its
 * TSval is newer than the last one the old connection saw. */
bool tcp_tw_reusable(const struct tcp_timewait *tw, const struct tcp_segment *seg)
{
    if (!(seg->flags & TCP_FLAG_SYN) || (seg->flags & (TCP_FLAG_ACK | TCP_FLAG_RST))) return false;
    if (seq_gt(seg->seq, tw->rcv_nxt)) return true;
    return tw->ts_ok && seg->opt.has_timestamp && (int32_t)(tw->ts_recent - seg->opt.ts_val) < 0;
}

enum finack_drop_reason tcp_tw_input(struct tcp_timewait *tw, const struct tcp_segment *seg,
                                     finack_time_t now)
{
    struct finack_stack *stack = tw->tcp->stack;
    uint32_t len = (uint32_t)seg->payload_len + !!(seg->flags & TCP_FLAG_SYN) +
                   !!(seg->flags & TCP_FLAG_FIN);
    /* The acceptability test of §3.10.7.4 against the window last offered. */
    uint32_t end = tw->rcv_nxt + tw->rcv_wnd;
    bool acceptable = tw->rcv_wnd == 0
                          ? seg->seq == tw->rcv_nxt && len == 0
                          : seq_in(seg->seq, tw->rcv_nxt, end) ||
                                (len && seq_in(seg->seq + len - 1, tw->rcv_nxt, end));
    if (!acceptable) {
        if (seg->flags & TCP_FLAG_RST) return stack_drop(stack, FINACK_DROP_TCP_NOT_ACCEPTABLE);
        /* The peer's FIN again: our last ACK was lost. Re-ACK, echoing this
         * copy's TSval as the TCB does, and restart 2·MSL. */
        if ((seg->flags & TCP_FLAG_FIN) && seg->seq + len == tw->rcv_nxt) {
            if (tw->ts_ok && seg->opt.has_timestamp &&
                (int32_t)(seg->opt.ts_val - tw->ts_recent) > 0)
                tw->ts_recent = seg->opt.ts_val;
            timer_arm(&stack->timers, &tw->timer, now + 2 * tw->msl);
        }
        tw_send_ack(tw, now);
        return stack_drop(stack, FINACK_DROP_TCP_NOT_ACCEPTABLE);
    }
    if (seg->flags & TCP_FLAG_RST) {
        /* RFC 1337: an exact RST does not end TIME_WAIT; RFC 5961 §3.2:
         * any other in the window draws a challenge ACK. */
        if (seg->seq != tw->rcv_nxt && tcp_challenge_ack_allowed(&tw->last_challenge, now)) tw_send_ack(tw, now);
        return stack_drop(stack, FINACK_DROP_TCP_RST_IGNORED);
    }
    if (seg->flags & TCP_FLAG_SYN) {
        if (tcp_challenge_ack_allowed(&tw->last_challenge, now)) tw_send_ack(tw, now); /* RFC 5961 §4.2 */
        return stack_drop(stack, FINACK_DROP_TCP_SYN_IN_WINDOW);
    }
    if (!(seg->flags & TCP_FLAG_ACK)) return stack_drop(stack, FINACK_DROP_TCP_NO_ACK);
    if (tw->ts_ok && seg->opt.has_timestamp && seq_leq(seg->seq, tw->rcv_nxt))
        tw->ts_recent = seg->opt.ts_val;
    if (seq_gt(seg->ack, tw->snd_nxt)) {
        tw_send_ack(tw, now); /* acknowledges something never sent */
        return stack_drop(stack, FINACK_DROP_TCP_BAD_ACK);
    }
    /* A bare ACK, or text after the peer's FIN (ignored, §3.10.7.4). */
    return FINACK_DROP_NONE;
}

void tcp_tw_free_all(struct tcp_stack *tcp)
{
    for (size_t i = 0; i < tcp->tw_bucket_count; i++) {
        struct tcp_timewait *tw = tcp->tw_buckets[i];
        while (tw) {
            struct tcp_timewait *next = tw->hash_next;
            free(tw);
            tw = next;
        }
    }
    free(tcp->tw_buckets);
    tcp->tw_buckets = NULL;
    tcp->tw_bucket_count = tcp->tw_count = 0;
}

bool tcp_tw_port_in_use(struct tcp_stack *tcp, uint32_t laddr, uint16_t lport, bool reuse,
                        bool (*overlap)(uint32_t, uint32_t))
{
    for (size_t i = 0; i < tcp->tw_bucket_count; i++)
        for (struct tcp_timewait *tw = tcp->tw_buckets[i]; tw; tw = tw->hash_next)
            if (tw->tuple.lport == lport && overlap(tw->tuple.laddr, laddr) &&
                !(reuse && tw->reuseaddr))
                return true;
    return false;
}
