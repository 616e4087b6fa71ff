/* Connection life: the one function that changes state, the end of a
 * connection, and the wake-up of the socket layer. */
#include <errno.h>

#include "ip/ip.h"
#include "stack.h"
#include "tcp/tcp.h"

void tcp_notify(struct tcp_conn *conn)
{
    if (conn->tcp->notify) conn->tcp->notify(conn->tcp->notify_ctx, conn);
}

/* The one reporting path of state changes, TCBs and records alike: the
 * internal observer, the trace, then finack_stack_on_state_change's. */
void tcp_report_state(struct finack_stack *stack, const struct tcp_state_change *ch)
{
    if (stack->trace_fn) stack_trace_state(stack, ch);
    if (stack->on_state_change) stack->on_state_change(stack->on_state_change_ctx, ch);
    if (stack->on_state_event) {
        struct finack_state_event ev = {
            .t = stack->now, .laddr = ch->tuple.laddr, .raddr = ch->tuple.raddr,
            .lport = ch->tuple.lport, .rport = ch->tuple.rport,
            .from = tcp_state_name(ch->from), .to = tcp_state_name(ch->to)};
        stack->on_state_event(stack->on_state_event_ctx, &ev);
    }
}

void tcp_set_state(struct tcp_conn *conn, enum tcp_state state)
{
    if (conn->state == state) return;
    struct tcp_state_change ch = {.tuple = conn->tuple, .iss = conn->iss, .irs = conn->irs,
                                  .error = conn->error, .from = conn->state, .to = state};
    conn->state = state;
    tcp_report_state(conn->tcp->stack, &ch);
    tcp_notify(conn);
}

static void unlink_from_accept_queue(struct tcp_conn *conn)
{
    struct tcp_conn *lst = conn->listener;
    struct tcp_conn **p = &lst->accept_head;
    struct tcp_conn *prev = NULL;
    while (*p && *p != conn) {
        prev = *p;
        p = &(*p)->accept_next;
    }
    if (!*p) return;
    *p = conn->accept_next;
    if (lst->accept_tail == conn) lst->accept_tail = prev;
    lst->accept_count--;
    conn->queued = false;
    conn->accept_next = NULL;
}

/* A passive child still half-open no longer counts against its listener. */
static void leave_listener(struct tcp_conn *conn)
{
    if (conn->listener && conn->state == TCPS_SYN_RCVD && conn->passive && !conn->queued)
        conn->listener->half_open_count--;
}

void tcp_conn_close(struct tcp_conn *conn, int err)
{
    if (conn->state == TCPS_CLOSED && !conn->in_table) return;
    leave_listener(conn);
    if (conn->in_table) {
        if (conn->state == TCPS_LISTEN) tcp_listener_remove(conn);
        else tcp_table_remove(conn);
    }
    tcp_timers_cancel_all(conn);
    if (err) {
        conn->error = err;
        ring_free_memory(&conn->rcv_buf); /* after a reset, unread data is gone */
    }
    ring_free_memory(&conn->snd_buf);
    tcp_set_state(conn, TCPS_CLOSED);
    /* A reset child waiting in the accept queue stays there: accept() hands
     * it out and the first read reports the error, as on Linux. */
    if (conn->socket < 0 && !conn->queued) tcp_conn_free(conn);
}

/* A listener going away resets what it had accepted but nobody took, and
 * forgets its half-open children without a word (as Linux drops request
 * socks; a late ACK from one then meets no connection and gets a RST). */
void tcp_listener_close(struct tcp_conn *lst, finack_time_t now)
{
    while (lst->accept_head) {
        struct tcp_conn *child = lst->accept_head;
        unlink_from_accept_queue(child);
        child->listener = NULL;
        if (child->state != TCPS_CLOSED) tcp_send_rst(child, now);
        /* Frees the child: it has no socket and is off the queue. An
         * already reset child is freed the same way (its close only left it
         * for accept() to hand out). */
        if (child->state != TCPS_CLOSED) tcp_conn_close(child, ECONNRESET);
        else tcp_conn_free(child);
    }
    tcp_synrecv_drop_listener(lst);
    /* Half-open children that became TCBs (a segment moved them on, but
     * the handshake is not complete): none in the common case. */
    struct tcp_stack *tcp = lst->tcp;
    for (size_t i = 0; lst->half_open_count && i < tcp->bucket_count; i++) {
        struct tcp_conn *c = tcp->buckets[i];
        while (c) {
            struct tcp_conn *next = c->hash_next;
            if (c->listener == lst) tcp_conn_close(c, 0);
            c = next;
        }
    }
    tcp_conn_close(lst, 0);
}

/* accept(): take the oldest connection off the listener's queue. */
struct tcp_conn *tcp_accept_next(struct tcp_conn *lst)
{
    struct tcp_conn *conn = lst->accept_head;
    if (!conn) return NULL;
    unlink_from_accept_queue(conn);
    conn->listener = NULL;
    return conn;
}

/* Our window scale, as Linux's tcp_select_initial_window chooses it: large
 * enough that the buffer's growth limit (tcp_rmem[2], 6 MiB) fits. A buffer
 * the application sized with SO_RCVBUF never grows (Linux clamps
 * window_clamp to it, SOCK_RCVBUF_LOCK): the smallest scale that covers that
 * buffer, 0 up to 64 KiB. */
static uint8_t choose_wscale(size_t rcvbuf, bool locked)
{
    size_t want = locked || rcvbuf > (6u << 20) ? rcvbuf : (6u << 20);
    uint8_t ws = 0;
    while (ws < 14 && ((size_t)65535 << ws) < want) ws++;
    return ws;
}

uint16_t tcp_route_mss(const struct finack_stack *stack, uint32_t dst)
{
    uint32_t mtu = ip_route_mtu(stack, dst);
    return mtu > 40 + 65535 ? 65535 : (uint16_t)(mtu - 40);
}

/* What both opens set before the first SYN or SYN-ACK: our MSS and window
 * scale, the TSval base, the ISS (RFC 6528), and RTT timing of the SYN. The
 * tuple, buffer sizes and socket (or listener) must already be set. The
 * socket's SO_RCVBUF and TCP_MAXSEG count here: the MSS we announce is the
 * route's lowered to TCP_MAXSEG (Linux's user_mss, RFC 9293 §3.7.1), and
 * take_syn_options() sends with no more than that. */
void tcp_child_init(struct tcp_conn *child, struct tcp_conn *lst, const struct tcp_tuple *tuple,
                    finack_time_t now)
{
    child->tuple = *tuple;
    child->passive = true;
    child->listener = lst;
    child->nodelay = lst->nodelay;
    child->cc = lst->cc; /* TCP_CONGESTION: Linux's tcp_ca_openreq_child */
    child->reuseaddr = lst->reuseaddr;
    child->keepalive = lst->keepalive;
    child->keepidle = lst->keepidle;
    child->keepintvl = lst->keepintvl;
    child->keepcnt = lst->keepcnt;
    child->user_timeout = lst->user_timeout;
    child->msl = lst->msl;
    child->snd_buf.cap = lst->snd_buf.cap;
    child->rcv_buf.cap = lst->rcv_buf.cap;
    tcp_open_init(child, now);
}

void tcp_open_init(struct tcp_conn *conn, finack_time_t now)
{
    struct finack_stack *stack = conn->tcp->stack;
    const struct finack_sock *s = socket_for_open(stack, conn);
    conn->rcv_wscale = choose_wscale(conn->rcv_buf.cap, s && s->rcvbuf);
    conn->rcv_mss = tcp_route_mss(stack, conn->tuple.raddr);
    if (s && s->user_mss && s->user_mss < conn->rcv_mss) conn->rcv_mss = s->user_mss;
    conn->ts_offset = (uint32_t)(stack->secret[1] >> 32) ^ conn->tuple.lport ^ conn->tuple.rport;
    conn->iss = tcp_isn(stack, &conn->tuple, now);
    conn->snd_una = conn->snd_nxt = conn->snd_max = conn->iss;
    conn->recover = conn->iss;
    conn->rtt_timing = true;
    conn->rtt_seq = conn->iss;
    conn->rtt_start = now;
}
