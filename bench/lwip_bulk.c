/* lwIP's bulk figure, with Debian's liblwip-dev (lwIP 2.1.3, built for the
 * Hurd's lwIP translator).
 *
 * Debian ships one shared library built with its own lwipopts.h (which we
 * must include unchanged so that the structures match): NO_SYS=0 with core
 * locking, MEM_LIBC_MALLOC and MEMP_MEM_MALLOC (every pbuf, segment and PCB
 * comes from malloc), TCP_MSS 1460, TCP_WND = TCP_SND_BUF = 65535 with a
 * window-scale shift of 1, LWIP_CHECKSUM_ON_COPY, no timestamps, no SACK.
 * Those are compile-time settings: the benchmark cannot give lwIP the 4 MB
 * buffers finack gets.
 *
 * lwIP keeps its state in globals, so one process holds one lwIP: "two
 * stacks" here are two netifs of that lwIP, 10.0.1.1/24 (client) and
 * 10.0.2.1/24 (server), each end of the connection bound to its own netif
 * (tcp_bind_netif) and address. A packet leaves through the sender's netif,
 * whose output copies it into a fresh pbuf (as a NIC driver's receive path
 * would) and queues it for the netif that owns the destination; the driver
 * loop hands queued pbufs to ip_input() one at a time, never from inside
 * lwIP. Every segment goes through tcp_output/ip4_output on the way out and
 * ip4_input/tcp_input on the way in, as with two instances. (The binding
 * matters: Debian builds with LWIP_NETIF_LOOPBACK, and a packet routed by
 * destination would leave through the netif that owns that address and be
 * looped inside lwIP, through the tcpip thread we do not run.)
 *
 * We never call tcpip_init(): no tcpip thread exists, we call lwip_init()
 * and drive the raw API, ip_input() and sys_check_timeouts() from this one
 * thread, as NO_SYS=1 code would (the core-locking check only applies once a
 * tcpip thread has been marked).
 *
 * lwIP and finack share function names (tcp_output, tcp_input, ip_input,
 * ip_output, ...). Linked normally, the executable's finack definitions
 * would interpose on lwIP's own internal calls. So lwIP is loaded with
 * dlopen(RTLD_DEEPBIND), which binds its references to itself first, and
 * called through the pointers below. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "bench.h"

#define PORT 5001
#define SRC_LEN BENCH_SRC_LEN
#define BATCH 64

#ifndef FINACK_BENCH_LWIP_LIB
#define FINACK_BENCH_LWIP_LIB "liblwip.so.0"
#endif

/* Every lwIP function used, called as L.name(...). */
#define LWIP_FUNCS(X)                                                                   \
    X(lwip_init) X(netif_add) X(netif_set_up) X(ip_input) X(pbuf_alloc) X(pbuf_copy)    \
    X(pbuf_free) X(pbuf_copy_partial) X(tcp_new) X(tcp_bind) X(tcp_bind_netif)          \
    X(tcp_listen_with_backlog) X(tcp_accept) X(tcp_arg) X(tcp_recv) X(tcp_err)          \
    X(tcp_connect) X(tcp_write) X(tcp_output) X(tcp_recved) X(tcp_abort) X(tcp_close)  \
    X(tcp_shutdown)                                                                     \
    X(sys_check_timeouts)

static struct {
#define LWIP_X_FIELD(f) __typeof__(&f) f;
    LWIP_FUNCS(LWIP_X_FIELD)
#undef LWIP_X_FIELD
} L;

struct lq {
    struct pbuf **items;
    size_t cap, head, count;
    bool failed;
};

static struct netif nif_client, nif_server;
static struct lq to_client, to_server; /* what arrives at each side */
static bool lwip_ready;
/* lwIP's own list heads (exported data), for tearing thousands of PCBs down
 * in O(1) each: tcp_abort() unlinks a PCB by walking its list from the
 * head, so we always abort the head. */
static struct tcp_pcb **lwip_active_pcbs, **lwip_bound_pcbs;
static uint64_t pkts_to_server, pkts_to_client;

/* Room for at least `want` pbufs; false when out of memory. */
static bool lq_grow(struct lq *q, size_t want)
{
    while (q->cap < want) {
        size_t cap = q->cap ? q->cap * 2 : 1024;
        struct pbuf **items = malloc(cap * sizeof *items);
        if (!items) return false;
        for (size_t i = 0; i < q->count; i++) items[i] = q->items[(q->head + i) % q->cap];
        free(q->items);
        q->items = items;
        q->cap = cap;
        q->head = 0;
    }
    return true;
}

static void lq_push(struct lq *q, struct pbuf *p)
{
    if (q->count == q->cap && !lq_grow(q, q->cap + 1)) {
        q->failed = true;
        L.pbuf_free(p);
        return;
    }
    q->items[(q->head + q->count) % q->cap] = p;
    q->count++;
}

static struct pbuf *lq_pop(struct lq *q)
{
    if (!q->count) return NULL;
    struct pbuf *p = q->items[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return p;
}

/* A netif sends: the copy arrives at the netif that owns the next hop (on
 * this link, the destination). */
static err_t loop_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *dst)
{
    (void)netif;
    struct pbuf *copy = L.pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
    if (!copy) return ERR_MEM;
    if (L.pbuf_copy(copy, p) != ERR_OK) {
        L.pbuf_free(copy);
        return ERR_MEM;
    }
    if (ip4_addr_cmp(dst, netif_ip4_addr(&nif_server))) {
        lq_push(&to_server, copy);
        pkts_to_server++;
    } else {
        lq_push(&to_client, copy);
        pkts_to_client++;
    }
    return ERR_OK;
}

static err_t loop_output_ip6(struct netif *netif, struct pbuf *p, const ip6_addr_t *dst)
{
    (void)netif;
    (void)p;
    (void)dst;
    return ERR_OK; /* nothing here speaks IPv6 */
}

static err_t loop_netif_init(struct netif *netif)
{
    netif->name[0] = 'l';
    netif->name[1] = 'p';
    netif->output = loop_output;
    netif->output_ip6 = loop_output_ip6;
    netif->mtu = 1500;
    netif->flags = NETIF_FLAG_LINK_UP;
    return ERR_OK;
}

static int setup(char *why, size_t whylen)
{
    if (lwip_ready) return 0;
    void *lib = dlopen(FINACK_BENCH_LWIP_LIB, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!lib) {
        snprintf(why, whylen, "cannot load lwIP: %s", dlerror());
        return -1;
    }
#define LWIP_X_LOAD(f)                                                         \
    if (!(*(void **)&L.f = dlsym(lib, #f))) {                                   \
        snprintf(why, whylen, "lwIP library has no %s", #f);                   \
        return -1;                                                             \
    }
    LWIP_FUNCS(LWIP_X_LOAD)
#undef LWIP_X_LOAD
    lwip_active_pcbs = dlsym(lib, "tcp_active_pcbs");
    lwip_bound_pcbs = dlsym(lib, "tcp_bound_pcbs");
    L.lwip_init();
    ip4_addr_t a, b, mask, gw;
    IP4_ADDR(&a, 10, 0, 1, 1);
    IP4_ADDR(&b, 10, 0, 2, 1);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    ip4_addr_set_zero(&gw);
    if (!L.netif_add(&nif_client, &a, &mask, &gw, NULL, loop_netif_init, L.ip_input) ||
        !L.netif_add(&nif_server, &b, &mask, &gw, NULL, loop_netif_init, L.ip_input)) {
        snprintf(why, whylen, "lwIP netif_add failed");
        return -1;
    }
    L.netif_set_up(&nif_client);
    L.netif_set_up(&nif_server);
    lwip_ready = true;
    return 0;
}

/* Run state shared with the callbacks. */
struct run {
    const struct bench_opts *o;
    bool corrupt;
    struct tcp_pcb *server, *client;
    bool connected;
    err_t error;       /* from an err callback */
    uint64_t got;
    uint8_t *dst;
};

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct run *run = arg;
    if (err != ERR_OK || !p) {
        if (p) L.pbuf_free(p);
        return ERR_OK;
    }
    /* Copy out as a socket's recv() would. */
    L.pbuf_copy_partial(p, run->dst, p->tot_len, 0);
    if (!bench_check(run->o, run->got, run->dst, p->tot_len)) run->corrupt = true;
    run->got += p->tot_len;
    L.tcp_recved(pcb, p->tot_len);
    L.pbuf_free(p);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct run *run = arg;
    run->error = err;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct run *run = arg;
    if (err != ERR_OK || !pcb) return ERR_VAL;
    run->server = pcb;
    L.tcp_arg(pcb, run);
    L.tcp_recv(pcb, on_recv);
    L.tcp_err(pcb, on_err);
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)pcb;
    struct run *run = arg;
    if (err == ERR_OK) run->connected = true;
    return ERR_OK;
}

static size_t deliver(struct lq *q, struct netif *inp, size_t max)
{
    size_t n = 0;
    struct pbuf *p;
    while (n < max && (p = lq_pop(q))) {
        inp->input(p, inp); /* ip_input takes the pbuf */
        n++;
    }
    return n;
}

static void deliver_all(void)
{
    while (deliver(&to_server, &nif_server, SIZE_MAX) + deliver(&to_client, &nif_client, SIZE_MAX))
        ;
}

#define FAIL(r, ...)                                      \
    do {                                                  \
        snprintf((r)->why, sizeof (r)->why, __VA_ARGS__); \
        goto out;                                         \
    } while (0)

void lwip_bulk(const struct bench_opts *o, struct bulk_result *r)
{
    memset(r, 0, sizeof *r);
    struct run run = {.o = o};
    struct tcp_pcb *listener = NULL;
    uint8_t *src = malloc(SRC_LEN);
    run.dst = malloc(SRC_LEN);
    if (!src || !run.dst) FAIL(r, "out of memory");
    bench_fill(src, SRC_LEN);
    if (setup(r->why, sizeof r->why)) goto out;

    /* Each end bound to its netif (see the top of the file). */
    struct tcp_pcb *l = L.tcp_new();
    if (!l || L.tcp_bind(l, netif_ip_addr4(&nif_server), PORT) != ERR_OK)
        FAIL(r, "lwIP server bind failed");
    L.tcp_bind_netif(l, &nif_server);
    listener = L.tcp_listen_with_backlog(l, TCP_DEFAULT_LISTEN_BACKLOG);
    if (!listener) FAIL(r, "lwIP listen failed");
    L.tcp_arg(listener, &run);
    L.tcp_accept(listener, on_accept);

    run.client = L.tcp_new();
    if (!run.client || L.tcp_bind(run.client, netif_ip_addr4(&nif_client), 0) != ERR_OK)
        FAIL(r, "lwIP client bind failed");
    L.tcp_bind_netif(run.client, &nif_client);
    L.tcp_arg(run.client, &run);
    L.tcp_err(run.client, on_err);

    double w0 = bench_mono(), c0 = bench_cpu();
    if (L.tcp_connect(run.client, netif_ip_addr4(&nif_server), PORT, on_connected) != ERR_OK)
        FAIL(r, "lwIP tcp_connect failed");
    while (!run.connected || !run.server) {
        deliver_all();
        L.sys_check_timeouts();
        if (run.error != ERR_OK) FAIL(r, "lwIP connection error %d", run.error);
        if (bench_mono() - w0 > 10)
            FAIL(r, "lwIP: no connection after 10 s (%llu packets to the server, %llu back)",
                 (unsigned long long)pkts_to_server, (unsigned long long)pkts_to_client);
    }
    uint64_t to_server0 = pkts_to_server, to_client0 = pkts_to_client;
    uint64_t sent = 0;
    bool shut = false;
    double last_progress = bench_mono();
    while (run.got < o->bytes) {
        bool progress = false;
        bool wrote = false;
        while (sent < o->bytes) {
            uint32_t room = tcp_sndbuf(run.client);
            if (!room || tcp_sndqueuelen(run.client) >= TCP_SND_QUEUELEN) break;
            size_t off = (size_t)(sent % SRC_LEN);
            uint64_t want = o->bytes - sent;
            if (want > SRC_LEN - off) want = SRC_LEN - off;
            if (want > room) want = room;
            if (want > 0xffff) want = 0xffff;
            err_t err = L.tcp_write(run.client, src + off, (u16_t)want, TCP_WRITE_FLAG_COPY);
            if (err == ERR_MEM) break;
            if (err != ERR_OK) FAIL(r, "lwIP tcp_write error %d", err);
            sent += want;
            wrote = true;
        }
        if (wrote) {
            L.tcp_output(run.client);
            progress = true;
        }
        /* All written: close the sending side, as a file transfer would.
         * The FIN also pushes out a last partial segment Nagle holds. */
        if (sent == o->bytes && !shut) {
            err_t err = L.tcp_shutdown(run.client, 0, 1);
            if (err == ERR_OK) shut = true;
            else if (err != ERR_MEM) FAIL(r, "lwIP tcp_shutdown error %d", err);
        }
        uint64_t before = run.got;
        size_t moved = deliver(&to_server, &nif_server, BATCH);
        moved += deliver(&to_client, &nif_client, BATCH);
        if (moved || run.got != before) progress = true;
        L.sys_check_timeouts();
        if (to_server.failed || to_client.failed) FAIL(r, "lwIP loop queue out of memory");
        if (run.error != ERR_OK) FAIL(r, "lwIP connection error %d", run.error);
        if (run.corrupt) FAIL(r, "lwIP: corrupt data");
        if (progress) {
            last_progress = bench_mono();
        } else if (bench_mono() - last_progress > 10) {
            FAIL(r, "lwIP stalled at %llu of %llu bytes", (unsigned long long)run.got,
                 (unsigned long long)o->bytes);
        }
    }
    r->wall_s = bench_mono() - w0;
    r->cpu_s = bench_cpu() - c0;
    r->bytes = run.got;
    r->data_segs = pkts_to_server - to_server0;
    r->ack_segs = pkts_to_client - to_client0;
    r->mss = run.client->mss;
    snprintf(r->note, sizeof r->note,
             "lwIP %s, two netifs in one process, MTU 1500, TCP_WND=TCP_SND_BUF=%u (fixed)",
             LWIP_VERSION_STRING, (unsigned)TCP_WND);
    r->ok = true;
out:
    /* Abort both ends (RST) and let the packets settle, so the next run
     * starts clean. */
    if (run.client) {
        L.tcp_arg(run.client, NULL);
        L.tcp_err(run.client, NULL);
        L.tcp_abort(run.client);
    }
    if (listener) L.tcp_close(listener);
    if (lwip_ready) deliver_all();
    free(src);
    free(run.dst);
}

/* ---- memory per idle connection -------------------------------------------
 * lwIP takes every PCB, segment and pbuf from malloc in this build, so
 * mallinfo2 sees all of it, as for finack. */

struct memrun {
    struct tcp_pcb **servers;
    unsigned accepted, cap;
    uint64_t got;
};

/* Servers answer with what they got; clients just read. */
static err_t mem_recv(struct memrun *m, bool echo, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    if (err != ERR_OK || !p) {
        if (p) L.pbuf_free(p);
        return ERR_OK;
    }
    uint8_t buf[256];
    u16_t n = L.pbuf_copy_partial(p, buf, sizeof buf, 0);
    m->got += p->tot_len;
    L.tcp_recved(pcb, p->tot_len);
    L.pbuf_free(p);
    if (echo) {
        L.tcp_write(pcb, buf, n, TCP_WRITE_FLAG_COPY);
        L.tcp_output(pcb);
    }
    return ERR_OK;
}

static err_t mem_recv_server(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    return mem_recv(arg, true, pcb, p, err);
}

static err_t mem_recv_client(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    return mem_recv(arg, false, pcb, p, err);
}

static err_t mem_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct memrun *m = arg;
    if (err != ERR_OK || !pcb || m->accepted == m->cap) return ERR_VAL;
    m->servers[m->accepted++] = pcb;
    L.tcp_arg(pcb, m);
    L.tcp_recv(pcb, mem_recv_server);
    return ERR_OK;
}

static err_t mem_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    (void)pcb;
    (void)err;
    return ERR_OK;
}

/* Deliver and run timers for `seconds` (lwIP sends delayed ACKs from its
 * 250 ms fast timer). */
static void settle(double seconds)
{
    for (double t = bench_mono(); bench_mono() - t < seconds;) {
        deliver_all();
        L.sys_check_timeouts();
    }
    deliver_all();
}

/* Nothing in flight, unsent or owed an ACK on any of the connections. */
static bool quiet(struct tcp_pcb **clients, struct tcp_pcb **servers, unsigned n)
{
    if (to_server.count || to_client.count) return false;
    for (unsigned i = 0; i < n; i++) {
        struct tcp_pcb *pc[2] = {clients[i], servers[i]};
        for (int k = 0; k < 2; k++)
            if (pc[k]->unacked || pc[k]->unsent || (pc[k]->flags & TF_ACK_DELAY)) return false;
    }
    return true;
}

/* Abort every PCB on a list, head first (each unlink is then O(1)). */
static void abort_list(struct tcp_pcb **list)
{
    while (list && *list) {
        struct tcp_pcb *pcb = *list;
        L.tcp_arg(pcb, NULL);
        L.tcp_err(pcb, NULL);
        L.tcp_abort(pcb);
        if (*list == pcb) break; /* not unlinked: leave the rest be */
    }
}

/* lwIP's ephemeral ports (TCP_LOCAL_PORT_RANGE_START..END, 0xc000..0xffff)
 * are unique across all its PCBs, whatever the destination: 16383 of them.
 * Beyond that, the clients bind explicit ports from CLIENT_PORT0 up. */
#define LWIP_EPHEMERAL_PORTS (0xffff - 0xc000)
#define CLIENT_PORT0 10000u

/* n connections between the two netifs, spread over bench_conn_ports(n)
 * server ports, all accepted and ESTABLISHED: setup_s times that. With
 * `memory`, the heap and RSS growth with them idle, then after a little
 * data each way. */
static void conn_run(unsigned n, bool memory, struct mem_result *r)
{
    memset(r, 0, sizeof *r);
    r->sizeof_tcb = sizeof(struct tcp_pcb);
    unsigned ports = bench_conn_ports(n);
    bool explicit_ports = n > LWIP_EPHEMERAL_PORTS;
    struct memrun m = {.cap = n};
    struct tcp_pcb **clients = calloc(n, sizeof *clients), *listeners[BENCH_MAX_PORTS] = {0};
    m.servers = calloc(n, sizeof *m.servers);
    unsigned opened = 0;
    if (!clients || !m.servers || ports > BENCH_MAX_PORTS) FAIL(r, "out of memory");
    if (setup(r->why, sizeof r->why)) goto out;
    if (n > 0xffff - CLIENT_PORT0)
        FAIL(r, "lwIP: one client address has %u ports for explicit binds", 0xffff - CLIENT_PORT0);
    settle(0.3); /* earlier runs' last packets and timers */

    for (unsigned k = 0; k < ports; k++) {
        struct tcp_pcb *l = L.tcp_new();
        if (!l || L.tcp_bind(l, netif_ip_addr4(&nif_server), (u16_t)(PORT + 1 + k)) != ERR_OK)
            FAIL(r, "lwIP server bind failed");
        L.tcp_bind_netif(l, &nif_server);
        listeners[k] = L.tcp_listen_with_backlog(l, TCP_DEFAULT_LISTEN_BACKLOG);
        if (!listeners[k]) FAIL(r, "lwIP listen failed");
        L.tcp_arg(listeners[k], &m);
        L.tcp_accept(listeners[k], mem_accept);
    }
    r->ports = ports;
    if (explicit_ports)
        snprintf(r->note, sizeof r->note,
                 "clients bind ports %u.. (lwIP has %u ephemeral ports in all)", CLIENT_PORT0,
                 LWIP_EPHEMERAL_PORTS);

    /* The harness's queues grown first, so that they are not counted as
     * lwIP's: a packet per connection each way at once, twice over. */
    if (memory && (!lq_grow(&to_server, 2 * (size_t)n + 256) ||
                   !lq_grow(&to_client, 2 * (size_t)n + 256)))
        FAIL(r, "out of memory for the loop queues");
    size_t heap0 = bench_heap_in_use(), rss0 = bench_rss();
    double w0 = bench_mono();
    for (; opened < n; opened++) {
        struct tcp_pcb *c = L.tcp_new();
        if (!c) FAIL(r, "tcp_new failed at %u", opened);
        u16_t port = explicit_ports ? (u16_t)(CLIENT_PORT0 + opened) : 0;
        if (L.tcp_bind(c, netif_ip_addr4(&nif_client), port) != ERR_OK) {
            L.tcp_abort(c);
            FAIL(r, "lwIP bind failed at connection %u", opened);
        }
        L.tcp_bind_netif(c, &nif_client);
        L.tcp_arg(c, &m);
        L.tcp_recv(c, mem_recv_client);
        if (L.tcp_connect(c, netif_ip_addr4(&nif_server), (u16_t)(PORT + 1 + opened % ports),
                          mem_connected) != ERR_OK) {
            L.tcp_abort(c);
            FAIL(r, "lwIP connect failed at connection %u", opened);
        }
        clients[opened] = c;
        if (opened % 128 == 127) deliver_all();
    }
    deliver_all();
    r->setup_s = bench_mono() - w0;
    if (m.accepted < n) FAIL(r, "lwIP accepted %u of %u connections", m.accepted, n);
    for (unsigned i = 0; i < n; i++)
        if (clients[i]->state != ESTABLISHED || m.servers[i]->state != ESTABLISHED)
            FAIL(r, "lwIP connection %u is not ESTABLISHED", i);
    r->conns = n;
    if (!memory) {
        r->ok = true;
        goto out;
    }
    for (double t = bench_mono(); !quiet(clients, m.servers, n); settle(0.05))
        if (bench_mono() - t > 60) FAIL(r, "lwIP: handshakes not settled after 60 s");
    size_t heap1 = bench_heap_in_use(), rss1 = bench_rss();

    static const char hello[64] = "finack bench: a little data to allocate the buffers";
    for (unsigned i = 0; i < n; i++) {
        if (L.tcp_write(clients[i], hello, sizeof hello, TCP_WRITE_FLAG_COPY) != ERR_OK)
            FAIL(r, "lwIP tcp_write failed on connection %u", i);
        L.tcp_output(clients[i]);
    }
    /* Until every byte is read and acknowledged: lwIP finds a PCB by a walk
     * of one list, so with 2n PCBs this takes a while. */
    for (double t = bench_mono(); !quiet(clients, m.servers, n); settle(0.05))
        if (bench_mono() - t > 60) FAIL(r, "lwIP: data not acknowledged after 60 s");
    if (m.got != 2ull * n * sizeof hello)
        FAIL(r, "lwIP moved %llu of %llu bytes", (unsigned long long)m.got,
             2ull * n * sizeof hello);
    size_t heap2 = bench_heap_in_use(), rss2 = bench_rss();
    double ends = 2.0 * n;
    r->heap_nobuf = ((double)heap1 - (double)heap0) / ends;
    r->heap_buf = ((double)heap2 - (double)heap0) / ends;
    r->rss_nobuf = ((double)rss1 - (double)rss0) / ends;
    r->rss_buf = ((double)rss2 - (double)rss0) / ends;
    r->sndbuf = TCP_SND_BUF;
    r->rcvbuf = TCP_WND;
    r->ok = true;
out:
    /* Abort every connection, both ends; the RSTs then find no PCB. Taken
     * from the head of lwIP's lists, or by the clients when the list heads
     * are not exported (then the servers' PCBs go with the RSTs, one list
     * walk each). */
    if (lwip_active_pcbs) {
        abort_list(lwip_active_pcbs);
        abort_list(lwip_bound_pcbs);
    } else {
        for (unsigned i = 0; clients && i < opened; i++) {
            L.tcp_arg(clients[i], NULL);
            L.tcp_abort(clients[i]);
        }
    }
    for (unsigned k = 0; k < ports && k < BENCH_MAX_PORTS; k++)
        if (listeners[k]) L.tcp_close(listeners[k]);
    if (lwip_ready) settle(0.01);
    free(clients);
    free(m.servers);
}

void lwip_idle_memory(const struct bench_opts *o, struct mem_result *r)
{
    conn_run(o->conns, true, r);
}

void lwip_connect_rate(unsigned n, struct mem_result *r)
{
    conn_run(n, false, r);
}

size_t lwip_sizeof_pcb(void) { return sizeof(struct tcp_pcb); }
