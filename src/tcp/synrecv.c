/* A listener's half-open connections as small records (Linux's
 * request_sock): a SYN to a listener costs what it takes to answer it and
 * to rebuild the connection when the handshake completes — the 4-tuple,
 * both ISNs, what the SYN offered, and one wheel entry for the SYN-ACK's
 * retransmissions — not a TCB. A SYN flood fills the backlog with these.
 *
 * The record sends its SYN-ACKs through a TCB built on the stack for the
 * moment (tcp_synrecv_build), so they are byte for byte what a TCB sends.
 * The segments a record can answer alone — our SYN-ACK lost (the SYN
 * again), an unacceptable segment, a bad ACK, a RST or SYN that ends it —
 * it answers; anything that moves the connection on (the ACK of our SYN,
 * with data or FIN maybe) first turns it into a TCB in SYN_RCVD, which
 * then takes the segment through the normal arrival path. */
#include <stdlib.h>
#include <string.h>

#include "ip/ip.h"
#include "stack.h"
#include "tcp/tcp.h"

#define SR_INITIAL_BUCKETS 64

static void sr_grow(struct tcp_stack *tcp)
{
    if (tcp->sr_buckets && tcp->sr_count < tcp->sr_bucket_count) return;
    size_t count = tcp->sr_bucket_count ? tcp->sr_bucket_count * 2 : SR_INITIAL_BUCKETS;
    struct tcp_synrecv **buckets = calloc(count, sizeof *buckets);
    if (!buckets) return; /* longer chains, still correct */
    for (size_t i = 0; i < tcp->sr_bucket_count; i++) {
        struct tcp_synrecv *sr = tcp->sr_buckets[i];
        while (sr) {
            struct tcp_synrecv *next = sr->hash_next;
            size_t b = tcp_tuple_hash(tcp, &sr->tuple) & (count - 1);
            sr->hash_next = buckets[b];
            buckets[b] = sr;
            sr = next;
        }
    }
    free(tcp->sr_buckets);
    tcp->sr_buckets = buckets;
    tcp->sr_bucket_count = count;
}

struct tcp_synrecv *tcp_synrecv_lookup(struct tcp_stack *tcp, const struct tcp_tuple *tuple)
{
    if (!tcp->sr_count) return NULL;
    size_t b = tcp_tuple_hash(tcp, tuple) & (tcp->sr_bucket_count - 1);
    for (struct tcp_synrecv *sr = tcp->sr_buckets[b]; sr; sr = sr->hash_next)
        if (tcp_tuple_equal(&sr->tuple, tuple)) return sr;
    return NULL;
}

/* Off the table and the wheel, memory freed; no event, no accounting. */
static void sr_free(struct tcp_synrecv *sr)
{
    struct tcp_stack *tcp = sr->tcp;
    timer_cancel(&tcp->stack->timers, &sr->timer);
    size_t b = tcp_tuple_hash(tcp, &sr->tuple) & (tcp->sr_bucket_count - 1);
    for (struct tcp_synrecv **p = &tcp->sr_buckets[b]; *p; p = &(*p)->hash_next) {
        if (*p == sr) {
            *p = sr->hash_next;
            tcp->sr_count--;
            break;
        }
    }
    free(sr);
}

/* The half-open connection is over (RST, SYN, timeout, listener gone):
 * silently, as Linux drops a request sock. */
void tcp_synrecv_drop(struct tcp_synrecv *sr)
{
    struct tcp_state_change ch = {.tuple = sr->tuple, .iss = sr->iss, .irs = sr->irs,
                                  .from = TCPS_SYN_RCVD, .to = TCPS_CLOSED};
    struct finack_stack *stack = sr->tcp->stack;
    if (sr->listener) sr->listener->half_open_count--;
    sr_free(sr);
    tcp_report_state(stack, &ch);
}

/* The child the TCB path would have made on the SYN: the listener's
 * settings, our options and ISS, the SYN's options, SYN_RCVD with the
 * SYN-ACK sent. conn must come from tcp_conn_init(). */
void tcp_synrecv_build(const struct tcp_synrecv *sr, struct tcp_conn *conn, finack_time_t now)
{
    tcp_child_init(conn, sr->listener, &sr->tuple, now);
    conn->iss = sr->iss;
    conn->snd_una = conn->snd_nxt = conn->snd_max = sr->iss;
    conn->recover = sr->iss;
    struct tcp_segment syn = {.seq = sr->irs, .window = sr->peer_window, .flags = TCP_FLAG_SYN};
    syn.opt.has_mss = sr->has_mss;
    syn.opt.mss = sr->peer_mss;
    syn.opt.has_wscale = sr->has_wscale;
    syn.opt.wscale = sr->peer_wscale;
    syn.opt.has_timestamp = sr->ts_ok;
    syn.opt.sack_permitted = sr->sack_ok;
    syn.opt.ts_val = sr->ts_recent;
    tcp_take_syn_options(conn, &syn, true, true);
    conn->snd_wl1 = sr->irs;
    conn->state = TCPS_SYN_RCVD;
    /* What the SYN-ACK offered: unscaled, so at most 64 KiB. */
    uint32_t wnd = tcp_receive_window(conn);
    conn->rcv_adv = conn->rcv_nxt + (wnd > 65535 ? 65535 : wnd);
}

/* again: a SYN-ACK went out before, so SND.MAX counts our SYN and this
 * one re-sends it (what traces mark as a retransmission). */
static void send_synack(struct tcp_synrecv *sr, bool again, finack_time_t now)
{
    struct tcp_conn tmp;
    tcp_conn_init(&tmp, sr->tcp);
    tcp_synrecv_build(sr, &tmp, now);
    tmp.rcv_adv = tmp.rcv_nxt; /* the window computed as for the first SYN-ACK */
    if (again) tmp.snd_nxt = tmp.snd_max = sr->iss + 1;
    tcp_send_syn_segment(&tmp, now);
    sr->rcv_wnd = tmp.rcv_adv - tmp.rcv_nxt;
}

/* An ACK (or challenge ACK) from the half-open connection. */
void tcp_synrecv_send_ack(struct tcp_synrecv *sr, finack_time_t now)
{
    struct tcp_conn tmp;
    tcp_conn_init(&tmp, sr->tcp);
    tcp_synrecv_build(sr, &tmp, now);
    tmp.snd_nxt = tmp.snd_max = sr->iss + 1;
    tcp_send_ack(&tmp, now);
}

void tcp_synrecv_resend_synack(struct tcp_synrecv *sr, finack_time_t now)
{
    send_synack(sr, true, now);
}

static finack_time_t backoff(unsigned retransmits)
{
    finack_time_t rto = TCP_INITIAL_RTO << (retransmits < 16 ? retransmits : 16);
    return rto > TCP_MAX_RTO ? TCP_MAX_RTO : rto;
}

/* RFC 6298 §5 for the SYN-ACK: 1 s doubling; after TCP_SYNACK_RETRIES
 * retransmissions the half-open connection goes, without a RST. */
static void on_timer(struct timer *t, uint64_t now)
{
    struct tcp_synrecv *sr = container_of(t, struct tcp_synrecv, timer);
    struct finack_stack *stack = sr->tcp->stack;
    if (stack->trace_fn) stack_trace_timer(stack, &sr->tuple, "SYNACK");
    if (sr->retransmits >= TCP_SYNACK_RETRIES) {
        tcp_synrecv_drop(sr);
        return;
    }
    sr->retransmits++;
    send_synack(sr, true, now);
    timer_arm(&sr->tcp->stack->timers, &sr->timer, now + backoff(sr->retransmits));
}

int tcp_synrecv_create(struct tcp_conn *lst, const struct tcp_tuple *tuple,
                       const struct tcp_segment *syn, const uint32_t *isn, finack_time_t now)
{
    struct tcp_stack *tcp = lst->tcp;
    sr_grow(tcp);
    if (!tcp->sr_buckets) return -1;
    struct tcp_synrecv *sr = calloc(1, sizeof *sr);
    if (!sr) return -1;
    sr->tcp = tcp;
    sr->listener = lst;
    sr->tuple = *tuple;
    sr->iss = isn ? *isn : tcp_isn(tcp->stack, tuple, now);
    sr->irs = syn->seq;
    sr->peer_window = syn->window;
    sr->has_mss = syn->opt.has_mss;
    sr->peer_mss = syn->opt.mss;
    sr->has_wscale = syn->opt.has_wscale;
    sr->peer_wscale = syn->opt.wscale;
    sr->ts_ok = syn->opt.has_timestamp;
    sr->sack_ok = syn->opt.sack_permitted && !lst->tcp->stack->no_sack;
    sr->ts_recent = syn->opt.ts_val;
    sr->sent = now;
    timer_init(&sr->timer, on_timer);
    size_t b = tcp_tuple_hash(tcp, tuple) & (tcp->sr_bucket_count - 1);
    sr->hash_next = tcp->sr_buckets[b];
    tcp->sr_buckets[b] = sr;
    tcp->sr_count++;
    lst->half_open_count++;
    struct tcp_state_change ch = {.tuple = *tuple, .iss = sr->iss, .irs = sr->irs,
                                  .from = TCPS_CLOSED, .to = TCPS_SYN_RCVD};
    tcp_report_state(tcp->stack, &ch);
    send_synack(sr, false, now);
    timer_arm(&tcp->stack->timers, &sr->timer, now + backoff(0));
    return 0;
}

struct tcp_conn *tcp_synrecv_promote(struct tcp_synrecv *sr, finack_time_t now)
{
    struct tcp_conn *conn = tcp_conn_new(sr->tcp);
    if (!conn) return NULL;
    tcp_synrecv_build(sr, conn, now);
    conn->snd_nxt = conn->snd_max = sr->iss + 1;
    /* RTT from the first SYN-ACK, unless it was retransmitted (Karn). */
    conn->retransmits = conn->backoff = sr->retransmits;
    conn->rtt_timing = sr->retransmits == 0;
    conn->rtt_seq = sr->iss;
    conn->rtt_start = sr->sent;
    finack_time_t expiry = timer_armed(&sr->timer) ? sr->timer.expiry : now;
    sr_free(sr); /* the TCB carries on: still SYN_RCVD, still counted half-open */
    tcp_table_insert(conn);
    tcp_timer_arm(conn, TCP_TIMER_RETRANSMIT, expiry);
    return conn;
}

void tcp_synrecv_drop_listener(struct tcp_conn *lst)
{
    struct tcp_stack *tcp = lst->tcp;
    for (size_t i = 0; i < tcp->sr_bucket_count; i++) {
        struct tcp_synrecv *sr = tcp->sr_buckets[i];
        while (sr) {
            struct tcp_synrecv *next = sr->hash_next;
            if (sr->listener == lst) tcp_synrecv_drop(sr);
            sr = next;
        }
    }
}

void tcp_synrecv_free_all(struct tcp_stack *tcp)
{
    for (size_t i = 0; i < tcp->sr_bucket_count; i++) {
        struct tcp_synrecv *sr = tcp->sr_buckets[i];
        while (sr) {
            struct tcp_synrecv *next = sr->hash_next;
            free(sr);
            sr = next;
        }
    }
    free(tcp->sr_buckets);
    tcp->sr_buckets = NULL;
    tcp->sr_bucket_count = tcp->sr_count = 0;
}
