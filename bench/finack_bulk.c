/* finack's figures: bulk throughput between two stacks joined by a direct
 * in-memory link in one process, and memory per idle ESTABLISHED
 * connection.
 *
 * The link: each stack's finack_link copies what it transmits into a FIFO
 * toward the other stack (the stack's transmit buffer is valid only during
 * the call, as a NIC driver would copy into a descriptor ring). The driver
 * loop below hands queued packets to finack_stack_input() one at a time, so
 * the stack is never re-entered from its own transmit. Time is the real
 * CLOCK_MONOTONIC in microseconds, so timers (delayed ACK, RTO) behave as
 * they would on a host. */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "finack/finack.h"
#include "finack/socket.h"
/* Private headers, as the tests use them, for sizeof of the TCB and the
 * socket slot only. */
#include "socket/socket.h"
#include "tcp/tcp.h"

#define CLIENT_ADDR 0x0a000001u /* 10.0.0.1 */
#define SERVER_ADDR 0x0a000002u /* 10.0.0.2 */
#define PORT 5001
#define SRC_LEN BENCH_SRC_LEN
#define BATCH 64 /* packets per queue per round before the applications run again */

/* ---- the direct link ------------------------------------------------------ */

struct pktq {
    uint8_t *data;   /* cap slots of slot bytes */
    uint32_t *len;
    size_t slot, cap, head, count;
};

struct dlink {
    struct finack_link link;
    struct pktq *toward;    /* the peer's inbound queue */
    uint64_t packets, bytes;
    bool failed;            /* out of memory growing the queue */
};

static int pktq_init(struct pktq *q, size_t slot)
{
    memset(q, 0, sizeof *q);
    q->slot = slot;
    q->cap = 256;
    q->data = malloc(q->cap * slot);
    q->len = malloc(q->cap * sizeof *q->len);
    return q->data && q->len ? 0 : -ENOMEM;
}

static void pktq_free(struct pktq *q)
{
    free(q->data);
    free(q->len);
    memset(q, 0, sizeof *q);
}

static int pktq_grow(struct pktq *q)
{
    size_t cap = q->cap * 2;
    uint8_t *data = malloc(cap * q->slot);
    uint32_t *len = malloc(cap * sizeof *len);
    if (!data || !len) {
        free(data);
        free(len);
        return -ENOMEM;
    }
    for (size_t i = 0; i < q->count; i++) {
        size_t at = (q->head + i) % q->cap;
        memcpy(data + i * q->slot, q->data + at * q->slot, q->len[at]);
        len[i] = q->len[at];
    }
    free(q->data);
    free(q->len);
    q->data = data;
    q->len = len;
    q->cap = cap;
    q->head = 0;
    return 0;
}

/* Room for count packets, every page touched: the memory figure grows the
 * queues before it starts, so that the harness's link is not counted as
 * the stack's. */
static int pktq_reserve(struct pktq *q, size_t count)
{
    while (q->cap < count)
        if (pktq_grow(q)) return -ENOMEM;
    memset(q->data, 0, q->cap * q->slot);
    memset(q->len, 0, q->cap * sizeof *q->len);
    return 0;
}

static int dlink_transmit(struct finack_link *link, const uint8_t *packet, size_t len,
                          finack_time_t now)
{
    (void)now;
    struct dlink *d = link->driver;
    struct pktq *q = d->toward;
    if (len > q->slot) return -EMSGSIZE;
    if (q->count == q->cap && pktq_grow(q)) {
        d->failed = true;
        return -ENOBUFS;
    }
    size_t at = (q->head + q->count) % q->cap;
    memcpy(q->data + at * q->slot, packet, len);
    q->len[at] = (uint32_t)len;
    q->count++;
    d->packets++;
    d->bytes += len;
    return 0;
}

static const struct finack_link_ops dlink_ops = {.transmit = dlink_transmit};

/* Two stacks, each with its inbound queue and the link it transmits on. */
struct pair {
    struct finack_stack *client, *server;
    struct pktq to_client, to_server;
    struct dlink client_link, server_link;
};

static struct finack_stack *make_stack(const char *name, uint64_t seed)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = name;
    cfg.secret[0] = seed;
    cfg.secret[1] = seed * 7 + 1;
    struct finack_stack *s = NULL;
    if (finack_stack_create(&s, &cfg)) return NULL;
    return s;
}

static int pair_init(struct pair *p, uint32_t mtu)
{
    memset(p, 0, sizeof *p);
    if (pktq_init(&p->to_client, mtu) || pktq_init(&p->to_server, mtu)) return -ENOMEM;
    p->client_link = (struct dlink){
        .link = {.ops = &dlink_ops, .mtu = mtu, .name = "direct.client"},
        .toward = &p->to_server};
    p->client_link.link.driver = &p->client_link;
    p->server_link = (struct dlink){
        .link = {.ops = &dlink_ops, .mtu = mtu, .name = "direct.server"},
        .toward = &p->to_client};
    p->server_link.link.driver = &p->server_link;
    p->client = make_stack("client", 11);
    p->server = make_stack("server", 12);
    if (!p->client || !p->server) return -ENOMEM;
    if (finack_stack_add_interface(p->client, &p->client_link.link, CLIENT_ADDR, 24) ||
        finack_stack_add_interface(p->server, &p->server_link.link, SERVER_ADDR, 24))
        return -EINVAL;
    return 0;
}

static void pair_free(struct pair *p)
{
    finack_stack_destroy(p->client);
    finack_stack_destroy(p->server);
    pktq_free(&p->to_client);
    pktq_free(&p->to_server);
}

/* Hand at most max packets from q to stack; returns how many. */
static size_t deliver(struct finack_stack *stack, struct finack_link *link, struct pktq *q,
                      size_t max, finack_time_t now)
{
    size_t n = 0;
    while (q->count && n < max) {
        /* The slot stays counted during input: nothing the stack sends in
         * answer lands in its own inbound queue. */
        size_t at = q->head;
        finack_stack_input(stack, link, q->data + at * q->slot, q->len[at], now);
        q->head = (q->head + 1) % q->cap;
        q->count--;
        n++;
    }
    return n;
}

/* Deliver until both queues are empty; returns packets delivered. */
static size_t deliver_all(struct pair *p, finack_time_t now)
{
    size_t total = 0, n;
    do {
        n = deliver(p->server, &p->server_link.link, &p->to_server, SIZE_MAX, now);
        n += deliver(p->client, &p->client_link.link, &p->to_client, SIZE_MAX, now);
        total += n;
    } while (n);
    return total;
}

static void poll_due(struct pair *p, finack_time_t now)
{
    if (finack_stack_next_deadline(p->client) <= now) finack_stack_poll(p->client, now);
    if (finack_stack_next_deadline(p->server) <= now) finack_stack_poll(p->server, now);
}

static struct sockaddr_in addr_of(uint32_t ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(ip)};
    return a;
}

static int set_bufs(struct finack_stack *s, int fd, uint32_t size)
{
    int v = (int)size;
    int err = finack_setsockopt(s, fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    if (!err) err = finack_setsockopt(s, fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
    return err;
}

/* ---- bulk ------------------------------------------------------------------ */

#define FAIL(r, ...)                                           \
    do {                                                       \
        snprintf((r)->why, sizeof (r)->why, __VA_ARGS__);      \
        goto out;                                              \
    } while (0)

void finack_bulk(const struct bench_opts *o, struct bulk_result *r)
{
    memset(r, 0, sizeof *r);
    struct pair p;
    uint8_t *src = malloc(SRC_LEN), *dst = malloc(SRC_LEN);
    if (!src || !dst) {
        snprintf(r->why, sizeof r->why, "out of memory");
        free(src);
        free(dst);
        return;
    }
    bench_fill(src, SRC_LEN);
    if (pair_init(&p, o->mtu)) FAIL(r, "cannot set up the two stacks");

    finack_time_t now = bench_mono_us();
    finack_stack_poll(p.client, now);
    finack_stack_poll(p.server, now);
    int lfd = finack_socket(p.server, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = addr_of(0, PORT), da = addr_of(SERVER_ADDR, PORT);
    if (lfd < 0 || set_bufs(p.server, lfd, o->bufsize) ||
        finack_bind(p.server, lfd, (struct sockaddr *)&sa, sizeof sa) ||
        finack_listen(p.server, lfd, 16))
        FAIL(r, "server socket setup failed");
    int cfd = finack_socket(p.client, AF_INET, SOCK_STREAM, 0);
    if (cfd < 0 || set_bufs(p.client, cfd, o->bufsize)) FAIL(r, "client socket setup failed");

    double w0 = bench_mono(), c0 = bench_cpu();
    if (finack_connect(p.client, cfd, (struct sockaddr *)&da, sizeof da) != -EINPROGRESS)
        FAIL(r, "connect did not start");
    int afd = -EAGAIN;
    while (afd < 0) {
        now = bench_mono_us();
        deliver_all(&p, now);
        poll_due(&p, now);
        afd = finack_accept(p.server, lfd, NULL, NULL);
        if (afd < 0 && afd != -EAGAIN) FAIL(r, "accept: %s", strerror(-afd));
        if (bench_mono() - w0 > 10) FAIL(r, "no connection after 10 s");
    }
    if (strcmp(finack_socket_state(p.client, cfd), "ESTABLISHED"))
        FAIL(r, "client in %s after the handshake", finack_socket_state(p.client, cfd));

    uint64_t segs0 = finack_stack_counter(p.client, FINACK_CTR_TCP_OUT_SEGS);
    uint64_t acks0 = finack_stack_counter(p.server, FINACK_CTR_TCP_OUT_SEGS);
    uint64_t sent = 0, got = 0;
    double last_progress = bench_mono();
    while (got < o->bytes) {
        now = bench_mono_us();
        bool progress = false;
        while (sent < o->bytes) {
            size_t off = (size_t)(sent % SRC_LEN);
            uint64_t want = o->bytes - sent;
            if (want > SRC_LEN - off) want = SRC_LEN - off;
            ssize_t n = finack_send(p.client, cfd, src + off, (size_t)want, 0);
            if (n == -EAGAIN) break;
            if (n < 0) FAIL(r, "send: %s", strerror((int)-n));
            sent += (uint64_t)n;
            progress = true;
            /* All queued: close the sending side, as a file transfer would.
             * The FIN also pushes out a last partial segment Nagle holds. */
            if (sent == o->bytes && finack_shutdown(p.client, cfd, SHUT_WR))
                FAIL(r, "shutdown failed");
        }
        /* A batch each way, then let the receiver read. */
        size_t moved = deliver(p.server, &p.server_link.link, &p.to_server, BATCH, now);
        moved += deliver(p.client, &p.client_link.link, &p.to_client, BATCH, now);
        if (moved) progress = true;
        for (;;) {
            ssize_t n = finack_recv(p.server, afd, dst, SRC_LEN, 0);
            if (n == -EAGAIN || (n == 0 && got == o->bytes)) break;
            if (n <= 0) FAIL(r, "recv: %s", n ? strerror((int)-n) : "early EOF");
            if (!bench_check(o, got, dst, (size_t)n)) FAIL(r, "corrupt data near byte %llu",
                                                              (unsigned long long)got);
            got += (uint64_t)n;
            progress = true;
        }
        poll_due(&p, now);
        if (p.client_link.failed || p.server_link.failed) FAIL(r, "link queue out of memory");
        if (progress) {
            last_progress = bench_mono();
        } else if (bench_mono() - last_progress > 10) {
            FAIL(r, "stalled at %llu of %llu bytes (client %s)", (unsigned long long)got,
                 (unsigned long long)o->bytes, finack_socket_state(p.client, cfd));
        }
    }
    r->wall_s = bench_mono() - w0;
    r->cpu_s = bench_cpu() - c0;
    r->bytes = got;
    r->data_segs = finack_stack_counter(p.client, FINACK_CTR_TCP_OUT_SEGS) - segs0;
    r->ack_segs = finack_stack_counter(p.server, FINACK_CTR_TCP_OUT_SEGS) - acks0;
    {
        int mss = 0;
        socklen_t len = sizeof mss;
        if (finack_getsockopt(p.client, cfd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len) == 0)
            r->mss = (uint32_t)mss;
    }
    snprintf(r->note, sizeof r->note, "direct in-memory link, MTU %u, SO_SNDBUF/SO_RCVBUF %u",
             o->mtu, o->bufsize);
    r->ok = true;
    finack_close(p.client, cfd);
    finack_close(p.server, afd);
    finack_close(p.server, lfd);
out:
    pair_free(&p);
    free(src);
    free(dst);
}

/* ---- memory per idle connection, connection rate ---------------------------- */

/* Accept whatever is queued on the listeners. */
static void accept_all(struct pair *p, const int *lfd, unsigned ports, int *afds,
                       unsigned *accepted, unsigned n)
{
    for (unsigned k = 0; k < ports; k++) {
        int fd;
        while (*accepted < n && (fd = finack_accept(p->server, lfd[k], NULL, NULL)) >= 0)
            afds[(*accepted)++] = fd;
    }
}

/* n connections between the two stacks, spread over bench_conn_ports(n)
 * server ports, all accepted and ESTABLISHED: setup_s times that. With
 * `memory`, the heap and RSS growth with them idle, then after a little
 * data each way. */
static void conn_run(unsigned n, bool memory, struct mem_result *r)
{
    memset(r, 0, sizeof *r);
    r->sizeof_tcb = sizeof(struct tcp_conn);
    r->sizeof_sock = sizeof(struct finack_sock);
    unsigned ports = bench_conn_ports(n);
    int *cfds = calloc(n, sizeof *cfds), *afds = calloc(n, sizeof *afds);
    struct pair p;
    if (!cfds || !afds || ports > BENCH_MAX_PORTS) {
        snprintf(r->why, sizeof r->why, "out of memory");
        free(cfds);
        free(afds);
        return;
    }
    if (pair_init(&p, 1500)) FAIL(r, "cannot set up the two stacks");
    finack_time_t now = bench_mono_us();
    finack_stack_poll(p.client, now);
    finack_stack_poll(p.server, now);
    int lfd[BENCH_MAX_PORTS];
    for (unsigned k = 0; k < ports; k++) {
        lfd[k] = finack_socket(p.server, AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = addr_of(0, (uint16_t)(PORT + k));
        if (lfd[k] < 0 || finack_bind(p.server, lfd[k], (struct sockaddr *)&sa, sizeof sa) ||
            finack_listen(p.server, lfd[k], 4096))
            FAIL(r, "server socket setup failed");
    }

    /* Every connection may have a packet queued each way at once (the data
     * exchange below): two per connection, to be sure. */
    size_t qcap = 0;
    if (memory) {
        if (pktq_reserve(&p.to_server, 2 * (size_t)n + 256) ||
            pktq_reserve(&p.to_client, 2 * (size_t)n + 256))
            FAIL(r, "out of memory for the link queues");
        qcap = p.to_server.cap + p.to_client.cap;
    }
    size_t heap0 = bench_heap_in_use(), rss0 = bench_rss();
    double w0 = bench_mono();
    unsigned accepted = 0;
    for (unsigned i = 0; i < n; i++) {
        struct sockaddr_in da = addr_of(SERVER_ADDR, (uint16_t)(PORT + i % ports));
        cfds[i] = finack_socket(p.client, AF_INET, SOCK_STREAM, 0);
        if (cfds[i] < 0) FAIL(r, "socket %u: %s", i, strerror(-cfds[i]));
        int err = finack_connect(p.client, cfds[i], (struct sockaddr *)&da, sizeof da);
        if (err != -EINPROGRESS) FAIL(r, "connect %u: %s", i, strerror(-err));
        if (i % 128 == 127 || i == n - 1) {
            now = bench_mono_us();
            deliver_all(&p, now);
            poll_due(&p, now);
            accept_all(&p, lfd, ports, afds, &accepted, n);
        }
    }
    for (double t = bench_mono(); accepted < n && bench_mono() - t < 10;) {
        now = bench_mono_us();
        deliver_all(&p, now);
        poll_due(&p, now);
        accept_all(&p, lfd, ports, afds, &accepted, n);
    }
    r->setup_s = bench_mono() - w0;
    r->ports = ports;
    if (accepted < n) FAIL(r, "only %u of %u connections accepted", accepted, n);
    for (unsigned i = 0; i < n; i++) {
        if (strcmp(finack_socket_state(p.client, cfds[i]), "ESTABLISHED") ||
            strcmp(finack_socket_state(p.server, afds[i]), "ESTABLISHED"))
            FAIL(r, "connection %u is not ESTABLISHED", i);
    }
    r->conns = n;
    if (!memory) {
        r->ok = true;
        goto out;
    }
    size_t heap1 = bench_heap_in_use(), rss1 = bench_rss();

    /* A little data each way: every endpoint now has both rings. */
    static const char hello[64] = "finack bench: a little data to allocate the buffers";
    char buf[64];
    for (unsigned i = 0; i < n; i++)
        if (finack_send(p.client, cfds[i], hello, sizeof hello, 0) != (ssize_t)sizeof hello)
            FAIL(r, "client send on connection %u", i);
    deliver_all(&p, bench_mono_us());
    for (unsigned i = 0; i < n; i++) {
        if (finack_recv(p.server, afds[i], buf, sizeof buf, 0) != (ssize_t)sizeof buf)
            FAIL(r, "server recv on connection %u", i);
        if (finack_send(p.server, afds[i], hello, sizeof hello, 0) != (ssize_t)sizeof hello)
            FAIL(r, "server send on connection %u", i);
    }
    deliver_all(&p, bench_mono_us());
    for (unsigned i = 0; i < n; i++)
        if (finack_recv(p.client, cfds[i], buf, sizeof buf, 0) != (ssize_t)sizeof buf)
            FAIL(r, "client recv on connection %u", i);
    deliver_all(&p, bench_mono_us());
    size_t heap2 = bench_heap_in_use(), rss2 = bench_rss();
    if (p.to_server.cap + p.to_client.cap != qcap)
        snprintf(r->note, sizeof r->note, "the link queues grew during the measurement (by "
                 "%zu packets), and are counted", p.to_server.cap + p.to_client.cap - qcap);

    int v = 0;
    socklen_t len = sizeof v;
    if (finack_getsockopt(p.client, cfds[0], SOL_SOCKET, SO_SNDBUF, &v, &len) == 0)
        r->sndbuf = (uint32_t)v;
    len = sizeof v;
    if (finack_getsockopt(p.client, cfds[0], SOL_SOCKET, SO_RCVBUF, &v, &len) == 0)
        r->rcvbuf = (uint32_t)v;

    double ends = 2.0 * n;
    r->heap_nobuf = ((double)heap1 - (double)heap0) / ends;
    r->heap_buf = ((double)heap2 - (double)heap0) / ends;
    r->rss_nobuf = ((double)rss1 - (double)rss0) / ends;
    r->rss_buf = ((double)rss2 - (double)rss0) / ends;
    r->ok = true;
out:
    pair_free(&p);
    free(cfds);
    free(afds);
}

void finack_idle_memory(const struct bench_opts *o, struct mem_result *r)
{
    conn_run(o->conns, true, r);
}

void finack_connect_rate(unsigned n, struct mem_result *r)
{
    conn_run(n, false, r);
}

size_t finack_sizeof_tcb(void) { return sizeof(struct tcp_conn); }
size_t finack_sizeof_sock(void) { return sizeof(struct finack_sock); }
