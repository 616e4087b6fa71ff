/* The connection table (4-tuple hash), listeners, ISNs and ephemeral ports. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ip/ip.h"
#include "stack.h"
#include "tcp/tcp.h"
#include "util/siphash.h"

#define INITIAL_BUCKETS 64
#define LISTEN_BUCKETS 64
#define EPHEMERAL_LOW 32768 /* Linux ip_local_port_range */
#define EPHEMERAL_HIGH 60999

static const char *const state_names[] = {
#define TCP_X_NAME(name) #name,
    TCP_STATES(TCP_X_NAME)
#undef TCP_X_NAME
};

const char *tcp_state_name(enum tcp_state state)
{
    return (unsigned)state < TCPS__COUNT ? state_names[state] : "UNKNOWN";
}

int tcp_stack_init(struct finack_stack *stack)
{
    struct tcp_stack *tcp = calloc(1, sizeof *tcp);
    if (!tcp) return -ENOMEM;
    tcp->stack = stack;
    tcp->bucket_count = INITIAL_BUCKETS;
    tcp->buckets = calloc(tcp->bucket_count, sizeof *tcp->buckets);
    tcp->listen_bucket_count = LISTEN_BUCKETS;
    tcp->listen_buckets = calloc(tcp->listen_bucket_count, sizeof *tcp->listen_buckets);
    if (!tcp->buckets || !tcp->listen_buckets) {
        free(tcp->buckets);
        free(tcp->listen_buckets);
        free(tcp);
        return -ENOMEM;
    }
    stack->tcp = tcp;
    struct ip_protocol proto = {.input = tcp_input, .icmp_error = NULL};
    return ip_register_protocol(stack, IPPROTO_TCP_, &proto);
}

void tcp_stack_free(struct finack_stack *stack)
{
    struct tcp_stack *tcp = stack->tcp;
    if (!tcp) return;
    /* Children reset while waiting to be accepted are in no table, only in
     * their listener's queue; free them before the table walk frees the rest. */
    for (size_t i = 0; i < tcp->listen_bucket_count; i++) {
        for (struct tcp_conn *l = tcp->listen_buckets[i]; l; l = l->hash_next) {
            struct tcp_conn *c = l->accept_head;
            while (c) {
                struct tcp_conn *next = c->accept_next;
                if (!c->in_table) tcp_conn_free(c);
                c = next;
            }
        }
    }
    for (size_t i = 0; i < tcp->bucket_count; i++) {
        struct tcp_conn *c = tcp->buckets[i];
        while (c) {
            struct tcp_conn *next = c->hash_next;
            tcp_conn_free(c);
            c = next;
        }
    }
    for (size_t i = 0; i < tcp->listen_bucket_count; i++) {
        struct tcp_conn *c = tcp->listen_buckets[i];
        while (c) {
            struct tcp_conn *next = c->hash_next;
            tcp_conn_free(c);
            c = next;
        }
    }
    tcp_tw_free_all(tcp);
    tcp_synrecv_free_all(tcp);
    free(tcp->buckets);
    free(tcp->listen_buckets);
    free(tcp);
    stack->tcp = NULL;
}

struct tcp_conn *tcp_conn_new(struct tcp_stack *tcp)
{
    struct tcp_conn *conn = malloc(sizeof *conn);
    if (!conn) return NULL;
    tcp_conn_init(conn, tcp);
    return conn;
}

void tcp_conn_init(struct tcp_conn *conn, struct tcp_stack *tcp)
{
    memset(conn, 0, sizeof *conn);
    conn->tcp = tcp;
    conn->state = TCPS_CLOSED;
    conn->socket = -1;
    conn->rto = TCP_INITIAL_RTO;
    conn->msl = tcp->stack->msl;
    conn->snd_mss = TCP_DEFAULT_MSS;
    conn->ssthresh = UINT32_MAX;
    conn->cc = TCP_CC_DEFAULT;
    conn->probes_tstamp = FINACK_TIME_NEVER;
    conn->keepidle = TCP_KEEPIDLE_DEFAULT;
    conn->keepintvl = TCP_KEEPINTVL_DEFAULT;
    conn->keepcnt = TCP_KEEPCNT_DEFAULT;
    ring_init(&conn->snd_buf, TCP_DEFAULT_SNDBUF);
    ring_init(&conn->rcv_buf, TCP_DEFAULT_RCVBUF);
    tcp_timers_init(conn);
}

void tcp_conn_free(struct tcp_conn *conn)
{
    tcp_timers_cancel_all(conn);
    ring_free_memory(&conn->snd_buf);
    ring_free_memory(&conn->rcv_buf);
    free(conn);
}

size_t tcp_tuple_hash(const struct tcp_stack *tcp, const struct tcp_tuple *t)
{
    uint32_t words[3] = {t->laddr, t->raddr, (uint32_t)t->lport << 16 | t->rport};
    return (size_t)siphash24(tcp->stack->secret, words, sizeof words);
}

bool tcp_tuple_equal(const struct tcp_tuple *a, const struct tcp_tuple *b)
{
    return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
           a->rport == b->rport;
}

/* Double the table when it averages more than one connection a bucket; the
 * cost lands on connection setup, never on the per-packet path. */
static void maybe_grow(struct tcp_stack *tcp)
{
    if (tcp->conn_count < tcp->bucket_count) return;
    size_t count = tcp->bucket_count * 2;
    struct tcp_conn **buckets = calloc(count, sizeof *buckets);
    if (!buckets) return; /* longer chains, still correct */
    for (size_t i = 0; i < tcp->bucket_count; i++) {
        struct tcp_conn *c = tcp->buckets[i];
        while (c) {
            struct tcp_conn *next = c->hash_next;
            size_t b = tcp_tuple_hash(tcp, &c->tuple) & (count - 1);
            c->hash_next = buckets[b];
            buckets[b] = c;
            c = next;
        }
    }
    free(tcp->buckets);
    tcp->buckets = buckets;
    tcp->bucket_count = count;
}

void tcp_table_insert(struct tcp_conn *conn)
{
    struct tcp_stack *tcp = conn->tcp;
    maybe_grow(tcp);
    size_t b = tcp_tuple_hash(tcp, &conn->tuple) & (tcp->bucket_count - 1);
    conn->hash_next = tcp->buckets[b];
    tcp->buckets[b] = conn;
    tcp->conn_count++;
    conn->in_table = true;
}

static bool unlink_from(struct tcp_conn **head, struct tcp_conn *conn)
{
    for (struct tcp_conn **p = head; *p; p = &(*p)->hash_next) {
        if (*p == conn) {
            *p = conn->hash_next;
            conn->hash_next = NULL;
            return true;
        }
    }
    return false;
}

void tcp_table_remove(struct tcp_conn *conn)
{
    struct tcp_stack *tcp = conn->tcp;
    size_t b = tcp_tuple_hash(tcp, &conn->tuple) & (tcp->bucket_count - 1);
    if (unlink_from(&tcp->buckets[b], conn)) tcp->conn_count--;
    conn->in_table = false;
}

struct tcp_conn *tcp_table_lookup(struct tcp_stack *tcp, const struct tcp_tuple *tuple)
{
    size_t b = tcp_tuple_hash(tcp, tuple) & (tcp->bucket_count - 1);
    for (struct tcp_conn *c = tcp->buckets[b]; c; c = c->hash_next)
        if (tcp_tuple_equal(&c->tuple, tuple)) return c;
    return NULL;
}

static struct tcp_conn **listen_bucket(struct tcp_stack *tcp, uint16_t port)
{
    return &tcp->listen_buckets[port & (tcp->listen_bucket_count - 1)];
}

/* An exact local address beats the wildcard (INADDR_ANY) listener. */
struct tcp_conn *tcp_listener_lookup(struct tcp_stack *tcp, uint32_t laddr, uint16_t lport)
{
    struct tcp_conn *wildcard = NULL;
    for (struct tcp_conn *c = *listen_bucket(tcp, lport); c; c = c->hash_next) {
        if (c->tuple.lport != lport) continue;
        if (c->tuple.laddr == laddr) return c;
        if (c->tuple.laddr == 0) wildcard = c;
    }
    return wildcard;
}

int tcp_listener_insert(struct tcp_conn *conn)
{
    struct tcp_conn **head = listen_bucket(conn->tcp, conn->tuple.lport);
    conn->hash_next = *head;
    *head = conn;
    conn->in_table = true;
    return 0;
}

void tcp_listener_remove(struct tcp_conn *conn)
{
    unlink_from(listen_bucket(conn->tcp, conn->tuple.lport), conn);
    conn->in_table = false;
}

static bool addr_overlap(uint32_t a, uint32_t b) { return a == 0 || b == 0 || a == b; }

/* Whether binding laddr:lport would collide. Listeners always collide;
 * with reuse (the new socket's SO_REUSEADDR), connections whose own socket
 * had SO_REUSEADDR don't, in any state but LISTEN, as on Linux. A scan of
 * every connection, but only on an explicit bind(), never per packet. */
bool tcp_port_in_use(struct tcp_stack *tcp, uint32_t laddr, uint16_t lport, bool reuse)
{
    for (struct tcp_conn *c = *listen_bucket(tcp, lport); c; c = c->hash_next)
        if (c->tuple.lport == lport && addr_overlap(c->tuple.laddr, laddr)) return true;
    for (size_t i = 0; i < tcp->bucket_count; i++) {
        for (struct tcp_conn *c = tcp->buckets[i]; c; c = c->hash_next) {
            if (c->tuple.lport != lport || !addr_overlap(c->tuple.laddr, laddr)) continue;
            /* As Linux's inet_bind_conflict: with SO_REUSEADDR on both
             * sockets, only a listener conflicts. In TIME_WAIT too the old
             * socket must have had it (Linux copies it to tw_reuse): a
             * server restarting with SO_REUSEADDR binds beside the TIME_WAIT
             * of a run that also set it, not of one that did not. */
            if (reuse && c->reuseaddr) continue;
            return true;
        }
    }
    return tcp_tw_port_in_use(tcp, laddr, lport, reuse, addr_overlap);
}

/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a timer ticking every 4 µs, F SipHash-2-4 keyed with the stack's secret. */
uint32_t tcp_isn(const struct finack_stack *stack, const struct tcp_tuple *t, finack_time_t now)
{
    uint32_t words[3] = {t->laddr, t->raddr, (uint32_t)t->lport << 16 | t->rport};
    uint32_t f = (uint32_t)siphash24(stack->secret, words, sizeof words);
    return f + (uint32_t)(now / 4);
}

/* RFC 6056 §3.3.4 (Algorithm 4, double-hash, as Linux's
 * __inet_hash_connect): a keyed per-destination offset, plus a perturbation
 * per hash slot that moves past each port taken. Ports stay unpredictable
 * to others, and successive connections to one destination walk the range
 * instead of taking a just-freed port again — whose old incarnation may
 * still be in TIME_WAIT at the peer, with a higher sequence number than
 * our new ISN. */
int tcp_ephemeral_port(struct tcp_stack *tcp, struct tcp_tuple *t)
{
    static const uint32_t range = EPHEMERAL_HIGH - EPHEMERAL_LOW + 1;
    uint32_t words[3] = {t->laddr, t->raddr, t->rport};
    uint64_t key[2] = {tcp->stack->secret[1], tcp->stack->secret[0]};
    uint64_t h = siphash24(key, words, sizeof words);
    uint32_t offset = (uint32_t)h;
    uint16_t *perturb = &tcp->port_perturb[(h >> 32) % TCP_PORT_PERTURB_SLOTS];
    for (uint32_t i = 0; i < range; i++) {
        uint16_t port = (uint16_t)(EPHEMERAL_LOW + (offset + *perturb + i) % range);
        struct tcp_tuple probe = *t;
        probe.lport = port;
        if (tcp_table_lookup(tcp, &probe) || tcp_tw_lookup(tcp, &probe) ||
            tcp_synrecv_lookup(tcp, &probe))
            continue;
        if (tcp_listener_lookup(tcp, t->laddr, port)) continue;
        t->lport = port;
        *perturb = (uint16_t)(*perturb + i + 1);
        return 0;
    }
    return -EADDRNOTAVAIL;
}
