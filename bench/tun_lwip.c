/* lwIP on a TUN device, for finack_tun_bench: Debian's liblwip (2.1.3,
 * its own lwipopts.h: 64 KiB windows with a window-scale shift of 1, no
 * SACK, no timestamps) driven through the raw API from one thread, exactly
 * as finack is: epoll on the device, sys_check_timeouts() for timers.
 *
 * One netif: its output writes the packet to the device (one write per
 * packet, as finack's TUN driver does); what the device reads goes to
 * ip_input(). lwIP is loaded with dlopen(RTLD_DEEPBIND) for the reason
 * lwip_bulk.c gives (shared function names with finack). */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#include "bench.h"
#include "finack/tun.h"
#include "tun_bench.h"

#define LWIP_FUNCS(X)                                                                       \
    X(lwip_init) X(netif_add) X(netif_set_up) X(netif_set_default) X(ip_input) X(pbuf_alloc) \
    X(pbuf_free) X(pbuf_copy_partial) X(pbuf_take) X(tcp_new) X(tcp_bind) X(tcp_bind_netif) \
    X(tcp_listen_with_backlog) X(tcp_accept) X(tcp_arg) X(tcp_recv) X(tcp_err)              \
    X(tcp_connect) X(tcp_write) X(tcp_output) X(tcp_recved) X(tcp_close) X(tcp_shutdown)    \
    X(tcp_sent) X(sys_check_timeouts)

static struct {
#define LWIP_X_FIELD(f) __typeof__(&f) f;
    LWIP_FUNCS(LWIP_X_FIELD)
#undef LWIP_X_FIELD
} L;

static struct netif nif;
static int tun_fd = -1;
static uint64_t segs_in;

static err_t tun_output(struct netif *netif, struct pbuf *p, const ip4_addr_t *dst)
{
    (void)netif;
    (void)dst;
    static uint8_t buf[65536];
    u16_t n = L.pbuf_copy_partial(p, buf, p->tot_len, 0);
    if (write(tun_fd, buf, n) < 0) return ERR_IF; /* a full device queue drops it */
    return ERR_OK;
}

static err_t tun_output_ip6(struct netif *netif, struct pbuf *p, const ip6_addr_t *dst)
{
    (void)netif;
    (void)p;
    (void)dst;
    return ERR_OK;
}

static err_t tun_netif_init(struct netif *netif)
{
    netif->name[0] = 't';
    netif->name[1] = 'n';
    netif->output = tun_output;
    netif->output_ip6 = tun_output_ip6;
    netif->mtu = 1500;
    netif->flags = NETIF_FLAG_LINK_UP;
    return ERR_OK;
}

struct run {
    const struct tun_bench_opts *o;
    struct tcp_pcb *conn;
    bool connected, eof;
    err_t error;
    uint64_t got, segs0;
    double t0;
};

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct run *run = arg;
    static uint8_t buf[65536];
    if (err != ERR_OK) return ERR_OK;
    if (!p) {
        run->eof = true;
        return ERR_OK;
    }
    if (run->got == 0) {
        run->t0 = bench_mono();
        run->segs0 = segs_in;
    }
    for (struct pbuf *q = p; q; q = q->next) {
        (void)buf;
        tun_bench_check(run->got, q->payload, q->len);
        run->got += q->len;
    }
    L.tcp_recved(pcb, p->tot_len);
    L.pbuf_free(p);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct run *run = arg;
    run->error = err;
    run->conn = NULL; /* lwIP has freed it */
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct run *run = arg;
    if (err != ERR_OK || !pcb) return ERR_VAL;
    run->conn = pcb;
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

static int fail(const char *what, int code)
{
    fprintf(stderr, "finack_tun_bench: lwip: %s (%d)\n", what, code);
    return 1;
}

/* Hand every packet waiting on the device to lwIP. */
static void drain(void)
{
    static uint8_t buf[65536];
    for (;;) {
        ssize_t n = read(tun_fd, buf, sizeof buf);
        if (n <= 0) return;
        struct pbuf *p = L.pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
        if (!p) return;
        L.pbuf_take(p, buf, (u16_t)n);
        if (n >= 20 && buf[9] == 6) segs_in++;
        nif.input(p, &nif);
    }
}

int tun_bench_lwip(const struct tun_bench_opts *o)
{
    void *lib = dlopen(FINACK_BENCH_LWIP_LIB, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!lib) return fail(dlerror(), 0);
#define LWIP_X_LOAD(f) \
    if (!(*(void **)&L.f = dlsym(lib, #f))) return fail("lwIP library lacks " #f, 0);
    LWIP_FUNCS(LWIP_X_LOAD)
#undef LWIP_X_LOAD
    struct finack_tun *tun;
    int err = finack_tun_open(&tun, o->tun, 0);
    if (err) return fail("cannot open the TUN device", err);
    tun_fd = finack_tun_fd(tun);

    L.lwip_init();
    ip4_addr_t a, mask, gw;
    a.addr = htonl(o->addr);
    mask.addr = htonl(o->prefix_len ? ~0u << (32 - o->prefix_len) : 0);
    ip4_addr_set_zero(&gw);
    if (!L.netif_add(&nif, &a, &mask, &gw, NULL, tun_netif_init, L.ip_input))
        return fail("netif_add", 0);
    L.netif_set_default(&nif);
    L.netif_set_up(&nif);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, tun_fd, &ev)) return fail("epoll", errno);

    struct run run = {.o = o};
    bool sink = strcmp(o->role, "sink") == 0;
    struct tcp_pcb *pcb = L.tcp_new();
    if (!pcb) return fail("tcp_new", 0);
    L.tcp_arg(pcb, &run);
    if (sink) {
        ip_addr_t any = IPADDR4_INIT(0); /* not IP4_ADDR_ANY: lwIP's global, not linked */
        if (L.tcp_bind(pcb, &any, o->port) != ERR_OK) return fail("tcp_bind", 0);
        struct tcp_pcb *listener = L.tcp_listen_with_backlog(pcb, 8);
        if (!listener) return fail("tcp_listen", 0);
        L.tcp_accept(listener, on_accept);
        printf("ready\n");
        fflush(stdout);
    } else {
        ip_addr_t peer = IPADDR4_INIT(o->peer.sin_addr.s_addr);
        L.tcp_err(pcb, on_err);
        L.tcp_recv(pcb, on_recv);
        run.conn = pcb;
        if (L.tcp_connect(pcb, &peer, ntohs(o->peer.sin_port), on_connected) != ERR_OK)
            return fail("tcp_connect", 0);
    }

    const uint8_t *src = tun_bench_pattern();
    uint64_t sent = 0;
    bool shut = false;
    for (;;) {
        drain();
        L.sys_check_timeouts();
        if (run.error != ERR_OK) return fail("connection error", run.error);
        if (sink && run.eof) {
            tun_bench_report(o, "lwip", run.got, bench_mono() - run.t0, segs_in - run.segs0);
            L.tcp_close(run.conn);
            break;
        }
        if (!sink && run.connected) {
            bool wrote = false;
            while (sent < o->bytes) {
                uint32_t room = tcp_sndbuf(run.conn);
                if (!room || tcp_sndqueuelen(run.conn) >= TCP_SND_QUEUELEN) break;
                size_t off = (size_t)(sent % BENCH_SRC_LEN);
                uint64_t want = o->bytes - sent;
                if (want > BENCH_SRC_LEN - off) want = BENCH_SRC_LEN - off;
                if (want > room) want = room;
                if (want > 0xffff) want = 0xffff;
                if (L.tcp_write(run.conn, src + off, (u16_t)want, TCP_WRITE_FLAG_COPY) != ERR_OK)
                    break;
                sent += want;
                wrote = true;
            }
            if (wrote) L.tcp_output(run.conn);
            if (sent == o->bytes && !shut && L.tcp_shutdown(run.conn, 0, 1) == ERR_OK) shut = true;
            if (run.eof) {
                L.tcp_close(run.conn);
                tun_bench_report(o, "lwip", sent, 0, 0);
                break;
            }
        }
        struct epoll_event out;
        epoll_wait(ep, &out, 1, 5);
    }
    /* Let the last segments go. */
    double end = bench_mono() + 0.2;
    while (bench_mono() < end) {
        drain();
        L.sys_check_timeouts();
        struct epoll_event out;
        epoll_wait(ep, &out, 1, 10);
    }
    close(ep);
    finack_tun_close(tun);
    return 0;
}
