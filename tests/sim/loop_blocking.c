/* The run loop and its blocking calls (finack/loop.h), in real time with
 * real threads: two stacks, 10.0.0.1/24 (A, the server) and 10.0.0.2/24
 * (B, the client), each run by a loop on one end of a datagram socketpair.
 *
 * Nothing here sleeps to let something happen: threads wait only on the
 * calls under test. Every socket gets a 10 s SO_RCVTIMEO/SO_SNDTIMEO, so a
 * lost wake-up fails a check (-EAGAIN) instead of hanging the test. */
#include "finack/loop.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <unistd.h>

#include "finack/runtime.h"
#include "finack/socket.h"
#include "link/loop.h"
#include "loop_pair.h"
#include "test.h"

#define PORT 5000

static int listener(struct finack_loop *loop, uint16_t port, int backlog)
{
    int fd = loop_tcp_socket(loop, 0);
    struct sockaddr_in sin = sin_of(ADDR_A, port);
    if (fd < 0 || finack_loop_bind(loop, fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        finack_loop_listen(loop, fd, backlog) != 0)
        return -1;
    return fd;
}

static int connect_to(struct finack_loop *loop, uint32_t addr, uint16_t port, int *err)
{
    int fd = loop_tcp_socket(loop, 0);
    if (fd < 0) return fd;
    struct sockaddr_in sin = sin_of(addr, port);
    *err = finack_loop_connect(loop, fd, (struct sockaddr *)&sin, sizeof sin);
    return fd;
}

/* A connected pair of sockets: *c on B, *s on A. */
static bool connected(struct loop_pair *p, int *lfd, int *c, int *s)
{
    *lfd = listener(p->loop_a, PORT, 16);
    if (*lfd < 0) return false;
    int err = -1;
    *c = connect_to(p->loop_b, ADDR_A, PORT, &err);
    if (*c < 0 || err != 0) return false;
    *s = finack_loop_accept(p->loop_a, *lfd, NULL, NULL);
    return *s >= 0;
}

static uint8_t pattern(size_t i, unsigned seed)
{
    return (uint8_t)(i * 7u + (i >> 8) * 13u + seed * 101u);
}

static void fill(uint8_t *buf, size_t len, size_t offset, unsigned seed)
{
    for (size_t i = 0; i < len; i++) buf[i] = pattern(offset + i, seed);
}

/* ---- 1 MB each way of a half-closed connection ---------------------------------------------- */

#define BULK (1u << 20)
#define REPLY (100u * 1024)

struct bulk_server {
    struct finack_loop *loop;
    int lfd;
    size_t received;
    bool exact;
    ssize_t eof, sent;
};

static void *bulk_server_main(void *arg)
{
    struct bulk_server *sv = arg;
    int fd = finack_loop_accept(sv->loop, sv->lfd, NULL, NULL);
    if (fd < 0) return NULL;
    uint8_t buf[8192], want[8192];
    sv->exact = true;
    for (;;) {
        ssize_t n = finack_loop_recv(sv->loop, fd, buf, sizeof buf, 0);
        if (n <= 0) {
            sv->eof = n;
            break;
        }
        fill(want, (size_t)n, sv->received, 1);
        if (memcmp(buf, want, (size_t)n) != 0) sv->exact = false;
        sv->received += (size_t)n;
    }
    /* Half-close: the client's FIN ended its direction only. */
    uint8_t *reply = malloc(REPLY);
    if (reply) {
        fill(reply, REPLY, 0, 2);
        sv->sent = finack_loop_send(sv->loop, fd, reply, REPLY, 0);
        free(reply);
    }
    finack_loop_close(sv->loop, fd);
    return NULL;
}

static void test_bulk_half_close(void)
{
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    struct bulk_server sv = {.loop = p.loop_a, .lfd = listener(p.loop_a, PORT, 4), .eof = 99};
    REQUIRE(sv.lfd >= 0);
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, bulk_server_main, &sv) == 0);

    int err = -1;
    int fd = connect_to(p.loop_b, ADDR_A, PORT, &err);
    CHECK_EQ(err, 0);
    uint8_t *data = malloc(BULK);
    fill(data, BULK, 0, 1);
    CHECK_EQ(finack_loop_send(p.loop_b, fd, data, BULK, 0), BULK);
    CHECK_EQ(finack_loop_shutdown(p.loop_b, fd, SHUT_WR), 0);
    size_t got = 0;
    bool exact = true;
    for (;;) {
        ssize_t n = finack_loop_recv(p.loop_b, fd, data, BULK, 0);
        CHECK(n >= 0);
        if (n <= 0) break;
        uint8_t *want = malloc((size_t)n);
        fill(want, (size_t)n, got, 2);
        if (memcmp(data, want, (size_t)n) != 0) exact = false;
        free(want);
        got += (size_t)n;
    }
    pthread_join(th, NULL);
    CHECK_EQ(sv.received, BULK);
    CHECK(sv.exact);
    CHECK_EQ(sv.eof, 0);
    CHECK_EQ(sv.sent, REPLY);
    CHECK_EQ(got, REPLY);
    CHECK(exact);
    /* EOF again, as often as asked. */
    CHECK_EQ(finack_loop_recv(p.loop_b, fd, data, 16, 0), 0);
    free(data);
    finack_loop_close(p.loop_b, fd);
    finack_loop_close(p.loop_a, sv.lfd);
    loop_pair_close(&p);
}

/* ---- send() blocks on a full buffer until the peer reads ------------------------------------ */

#define FULL_LEN (64u * 1024)

struct blocked_sender {
    struct finack_loop *loop;
    int fd;
    const uint8_t *data;
    ssize_t rc;
    atomic_bool returned;
};

static void *sender_main(void *arg)
{
    struct blocked_sender *bs = arg;
    bs->rc = finack_loop_send(bs->loop, bs->fd, bs->data, FULL_LEN, 0);
    atomic_store(&bs->returned, true);
    return NULL;
}

static void test_send_blocks_until_read(void)
{
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    int lfd = listener(p.loop_a, PORT, 4);
    int small = 8192;
    CHECK_EQ(finack_loop_setsockopt(p.loop_a, lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    int c = loop_tcp_socket(p.loop_b, 0);
    int snd = 4608;
    CHECK_EQ(finack_loop_setsockopt(p.loop_b, c, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd), 0);
    struct sockaddr_in sin = sin_of(ADDR_A, PORT);
    CHECK_EQ(finack_loop_connect(p.loop_b, c, (struct sockaddr *)&sin, sizeof sin), 0);
    int s = finack_loop_accept(p.loop_a, lfd, NULL, NULL);
    REQUIRE(s >= 0);

    uint8_t *data = malloc(FULL_LEN);
    fill(data, FULL_LEN, 0, 3);
    struct blocked_sender bs = {.loop = p.loop_b, .fd = c, .data = data};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, sender_main, &bs) == 0);
    /* The sender is asleep in send(), data has reached the server, and
     * 64 KiB cannot fit 4.5 KiB + 8 KiB of buffers: it must wait for us. */
    CHECK(loop_await_waiters(p.loop_b, 1));
    struct pollfd pfd = {.fd = s, .events = POLLIN};
    CHECK_EQ(finack_loop_poll(p.loop_a, &pfd, 1, GUARD_MS), 1);
    CHECK(!atomic_load(&bs.returned));

    uint8_t *got = malloc(FULL_LEN);
    size_t n = 0;
    while (n < FULL_LEN) {
        ssize_t r = finack_loop_recv(p.loop_a, s, got + n, FULL_LEN - n, 0);
        CHECK(r > 0);
        if (r <= 0) break;
        n += (size_t)r;
    }
    pthread_join(th, NULL);
    CHECK_EQ(bs.rc, FULL_LEN);
    CHECK_EQ(n, FULL_LEN);
    CHECK_MEM(got, data, FULL_LEN);
    free(got);
    free(data);
    finack_loop_close(p.loop_b, c);
    finack_loop_close(p.loop_a, s);
    finack_loop_close(p.loop_a, lfd);
    loop_pair_close(&p);
}

/* ---- Timeouts, refusals, non-blocking sockets ----------------------------------------------- */

static void test_recv_timeout(void)
{
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    int lfd, c, s;
    REQUIRE(connected(&p, &lfd, &c, &s));
    CHECK_EQ(loop_set_timeo(p.loop_b, c, SO_RCVTIMEO, 50), 0);
    struct timeval tv;
    socklen_t len = sizeof tv;
    CHECK_EQ(finack_loop_getsockopt(p.loop_b, c, SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
    CHECK_EQ(len, sizeof tv);
    CHECK_EQ(tv.tv_sec, 0);
    CHECK_EQ(tv.tv_usec, 50000);
    uint8_t buf[16];
    finack_time_t t0 = finack_clock_now();
    CHECK_EQ(finack_loop_recv(p.loop_b, c, buf, sizeof buf, 0), -EAGAIN);
    double ms = ms_since(t0);
    if (ms < 50.0) test_fail(__FILE__, __LINE__, "recv returned after %.3f ms, before 50", ms);
    /* accept() times out by SO_RCVTIMEO too. */
    CHECK_EQ(loop_set_timeo(p.loop_a, lfd, SO_RCVTIMEO, 20), 0);
    t0 = finack_clock_now();
    CHECK_EQ(finack_loop_accept(p.loop_a, lfd, NULL, NULL), -EAGAIN);
    CHECK(ms_since(t0) >= 20.0);
    finack_loop_close(p.loop_b, c);
    finack_loop_close(p.loop_a, s);
    finack_loop_close(p.loop_a, lfd);
    loop_pair_close(&p);
}

/* SO_RCVTIMEO/SO_SNDTIMEO take a struct timeval with Linux's rules. */
static void test_timeout_options(void)
{
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    int fd = finack_loop_socket(p.loop_b, AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 1, .tv_usec = 1000000};
    CHECK_EQ(finack_loop_setsockopt(p.loop_b, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), -EDOM);
    tv.tv_usec = -1;
    CHECK_EQ(finack_loop_setsockopt(p.loop_b, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), -EDOM);
    tv.tv_usec = 0;
    CHECK_EQ(finack_loop_setsockopt(p.loop_b, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv - 1),
             -EINVAL);
    tv = (struct timeval){.tv_sec = 3, .tv_usec = 250};
    CHECK_EQ(finack_loop_setsockopt(p.loop_b, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv), 0);
    struct timeval out = {9, 9};
    socklen_t len = sizeof out;
    CHECK_EQ(finack_loop_getsockopt(p.loop_b, fd, SOL_SOCKET, SO_SNDTIMEO, &out, &len), 0);
    CHECK_EQ(out.tv_sec, 3);
    CHECK_EQ(out.tv_usec, 250);
    /* The default, and 0, wait for ever; a negative time does not wait. */
    len = sizeof out;
    CHECK_EQ(finack_loop_getsockopt(p.loop_b, fd, SOL_SOCKET, SO_RCVTIMEO, &out, &len), 0);
    CHECK_EQ(out.tv_sec, 0);
    CHECK_EQ(out.tv_usec, 0);
    tv = (struct timeval){.tv_sec = -1, .tv_usec = 0};
    CHECK_EQ(finack_loop_setsockopt(p.loop_b, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    len = sizeof out;
    CHECK_EQ(finack_loop_getsockopt(p.loop_b, fd, SOL_SOCKET, SO_RCVTIMEO, &out, &len), 0);
    CHECK_EQ(out.tv_sec, 0);
    CHECK_EQ(out.tv_usec, 0);
    finack_loop_close(p.loop_b, fd);

    /* A negative timeout: accept() answers at once, as non-blocking. */
    int lfd = listener(p.loop_a, PORT, 4);
    CHECK_EQ(finack_loop_setsockopt(p.loop_a, lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), 0);
    CHECK_EQ(finack_loop_accept(p.loop_a, lfd, NULL, NULL), -EAGAIN);
    finack_loop_close(p.loop_a, lfd);
    loop_pair_close(&p);
}

static void test_connect_refused(void)
{
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    int err = 0;
    int fd = connect_to(p.loop_b, ADDR_A, 5999, &err);
    CHECK_EQ(err, -ECONNREFUSED);
    finack_loop_close(p.loop_b, fd);
    loop_pair_close(&p);
}

/* SO_SNDTIMEO bounds a blocking connect: EINPROGRESS, as Linux. */
static void test_connect_timeout(void)
{
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    int fd = loop_tcp_socket(p.loop_b, 0);
    CHECK_EQ(loop_set_timeo(p.loop_b, fd, SO_SNDTIMEO, 30), 0);
    struct sockaddr_in sin = sin_of(0x0a000003u, PORT); /* nobody answers */
    finack_time_t t0 = finack_clock_now();
    CHECK_EQ(finack_loop_connect(p.loop_b, fd, (struct sockaddr *)&sin, sizeof sin),
             -EINPROGRESS);
    CHECK(ms_since(t0) >= 30.0);
    CHECK_EQ(finack_loop_connect(p.loop_b, fd, (struct sockaddr *)&sin, sizeof sin), -EALREADY);
    finack_loop_close(p.loop_b, fd);
    loop_pair_close(&p);
}

static void test_nonblocking(void)
{
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    int lfd = listener(p.loop_a, PORT, 4);
    CHECK_EQ(finack_loop_set_nonblock(p.loop_a, lfd, true), 0);
    CHECK_EQ(finack_loop_accept(p.loop_a, lfd, NULL, NULL), -EAGAIN);
    CHECK_EQ(finack_loop_set_nonblock(p.loop_a, lfd, false), 0);

    int c = loop_tcp_socket(p.loop_b, SOCK_NONBLOCK);
    struct sockaddr_in sin = sin_of(ADDR_A, PORT);
    CHECK_EQ(finack_loop_connect(p.loop_b, c, (struct sockaddr *)&sin, sizeof sin), -EINPROGRESS);
    struct pollfd pfd = {.fd = c, .events = POLLOUT};
    CHECK_EQ(finack_loop_poll(p.loop_b, &pfd, 1, GUARD_MS), 1);
    CHECK(pfd.revents & POLLOUT);
    CHECK_EQ(finack_loop_connect(p.loop_b, c, (struct sockaddr *)&sin, sizeof sin), 0);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    int s = finack_loop_accept(p.loop_a, lfd, (struct sockaddr *)&peer, &plen);
    REQUIRE(s >= 0);
    CHECK_EQ(ntohl(peer.sin_addr.s_addr), ADDR_B);
    uint8_t buf[8];
    CHECK_EQ(finack_loop_recv(p.loop_b, c, buf, sizeof buf, 0), -EAGAIN);
    /* Accepted sockets block (accept, not accept4)... but MSG_DONTWAIT not. */
    CHECK_EQ(finack_loop_recv(p.loop_a, s, buf, sizeof buf, MSG_DONTWAIT), -EAGAIN);
    CHECK_EQ(finack_loop_set_nonblock(p.loop_a, s, true), 0);
    CHECK_EQ(finack_loop_recv(p.loop_a, s, buf, sizeof buf, 0), -EAGAIN);
    CHECK_EQ(finack_loop_set_nonblock(p.loop_a, 99, true), -EBADF);
    finack_loop_close(p.loop_b, c);
    finack_loop_close(p.loop_a, s);
    finack_loop_close(p.loop_a, lfd);
    loop_pair_close(&p);
}

/* ---- poll() --------------------------------------------------------------------------------- */

struct poke {
    struct finack_loop *waiting_loop, *send_loop;
    int fd;
    ssize_t rc;
};

static void *poke_main(void *arg)
{
    struct poke *pk = arg;
    /* Once the poller sleeps, so that the wake-up is what is tested. */
    if (loop_await_waiters(pk->waiting_loop, 1))
        pk->rc = finack_loop_send(pk->send_loop, pk->fd, "x", 1, 0);
    return NULL;
}

static void test_poll(void)
{
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    int lfd, c, s;
    REQUIRE(connected(&p, &lfd, &c, &s));
    struct pollfd pfd[2] = {{.fd = c, .events = POLLIN}, {.fd = -1, .events = POLLIN}};
    /* Nothing to read: 0 after the timeout, and no sooner. */
    finack_time_t t0 = finack_clock_now();
    CHECK_EQ(finack_loop_poll(p.loop_b, pfd, 2, 20), 0);
    CHECK(ms_since(t0) >= 20.0);
    CHECK_EQ(pfd[0].revents, 0);
    CHECK_EQ(finack_loop_poll(p.loop_b, pfd, 2, 0), 0);
    /* A byte sent while the poller sleeps wakes it. */
    struct poke pk = {.waiting_loop = p.loop_b, .send_loop = p.loop_a, .fd = s, .rc = -1};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, poke_main, &pk) == 0);
    CHECK_EQ(finack_loop_poll(p.loop_b, pfd, 2, GUARD_MS), 1);
    CHECK_EQ(pfd[0].revents, POLLIN);
    pthread_join(th, NULL);
    CHECK_EQ(pk.rc, 1);
    /* A closed handle: POLLNVAL. */
    struct pollfd bad = {.fd = 77, .events = POLLIN};
    CHECK_EQ(finack_loop_poll(p.loop_b, &bad, 1, GUARD_MS), 1);
    CHECK_EQ(bad.revents, POLLNVAL);
    finack_loop_close(p.loop_b, c);
    finack_loop_close(p.loop_a, s);
    finack_loop_close(p.loop_a, lfd);
    loop_pair_close(&p);
}

/* The descriptor an application adds to its own epoll set: readable when
 * a finack socket may have become ready, and finack_loop_poll then says
 * which. */
static void test_ready_fd_in_own_epoll(void)
{
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    int lfd, c, s;
    REQUIRE(connected(&p, &lfd, &c, &s));
    int rfd = finack_loop_ready_fd(p.loop_b);
    REQUIRE(rfd >= 0);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    REQUIRE(ep >= 0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = rfd};
    REQUIRE(epoll_ctl(ep, EPOLL_CTL_ADD, rfd, &ev) == 0);
    uint64_t count;
    while (read(rfd, &count, sizeof count) == (ssize_t)sizeof count) {
    } /* what the handshake signalled */
    struct pollfd pfd = {.fd = c, .events = POLLIN};
    CHECK_EQ(finack_loop_poll(p.loop_b, &pfd, 1, 0), 0);
    CHECK_EQ(finack_loop_send(p.loop_a, s, "x", 1, 0), 1);
    /* The byte's arrival makes the descriptor readable (an earlier change,
     * an ACK of the handshake, may wake it first: then it wakes again). */
    int ready = 0;
    finack_time_t t0 = finack_clock_now();
    while (!ready && ms_since(t0) < GUARD_MS) {
        struct epoll_event got;
        if (epoll_wait(ep, &got, 1, GUARD_MS) != 1) break;
        CHECK_EQ(got.data.fd, rfd);
        CHECK_EQ(read(rfd, &count, sizeof count), (ssize_t)sizeof count);
        ready = finack_loop_poll(p.loop_b, &pfd, 1, 0);
    }
    CHECK_EQ(ready, 1);
    CHECK_EQ(pfd.revents, POLLIN);
    close(ep);
    finack_loop_close(p.loop_b, c);
    finack_loop_close(p.loop_a, s);
    finack_loop_close(p.loop_a, lfd);
    loop_pair_close(&p);
}

/* ---- Many threads: no lost wake-ups --------------------------------------------------------- */

#define CLIENTS 8
#define CONNS_PER_CLIENT 50
#define ROUNDS 3

struct many {
    struct loop_pair *p;
    int lfd;
    atomic_int failures;
    atomic_int served, echoed;
};

static void *echo_worker_main(void *arg)
{
    struct many *m = arg;
    uint8_t buf[4096];
    /* Each worker serves as many connections as one client makes: the
     * workers together accept exactly every connection. */
    for (int i = 0; i < CONNS_PER_CLIENT; i++) {
        int fd = finack_loop_accept(m->p->loop_a, m->lfd, NULL, NULL);
        if (fd < 0) {
            atomic_fetch_add(&m->failures, 1);
            return NULL;
        }
        for (;;) {
            ssize_t n = finack_loop_recv(m->p->loop_a, fd, buf, sizeof buf, 0);
            if (n == 0) break;
            if (n < 0 || finack_loop_send(m->p->loop_a, fd, buf, (size_t)n, 0) != n) {
                atomic_fetch_add(&m->failures, 1);
                break;
            }
        }
        finack_loop_close(m->p->loop_a, fd);
        atomic_fetch_add(&m->served, 1);
    }
    return NULL;
}

struct client_arg {
    struct many *m;
    unsigned id;
};

static void *echo_client_main(void *arg)
{
    struct client_arg *ca = arg;
    struct many *m = ca->m;
    struct finack_loop *loop = m->p->loop_b;
    static const size_t sizes[] = {1, 100, 1460, 3000, 20000, 777};
    uint8_t *out = malloc(20000), *in = malloc(20000);
    for (int i = 0; i < CONNS_PER_CLIENT && out && in; i++) {
        int err = -1;
        int fd = connect_to(loop, ADDR_A, PORT, &err);
        if (err != 0) {
            atomic_fetch_add(&m->failures, 1);
            finack_loop_close(loop, fd);
            continue;
        }
        int one = 1;
        finack_loop_setsockopt(loop, fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        for (int r = 0; r < ROUNDS; r++) {
            size_t len = sizes[(ca->id + (unsigned)i + (unsigned)r) % 6];
            unsigned seed = ca->id * 1000u + (unsigned)i * 10u + (unsigned)r;
            fill(out, len, 0, seed);
            if (finack_loop_send(loop, fd, out, len, 0) != (ssize_t)len ||
                finack_loop_recv(loop, fd, in, len, MSG_WAITALL) != (ssize_t)len ||
                memcmp(in, out, len) != 0) {
                atomic_fetch_add(&m->failures, 1);
                break;
            }
            atomic_fetch_add(&m->echoed, 1);
        }
        finack_loop_close(loop, fd);
    }
    free(out);
    free(in);
    return NULL;
}

static void test_many_threads(void)
{
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    struct many m = {.p = &p, .lfd = listener(p.loop_a, PORT, 128)};
    REQUIRE(m.lfd >= 0);
    int one = 1;
    finack_loop_setsockopt(p.loop_a, m.lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_t workers[CLIENTS], clients[CLIENTS];
    struct client_arg args[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        REQUIRE(pthread_create(&workers[i], NULL, echo_worker_main, &m) == 0);
    for (int i = 0; i < CLIENTS; i++) {
        args[i] = (struct client_arg){.m = &m, .id = (unsigned)i};
        REQUIRE(pthread_create(&clients[i], NULL, echo_client_main, &args[i]) == 0);
    }
    for (int i = 0; i < CLIENTS; i++) pthread_join(clients[i], NULL);
    for (int i = 0; i < CLIENTS; i++) pthread_join(workers[i], NULL);
    CHECK_EQ(atomic_load(&m.failures), 0);
    CHECK_EQ(atomic_load(&m.served), CLIENTS * CONNS_PER_CLIENT);
    CHECK_EQ(atomic_load(&m.echoed), CLIENTS * CONNS_PER_CLIENT * ROUNDS);
    finack_loop_close(p.loop_a, m.lfd);
    loop_pair_close(&p);
}

/* ---- A server restarting on its port while TIME_WAIT holds it ------------------------------- */

static void state_of(void *ctx, struct finack_stack *stack)
{
    const char **out = ctx;
    int fd = (int)(intptr_t)out[1];
    out[0] = finack_socket_state(stack, fd);
}

static void test_server_restart(void)
{
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    int lfd, c, s;
    REQUIRE(connected(&p, &lfd, &c, &s));
    /* The server sets SO_REUSEADDR (Linux wants it on the old socket as
     * well as on the new one). */
    int one = 1;
    CHECK_EQ(finack_loop_setsockopt(p.loop_a, s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    /* The server closes first (its FIN, then the client's): it ends in
     * TIME_WAIT, which holds the port for 2·MSL. */
    CHECK_EQ(finack_loop_shutdown(p.loop_a, s, SHUT_WR), 0);
    uint8_t buf[8];
    CHECK_EQ(finack_loop_recv(p.loop_b, c, buf, sizeof buf, 0), 0);
    CHECK_EQ(finack_loop_close(p.loop_b, c), 0);
    CHECK_EQ(finack_loop_recv(p.loop_a, s, buf, sizeof buf, 0), 0);
    const char *st[2] = {NULL, (const char *)(intptr_t)s};
    finack_loop_call(p.loop_a, state_of, st);
    CHECK_STR(st[0], "TIME_WAIT");
    CHECK_EQ(finack_loop_close(p.loop_a, s), 0);
    CHECK_EQ(finack_loop_close(p.loop_a, lfd), 0);

    struct sockaddr_in sin = sin_of(ADDR_A, PORT);
    int fd = loop_tcp_socket(p.loop_a, 0);
    CHECK_EQ(finack_loop_bind(p.loop_a, fd, (struct sockaddr *)&sin, sizeof sin), -EADDRINUSE);
    CHECK_EQ(finack_loop_setsockopt(p.loop_a, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    CHECK_EQ(finack_loop_bind(p.loop_a, fd, (struct sockaddr *)&sin, sizeof sin), 0);
    CHECK_EQ(finack_loop_listen(p.loop_a, fd, 4), 0);
    /* And it serves. */
    int err = -1;
    c = connect_to(p.loop_b, ADDR_A, PORT, &err);
    CHECK_EQ(err, 0);
    s = finack_loop_accept(p.loop_a, fd, NULL, NULL);
    CHECK(s >= 0);
    CHECK_EQ(finack_loop_send(p.loop_b, c, "hi", 2, 0), 2);
    CHECK_EQ(finack_loop_recv(p.loop_a, s, buf, sizeof buf, 0), 2);
    finack_loop_close(p.loop_b, c);
    finack_loop_close(p.loop_a, s);
    finack_loop_close(p.loop_a, fd);
    loop_pair_close(&p);
}

/* ---- Stopping the loop under a waiting call ------------------------------------------------- */

struct waiting_recv {
    struct finack_loop *loop;
    int fd;
    ssize_t rc;
};

static void *waiting_recv_main(void *arg)
{
    struct waiting_recv *w = arg;
    uint8_t buf[8];
    w->rc = finack_loop_recv(w->loop, w->fd, buf, sizeof buf, 0);
    return NULL;
}

static void test_stop_cancels(void)
{
    struct loop_pair p;
    REQUIRE(loop_pair_open(&p));
    int lfd, c, s;
    REQUIRE(connected(&p, &lfd, &c, &s));
    struct waiting_recv w = {.loop = p.loop_b, .fd = c, .rc = 1};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, waiting_recv_main, &w) == 0);
    CHECK(loop_await_waiters(p.loop_b, 1));
    finack_loop_stop(p.loop_b);
    p.loop_b = NULL;
    pthread_join(th, NULL);
    CHECK_EQ(w.rc, -ECANCELED);
    /* The stack is the caller's again. */
    CHECK_STR(finack_socket_state(p.b, c), "ESTABLISHED");
    CHECK_EQ(finack_close(p.b, c), 0);
    finack_loop_close(p.loop_a, s);
    finack_loop_close(p.loop_a, lfd);
    loop_pair_close(&p);
}

TEST_MAIN("loop_blocking", TEST_CASE(test_bulk_half_close), TEST_CASE(test_send_blocks_until_read),
          TEST_CASE(test_recv_timeout), TEST_CASE(test_timeout_options),
          TEST_CASE(test_connect_refused), TEST_CASE(test_connect_timeout),
          TEST_CASE(test_nonblocking), TEST_CASE(test_poll), TEST_CASE(test_many_threads),
          TEST_CASE(test_server_restart), TEST_CASE(test_stop_cancels),
          TEST_CASE(test_ready_fd_in_own_epoll))
