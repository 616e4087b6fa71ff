/* The socket API matrix (issue 5), blocking half: the calls of
 * finack/loop.h that wait (connect, accept, send, recv, poll) against each
 * way a wait can end, and the wrappers that do not wait passing the core's
 * errors through. sim.api_matrix is the non-blocking half and says how the
 * cells are checked against Linux; docs/API.md is the table of both.
 *
 * Real time, real threads: stacks A (10.0.0.1, the server) and B
 * (10.0.0.2, the client), each run by a loop on one end of a datagram
 * socketpair. Nothing sleeps to let something happen: a thread that must
 * be blocked is waited for with loop_waiters(), and every wait is bounded
 * by a 10 s SO_RCVTIMEO/SO_SNDTIMEO so that a lost wake-up fails a check
 * instead of hanging. Timing asserts are one-sided and loose (a timeout
 * did not end early; nothing has to be fast), for a loaded 2-core machine.
 *
 * Each cell makes at least one assertion (EXPECT*), or the runner fails it. */
#include "finack/loop.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/time.h>

#include "finack/runtime.h"
#include "finack/socket.h"
#include "link/loop.h"
#include "loop_pair.h"
#include "test.h"

#define SILENT 0x0a000003u  /* on the subnet, nobody there */
#define PORT 5000

static int cell_checks;

#define EXPECT(cond)           \
    do {                       \
        cell_checks++;         \
        CHECK(cond);           \
    } while (0)
#define EXPECT_EQ(x, y)        \
    do {                       \
        cell_checks++;         \
        CHECK_EQ(x, y);        \
    } while (0)

/* The server's stack goes silent: its loop stops reading the link. */
static void silence_a(struct loop_pair *p)
{
    finack_loop_stop(p->loop_a);
    p->loop_a = NULL;
}

#define SA(x) ((struct sockaddr *)&(x))

static int set_int(struct finack_loop *loop, int fd, int level, int name, int v)
{
    return finack_loop_setsockopt(loop, fd, level, name, &v, sizeof v);
}

static int listener(struct loop_pair *p, uint16_t port)
{
    int fd = loop_tcp_socket(p->loop_a, 0);
    struct sockaddr_in sin = sin_of(ADDR_A, port);
    if (fd < 0 || finack_loop_bind(p->loop_a, fd, SA(sin), sizeof sin) != 0 ||
        finack_loop_listen(p->loop_a, fd, 8) != 0)
        return -1;
    return fd;
}

struct conn3 {
    int c, s, l; /* client on B, accepted on A, listener on A */
};

static bool connected(struct loop_pair *p, struct conn3 *k)
{
    k->l = listener(p, PORT);
    k->c = loop_tcp_socket(p->loop_b, 0);
    struct sockaddr_in sin = sin_of(ADDR_A, PORT);
    if (k->l < 0 || k->c < 0 || finack_loop_connect(p->loop_b, k->c, SA(sin), sizeof sin) != 0)
        return false;
    k->s = finack_loop_accept(p->loop_a, k->l, NULL, NULL);
    return k->s >= 0;
}

/* One blocking call on another thread. */
enum bg_call { BG_ACCEPT, BG_RECV, BG_SEND, BG_POLL };
struct bg {
    pthread_t th;
    enum bg_call call;
    struct finack_loop *loop;
    int fd;
    void *buf;
    size_t len;
    ssize_t rc;
    short revents;
};

static void *bg_main(void *arg)
{
    struct bg *b = arg;
    switch (b->call) {
    case BG_ACCEPT:
        b->rc = finack_loop_accept(b->loop, b->fd, NULL, NULL);
        break;
    case BG_RECV:
        b->rc = finack_loop_recv(b->loop, b->fd, b->buf, b->len, 0);
        break;
    case BG_SEND:
        b->rc = finack_loop_send(b->loop, b->fd, b->buf, b->len, 0);
        break;
    case BG_POLL: {
        struct pollfd pfd = {.fd = b->fd, .events = POLLIN};
        b->rc = finack_loop_poll(b->loop, &pfd, 1, GUARD_MS);
        b->revents = pfd.revents;
        break;
    }
    }
    return NULL;
}

/* Start the call and return once it is asleep in the loop. */
static bool bg_start(struct bg *b)
{
    if (pthread_create(&b->th, NULL, bg_main, b) != 0) return false;
    return loop_await_waiters(b->loop, 1);
}

static char buf[1 << 20];

/* ==== connect ============================================================================= */

static void connect_waits_for_handshake(struct loop_pair *p)
{
    int l = listener(p, PORT);
    int c = loop_tcp_socket(p->loop_b, 0);
    struct sockaddr_in sin = sin_of(ADDR_A, PORT);
    EXPECT(l >= 0);
    EXPECT_EQ(finack_loop_connect(p->loop_b, c, SA(sin), sizeof sin), 0);
    EXPECT_EQ(finack_loop_connect(p->loop_b, c, SA(sin), sizeof sin), -EISCONN);
}

static void connect_econnrefused_then_again(struct loop_pair *p)
{
    /* Linux: a blocking connect() refused is ECONNREFUSED, and the socket
     * may connect again. */
    int c = loop_tcp_socket(p->loop_b, 0);
    struct sockaddr_in sin = sin_of(ADDR_A, PORT);
    EXPECT_EQ(finack_loop_connect(p->loop_b, c, SA(sin), sizeof sin), -ECONNREFUSED);
    EXPECT(listener(p, PORT) >= 0);
    EXPECT_EQ(finack_loop_connect(p->loop_b, c, SA(sin), sizeof sin), 0);
}

static void connect_etimedout_user_timeout(struct loop_pair *p)
{
    int c = loop_tcp_socket(p->loop_b, 0);
    EXPECT_EQ(set_int(p->loop_b, c, IPPROTO_TCP, TCP_USER_TIMEOUT, 300), 0);
    struct sockaddr_in sin = sin_of(SILENT, PORT);
    finack_time_t t0 = finack_clock_now();
    EXPECT_EQ(finack_loop_connect(p->loop_b, c, SA(sin), sizeof sin), -ETIMEDOUT);
    EXPECT(ms_since(t0) >= 300.0);
}

static void connect_einprogress_sndtimeo(struct loop_pair *p)
{
    /* Linux: SO_SNDTIMEO ends the wait, the handshake goes on:
     * EINPROGRESS, then EALREADY. */
    int c = loop_tcp_socket(p->loop_b, 0);
    EXPECT_EQ(loop_set_timeo(p->loop_b, c, SO_SNDTIMEO, 100), 0);
    struct sockaddr_in sin = sin_of(SILENT, PORT);
    finack_time_t t0 = finack_clock_now();
    EXPECT_EQ(finack_loop_connect(p->loop_b, c, SA(sin), sizeof sin), -EINPROGRESS);
    EXPECT(ms_since(t0) >= 100.0);
    EXPECT_EQ(finack_loop_connect(p->loop_b, c, SA(sin), sizeof sin), -EALREADY);
}

static void connect_nonblocking_socket(struct loop_pair *p)
{
    int c = loop_tcp_socket(p->loop_b, SOCK_NONBLOCK);
    struct sockaddr_in sin = sin_of(SILENT, PORT);
    EXPECT_EQ(finack_loop_connect(p->loop_b, c, SA(sin), sizeof sin), -EINPROGRESS);
    EXPECT_EQ(finack_loop_connect(p->loop_b, c, SA(sin), sizeof sin), -EALREADY);
}

/* ==== accept ============================================================================== */

static void accept_waits_for_connection(struct loop_pair *p)
{
    int l = listener(p, PORT);
    struct bg b = {.call = BG_ACCEPT, .loop = p->loop_a, .fd = l};
    EXPECT(bg_start(&b));
    int c = loop_tcp_socket(p->loop_b, 0);
    struct sockaddr_in sin = sin_of(ADDR_A, PORT);
    EXPECT_EQ(finack_loop_connect(p->loop_b, c, SA(sin), sizeof sin), 0);
    pthread_join(b.th, NULL);
    EXPECT(b.rc >= 0);
}

static void accept_eagain_rcvtimeo_and_nonblock(struct loop_pair *p)
{
    int l = listener(p, PORT);
    EXPECT_EQ(loop_set_timeo(p->loop_a, l, SO_RCVTIMEO, 50), 0);
    finack_time_t t0 = finack_clock_now();
    EXPECT_EQ(finack_loop_accept(p->loop_a, l, NULL, NULL), -EAGAIN);
    EXPECT(ms_since(t0) >= 50.0);
    EXPECT_EQ(finack_loop_set_nonblock(p->loop_a, l, true), 0);
    EXPECT_EQ(finack_loop_accept(p->loop_a, l, NULL, NULL), -EAGAIN);
}

static void accept_ecanceled_on_stop(struct loop_pair *p)
{
    int l = listener(p, PORT);
    struct bg b = {.call = BG_ACCEPT, .loop = p->loop_a, .fd = l};
    EXPECT(bg_start(&b));
    silence_a(p); /* stops the loop under the waiting call */
    pthread_join(b.th, NULL);
    EXPECT_EQ(b.rc, -ECANCELED);
}

/* ==== recv ================================================================================ */

/* The article: recv() blocks until data arrives. */
static void recv_waits_for_data(struct loop_pair *p)
{
    struct conn3 k;
    EXPECT(connected(p, &k));
    char got[16] = {0};
    struct bg b = {.call = BG_RECV, .loop = p->loop_b, .fd = k.c, .buf = got, .len = sizeof got};
    EXPECT(bg_start(&b));
    EXPECT_EQ(finack_loop_send(p->loop_a, k.s, "late", 4, 0), 4);
    pthread_join(b.th, NULL);
    EXPECT_EQ(b.rc, 4);
    EXPECT(memcmp(got, "late", 4) == 0);
}

static void recv_zero_on_fin_while_waiting(struct loop_pair *p)
{
    struct conn3 k;
    EXPECT(connected(p, &k));
    struct bg b = {.call = BG_RECV, .loop = p->loop_b, .fd = k.c, .buf = buf, .len = 16};
    EXPECT(bg_start(&b));
    EXPECT_EQ(finack_loop_shutdown(p->loop_a, k.s, SHUT_WR), 0);
    pthread_join(b.th, NULL);
    EXPECT_EQ(b.rc, 0);
    /* Half-close: this side still sends, the other still reads. */
    EXPECT_EQ(finack_loop_send(p->loop_b, k.c, "still", 5, 0), 5);
    EXPECT_EQ(finack_loop_recv(p->loop_a, k.s, buf, 16, 0), 5);
}

static void recv_econnreset_while_waiting(struct loop_pair *p)
{
    struct conn3 k;
    EXPECT(connected(p, &k));
    struct bg b = {.call = BG_RECV, .loop = p->loop_b, .fd = k.c, .buf = buf, .len = 16};
    EXPECT(bg_start(&b));
    struct linger lg = {1, 0};
    EXPECT_EQ(finack_loop_setsockopt(p->loop_a, k.s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    EXPECT_EQ(finack_loop_close(p->loop_a, k.s), 0);
    pthread_join(b.th, NULL);
    EXPECT_EQ(b.rc, -ECONNRESET);
    EXPECT_EQ(finack_loop_recv(p->loop_b, k.c, buf, 16, 0), 0);
}

static void recv_eagain_rcvtimeo_and_dontwait(struct loop_pair *p)
{
    struct conn3 k;
    EXPECT(connected(p, &k));
    EXPECT_EQ(finack_loop_recv(p->loop_b, k.c, buf, 16, MSG_DONTWAIT), -EAGAIN);
    EXPECT_EQ(loop_set_timeo(p->loop_b, k.c, SO_RCVTIMEO, 50), 0);
    finack_time_t t0 = finack_clock_now();
    EXPECT_EQ(finack_loop_recv(p->loop_b, k.c, buf, 16, 0), -EAGAIN);
    EXPECT(ms_since(t0) >= 50.0);
}

static void recv_etimedout_keepalive(struct loop_pair *p)
{
    /* SO_KEEPALIVE, idle 1 s, 1 probe 1 s apart: ETIMEDOUT about 2 s
     * after the peer goes silent, while recv() waits. */
    struct conn3 k;
    EXPECT(connected(p, &k));
    EXPECT_EQ(set_int(p->loop_b, k.c, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
    EXPECT_EQ(set_int(p->loop_b, k.c, IPPROTO_TCP, TCP_KEEPIDLE, 1), 0);
    EXPECT_EQ(set_int(p->loop_b, k.c, IPPROTO_TCP, TCP_KEEPINTVL, 1), 0);
    EXPECT_EQ(set_int(p->loop_b, k.c, IPPROTO_TCP, TCP_KEEPCNT, 1), 0);
    silence_a(p);
    finack_time_t t0 = finack_clock_now();
    EXPECT_EQ(finack_loop_recv(p->loop_b, k.c, buf, 16, 0), -ETIMEDOUT);
    EXPECT(ms_since(t0) >= 1500.0);
}

static void recv_etimedout_user_timeout(struct loop_pair *p)
{
    struct conn3 k;
    EXPECT(connected(p, &k));
    EXPECT_EQ(set_int(p->loop_b, k.c, IPPROTO_TCP, TCP_USER_TIMEOUT, 300), 0);
    silence_a(p);
    EXPECT_EQ(finack_loop_send(p->loop_b, k.c, "lost", 4, 0), 4);
    EXPECT_EQ(finack_loop_recv(p->loop_b, k.c, buf, 16, 0), -ETIMEDOUT);
    EXPECT_EQ(finack_loop_send(p->loop_b, k.c, "x", 1, 0), -EPIPE);
}

/* ==== send ================================================================================ */

/* The article: send() returns once the bytes are copied, before the peer
 * has read them (here, before it even tries). */
static void send_returns_after_copy(struct loop_pair *p)
{
    struct conn3 k;
    EXPECT(connected(p, &k));
    static char data[1000], got[1000];
    memset(data, 'd', sizeof data);
    EXPECT_EQ(finack_loop_send(p->loop_b, k.c, data, sizeof data, 0), 1000);
    EXPECT_EQ(finack_loop_recv(p->loop_a, k.s, got, sizeof got, MSG_WAITALL), 1000);
    EXPECT(memcmp(got, data, sizeof got) == 0);
}

static int small_buffers(struct loop_pair *p, struct conn3 *k)
{
    k->l = listener(p, PORT);
    int rcv = 8192, snd = 4608;
    finack_loop_setsockopt(p->loop_a, k->l, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    k->c = loop_tcp_socket(p->loop_b, 0);
    finack_loop_setsockopt(p->loop_b, k->c, SOL_SOCKET, SO_SNDBUF, &snd, sizeof snd);
    struct sockaddr_in sin = sin_of(ADDR_A, PORT);
    if (finack_loop_connect(p->loop_b, k->c, SA(sin), sizeof sin) != 0) return -1;
    k->s = finack_loop_accept(p->loop_a, k->l, NULL, NULL);
    return k->s;
}

static void send_waits_for_room(struct loop_pair *p)
{
    struct conn3 k;
    EXPECT(small_buffers(p, &k) >= 0);
    struct bg b = {.call = BG_SEND, .loop = p->loop_b, .fd = k.c, .buf = buf, .len = 65536};
    EXPECT(bg_start(&b));
    size_t n = 0;
    while (n < 65536) {
        ssize_t r = finack_loop_recv(p->loop_a, k.s, buf + 65536, 65536 - n, 0);
        if (r <= 0) break;
        n += (size_t)r;
    }
    pthread_join(b.th, NULL);
    EXPECT_EQ(b.rc, 65536);
    EXPECT_EQ(n, 65536);
}

static void send_eagain_sndtimeo_partial_then_none(struct loop_pair *p)
{
    /* Linux: a send timeout returns what went in, or EAGAIN if nothing. */
    struct conn3 k;
    EXPECT(small_buffers(p, &k) >= 0);
    EXPECT_EQ(loop_set_timeo(p->loop_b, k.c, SO_SNDTIMEO, 50), 0);
    ssize_t n = finack_loop_send(p->loop_b, k.c, buf, 65536, 0);
    EXPECT(n > 0 && n < 65536);
    finack_time_t t0 = finack_clock_now();
    EXPECT_EQ(finack_loop_send(p->loop_b, k.c, buf, 65536, 0), -EAGAIN);
    EXPECT(ms_since(t0) >= 50.0);
    EXPECT_EQ(finack_loop_send(p->loop_b, k.c, buf, 1, MSG_DONTWAIT), -EAGAIN);
}

static void send_epipe_after_shut_wr(struct loop_pair *p)
{
    struct conn3 k;
    EXPECT(connected(p, &k));
    EXPECT_EQ(finack_loop_shutdown(p->loop_b, k.c, SHUT_WR), 0);
    EXPECT_EQ(finack_loop_send(p->loop_b, k.c, "x", 1, 0), -EPIPE);
}

static void send_econnreset_then_epipe(struct loop_pair *p)
{
    struct conn3 k;
    EXPECT(connected(p, &k));
    struct linger lg = {1, 0};
    finack_loop_setsockopt(p->loop_a, k.s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    finack_loop_close(p->loop_a, k.s);
    struct pollfd pfd = {.fd = k.c, .events = POLLIN};
    EXPECT_EQ(finack_loop_poll(p->loop_b, &pfd, 1, GUARD_MS), 1); /* the RST is in */
    EXPECT_EQ(finack_loop_send(p->loop_b, k.c, "x", 1, 0), -ECONNRESET);
    EXPECT_EQ(finack_loop_send(p->loop_b, k.c, "x", 1, 0), -EPIPE);
}

/* A blocking send() that put some bytes in and then met the reset: the
 * count comes back, and the error is left for the next call. Linux:
 * ECONNRESET from the next send(). Needs src/link/loop.c to continue
 * with socket_send(..., done). */
static void send_partial_then_reset(struct loop_pair *p)
{
    struct conn3 k;
    EXPECT(small_buffers(p, &k) >= 0);
    struct bg b = {.call = BG_SEND, .loop = p->loop_b, .fd = k.c, .buf = buf, .len = 65536};
    EXPECT(bg_start(&b));
    struct linger lg = {1, 0};
    finack_loop_setsockopt(p->loop_a, k.s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    finack_loop_close(p->loop_a, k.s);
    pthread_join(b.th, NULL);
    EXPECT(b.rc > 0 && b.rc < 65536);
    EXPECT_EQ(finack_loop_send(p->loop_b, k.c, "x", 1, 0), -ECONNRESET);
    EXPECT_EQ(finack_loop_send(p->loop_b, k.c, "x", 1, 0), -EPIPE);
}

/* ==== poll ================================================================================ */

static void poll_waits_and_times_out(struct loop_pair *p)
{
    struct conn3 k;
    EXPECT(connected(p, &k));
    struct pollfd pfd = {.fd = k.c, .events = POLLIN};
    EXPECT_EQ(finack_loop_poll(p->loop_b, &pfd, 1, 0), 0);
    finack_time_t t0 = finack_clock_now();
    EXPECT_EQ(finack_loop_poll(p->loop_b, &pfd, 1, 50), 0);
    EXPECT(ms_since(t0) >= 50.0);
    struct bg b = {.call = BG_POLL, .loop = p->loop_b, .fd = k.c};
    EXPECT(bg_start(&b));
    EXPECT_EQ(finack_loop_send(p->loop_a, k.s, "x", 1, 0), 1);
    pthread_join(b.th, NULL);
    EXPECT_EQ(b.rc, 1);
    EXPECT_EQ(b.revents, POLLIN);
    EXPECT_EQ(finack_loop_poll(p->loop_b, NULL, 1, 0), -EFAULT);
}

/* ==== the calls that do not wait ========================================================== */

static void restart_eaddrinuse_then_reuseaddr(struct loop_pair *p)
{
    /* The article's server restart (as sim.loop_blocking
     * test_server_restart, which also serves a client after). */
    struct conn3 k;
    EXPECT(connected(p, &k));
    /* A server with SO_REUSEADDR (on the accepted socket here; Linux also
     * needs it on the old socket, see api_matrix). */
    EXPECT_EQ(set_int(p->loop_a, k.s, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    /* The server closes first, and sees the client's FIN: TIME_WAIT. */
    EXPECT_EQ(finack_loop_shutdown(p->loop_a, k.s, SHUT_WR), 0);
    EXPECT_EQ(finack_loop_recv(p->loop_b, k.c, buf, 16, 0), 0);
    EXPECT_EQ(finack_loop_close(p->loop_b, k.c), 0);
    EXPECT_EQ(finack_loop_recv(p->loop_a, k.s, buf, 16, 0), 0);
    EXPECT_EQ(finack_loop_close(p->loop_a, k.s), 0);
    EXPECT_EQ(finack_loop_close(p->loop_a, k.l), 0);
    int fd = loop_tcp_socket(p->loop_a, 0);
    struct sockaddr_in sin = sin_of(ADDR_A, PORT);
    EXPECT_EQ(finack_loop_bind(p->loop_a, fd, SA(sin), sizeof sin), -EADDRINUSE);
    EXPECT_EQ(set_int(p->loop_a, fd, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    EXPECT_EQ(finack_loop_bind(p->loop_a, fd, SA(sin), sizeof sin), 0);
    EXPECT_EQ(finack_loop_listen(p->loop_a, fd, 4), 0);
}

static void wrappers_pass_errors_through(struct loop_pair *p)
{
    struct sockaddr_in sin = sin_of(ADDR_A, PORT);
    socklen_t len = sizeof sin;
    int v = 0;
    socklen_t vlen = sizeof v;
    EXPECT_EQ(finack_loop_socket(p->loop_b, AF_INET6, SOCK_STREAM, 0), -EAFNOSUPPORT);
    EXPECT_EQ(finack_loop_bind(p->loop_b, 77, SA(sin), sizeof sin), -EBADF);
    EXPECT_EQ(finack_loop_listen(p->loop_b, 77, 1), -EBADF);
    EXPECT_EQ(finack_loop_accept(p->loop_b, 77, NULL, NULL), -EBADF);
    EXPECT_EQ(finack_loop_connect(p->loop_b, 77, SA(sin), sizeof sin), -EBADF);
    EXPECT_EQ(finack_loop_send(p->loop_b, 77, "x", 1, 0), -EBADF);
    EXPECT_EQ(finack_loop_recv(p->loop_b, 77, buf, 1, 0), -EBADF);
    EXPECT_EQ(finack_loop_shutdown(p->loop_b, 77, SHUT_WR), -EBADF);
    EXPECT_EQ(finack_loop_close(p->loop_b, 77), -EBADF);
    EXPECT_EQ(finack_loop_setsockopt(p->loop_b, 77, SOL_SOCKET, SO_REUSEADDR, &v, 4), -EBADF);
    EXPECT_EQ(finack_loop_getsockopt(p->loop_b, 77, SOL_SOCKET, SO_ERROR, &v, &vlen), -EBADF);
    EXPECT_EQ(finack_loop_set_nonblock(p->loop_b, 77, true), -EBADF);
    struct pollfd pfd = {.fd = 77, .events = POLLIN};
    EXPECT_EQ(finack_loop_poll(p->loop_b, &pfd, 1, -1), 1); /* POLLNVAL: no wait */
    EXPECT_EQ(pfd.revents, POLLNVAL);
    /* Blocking sockets fail the same way as the core where nothing waits. */
    int c = loop_tcp_socket(p->loop_b, 0);
    EXPECT_EQ(finack_loop_send(p->loop_b, c, "x", 1, 0), -EPIPE);
    EXPECT_EQ(finack_loop_recv(p->loop_b, c, buf, 1, 0), -ENOTCONN);
    EXPECT_EQ(finack_loop_accept(p->loop_b, c, NULL, NULL), -EINVAL);
    EXPECT_EQ(finack_loop_shutdown(p->loop_b, c, SHUT_RDWR), -ENOTCONN);
    EXPECT_EQ(finack_loop_getsockopt(p->loop_b, c, 12345, 1, &v, &vlen), -EOPNOTSUPP);
    (void)len;
}

/* getsockname()/getpeername() have no finack_loop_* wrapper: they never
 * wait, and run under the loop's lock through finack_loop_call(). */
struct name_call {
    int fd, rc_sock, rc_peer;
    struct sockaddr_in sock, peer;
};

static void names_of(void *ctx, struct finack_stack *stack)
{
    struct name_call *n = ctx;
    socklen_t a = sizeof n->sock, b = sizeof n->peer;
    n->rc_sock = finack_getsockname(stack, n->fd, SA(n->sock), &a);
    n->rc_peer = finack_getpeername(stack, n->fd, SA(n->peer), &b);
}

static void names_through_loop_call(struct loop_pair *p)
{
    struct conn3 k;
    EXPECT(connected(p, &k));
    struct name_call n = {.fd = k.c};
    finack_loop_call(p->loop_b, names_of, &n);
    EXPECT_EQ(n.rc_sock, 0);
    EXPECT_EQ(n.rc_peer, 0);
    EXPECT_EQ(ntohl(n.sock.sin_addr.s_addr), ADDR_B);
    EXPECT_EQ(ntohl(n.peer.sin_addr.s_addr), ADDR_A);
    EXPECT_EQ(ntohs(n.peer.sin_port), PORT);
    struct name_call l = {.fd = k.l};
    finack_loop_call(p->loop_a, names_of, &l);
    EXPECT_EQ(l.rc_sock, 0);
    EXPECT_EQ(l.rc_peer, -ENOTCONN);
}

/* ==== the table =========================================================================== */

struct cell {
    const char *call, *error;
    void (*run)(struct loop_pair *p);
    const char *also;
};

static const struct cell cells[] = {
    {"connect", "ok (waits)", connect_waits_for_handshake, "handshake/active-open-blocking.pkt"},
    {"connect", "ECONNREFUSED, then again", connect_econnrefused_then_again,
     "blocking/blocking-connect-econnrefused.pkt, sim.loop_blocking test_connect_refused"},
    {"connect", "ETIMEDOUT (TCP_USER_TIMEOUT)", connect_etimedout_user_timeout,
     "sim.loop_blocking test_connect_timeout"},
    {"connect", "EINPROGRESS (SO_SNDTIMEO), EALREADY", connect_einprogress_sndtimeo,
     "sim.loop_blocking test_timeout_options"},
    {"connect", "EINPROGRESS (SOCK_NONBLOCK)", connect_nonblocking_socket,
     "sim.loop_blocking test_nonblocking"},
    {"accept", "ok (waits)", accept_waits_for_connection, "blocking/blocking-accept.pkt"},
    {"accept", "EAGAIN (SO_RCVTIMEO, O_NONBLOCK)", accept_eagain_rcvtimeo_and_nonblock,
     "sim.loop_blocking test_recv_timeout"},
    {"accept", "ECANCELED (loop stopped)", accept_ecanceled_on_stop,
     "sim.loop_blocking test_stop_cancels"},
    {"recv", "ok (waits for data)", recv_waits_for_data,
     "blocking/blocking-read-waits-for-data.pkt"},
    {"recv", "0 (FIN while waiting), half-close", recv_zero_on_fin_while_waiting,
     "blocking/blocking-read-returns-0-on-fin.pkt"},
    {"recv", "ECONNRESET (while waiting)", recv_econnreset_while_waiting,
     "blocking/blocking-read-econnreset-on-rst.pkt"},
    {"recv", "EAGAIN (SO_RCVTIMEO, MSG_DONTWAIT)", recv_eagain_rcvtimeo_and_dontwait,
     "sim.loop_blocking test_recv_timeout"},
    {"recv", "ETIMEDOUT (keepalive)", recv_etimedout_keepalive, NULL},
    {"recv", "ETIMEDOUT (TCP_USER_TIMEOUT)", recv_etimedout_user_timeout, NULL},
    {"send", "ok (returns after copy)", send_returns_after_copy, NULL},
    {"send", "ok (waits for room)", send_waits_for_room,
     "blocking/blocking-write-full-sndbuf.pkt, sim.loop_blocking test_send_blocks_until_read"},
    {"send", "partial / EAGAIN (SO_SNDTIMEO, MSG_DONTWAIT)", send_eagain_sndtimeo_partial_then_none,
     NULL},
    {"send", "EPIPE (SHUT_WR)", send_epipe_after_shut_wr, NULL},
    {"send", "ECONNRESET, then EPIPE", send_econnreset_then_epipe, NULL},
    {"send", "partial, then ECONNRESET", send_partial_then_reset, NULL},
    {"poll", "waits, times out, EFAULT", poll_waits_and_times_out,
     "blocking/poll-timeout-and-pollin.pkt, sim.loop_blocking test_poll"},
    {"bind", "EADDRINUSE (TIME_WAIT) / SO_REUSEADDR", restart_eaddrinuse_then_reuseaddr,
     "sim.loop_blocking test_server_restart"},
    {"getpeername", "ok, ENOTCONN (finack_loop_call)", names_through_loop_call, NULL},
    {"all", "errors passed through", wrappers_pass_errors_through, NULL},
};

#define NCELLS (sizeof cells / sizeof cells[0])

static void run_cells(const char *call)
{
    for (size_t i = 0; i < NCELLS; i++) {
        const struct cell *c = &cells[i];
        if (strcmp(c->call, call) != 0) continue;
        struct loop_pair p;
        REQUIRE(loop_pair_open(&p));
        int failed_before = test_current_failed;
        cell_checks = 0;
        c->run(&p);
        if (cell_checks == 0) test_fail(__FILE__, __LINE__, "cell made no assertion");
        if (test_current_failed != failed_before)
            fprintf(stderr, "  ^ in cell %s / blocking / %s\n", c->call, c->error);
        loop_pair_close(&p);
    }
}

static void test_connect(void) { run_cells("connect"); }
static void test_accept(void) { run_cells("accept"); }
static void test_recv(void) { run_cells("recv"); }
static void test_send(void) { run_cells("send"); }
static void test_poll(void) { run_cells("poll"); }
static void test_bind(void) { run_cells("bind"); }
static void test_getpeername(void) { run_cells("getpeername"); }
static void test_all(void) { run_cells("all"); }

TEST_MAIN("api_blocking", TEST_CASE(test_connect), TEST_CASE(test_accept), TEST_CASE(test_recv),
          TEST_CASE(test_send), TEST_CASE(test_poll), TEST_CASE(test_bind),
          TEST_CASE(test_getpeername), TEST_CASE(test_all))
