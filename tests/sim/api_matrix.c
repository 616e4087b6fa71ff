/* The socket API matrix (issue 5), non-blocking half: every call of
 * finack/socket.h against each error it can give, on two stacks joined by
 * the simulated link and driven by its virtual clock, so every cell is
 * exact and repeatable. The blocking half (finack_loop_*, real threads) is
 * sim.api_blocking; docs/API.md is the table of both.
 *
 * The expected values are what Linux gives: each uncertain one was checked
 * against real Linux loopback sockets (a small C program in a network
 * namespace, kernel 6.x) and says so with "Linux:". Where finack departs
 * from Linux on purpose the cell says "Not Linux:" and why.
 *
 * A cell is one row of the table below: call, mode, the error (or "ok"),
 * the function that provokes and asserts it, and the existing tests or
 * scripts that cover the same ground in more depth. Every cell must make
 * at least one assertion (EXPECT*); the runner fails a cell that makes
 * none, so no cell can pass without looking.
 *
 * Client A is 10.0.0.1, server B 10.0.0.2, 1 ms each way. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "finack/sim.h"
#include "finack/socket.h"
#include "socket/socket.h"
#include "test.h"

#define A_ADDR 0x0a000001u    /* 10.0.0.1, the client */
#define B_ADDR 0x0a000002u    /* 10.0.0.2, the server */
#define SILENT_ADDR 0x0a000003u /* on the subnet, nobody there */
#define PORT 80

struct world {
    struct finack_sim *sim;
    struct finack_sim_link *link;
    struct finack_stack *a, *b;
};

static int cell_checks; /* assertions made by the cell running */

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
#define EXPECT_STR(x, y)       \
    do {                       \
        cell_checks++;         \
        CHECK_STR(x, y);       \
    } while (0)

static struct finack_stack *make_stack(struct world *w, int side, uint32_t addr)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = side == FINACK_SIM_A ? "A" : "B";
    cfg.secret[0] = 0x5eed0000u + (uint64_t)side;
    cfg.secret[1] = 77;
    struct finack_stack *s;
    if (finack_stack_create(&s, &cfg)) abort();
    if (finack_stack_add_interface(s, finack_sim_link_end(w->link, side), addr, 24)) abort();
    if (finack_sim_link_attach(w->link, side, s)) abort();
    return s;
}

static void world_init(struct world *w)
{
    memset(w, 0, sizeof *w);
    if (finack_sim_create(&w->sim, 5)) abort();
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    if (finack_sim_link_create(w->sim, &cfg, &w->link)) abort();
    w->a = make_stack(w, FINACK_SIM_A, A_ADDR);
    w->b = make_stack(w, FINACK_SIM_B, B_ADDR);
}

static void world_free(struct world *w)
{
    finack_sim_destroy(w->sim);
    finack_stack_destroy(w->a);
    finack_stack_destroy(w->b);
}

static finack_time_t now_of(struct world *w) { return finack_sim_now(w->sim); }
static void run_for(struct world *w, finack_time_t dt)
{
    finack_sim_run_until(w->sim, now_of(w) + dt);
}

/* Run in 1 ms steps until cond holds or limit_us pass. */
#define RUN_UNTIL(w, cond, limit_us)                                          \
    do {                                                                      \
        finack_time_t until_ = now_of(w) + (limit_us);                        \
        while (!(cond) && now_of(w) < until_) run_for((w), FINACK_MSEC(1));   \
    } while (0)

static struct sockaddr_in sin_of(uint32_t ip, uint16_t port)
{
    return (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port),
                                .sin_addr.s_addr = htonl(ip)};
}
#define SA(x) ((struct sockaddr *)&(x))

/* Both directions lose everything from now on: a peer gone silent. */
static void silence(struct world *w)
{
    struct finack_sim_path p = {.latency = FINACK_MSEC(1), .loss = 1.0};
    finack_sim_link_set_path(w->link, FINACK_SIM_A, &p);
    finack_sim_link_set_path(w->link, FINACK_SIM_B, &p);
}

static int tcp_socket(struct finack_stack *stack)
{
    return finack_socket(stack, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
}

static int listen_on(struct world *w, uint16_t port)
{
    int fd = tcp_socket(w->b);
    struct sockaddr_in sa = sin_of(0, port);
    if (fd < 0 || finack_bind(w->b, fd, SA(sa), sizeof sa) || finack_listen(w->b, fd, 8)) abort();
    return fd;
}

/* A non-blocking connect from A to B:port, left in flight. */
static int connect_start(struct world *w, uint32_t ip, uint16_t port)
{
    int fd = tcp_socket(w->a);
    struct sockaddr_in sa = sin_of(ip, port);
    int rc = finack_connect(w->a, fd, SA(sa), sizeof sa);
    if (rc != -EINPROGRESS) abort();
    return fd;
}

struct conn3 {
    int c, s, l; /* client on A, accepted on B, listener on B */
};

/* An established connection, A's client and B's accepted end. */
static struct conn3 connected(struct world *w)
{
    struct conn3 k = {.l = listen_on(w, PORT)};
    k.c = connect_start(w, B_ADDR, PORT);
    k.s = -1;
    RUN_UNTIL(w, (k.s = finack_accept(w->b, k.l, NULL, NULL)) >= 0, FINACK_SEC(5));
    if (k.s < 0) abort();
    run_for(w, FINACK_MSEC(5));
    return k;
}

static int so_error(struct finack_stack *stack, int fd)
{
    int err = -1;
    socklen_t len = sizeof err;
    if (finack_getsockopt(stack, fd, SOL_SOCKET, SO_ERROR, &err, &len)) return -1;
    return err;
}

static int set_int(struct finack_stack *stack, int fd, int level, int name, int v)
{
    return finack_setsockopt(stack, fd, level, name, &v, sizeof v);
}

/* B resets the connection (SO_LINGER 0 close), and A hears the RST. */
static void peer_resets(struct world *w, int s)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    if (finack_setsockopt(w->b, s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg)) abort();
    finack_close(w->b, s);
    run_for(w, FINACK_MSEC(5));
}

static uint32_t in_flight(struct finack_stack *stack, int fd)
{
    struct finack_tcp_info ti;
    if (finack_tcp_info(stack, fd, &ti)) return UINT32_MAX;
    return ti.bytes_in_flight;
}

static char buf[200000];

/* ==== socket ============================================================================== */

static void socket_ok_lowest_handle(struct world *w)
{
    int a = finack_socket(w->a, AF_INET, SOCK_STREAM, 0);
    int b = finack_socket(w->a, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    EXPECT_EQ(a, 0);
    EXPECT_EQ(b, 1);
    finack_close(w->a, a);
    EXPECT_EQ(finack_socket(w->a, AF_INET, SOCK_STREAM, 0), 0); /* as POSIX descriptors */
}

static void socket_nonblock_flag(struct world *w)
{
    int a = finack_socket(w->a, AF_INET, SOCK_STREAM, 0);
    int b = finack_socket(w->a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    EXPECT_EQ(socket_nonblock(w->a, a), 0);
    EXPECT_EQ(socket_nonblock(w->a, b), 1);
}

static void socket_eafnosupport(struct world *w)
{
    /* Linux: an unknown family is EAFNOSUPPORT. Not Linux: AF_INET6
     * would work there; finack is IPv4 only. */
    EXPECT_EQ(finack_socket(w->a, AF_INET6, SOCK_STREAM, 0), -EAFNOSUPPORT);
    EXPECT_EQ(finack_socket(w->a, 12345, SOCK_STREAM, 0), -EAFNOSUPPORT);
}

static void socket_einval(struct world *w)
{
    /* Linux: a type past SOCK_PACKET, or flag bits other than
     * SOCK_NONBLOCK/SOCK_CLOEXEC, are EINVAL. */
    EXPECT_EQ(finack_socket(w->a, AF_INET, 99, 0), -EINVAL);
    EXPECT_EQ(finack_socket(w->a, AF_INET, SOCK_STREAM | 0x100, 0), -EINVAL);
}

static void socket_esocktnosupport(struct world *w)
{
    /* Linux: SOCK_SEQPACKET over AF_INET is ESOCKTNOSUPPORT. Not Linux:
     * SOCK_DGRAM would be UDP there; finack has only TCP. */
    EXPECT_EQ(finack_socket(w->a, AF_INET, SOCK_SEQPACKET, 0), -ESOCKTNOSUPPORT);
    EXPECT_EQ(finack_socket(w->a, AF_INET, SOCK_DGRAM, 0), -ESOCKTNOSUPPORT);
}

static void socket_eprotonosupport(struct world *w)
{
    /* Linux: a stream socket with protocol UDP is EPROTONOSUPPORT. */
    EXPECT_EQ(finack_socket(w->a, AF_INET, SOCK_STREAM, IPPROTO_UDP), -EPROTONOSUPPORT);
}

static void socket_enotsock_is_ebadf(struct world *w)
{
    /* ENOTSOCK has no equivalent: handles are not file descriptors, so a
     * handle that names no socket (never opened, closed, out of range)
     * is EBADF for every call, and POLLNVAL for poll. */
    int fd = tcp_socket(w->a);
    finack_close(w->a, fd);
    int v;
    socklen_t len = sizeof v;
    const int bad[] = {fd, 1000, INT32_MAX, -5};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        EXPECT_EQ(finack_listen(w->a, bad[i], 1), -EBADF);
        EXPECT_EQ(finack_recv(w->a, bad[i], buf, 1, 0), -EBADF);
        EXPECT_EQ(finack_getsockopt(w->a, bad[i], SOL_SOCKET, SO_TYPE, &v, &len), -EBADF);
        EXPECT_EQ(finack_socket_events(w->a, bad[i]), -EBADF);
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    EXPECT_EQ(finack_poll(w->a, &p, 1), 1);
    EXPECT_EQ(p.revents, POLLNVAL);
}

/* ==== bind ================================================================================ */

static void bind_ok(struct world *w)
{
    int fd = tcp_socket(w->a);
    struct sockaddr_in sa = sin_of(A_ADDR, 4000), got;
    socklen_t len = sizeof got;
    EXPECT_EQ(finack_bind(w->a, fd, SA(sa), sizeof sa), 0);
    EXPECT_EQ(finack_getsockname(w->a, fd, SA(got), &len), 0);
    EXPECT_EQ(ntohs(got.sin_port), 4000);
    EXPECT_EQ(ntohl(got.sin_addr.s_addr), A_ADDR);
}

static void bind_ok_af_unspec_any(struct world *w)
{
    /* Linux: AF_UNSPEC with INADDR_ANY binds as AF_INET (old programs). */
    int fd = tcp_socket(w->a);
    struct sockaddr_in sa = sin_of(0, 4001);
    sa.sin_family = AF_UNSPEC;
    EXPECT_EQ(finack_bind(w->a, fd, SA(sa), sizeof sa), 0);
}

static void bind_ebadf(struct world *w)
{
    struct sockaddr_in sa = sin_of(0, 4000);
    EXPECT_EQ(finack_bind(w->a, 7, SA(sa), sizeof sa), -EBADF);
    EXPECT_EQ(finack_bind(w->a, -1, SA(sa), sizeof sa), -EBADF);
    int fd = tcp_socket(w->a);
    finack_close(w->a, fd);
    EXPECT_EQ(finack_bind(w->a, fd, SA(sa), sizeof sa), -EBADF);
}

static void bind_efault(struct world *w)
{
    /* Linux: NULL with a length is EFAULT; NULL with 0 is EINVAL. */
    int fd = tcp_socket(w->a);
    EXPECT_EQ(finack_bind(w->a, fd, NULL, sizeof(struct sockaddr_in)), -EFAULT);
    EXPECT_EQ(finack_bind(w->a, fd, NULL, 0), -EINVAL);
}

static void bind_einval(struct world *w)
{
    /* Linux: a short address, and a second bind, are EINVAL. */
    int fd = tcp_socket(w->a);
    struct sockaddr_in sa = sin_of(0, 4000);
    EXPECT_EQ(finack_bind(w->a, fd, SA(sa), 4), -EINVAL);
    EXPECT_EQ(finack_bind(w->a, fd, SA(sa), sizeof sa), 0);
    sa.sin_port = htons(4002);
    EXPECT_EQ(finack_bind(w->a, fd, SA(sa), sizeof sa), -EINVAL);
}

static void bind_einval_after_connect(struct world *w)
{
    struct conn3 k = connected(w);
    struct sockaddr_in sa = sin_of(0, 4000);
    EXPECT_EQ(finack_bind(w->a, k.c, SA(sa), sizeof sa), -EINVAL);
}

static void bind_eafnosupport(struct world *w)
{
    int fd = tcp_socket(w->a);
    struct sockaddr_in sa = sin_of(0, 4000);
    sa.sin_family = AF_INET6;
    EXPECT_EQ(finack_bind(w->a, fd, SA(sa), sizeof sa), -EAFNOSUPPORT);
}

static void bind_eaddrnotavail(struct world *w)
{
    int fd = tcp_socket(w->a);
    struct sockaddr_in sa = sin_of(0x0a090909u, 4000); /* 10.9.9.9: not ours */
    EXPECT_EQ(finack_bind(w->a, fd, SA(sa), sizeof sa), -EADDRNOTAVAIL);
}

static void bind_eaddrinuse_bound(struct world *w)
{
    int a = tcp_socket(w->a), b = tcp_socket(w->a);
    struct sockaddr_in sa = sin_of(0, 4000);
    EXPECT_EQ(finack_bind(w->a, a, SA(sa), sizeof sa), 0);
    EXPECT_EQ(finack_bind(w->a, b, SA(sa), sizeof sa), -EADDRINUSE);
}

/* Linux (checked on 6.x: inet_bind_conflict wants sk_reuse on both, and
 * a TIME_WAIT socket keeps its socket's as tw_reuse): a TIME_WAIT left by
 * a socket without SO_REUSEADDR still holds the port against a new socket
 * with it, until 2·MSL. */
static void bind_eaddrinuse_time_wait_of_socket_without_reuseaddr(struct world *w)
{
    struct conn3 k = connected(w);
    finack_close(w->b, k.l);
    finack_close(w->b, k.s); /* active close without SO_REUSEADDR: TIME_WAIT */
    run_for(w, FINACK_MSEC(10));
    finack_close(w->a, k.c);
    run_for(w, FINACK_MSEC(10));
    int n = tcp_socket(w->b);
    EXPECT_EQ(set_int(w->b, n, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    struct sockaddr_in sa = sin_of(0, PORT);
    EXPECT_EQ(finack_bind(w->b, n, SA(sa), sizeof sa), -EADDRINUSE);
    run_for(w, FINACK_SEC(121));
    EXPECT_EQ(finack_bind(w->b, n, SA(sa), sizeof sa), 0);
}

static void bind_eaddrinuse_listener_even_with_reuseaddr(struct world *w)
{
    /* Linux: SO_REUSEADDR on both does not share a port with a listener. */
    int l = listen_on(w, PORT);
    int b = tcp_socket(w->b);
    EXPECT_EQ(set_int(w->b, l, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    EXPECT_EQ(set_int(w->b, b, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    struct sockaddr_in sa = sin_of(B_ADDR, PORT);
    EXPECT_EQ(finack_bind(w->b, b, SA(sa), sizeof sa), -EADDRINUSE);
}

/* The article's server restart: the server closed first, so its side of
 * the connection sits in TIME_WAIT on port 80. A new server cannot bind
 * the port without SO_REUSEADDR, and can with it, given that the old
 * server had it too (as a server that sets it on its listener: accepted
 * sockets inherit it). */
static void bind_eaddrinuse_time_wait_then_reuseaddr(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(set_int(w->b, k.s, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    finack_close(w->b, k.l);
    finack_close(w->b, k.s); /* active close: B goes to TIME_WAIT */
    run_for(w, FINACK_MSEC(10));
    finack_close(w->a, k.c);
    run_for(w, FINACK_MSEC(10));
    int n = tcp_socket(w->b);
    struct sockaddr_in sa = sin_of(0, PORT);
    EXPECT_EQ(finack_bind(w->b, n, SA(sa), sizeof sa), -EADDRINUSE);
    EXPECT_EQ(set_int(w->b, n, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    EXPECT_EQ(finack_bind(w->b, n, SA(sa), sizeof sa), 0);
    EXPECT_EQ(finack_listen(w->b, n, 8), 0);
    /* After 2·MSL the port is free without the option, too. */
    int m = tcp_socket(w->b);
    finack_close(w->b, n);
    run_for(w, FINACK_SEC(121));
    EXPECT_EQ(finack_bind(w->b, m, SA(sa), sizeof sa), 0);
}

/* SO_REUSEADDR on both sockets lets a new server bind a port still held
 * by an orphaned connection in FIN_WAIT_2 (or any state but LISTEN), as on
 * Linux (inet_csk_bind_conflict: sk_reuse on both and sk2 not listening;
 * checked on loopback). Without it on the new socket: EADDRINUSE. */
static void bind_reuseaddr_beside_fin_wait_2(struct world *w)
{
    int l = listen_on(w, PORT);
    EXPECT_EQ(set_int(w->b, l, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    connect_start(w, B_ADDR, PORT);
    int s = -1;
    RUN_UNTIL(w, (s = finack_accept(w->b, l, NULL, NULL)) >= 0, FINACK_SEC(5));
    REQUIRE(s >= 0);
    finack_close(w->b, l);
    finack_close(w->b, s); /* B: FIN_WAIT_2 (A never closes) */
    run_for(w, FINACK_MSEC(10));
    int n = tcp_socket(w->b);
    struct sockaddr_in sa = sin_of(B_ADDR, PORT);
    EXPECT_EQ(finack_bind(w->b, n, SA(sa), sizeof sa), -EADDRINUSE);
    EXPECT_EQ(set_int(w->b, n, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    EXPECT_EQ(finack_bind(w->b, n, SA(sa), sizeof sa), 0); /* Linux: 0 */
    EXPECT_EQ(finack_listen(w->b, n, 4), 0);
}

/* ==== listen ============================================================================== */

static void listen_ok_autobind_and_twice(struct world *w)
{
    int fd = tcp_socket(w->b);
    EXPECT_EQ(finack_listen(w->b, fd, 4), 0);
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    EXPECT_EQ(finack_getsockname(w->b, fd, SA(got), &len), 0);
    EXPECT(ntohs(got.sin_port) != 0); /* Linux: listen() picks a port */
    EXPECT_EQ(finack_listen(w->b, fd, 16), 0); /* again: a new backlog */
    EXPECT_STR(finack_socket_state(w->b, fd), "LISTEN");
}

static void listen_ebadf(struct world *w) { EXPECT_EQ(finack_listen(w->b, 5, 1), -EBADF); }

static void listen_einval_connected(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_listen(w->a, k.c, 1), -EINVAL);
    EXPECT_EQ(finack_listen(w->b, k.s, 1), -EINVAL);
}

static void listen_einval_connecting(struct world *w)
{
    int fd = connect_start(w, SILENT_ADDR, PORT);
    EXPECT_EQ(finack_listen(w->a, fd, 1), -EINVAL);
}

static void listen_eaddrinuse_shared_port(struct world *w)
{
    /* Linux: two sockets may share a port by SO_REUSEADDR while bound,
     * but the second to listen() gets EADDRINUSE. */
    int x = tcp_socket(w->b), y = tcp_socket(w->b);
    set_int(w->b, x, SOL_SOCKET, SO_REUSEADDR, 1);
    set_int(w->b, y, SOL_SOCKET, SO_REUSEADDR, 1);
    struct sockaddr_in sa = sin_of(B_ADDR, PORT);
    EXPECT_EQ(finack_bind(w->b, x, SA(sa), sizeof sa), 0);
    EXPECT_EQ(finack_bind(w->b, y, SA(sa), sizeof sa), 0);
    EXPECT_EQ(finack_listen(w->b, x, 1), 0);
    EXPECT_EQ(finack_listen(w->b, y, 1), -EADDRINUSE);
    EXPECT_STR(finack_socket_state(w->b, y), "CLOSED");
}

/* ==== accept ============================================================================== */

static void accept_ok_peer_address(struct world *w)
{
    int l = listen_on(w, PORT);
    int c = connect_start(w, B_ADDR, PORT);
    run_for(w, FINACK_MSEC(5));
    struct sockaddr_in peer, mine;
    socklen_t len = sizeof peer, mlen = sizeof mine;
    int s = finack_accept(w->b, l, SA(peer), &len);
    EXPECT(s >= 0);
    EXPECT_EQ(len, sizeof peer);
    EXPECT_EQ(ntohl(peer.sin_addr.s_addr), A_ADDR);
    EXPECT_EQ(finack_getsockname(w->a, c, SA(mine), &mlen), 0);
    EXPECT_EQ(peer.sin_port, mine.sin_port);
}

static void accept_eagain(struct world *w)
{
    int l = listen_on(w, PORT);
    EXPECT_EQ(finack_accept(w->b, l, NULL, NULL), -EAGAIN);
}

static void accept_einval_not_listening(struct world *w)
{
    int fd = tcp_socket(w->b);
    EXPECT_EQ(finack_accept(w->b, fd, NULL, NULL), -EINVAL);
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_accept(w->b, k.s, NULL, NULL), -EINVAL);
}

static void accept_ebadf(struct world *w) { EXPECT_EQ(finack_accept(w->b, 9, NULL, NULL), -EBADF); }

static void accept_efault(struct world *w)
{
    /* Linux: an address buffer without a length is EFAULT. Not Linux:
     * Linux finds it after dequeuing and drops the connection; finack
     * says so first and keeps it for the next accept(). */
    int l = listen_on(w, PORT);
    connect_start(w, B_ADDR, PORT);
    run_for(w, FINACK_MSEC(5));
    struct sockaddr_in peer;
    EXPECT_EQ(finack_accept(w->b, l, SA(peer), NULL), -EFAULT);
    EXPECT(finack_accept(w->b, l, NULL, NULL) >= 0);
}

static void accept_then_econnreset(struct world *w)
{
    /* Linux: a connection reset while queued is still handed out; its
     * first read says ECONNRESET. */
    int l = listen_on(w, PORT);
    int c = connect_start(w, B_ADDR, PORT);
    run_for(w, FINACK_MSEC(5));
    struct linger lg = {1, 0};
    finack_setsockopt(w->a, c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    finack_close(w->a, c);
    run_for(w, FINACK_MSEC(5));
    int s = finack_accept(w->b, l, NULL, NULL);
    EXPECT(s >= 0);
    EXPECT_EQ(finack_recv(w->b, s, buf, 10, 0), -ECONNRESET);
    EXPECT_EQ(finack_recv(w->b, s, buf, 10, 0), 0);
}

/* ==== connect ============================================================================= */

/* Non-blocking connect: EINPROGRESS, completion seen as writability with
 * SO_ERROR 0, then connect() says 0 once and EISCONN after. */
static void connect_einprogress_pollout_so_error(struct world *w)
{
    listen_on(w, PORT);
    int c = tcp_socket(w->a);
    struct sockaddr_in sa = sin_of(B_ADDR, PORT);
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), sizeof sa), -EINPROGRESS);
    struct pollfd p = {.fd = c, .events = POLLOUT};
    EXPECT_EQ(finack_poll(w->a, &p, 1), 0);
    RUN_UNTIL(w, finack_poll(w->a, &p, 1) == 1, FINACK_SEC(1));
    EXPECT_EQ(p.revents, POLLOUT);
    EXPECT_EQ(so_error(w->a, c), 0);
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), sizeof sa), 0);
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), sizeof sa), -EISCONN);
}

static void connect_ealready(struct world *w)
{
    int c = connect_start(w, SILENT_ADDR, PORT);
    struct sockaddr_in sa = sin_of(SILENT_ADDR, PORT);
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), sizeof sa), -EALREADY);
    /* Linux: the state is looked at before the address is read. */
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), 4), -EALREADY);
}

static void connect_eisconn(struct world *w)
{
    struct conn3 k = connected(w);
    struct sockaddr_in sa = sin_of(B_ADDR, PORT);
    EXPECT_EQ(finack_connect(w->a, k.c, SA(sa), sizeof sa), 0); /* reports completion */
    EXPECT_EQ(finack_connect(w->a, k.c, SA(sa), sizeof sa), -EISCONN);
    EXPECT_EQ(finack_connect(w->b, k.s, SA(sa), sizeof sa), -EISCONN); /* accepted */
    EXPECT_EQ(finack_connect(w->b, k.l, SA(sa), sizeof sa), -EISCONN); /* Linux: a listener */
}

/* The RST to our SYN: POLLERR, SO_ERROR ECONNREFUSED (once), connect()
 * after it; and (Linux) the socket may then connect again. */
static void connect_econnrefused(struct world *w)
{
    int c = connect_start(w, B_ADDR, 81);
    run_for(w, FINACK_MSEC(5));
    struct pollfd p = {.fd = c, .events = POLLOUT};
    EXPECT_EQ(finack_poll(w->a, &p, 1), 1);
    EXPECT(p.revents & POLLERR);
    struct sockaddr_in sa = sin_of(B_ADDR, 81);
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), sizeof sa), -ECONNREFUSED);
    EXPECT_EQ(so_error(w->a, c), 0); /* reported once */
    /* Linux: after a failed attempt the socket is unconnected again, and
     * a new connect() starts over (here to a port that listens). */
    listen_on(w, 81);
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), sizeof sa), -EINPROGRESS);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), sizeof sa), 0);
    EXPECT_STR(finack_socket_state(w->a, c), "ESTABLISHED");
}

static void connect_econnrefused_via_so_error_then_econnaborted(struct world *w)
{
    /* Linux: SO_ERROR takes the error, so connect() then has only
     * ECONNABORTED to say; a recv() would have taken it the same way. */
    int c = connect_start(w, B_ADDR, 81);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(so_error(w->a, c), ECONNREFUSED);
    struct sockaddr_in sa = sin_of(B_ADDR, 81);
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), sizeof sa), -ECONNABORTED);
}

static void connect_econnrefused_via_recv(struct world *w)
{
    /* Linux: recv() on a refused non-blocking connect says ECONNREFUSED,
     * then 0; send() says EPIPE. */
    int c = connect_start(w, B_ADDR, 81);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->a, c, buf, 1, 0), -ECONNREFUSED);
    EXPECT_EQ(finack_recv(w->a, c, buf, 1, 0), 0);
    EXPECT_EQ(finack_send(w->a, c, "x", 1, 0), -EPIPE);
}

static void connect_etimedout_syn_retries(struct world *w)
{
    /* Six SYN retransmissions (1+2+...+64 s), then 127 s after the first
     * SYN the attempt ends: ETIMEDOUT. */
    int c = connect_start(w, SILENT_ADDR, PORT);
    run_for(w, FINACK_SEC(126));
    EXPECT_STR(finack_socket_state(w->a, c), "SYN_SENT");
    run_for(w, FINACK_SEC(2));
    EXPECT_STR(finack_socket_state(w->a, c), "CLOSED");
    EXPECT_EQ(so_error(w->a, c), ETIMEDOUT);
}

static void connect_etimedout_user_timeout(struct world *w)
{
    int c = tcp_socket(w->a);
    EXPECT_EQ(set_int(w->a, c, IPPROTO_TCP, TCP_USER_TIMEOUT, 2500), 0);
    struct sockaddr_in sa = sin_of(SILENT_ADDR, PORT);
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), sizeof sa), -EINPROGRESS);
    run_for(w, FINACK_SEC(2));
    EXPECT_STR(finack_socket_state(w->a, c), "SYN_SENT");
    run_for(w, FINACK_SEC(2)); /* the retransmission at 3 s is past 2.5 s */
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), sizeof sa), -ETIMEDOUT);
}

static void connect_eaddrnotavail(struct world *w)
{
    /* Linux: two sockets sharing a port (SO_REUSEADDR) cannot both
     * connect to the same peer: the second 4-tuple is taken. */
    listen_on(w, PORT);
    int c1 = tcp_socket(w->a), c2 = tcp_socket(w->a);
    set_int(w->a, c1, SOL_SOCKET, SO_REUSEADDR, 1);
    set_int(w->a, c2, SOL_SOCKET, SO_REUSEADDR, 1);
    struct sockaddr_in me = sin_of(A_ADDR, 5555), to = sin_of(B_ADDR, PORT);
    EXPECT_EQ(finack_bind(w->a, c1, SA(me), sizeof me), 0);
    EXPECT_EQ(finack_bind(w->a, c2, SA(me), sizeof me), 0);
    EXPECT_EQ(finack_connect(w->a, c1, SA(to), sizeof to), -EINPROGRESS);
    EXPECT_EQ(finack_connect(w->a, c2, SA(to), sizeof to), -EADDRNOTAVAIL);
}

static void connect_bad_address(struct world *w)
{
    int c = tcp_socket(w->a);
    struct sockaddr_in sa = sin_of(B_ADDR, PORT);
    EXPECT_EQ(finack_connect(w->a, c, NULL, sizeof sa), -EFAULT);
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), 4), -EINVAL);
    sa.sin_family = AF_INET6;
    EXPECT_EQ(finack_connect(w->a, c, SA(sa), sizeof sa), -EAFNOSUPPORT);
    EXPECT_EQ(finack_connect(w->a, 12, SA(sa), sizeof sa), -EBADF);
}

static void connect_enetunreach(struct world *w)
{
    /* The first interface is the default route, so only a stack with no
     * interface has no route at all. */
    (void)w;
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    struct finack_stack *bare;
    REQUIRE(finack_stack_create(&bare, &cfg) == 0);
    int c = tcp_socket(bare);
    struct sockaddr_in sa = sin_of(B_ADDR, PORT);
    EXPECT_EQ(finack_connect(bare, c, SA(sa), sizeof sa), -ENETUNREACH);
    finack_stack_destroy(bare);
}

/* ==== send ================================================================================ */

/* The article: write() returns once the bytes are copied, with the data
 * still on its way (nothing acknowledged yet). */
static void send_returns_after_copy_in_flight(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_send(w->a, k.c, buf, 3000, 0), 3000);
    EXPECT(in_flight(w->a, k.c) > 0);
    EXPECT_EQ(finack_recv(w->b, k.s, buf, sizeof buf, 0), -EAGAIN); /* not there yet */
    run_for(w, FINACK_MSEC(50));
    EXPECT_EQ(in_flight(w->a, k.c), 0);
}

static void send_ok_len0(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_send(w->a, k.c, buf, 0, 0), 0);
}

/* EAGAIN on a full send buffer: SO_SNDBUF bytes go in, then no more
 * until ACKs free room; a peer that does not read (SO_RCVBUF 10000 from
 * its listener) keeps the window shut, so the buffer stays full. */
static void send_eagain_full_buffer_so_sndbuf(struct world *w)
{
    int l = listen_on(w, PORT);
    EXPECT_EQ(set_int(w->b, l, SOL_SOCKET, SO_RCVBUF, 10000), 0);
    int c = tcp_socket(w->a);
    EXPECT_EQ(set_int(w->a, c, SOL_SOCKET, SO_SNDBUF, 8000), 0);
    struct sockaddr_in sa = sin_of(B_ADDR, PORT);
    finack_connect(w->a, c, SA(sa), sizeof sa);
    run_for(w, FINACK_MSEC(5));
    int s = finack_accept(w->b, l, NULL, NULL);
    EXPECT(s >= 0);
    EXPECT_EQ(finack_send(w->a, c, buf, sizeof buf, 0), 8000);
    EXPECT_EQ(finack_send(w->a, c, buf, 1, 0), -EAGAIN);
    struct pollfd p = {.fd = c, .events = POLLOUT};
    EXPECT_EQ(finack_poll(w->a, &p, 1), 0);
    run_for(w, FINACK_MSEC(50)); /* ACKs free the room the window took */
    EXPECT(finack_send(w->a, c, buf, sizeof buf, 0) > 0);
    for (int i = 0; i < 10; i++) {
        run_for(w, FINACK_MSEC(50));
        while (finack_send(w->a, c, buf, sizeof buf, 0) > 0) continue;
    }
    /* The receiver's buffer is full: nothing moves until it reads. */
    EXPECT_EQ(finack_send(w->a, c, buf, 1, 0), -EAGAIN);
    struct finack_tcp_info ti;
    EXPECT_EQ(finack_tcp_info(w->b, s, &ti), 0);
    EXPECT_EQ(ti.unread, 10000);
    EXPECT_EQ(finack_recv(w->b, s, buf, 5000, 0), 5000);
    run_for(w, FINACK_MSEC(50));
    EXPECT(finack_send(w->a, c, buf, sizeof buf, 0) > 0); /* reading made room */
}

static void send_eagain_connecting(struct world *w)
{
    int c = connect_start(w, SILENT_ADDR, PORT);
    EXPECT_EQ(finack_send(w->a, c, "x", 1, 0), -EAGAIN);
}

static void send_epipe_after_shut_wr(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_shutdown(w->a, k.c, SHUT_WR), 0);
    EXPECT_EQ(finack_send(w->a, k.c, "x", 1, 0), -EPIPE);
    EXPECT_EQ(finack_send(w->a, k.c, "x", 0, 0), -EPIPE); /* Linux: even len 0 */
}

static void send_econnreset_then_epipe(struct world *w)
{
    /* Linux: the first send after the RST says ECONNRESET, later ones
     * EPIPE (and no signal, ever). */
    struct conn3 k = connected(w);
    peer_resets(w, k.s);
    EXPECT_EQ(finack_send(w->a, k.c, "x", 1, 0), -ECONNRESET);
    EXPECT_EQ(finack_send(w->a, k.c, "x", 1, 0), -EPIPE);
}

static void send_epipe_never_connected(struct world *w)
{
    /* Linux: EPIPE, not ENOTCONN (sk_stream_wait_connect). */
    int c = tcp_socket(w->a);
    EXPECT_EQ(finack_send(w->a, c, "x", 1, 0), -EPIPE);
    EXPECT_EQ(finack_send(w->a, c, "x", 0, 0), -EPIPE);
}

static void send_enotconn_listener(struct world *w)
{
    /* Not Linux: Linux says EPIPE; finack keeps RFC 9293's "foreign
     * socket unspecified" (unit.tcp_state_table: LISTEN + user send). */
    int l = listen_on(w, PORT);
    EXPECT_EQ(finack_send(w->b, l, "x", 1, 0), -ENOTCONN);
}

static void send_etimedout_user_timeout(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(set_int(w->a, k.c, IPPROTO_TCP, TCP_USER_TIMEOUT, 1000), 0);
    silence(w);
    EXPECT_EQ(finack_send(w->a, k.c, "hello", 5, 0), 5);
    run_for(w, FINACK_SEC(3));
    EXPECT_STR(finack_socket_state(w->a, k.c), "CLOSED");
    EXPECT_EQ(finack_send(w->a, k.c, "x", 1, 0), -ETIMEDOUT);
    EXPECT_EQ(finack_send(w->a, k.c, "x", 1, 0), -EPIPE);
}

static void send_etimedout_retries(struct world *w)
{
    /* Fifteen retransmissions unanswered (from 200 ms, doubling to 120 s:
     * about 15 minutes, Linux's tcp_retries2), then ETIMEDOUT. */
    struct conn3 k = connected(w);
    silence(w);
    EXPECT_EQ(finack_send(w->a, k.c, "hello", 5, 0), 5);
    run_for(w, FINACK_SEC(600));
    EXPECT_STR(finack_socket_state(w->a, k.c), "ESTABLISHED");
    RUN_UNTIL(w, !strcmp(finack_socket_state(w->a, k.c), "CLOSED"), FINACK_SEC(1200));
    EXPECT_STR(finack_socket_state(w->a, k.c), "CLOSED");
    EXPECT_EQ(finack_send(w->a, k.c, "x", 1, 0), -ETIMEDOUT);
    EXPECT_EQ(finack_send(w->a, k.c, "x", 1, 0), -EPIPE);
}

static void send_efault(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_send(w->a, k.c, NULL, 5, 0), -EFAULT);
}

static void send_eopnotsupp_msg_oob(struct world *w)
{
    /* Not Linux: Linux sends urgent data; finack has none to send, and
     * says so rather than sending the byte as ordinary data. */
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_send(w->a, k.c, "!", 1, MSG_OOB), -EOPNOTSUPP);
}

static void send_ebadf(struct world *w) { EXPECT_EQ(finack_send(w->a, 3, "x", 1, 0), -EBADF); }

/* The known bug: a blocking send() that copied some bytes and then met a
 * reset returned the count but had consumed the error, so the next send()
 * said EPIPE where Linux says ECONNRESET. The loop's retry for the rest is
 * socket_send(..., copied): the error stays for the next call. */
static void send_partial_then_error_stays(struct world *w)
{
    struct conn3 k = connected(w);
    peer_resets(w, k.s);
    EXPECT_EQ(socket_send(w->a, k.c, "x", 1, 0, 100), -EPIPE);
    EXPECT_EQ(so_error(w->a, k.c), ECONNRESET); /* still pending */
    EXPECT_EQ(finack_send(w->a, k.c, "x", 1, 0), -EPIPE);
}

static void send_partial_then_next_send_reports(struct world *w)
{
    struct conn3 k = connected(w);
    peer_resets(w, k.s);
    EXPECT_EQ(socket_send(w->a, k.c, "x", 1, 0, 100), -EPIPE);
    EXPECT_EQ(finack_send(w->a, k.c, "x", 1, 0), -ECONNRESET);
    EXPECT_EQ(finack_send(w->a, k.c, "x", 1, 0), -EPIPE);
}

/* The article's half-close: the peer's FIN is recv() == 0, and sending
 * still works the other way. */
static void send_after_peer_fin_half_close(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_shutdown(w->b, k.s, SHUT_WR), 0);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), 0);
    EXPECT_STR(finack_socket_state(w->a, k.c), "CLOSE_WAIT");
    struct pollfd p = {.fd = k.c, .events = POLLIN | POLLOUT | POLLRDHUP};
    EXPECT_EQ(finack_poll(w->a, &p, 1), 1);
    EXPECT_EQ(p.revents, POLLIN | POLLOUT | POLLRDHUP);
    EXPECT_EQ(finack_send(w->a, k.c, "after fin", 9, 0), 9);
    run_for(w, FINACK_MSEC(5));
    char got[16] = {0};
    EXPECT_EQ(finack_recv(w->b, k.s, got, sizeof got, 0), 9);
    EXPECT(memcmp(got, "after fin", 9) == 0);
}

/* ==== recv ================================================================================ */

static void recv_ok_peek_then_read(struct world *w)
{
    struct conn3 k = connected(w);
    finack_send(w->b, k.s, "abc", 3, 0);
    run_for(w, FINACK_MSEC(5));
    char got[8];
    EXPECT_EQ(finack_recv(w->a, k.c, got, 2, MSG_PEEK), 2);
    EXPECT_EQ(finack_recv(w->a, k.c, got, sizeof got, 0), 3);
    EXPECT(memcmp(got, "abc", 3) == 0);
}

static void recv_eagain_empty(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), -EAGAIN);
    /* Linux: a zero-length read with nothing there is EAGAIN too. */
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 0, 0), -EAGAIN);
    finack_send(w->b, k.s, "a", 1, 0);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 0, 0), 0); /* data there: 0 */
}

static void recv_eagain_connecting(struct world *w)
{
    int c = connect_start(w, SILENT_ADDR, PORT);
    EXPECT_EQ(finack_recv(w->a, c, buf, 10, 0), -EAGAIN);
}

static void recv_zero_on_fin(struct world *w)
{
    struct conn3 k = connected(w);
    finack_send(w->b, k.s, "xy", 2, 0);
    finack_shutdown(w->b, k.s, SHUT_WR);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), 2); /* the data first */
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), 0);
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), 0); /* and again */
}

static void recv_econnreset_then_zero(struct world *w)
{
    /* Linux: ECONNRESET once, then EOF. */
    struct conn3 k = connected(w);
    peer_resets(w, k.s);
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), -ECONNRESET);
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), 0);
}

static void recv_etimedout_keepalive(struct world *w)
{
    /* SO_KEEPALIVE with TCP_KEEPIDLE 1 s, TCP_KEEPINTVL 1 s, TCP_KEEPCNT 2:
     * a silent peer is given up 1 + 2·1 s later, ETIMEDOUT. */
    struct conn3 k = connected(w);
    EXPECT_EQ(set_int(w->a, k.c, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
    EXPECT_EQ(set_int(w->a, k.c, IPPROTO_TCP, TCP_KEEPIDLE, 1), 0);
    EXPECT_EQ(set_int(w->a, k.c, IPPROTO_TCP, TCP_KEEPINTVL, 1), 0);
    EXPECT_EQ(set_int(w->a, k.c, IPPROTO_TCP, TCP_KEEPCNT, 2), 0);
    silence(w);
    run_for(w, FINACK_MSEC(2900));
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), -EAGAIN);
    run_for(w, FINACK_MSEC(200));
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), -ETIMEDOUT);
}

static void recv_enotconn(struct world *w)
{
    int c = tcp_socket(w->a);
    EXPECT_EQ(finack_recv(w->a, c, buf, 10, 0), -ENOTCONN);
    int l = listen_on(w, PORT);
    EXPECT_EQ(finack_recv(w->b, l, buf, 10, 0), -ENOTCONN);
}

static void recv_einval_msg_oob(struct world *w)
{
    /* Linux: with no urgent byte pending (or SO_OOBINLINE, which is how
     * finack delivers urgent data) MSG_OOB is EINVAL, connected or not. */
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, MSG_OOB), -EINVAL);
    int c = tcp_socket(w->a);
    EXPECT_EQ(finack_recv(w->a, c, buf, 0, MSG_OOB), -EINVAL);
}

static void recv_efault(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_recv(w->a, k.c, NULL, 5, 0), -EAGAIN); /* nothing to copy yet */
    finack_send(w->b, k.s, "a", 1, 0);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->a, k.c, NULL, 5, 0), -EFAULT);
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 5, 0), 1); /* still there */
}

static void recv_ebadf(struct world *w) { EXPECT_EQ(finack_recv(w->a, 4, buf, 1, 0), -EBADF); }

/* ==== shutdown ============================================================================ */

static void shutdown_wr_ok_twice(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_shutdown(w->a, k.c, SHUT_WR), 0);
    EXPECT_EQ(finack_shutdown(w->a, k.c, SHUT_WR), 0); /* Linux: again 0 */
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->b, k.s, buf, 10, 0), 0);
    finack_send(w->b, k.s, "back", 4, 0); /* our read side is open */
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), 4);
}

static void shutdown_rd_ok(struct world *w)
{
    /* Linux: SHUT_RD sends nothing; what is queued is still read, then
     * 0; data arriving later is taken and read too. */
    struct conn3 k = connected(w);
    finack_send(w->b, k.s, "abc", 3, 0);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_shutdown(w->a, k.c, SHUT_RD), 0);
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), 3);
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), 0);
    EXPECT_EQ(finack_send(w->b, k.s, "later", 5, 0), 5);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), 5);
    EXPECT_EQ(finack_send(w->a, k.c, "x", 1, 0), 1); /* writing goes on */
}

static void shutdown_rd_then_wr_data_gets_rst(struct world *w)
{
    /* Linux: shut both ways, data from the peer meets a RST; the peer, in
     * CLOSE_WAIT, hears it as EPIPE. */
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_shutdown(w->a, k.c, SHUT_RD), 0);
    EXPECT_EQ(finack_shutdown(w->a, k.c, SHUT_WR), 0);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->b, k.s, buf, 10, 0), 0);
    EXPECT_EQ(finack_send(w->b, k.s, "abc", 3, 0), 3);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_send(w->b, k.s, "abc", 3, 0), -EPIPE);
    EXPECT_STR(finack_socket_state(w->a, k.c), "CLOSED");
}

static void shutdown_rdwr_ok(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_shutdown(w->a, k.c, SHUT_RDWR), 0);
    EXPECT_STR(finack_socket_state(w->a, k.c), "FIN_WAIT_1");
    EXPECT_EQ(finack_recv(w->a, k.c, buf, 10, 0), 0);
    EXPECT_EQ(finack_send(w->a, k.c, "x", 1, 0), -EPIPE);
}

static void shutdown_einval(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_shutdown(w->a, k.c, 7), -EINVAL);
    EXPECT_EQ(finack_shutdown(w->a, k.c, -1), -EINVAL);
}

static void shutdown_enotconn(struct world *w)
{
    int c = tcp_socket(w->a);
    EXPECT_EQ(finack_shutdown(w->a, c, SHUT_WR), -ENOTCONN);
    struct conn3 k = connected(w);
    peer_resets(w, k.s);
    EXPECT_EQ(finack_shutdown(w->a, k.c, SHUT_RDWR), -ENOTCONN);
}

static void shutdown_ebadf(struct world *w)
{
    EXPECT_EQ(finack_shutdown(w->a, 6, SHUT_WR), -EBADF);
}

static void shutdown_listener(struct world *w)
{
    /* Linux's inet_shutdown: SHUT_WR leaves a listener be; SHUT_RD stops
     * it (accept() then EINVAL, its queue is reset), and it may listen
     * again; a second SHUT_RDWR is ENOTCONN. */
    int l = listen_on(w, PORT);
    int c = connect_start(w, B_ADDR, PORT);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_shutdown(w->b, l, SHUT_WR), 0);
    EXPECT_STR(finack_socket_state(w->b, l), "LISTEN");
    EXPECT_EQ(finack_shutdown(w->b, l, SHUT_RD), 0);
    EXPECT_EQ(finack_accept(w->b, l, NULL, NULL), -EINVAL);
    EXPECT_EQ(finack_shutdown(w->b, l, SHUT_RDWR), -ENOTCONN);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->a, c, buf, 10, 0), -ECONNRESET);
    EXPECT_EQ(finack_listen(w->b, l, 4), 0);
    EXPECT_STR(finack_socket_state(w->b, l), "LISTEN");
}

static void shutdown_syn_sent(struct world *w)
{
    /* Linux: shutdown() in SYN_SENT drops the attempt (no RST) and
     * succeeds; the socket is unconnected again. */
    int c = connect_start(w, SILENT_ADDR, PORT);
    EXPECT_EQ(finack_shutdown(w->a, c, SHUT_RDWR), 0);
    EXPECT_STR(finack_socket_state(w->a, c), "CLOSED");
    EXPECT_EQ(finack_shutdown(w->a, c, SHUT_RDWR), -ENOTCONN);
    EXPECT_EQ(finack_recv(w->a, c, buf, 1, 0), -ENOTCONN);
}

/* ==== close =============================================================================== */

static void close_ok_fin(struct world *w)
{
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_close(w->a, k.c), 0);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->b, k.s, buf, 10, 0), 0); /* a FIN, not a RST */
}

static void close_ebadf_twice(struct world *w)
{
    int c = tcp_socket(w->a);
    EXPECT_EQ(finack_close(w->a, c), 0);
    EXPECT_EQ(finack_close(w->a, c), -EBADF);
    EXPECT_EQ(finack_close(w->a, -1), -EBADF);
}

static void close_unread_data_sends_rst(struct world *w)
{
    struct conn3 k = connected(w);
    finack_send(w->b, k.s, "unread", 6, 0);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_close(w->a, k.c), 0);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->b, k.s, buf, 10, 0), -ECONNRESET);
}

static void close_linger_zero_sends_rst(struct world *w)
{
    struct conn3 k = connected(w);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    EXPECT_EQ(finack_setsockopt(w->a, k.c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    EXPECT_EQ(finack_close(w->a, k.c), 0);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->b, k.s, buf, 10, 0), -ECONNRESET);
}

static void close_listener_resets_queued(struct world *w)
{
    int l = listen_on(w, PORT);
    int c = connect_start(w, B_ADDR, PORT);
    run_for(w, FINACK_MSEC(5));
    EXPECT_STR(finack_socket_state(w->a, c), "ESTABLISHED");
    EXPECT_EQ(finack_close(w->b, l), 0);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_recv(w->a, c, buf, 10, 0), -ECONNRESET);
}

/* ==== getsockname / getpeername =========================================================== */

static void getsockname_ok(struct world *w)
{
    int c = tcp_socket(w->a);
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    EXPECT_EQ(finack_getsockname(w->a, c, SA(got), &len), 0); /* unbound: 0.0.0.0:0 */
    EXPECT_EQ(got.sin_family, AF_INET);
    EXPECT_EQ(got.sin_port, 0);
    struct conn3 k = connected(w);
    len = sizeof got;
    EXPECT_EQ(finack_getsockname(w->b, k.s, SA(got), &len), 0);
    EXPECT_EQ(ntohs(got.sin_port), PORT);
    EXPECT_EQ(ntohl(got.sin_addr.s_addr), B_ADDR);
    /* Linux: a short buffer gets the first bytes; len says the full size. */
    struct sockaddr_in cut = {0};
    len = 4;
    EXPECT_EQ(finack_getsockname(w->b, k.s, SA(cut), &len), 0);
    EXPECT_EQ(len, sizeof cut);
    EXPECT_EQ(cut.sin_port, htons(PORT));
    EXPECT_EQ(cut.sin_addr.s_addr, 0);
}

static void getsockname_errors(struct world *w)
{
    int c = tcp_socket(w->a);
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    EXPECT_EQ(finack_getsockname(w->a, 9, SA(got), &len), -EBADF);
    EXPECT_EQ(finack_getsockname(w->a, c, SA(got), NULL), -EFAULT);
    EXPECT_EQ(finack_getsockname(w->a, c, NULL, &len), -EFAULT);
    len = (socklen_t)-1;
    EXPECT_EQ(finack_getsockname(w->a, c, SA(got), &len), -EINVAL);
    len = 0; /* Linux: nothing to write, no buffer needed */
    EXPECT_EQ(finack_getsockname(w->a, c, NULL, &len), 0);
    EXPECT_EQ(len, sizeof got);
}

static void getpeername_ok(struct world *w)
{
    struct conn3 k = connected(w);
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    EXPECT_EQ(finack_getpeername(w->a, k.c, SA(got), &len), 0);
    EXPECT_EQ(ntohl(got.sin_addr.s_addr), B_ADDR);
    EXPECT_EQ(ntohs(got.sin_port), PORT);
}

static void getpeername_enotconn(struct world *w)
{
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    int c = tcp_socket(w->a);
    EXPECT_EQ(finack_getpeername(w->a, c, SA(got), &len), -ENOTCONN);
    int s = connect_start(w, SILENT_ADDR, PORT);
    EXPECT_EQ(finack_getpeername(w->a, s, SA(got), &len), -ENOTCONN); /* SYN_SENT */
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_getpeername(w->b, k.l, SA(got), &len), -ENOTCONN);
    peer_resets(w, k.s);
    EXPECT_EQ(finack_getpeername(w->a, k.c, SA(got), &len), -ENOTCONN); /* Linux: reset */
}

static void getpeername_errors(struct world *w)
{
    struct conn3 k = connected(w);
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    EXPECT_EQ(finack_getpeername(w->a, 99, SA(got), &len), -EBADF);
    EXPECT_EQ(finack_getpeername(w->a, k.c, SA(got), NULL), -EFAULT);
    len = (socklen_t)-1;
    EXPECT_EQ(finack_getpeername(w->a, k.c, SA(got), &len), -EINVAL);
}

/* ==== setsockopt ========================================================================== */

static void setsockopt_enoprotoopt(struct world *w)
{
    int c = tcp_socket(w->a);
    EXPECT_EQ(set_int(w->a, c, SOL_SOCKET, 9999, 1), -ENOPROTOOPT);
    EXPECT_EQ(set_int(w->a, c, IPPROTO_TCP, 9999, 1), -ENOPROTOOPT);
    EXPECT_EQ(set_int(w->a, c, 12345, 1, 1), -ENOPROTOOPT);
    /* Linux: read-only options cannot be set. */
    EXPECT_EQ(set_int(w->a, c, SOL_SOCKET, SO_ERROR, 1), -ENOPROTOOPT);
    EXPECT_EQ(set_int(w->a, c, SOL_SOCKET, SO_TYPE, 1), -ENOPROTOOPT);
    EXPECT_EQ(set_int(w->a, c, IPPROTO_TCP, TCP_INFO, 1), -ENOPROTOOPT);
}

static void setsockopt_einval(struct world *w)
{
    int c = tcp_socket(w->a), v = 1;
    /* Linux: shorter than an int is EINVAL, even for an unknown option. */
    EXPECT_EQ(finack_setsockopt(w->a, c, SOL_SOCKET, SO_REUSEADDR, &v, 2), -EINVAL);
    EXPECT_EQ(finack_setsockopt(w->a, c, SOL_SOCKET, 9999, &v, 2), -EINVAL);
    EXPECT_EQ(finack_setsockopt(w->a, c, IPPROTO_TCP, 9999, &v, 2), -EINVAL);
    EXPECT_EQ(finack_setsockopt(w->a, c, SOL_SOCKET, SO_LINGER, &v, sizeof v), -EINVAL);
    EXPECT_EQ(finack_setsockopt(w->a, c, SOL_SOCKET, SO_RCVTIMEO, &v, sizeof v), -EINVAL);
    /* Out of Linux's ranges. */
    EXPECT_EQ(set_int(w->a, c, IPPROTO_TCP, TCP_KEEPIDLE, 0), -EINVAL);
    EXPECT_EQ(set_int(w->a, c, IPPROTO_TCP, TCP_KEEPINTVL, 32768), -EINVAL);
    EXPECT_EQ(set_int(w->a, c, IPPROTO_TCP, TCP_KEEPCNT, 128), -EINVAL);
    EXPECT_EQ(set_int(w->a, c, IPPROTO_TCP, TCP_USER_TIMEOUT, -1), -EINVAL);
    EXPECT_EQ(set_int(w->a, c, IPPROTO_TCP, TCP_MAXSEG, 87), -EINVAL);
}

static void setsockopt_edom(struct world *w)
{
    int c = tcp_socket(w->a);
    struct timeval tv = {0, 2000000};
    EXPECT_EQ(finack_setsockopt(w->a, c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), -EDOM);
}

static void setsockopt_efault(struct world *w)
{
    int c = tcp_socket(w->a);
    EXPECT_EQ(finack_setsockopt(w->a, c, SOL_SOCKET, SO_REUSEADDR, NULL, 4), -EFAULT);
    EXPECT_EQ(finack_setsockopt(w->a, c, IPPROTO_TCP, TCP_NODELAY, NULL, 4), -EFAULT);
    EXPECT_EQ(finack_setsockopt(w->a, c, SOL_SOCKET, SO_LINGER, NULL, 8), -EFAULT);
    EXPECT_EQ(finack_setsockopt(w->a, c, SOL_SOCKET, SO_REUSEADDR, NULL, 0), -EINVAL);
}

static void setsockopt_ebadf(struct world *w)
{
    EXPECT_EQ(set_int(w->a, 8, SOL_SOCKET, SO_REUSEADDR, 1), -EBADF);
}

/* ==== getsockopt ========================================================================== */

static void getsockopt_ok_and_short_length(struct world *w)
{
    int c = tcp_socket(w->a), v = 0;
    socklen_t len = sizeof v;
    EXPECT_EQ(finack_getsockopt(w->a, c, SOL_SOCKET, SO_TYPE, &v, &len), 0);
    EXPECT_EQ(v, SOCK_STREAM);
    /* Linux: a short buffer gets the first bytes, and len says how many. */
    EXPECT_EQ(set_int(w->a, c, SOL_SOCKET, SO_SNDBUF, 0x12345), 0);
    v = -1;
    len = 2;
    EXPECT_EQ(finack_getsockopt(w->a, c, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
    EXPECT_EQ(len, 2);
    uint16_t low = 0;
    memcpy(&low, &v, 2);
    EXPECT_EQ(low, 0x2345);
    len = 0;
    EXPECT_EQ(finack_getsockopt(w->a, c, IPPROTO_TCP, TCP_NODELAY, NULL, &len), 0);
    EXPECT_EQ(len, 0);
    struct linger lg;
    len = 4;
    EXPECT_EQ(finack_getsockopt(w->a, c, SOL_SOCKET, SO_LINGER, &lg, &len), 0);
    EXPECT_EQ(len, 4);
}

static void getsockopt_enoprotoopt_eopnotsupp(struct world *w)
{
    int c = tcp_socket(w->a), v;
    socklen_t len = sizeof v;
    EXPECT_EQ(finack_getsockopt(w->a, c, SOL_SOCKET, 9999, &v, &len), -ENOPROTOOPT);
    EXPECT_EQ(finack_getsockopt(w->a, c, IPPROTO_TCP, 9999, &v, &len), -ENOPROTOOPT);
    EXPECT_EQ(finack_getsockopt(w->a, c, IPPROTO_IP, 9999, &v, &len), -ENOPROTOOPT);
    /* Linux: a level the socket's protocols do not know is EOPNOTSUPP for
     * getsockopt (ENOPROTOOPT for setsockopt). */
    EXPECT_EQ(finack_getsockopt(w->a, c, 12345, 1, &v, &len), -EOPNOTSUPP);
}

static void getsockopt_einval_efault(struct world *w)
{
    int c = tcp_socket(w->a), v;
    socklen_t len = (socklen_t)-1;
    EXPECT_EQ(finack_getsockopt(w->a, c, SOL_SOCKET, SO_ERROR, &v, &len), -EINVAL);
    EXPECT_EQ(finack_getsockopt(w->a, c, IPPROTO_TCP, TCP_NODELAY, &v, &len), -EINVAL);
    EXPECT_EQ(finack_getsockopt(w->a, c, SOL_SOCKET, SO_REUSEADDR, &v, NULL), -EFAULT);
    len = sizeof v;
    EXPECT_EQ(finack_getsockopt(w->a, c, SOL_SOCKET, SO_REUSEADDR, NULL, &len), -EFAULT);
    EXPECT_EQ(finack_getsockopt(w->a, c, IPPROTO_TCP, TCP_INFO, NULL, &len), -EFAULT);
    EXPECT_EQ(finack_getsockopt(w->a, 9, SOL_SOCKET, SO_ERROR, &v, &len), -EBADF);
}

static void getsockopt_so_error_once(struct world *w)
{
    int c = connect_start(w, B_ADDR, 81);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(so_error(w->a, c), ECONNREFUSED);
    EXPECT_EQ(so_error(w->a, c), 0);
}

static void getsockopt_tcp_info(struct world *w)
{
    struct conn3 k = connected(w);
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    finack_send(w->a, k.c, buf, 2000, 0);
    EXPECT_EQ(finack_getsockopt(w->a, k.c, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    EXPECT_EQ(len, sizeof ti);
    EXPECT_EQ(ti.tcpi_state, 1); /* Linux's TCP_ESTABLISHED */
    EXPECT(ti.tcpi_unacked > 0);
    len = sizeof ti;
    EXPECT_EQ(finack_getsockopt(w->b, k.l, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
    EXPECT_EQ(ti.tcpi_state, 10); /* TCP_LISTEN */
    len = 1; /* Linux: cut to the length asked */
    uint8_t first = 0;
    EXPECT_EQ(finack_getsockopt(w->a, k.c, IPPROTO_TCP, TCP_INFO, &first, &len), 0);
    EXPECT_EQ(len, 1);
    EXPECT_EQ(first, 1);
}

/* ==== options ============================================================================= */

static void option_so_rcvbuf_limits_window(struct world *w)
{
    /* SO_RCVBUF set before connect: the window offered never goes past it,
     * so the sender stops there while nobody reads. */
    int l = listen_on(w, PORT);
    EXPECT_EQ(set_int(w->b, l, SOL_SOCKET, SO_RCVBUF, 6000), 0);
    int c = connect_start(w, B_ADDR, PORT);
    run_for(w, FINACK_MSEC(5));
    int s = finack_accept(w->b, l, NULL, NULL);
    EXPECT(s >= 0);
    EXPECT(finack_send(w->a, c, buf, 50000, 0) > 6000);
    run_for(w, FINACK_SEC(1));
    struct finack_tcp_info ti;
    EXPECT_EQ(finack_tcp_info(w->b, s, &ti), 0);
    EXPECT(ti.unread <= 6000);
    EXPECT(ti.unread > 4000);
    EXPECT_EQ(ti.rcv_wnd, 0);
}

static void option_tcp_nodelay(struct world *w)
{
    /* Nagle holds a small segment while another is unacknowledged;
     * TCP_NODELAY sends it at once. */
    struct conn3 k = connected(w);
    EXPECT_EQ(finack_send(w->a, k.c, "a", 1, 0), 1);
    EXPECT_EQ(finack_send(w->a, k.c, "b", 1, 0), 1);
    EXPECT_EQ(in_flight(w->a, k.c), 1);
    run_for(w, FINACK_MSEC(50));
    EXPECT_EQ(set_int(w->a, k.c, IPPROTO_TCP, TCP_NODELAY, 1), 0);
    EXPECT_EQ(in_flight(w->a, k.c), 0);
    EXPECT_EQ(finack_send(w->a, k.c, "c", 1, 0), 1);
    EXPECT_EQ(finack_send(w->a, k.c, "d", 1, 0), 1);
    EXPECT_EQ(in_flight(w->a, k.c), 2);
}

static void option_tcp_maxseg(struct world *w)
{
    listen_on(w, PORT);
    int c = tcp_socket(w->a);
    EXPECT_EQ(set_int(w->a, c, IPPROTO_TCP, TCP_MAXSEG, 500), 0);
    struct sockaddr_in sa = sin_of(B_ADDR, PORT);
    finack_connect(w->a, c, SA(sa), sizeof sa);
    run_for(w, FINACK_MSEC(5));
    int v = 0;
    socklen_t len = sizeof v;
    EXPECT_EQ(finack_getsockopt(w->a, c, IPPROTO_TCP, TCP_MAXSEG, &v, &len), 0);
    EXPECT_EQ(v, 488); /* 500 less the 12 bytes of timestamps */
    struct finack_tcp_info ti;
    EXPECT_EQ(finack_tcp_info(w->a, c, &ti), 0);
    EXPECT_EQ(ti.snd_mss, 488);
}

static void option_roundtrip(struct world *w)
{
    int c = tcp_socket(w->a), v;
    socklen_t len;
    static const struct {
        int level, name, set, get;
    } opts[] = {
        {SOL_SOCKET, SO_REUSEADDR, 1, 1},     {SOL_SOCKET, SO_KEEPALIVE, 1, 1},
        {SOL_SOCKET, SO_SNDBUF, 10000, 10000}, {SOL_SOCKET, SO_RCVBUF, 20000, 20000},
        {SOL_SOCKET, SO_SNDBUF, 1, 4608},      {IPPROTO_TCP, TCP_NODELAY, 5, 1},
        {IPPROTO_TCP, TCP_KEEPIDLE, 30, 30},   {IPPROTO_TCP, TCP_KEEPINTVL, 5, 5},
        {IPPROTO_TCP, TCP_KEEPCNT, 3, 3},      {IPPROTO_TCP, TCP_USER_TIMEOUT, 1500, 1500},
        {IPPROTO_TCP, TCP_MAXSEG, 1000, 1000},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        EXPECT_EQ(set_int(w->a, c, opts[i].level, opts[i].name, opts[i].set), 0);
        len = sizeof v;
        v = -1;
        EXPECT_EQ(finack_getsockopt(w->a, c, opts[i].level, opts[i].name, &v, &len), 0);
        EXPECT_EQ(v, opts[i].get);
    }
}

/* TCP_CONGESTION, a string both ways, as Linux's (do_tcp_setsockopt,
 * do_tcp_getsockopt; TCP_CA_NAME_MAX 16). Every value below was checked
 * against Linux 6.18 sockets on loopback (getsockopt lengths 0, 3, 16, 32
 * and -1, the set lengths and names, NULL both ways, a child of a listener
 * set after listen()); Linux's default there was another name. */

static int set_cc(struct finack_stack *st, int fd, const char *name, socklen_t len)
{
    return finack_setsockopt(st, fd, IPPROTO_TCP, TCP_CONGESTION, name, len);
}

/* The name read back: 0 and exactly `want` NUL-padded to 16 bytes. */
static bool cc_is(struct finack_stack *st, int fd, const char *want)
{
    char got[32], pad[16] = {0};
    memset(got, 0x7f, sizeof got);
    socklen_t len = sizeof got;
    if (finack_getsockopt(st, fd, IPPROTO_TCP, TCP_CONGESTION, got, &len)) return false;
    memcpy(pad, want, strlen(want));
    return len == 16 && memcmp(got, pad, 16) == 0 && got[16] == 0x7f;
}

static void option_tcp_congestion_names(struct world *w)
{
    int c = tcp_socket(w->a);
    /* The default, Reno (Linux's is cubic), NUL-padded to the length asked. */
    EXPECT(cc_is(w->a, c, "reno"));
    char got[8];
    memset(got, 0x7f, sizeof got);
    socklen_t len = 3;
    EXPECT_EQ(finack_getsockopt(w->a, c, IPPROTO_TCP, TCP_CONGESTION, got, &len), 0);
    EXPECT_EQ(len, 3);
    EXPECT(memcmp(got, "ren\x7f", 4) == 0);
    len = 6;
    EXPECT_EQ(finack_getsockopt(w->a, c, IPPROTO_TCP, TCP_CONGESTION, got, &len), 0);
    EXPECT_EQ(len, 6);
    EXPECT(memcmp(got, "reno\0\0\x7f", 7) == 0);
    /* Linux: the length need not count a NUL, nor be an int's; what
     * follows a NUL is not read. */
    EXPECT_EQ(set_cc(w->a, c, "cubic", 5), 0);
    EXPECT(cc_is(w->a, c, "cubic"));
    EXPECT_EQ(set_cc(w->a, c, "reno", 3 + 1), 0);
    EXPECT(cc_is(w->a, c, "reno"));
    EXPECT_EQ(set_cc(w->a, c, "cubic\0zz", 8), 0);
    EXPECT(cc_is(w->a, c, "cubic"));
    EXPECT_EQ(set_cc(w->a, c, "reno\0", 5), 0);
    EXPECT(cc_is(w->a, c, "reno"));
}

static void option_tcp_congestion_enoent(struct world *w)
{
    int c = tcp_socket(w->a);
    EXPECT_EQ(set_cc(w->a, c, "cubic", 5), 0);
    /* Linux: no such algorithm (tcp_ca_find); the setting stays. */
    EXPECT_EQ(set_cc(w->a, c, "bbr", 3), -ENOENT);
    EXPECT_EQ(set_cc(w->a, c, "", 1), -ENOENT);
    EXPECT_EQ(set_cc(w->a, c, "Cubic", 5), -ENOENT);
    EXPECT_EQ(set_cc(w->a, c, "cub", 3), -ENOENT);  /* a length cuts the name */
    EXPECT_EQ(set_cc(w->a, c, "renox", 5), -ENOENT);
    /* At most TCP_CA_NAME_MAX - 1 = 15 bytes are read. */
    EXPECT_EQ(set_cc(w->a, c, "cubiccubiccubiccubic", 20), -ENOENT);
    EXPECT(cc_is(w->a, c, "cubic"));
}

static void option_tcp_congestion_einval_efault(struct world *w)
{
    int c = tcp_socket(w->a);
    EXPECT_EQ(set_cc(w->a, c, "cubic", 0), -EINVAL);
    EXPECT_EQ(set_cc(w->a, c, "cubic", (socklen_t)-1), -EINVAL);
    EXPECT_EQ(set_cc(w->a, c, NULL, 5), -EFAULT);
    EXPECT_EQ(set_cc(w->a, 8, "cubic", 5), -EBADF);
    socklen_t len = 16;
    EXPECT_EQ(finack_getsockopt(w->a, c, IPPROTO_TCP, TCP_CONGESTION, NULL, &len), -EFAULT);
    len = (socklen_t)-1; /* a negative length, as for every option (getsockopt / EINVAL) */
    char got[16];
    EXPECT_EQ(finack_getsockopt(w->a, c, IPPROTO_TCP, TCP_CONGESTION, got, &len), -EINVAL);
    EXPECT(cc_is(w->a, c, "reno"));
}

static void option_tcp_congestion_inherited_by_accept(struct world *w)
{
    /* Set on the listener after listen(): its children use it, and the
     * accepted socket says so (Linux's tcp_ca_openreq_child). */
    int l = listen_on(w, PORT);
    EXPECT_EQ(set_cc(w->b, l, "cubic", 5), 0);
    EXPECT(cc_is(w->b, l, "cubic"));
    int c = connect_start(w, B_ADDR, PORT);
    run_for(w, FINACK_MSEC(5));
    int s = finack_accept(w->b, l, NULL, NULL);
    EXPECT(s >= 0);
    EXPECT(cc_is(w->b, s, "cubic"));
    EXPECT(cc_is(w->a, c, "reno")); /* the other end's own choice */
    /* A connection switches at any time; the listener keeps its own. */
    EXPECT_EQ(set_cc(w->b, s, "reno", 4), 0);
    EXPECT(cc_is(w->b, s, "reno"));
    EXPECT(cc_is(w->b, l, "cubic"));
    /* Set before connect(): the connection opens with it. */
    int c2 = tcp_socket(w->a);
    EXPECT_EQ(set_cc(w->a, c2, "cubic", 6), 0);
    struct sockaddr_in sa = sin_of(B_ADDR, PORT);
    finack_connect(w->a, c2, SA(sa), sizeof sa);
    run_for(w, FINACK_MSEC(5));
    EXPECT_STR(finack_socket_state(w->a, c2), "ESTABLISHED");
    EXPECT(cc_is(w->a, c2, "cubic"));
    /* Set on the listener before listen(), then a second child. */
    int l2 = tcp_socket(w->b);
    EXPECT_EQ(set_cc(w->b, l2, "cubic", 5), 0);
    struct sockaddr_in la = sin_of(0, PORT + 1);
    EXPECT_EQ(finack_bind(w->b, l2, SA(la), sizeof la), 0);
    EXPECT_EQ(finack_listen(w->b, l2, 4), 0);
    connect_start(w, B_ADDR, PORT + 1);
    run_for(w, FINACK_MSEC(5));
    int s2 = finack_accept(w->b, l2, NULL, NULL);
    EXPECT(s2 >= 0);
    EXPECT(cc_is(w->b, s2, "cubic"));
}

/* ==== poll ================================================================================ */

static void poll_events(struct world *w)
{
    int fresh = tcp_socket(w->a);
    struct conn3 k = connected(w);
    struct pollfd p[3] = {{.fd = fresh, .events = POLLIN | POLLOUT},
                          {.fd = 42, .events = POLLIN},
                          {.fd = -1, .events = POLLIN}};
    EXPECT_EQ(finack_poll(w->a, p, 3), 2);
    EXPECT_EQ(p[0].revents, POLLOUT | POLLHUP); /* Linux: 0x14 for a new socket */
    EXPECT_EQ(p[1].revents, POLLNVAL);
    EXPECT_EQ(p[2].revents, 0);
    struct pollfd q = {.fd = k.l, .events = POLLIN};
    EXPECT_EQ(finack_poll(w->b, &q, 1), 0);
    connect_start(w, B_ADDR, PORT);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_poll(w->b, &q, 1), 1); /* a connection to accept */
    struct pollfd r = {.fd = k.c, .events = POLLIN};
    EXPECT_EQ(finack_poll(w->a, &r, 1), 0);
    finack_send(w->b, k.s, "x", 1, 0);
    run_for(w, FINACK_MSEC(5));
    EXPECT_EQ(finack_poll(w->a, &r, 1), 1);
    EXPECT_EQ(r.revents, POLLIN);
    EXPECT_EQ(finack_shutdown(w->a, k.c, SHUT_WR), 0);
    struct pollfd o = {.fd = k.c, .events = POLLOUT};
    EXPECT_EQ(finack_poll(w->a, &o, 1), 1); /* Linux: writable after SHUT_WR */
}

static void poll_efault(struct world *w)
{
    EXPECT_EQ(finack_poll(w->a, NULL, 1), -EFAULT);
    EXPECT_EQ(finack_poll(w->a, NULL, 0), 0);
}

/* ==== the table =========================================================================== */

struct cell {
    const char *call, *mode, *error;
    void (*run)(struct world *w);
    const char *also; /* existing tests of the same ground, or NULL */
};

#define NB "non-blocking"

static const struct cell cells[] = {
    {"socket", NB, "ok", socket_ok_lowest_handle, NULL},
    {"socket", NB, "SOCK_NONBLOCK", socket_nonblock_flag, "blocking/fcntl-nonblock-switch.pkt"},
    {"socket", NB, "EAFNOSUPPORT", socket_eafnosupport, NULL},
    {"socket", NB, "EINVAL", socket_einval, NULL},
    {"socket", NB, "ESOCKTNOSUPPORT", socket_esocktnosupport, NULL},
    {"socket", NB, "EPROTONOSUPPORT", socket_eprotonosupport, NULL},
    {"socket", NB, "ENOTSOCK (none: EBADF)", socket_enotsock_is_ebadf, NULL},

    {"bind", NB, "ok", bind_ok, NULL},
    {"bind", NB, "ok (AF_UNSPEC, INADDR_ANY)", bind_ok_af_unspec_any, NULL},
    {"bind", NB, "EBADF", bind_ebadf, NULL},
    {"bind", NB, "EFAULT", bind_efault, NULL},
    {"bind", NB, "EINVAL", bind_einval, NULL},
    {"bind", NB, "EINVAL (connected)", bind_einval_after_connect, NULL},
    {"bind", NB, "EAFNOSUPPORT", bind_eafnosupport, NULL},
    {"bind", NB, "EADDRNOTAVAIL", bind_eaddrnotavail, NULL},
    {"bind", NB, "EADDRINUSE (bound)", bind_eaddrinuse_bound, NULL},
    {"bind", NB, "EADDRINUSE (listener, SO_REUSEADDR)",
     bind_eaddrinuse_listener_even_with_reuseaddr, NULL},
    {"bind", NB, "EADDRINUSE (TIME_WAIT) / SO_REUSEADDR", bind_eaddrinuse_time_wait_then_reuseaddr,
     "time_wait/time-wait-bind-needs-reuseaddr.pkt, sim.loop_blocking test_server_restart"},
    {"bind", NB, "EADDRINUSE (TIME_WAIT of a socket without SO_REUSEADDR)",
     bind_eaddrinuse_time_wait_of_socket_without_reuseaddr, NULL},
    {"bind", NB, "ok (FIN_WAIT_2, SO_REUSEADDR on both)", bind_reuseaddr_beside_fin_wait_2, NULL},

    {"listen", NB, "ok", listen_ok_autobind_and_twice, "listen/listen-twice.pkt"},
    {"listen", NB, "EBADF", listen_ebadf, NULL},
    {"listen", NB, "EINVAL (connected)", listen_einval_connected, NULL},
    {"listen", NB, "EINVAL (connecting)", listen_einval_connecting, NULL},
    {"listen", NB, "EADDRINUSE", listen_eaddrinuse_shared_port, NULL},

    {"accept", NB, "ok", accept_ok_peer_address, "listen/accept-queue-order.pkt"},
    {"accept", NB, "EAGAIN", accept_eagain, "blocking/nonblocking-read-accept-eagain.pkt"},
    {"accept", NB, "EINVAL", accept_einval_not_listening, "listen/accept-not-listening.pkt"},
    {"accept", NB, "EBADF", accept_ebadf, NULL},
    {"accept", NB, "EFAULT", accept_efault, NULL},
    {"accept", NB, "ok, then ECONNRESET", accept_then_econnreset,
     "sim.tcp_scenarios test_reset_before_accept"},

    {"connect", NB, "EINPROGRESS, POLLOUT, SO_ERROR 0", connect_einprogress_pollout_so_error,
     "blocking/nonblocking-connect-completes-then-eisconn.pkt"},
    {"connect", NB, "EALREADY", connect_ealready,
     "blocking/nonblocking-connect-einprogress-ealready.pkt"},
    {"connect", NB, "EISCONN", connect_eisconn, NULL},
    {"connect", NB, "ECONNREFUSED", connect_econnrefused,
     "blocking/nonblocking-connect-refused-then-connect-reports.pkt"},
    {"connect", NB, "ECONNABORTED", connect_econnrefused_via_so_error_then_econnaborted, NULL},
    {"connect", NB, "ECONNREFUSED (recv)", connect_econnrefused_via_recv, NULL},
    {"connect", NB, "ETIMEDOUT (SYN retries)", connect_etimedout_syn_retries,
     "sim.tcp_scenarios test_syn_backoff_then_etimedout"},
    {"connect", NB, "ETIMEDOUT (TCP_USER_TIMEOUT)", connect_etimedout_user_timeout,
     "sim.tcp_timers test_user_timeout_ends_connect"},
    {"connect", NB, "EADDRNOTAVAIL", connect_eaddrnotavail, NULL},
    {"connect", NB, "EFAULT, EINVAL, EAFNOSUPPORT, EBADF", connect_bad_address, NULL},
    {"connect", NB, "ENETUNREACH", connect_enetunreach, NULL},

    {"send", NB, "ok, data in flight", send_returns_after_copy_in_flight, NULL},
    {"send", NB, "ok (len 0)", send_ok_len0, NULL},
    {"send", NB, "EAGAIN (full, SO_SNDBUF)", send_eagain_full_buffer_so_sndbuf,
     "sockopt/so-sndbuf-resize-after-use.pkt"},
    {"send", NB, "EAGAIN (connecting)", send_eagain_connecting, NULL},
    {"send", NB, "EPIPE (SHUT_WR)", send_epipe_after_shut_wr,
     "sim.tcp_scenarios test_send_after_shutdown_wr_is_epipe"},
    {"send", NB, "ECONNRESET, then EPIPE", send_econnreset_then_epipe,
     "rst/rst-at-rcv-nxt-write.pkt"},
    {"send", NB, "EPIPE (never connected)", send_epipe_never_connected, NULL},
    {"send", NB, "ENOTCONN (listener)", send_enotconn_listener, "unit.tcp_state_table"},
    {"send", NB, "ETIMEDOUT (TCP_USER_TIMEOUT)", send_etimedout_user_timeout,
     "sim.tcp_timers test_user_timeout_ends_retransmission"},
    {"send", NB, "ETIMEDOUT (15 retries)", send_etimedout_retries,
     "retransmit/give-up-after-15-retries.pkt"},
    {"send", NB, "EFAULT", send_efault, NULL},
    {"send", NB, "EOPNOTSUPP (MSG_OOB)", send_eopnotsupp_msg_oob, NULL},
    {"send", NB, "EBADF", send_ebadf, NULL},
    {"send", "continuation", "partial, error kept", send_partial_then_error_stays, NULL},
    {"send", "continuation", "partial, next send reports", send_partial_then_next_send_reports,
     NULL},
    {"send", NB, "ok after peer FIN (half-close)", send_after_peer_fin_half_close,
     "shutdown/peer-half-close-we-keep-sending.pkt, sim.tcp_scenarios test_half_close"},

    {"recv", NB, "ok (MSG_PEEK)", recv_ok_peek_then_read, NULL},
    {"recv", NB, "EAGAIN (empty)", recv_eagain_empty,
     "blocking/nonblocking-read-accept-eagain.pkt"},
    {"recv", NB, "EAGAIN (connecting)", recv_eagain_connecting, NULL},
    {"recv", NB, "0 (FIN)", recv_zero_on_fin, "close/passive-close-read-eof.pkt"},
    {"recv", NB, "ECONNRESET, then 0", recv_econnreset_then_zero, "rst/rst-at-rcv-nxt-read.pkt"},
    {"recv", NB, "ETIMEDOUT (keepalive)", recv_etimedout_keepalive,
     "sim.tcp_timers test_keepalive_unanswered_resets"},
    {"recv", NB, "ENOTCONN", recv_enotconn, NULL},
    {"recv", NB, "EINVAL (MSG_OOB)", recv_einval_msg_oob, NULL},
    {"recv", NB, "EFAULT", recv_efault, NULL},
    {"recv", NB, "EBADF", recv_ebadf, NULL},

    {"shutdown", NB, "SHUT_WR ok", shutdown_wr_ok_twice, "shutdown/shut-wr-twice.pkt"},
    {"shutdown", NB, "SHUT_RD ok", shutdown_rd_ok, "shutdown/shut-rd-read-returns-zero.pkt"},
    {"shutdown", NB, "SHUT_RD + SHUT_WR, data gets RST", shutdown_rd_then_wr_data_gets_rst,
     "shutdown/shut-rdwr-data-gets-rst.pkt"},
    {"shutdown", NB, "SHUT_RDWR ok", shutdown_rdwr_ok, "shutdown/shut-rdwr.pkt"},
    {"shutdown", NB, "EINVAL", shutdown_einval, NULL},
    {"shutdown", NB, "ENOTCONN", shutdown_enotconn, "shutdown/shutdown-not-connected.pkt"},
    {"shutdown", NB, "EBADF", shutdown_ebadf, NULL},
    {"shutdown", NB, "ok (listener)", shutdown_listener, NULL},
    {"shutdown", NB, "ok (SYN_SENT)", shutdown_syn_sent, NULL},

    {"close", NB, "ok (FIN)", close_ok_fin, "close/active-close-fin-wait-2-time-wait.pkt"},
    {"close", NB, "EBADF", close_ebadf_twice, "sockopt/sockopt-errors.pkt"},
    {"close", NB, "RST (unread data)", close_unread_data_sends_rst,
     "close/close-unread-data-sends-rst.pkt"},
    {"close", NB, "RST (SO_LINGER 0)", close_linger_zero_sends_rst,
     "close/so-linger-zero-abort.pkt"},
    {"close", NB, "RST (listener's queue)", close_listener_resets_queued,
     "listen/close-with-queued-connection.pkt"},

    {"getsockname", NB, "ok", getsockname_ok, NULL},
    {"getsockname", NB, "EBADF, EFAULT, EINVAL", getsockname_errors, NULL},
    {"getpeername", NB, "ok", getpeername_ok, NULL},
    {"getpeername", NB, "ENOTCONN", getpeername_enotconn, NULL},
    {"getpeername", NB, "EBADF, EFAULT, EINVAL", getpeername_errors, NULL},

    {"setsockopt", NB, "ENOPROTOOPT", setsockopt_enoprotoopt, "sockopt/sockopt-errors.pkt"},
    {"setsockopt", NB, "EINVAL", setsockopt_einval, "sockopt/setsockopt-short-length-einval.pkt"},
    {"setsockopt", NB, "EDOM", setsockopt_edom, "sim.loop_blocking test_timeout_options"},
    {"setsockopt", NB, "EFAULT", setsockopt_efault, NULL},
    {"setsockopt", NB, "EBADF", setsockopt_ebadf, "sockopt/sockopt-errors.pkt"},
    {"getsockopt", NB, "ok (short length)", getsockopt_ok_and_short_length, NULL},
    {"getsockopt", NB, "ENOPROTOOPT, EOPNOTSUPP", getsockopt_enoprotoopt_eopnotsupp,
     "sockopt/sockopt-errors.pkt"},
    {"getsockopt", NB, "EINVAL, EFAULT, EBADF", getsockopt_einval_efault, NULL},
    {"getsockopt", NB, "SO_ERROR once", getsockopt_so_error_once,
     "sockopt/so-error-econnrefused.pkt"},
    {"getsockopt", NB, "TCP_INFO", getsockopt_tcp_info, "sim.tcp_transfer"},

    {"setsockopt", NB, "SO_RCVBUF", option_so_rcvbuf_limits_window,
     "sockopt/so-rcvbuf-initial-window.pkt"},
    {"setsockopt", NB, "TCP_NODELAY", option_tcp_nodelay, "data/tcp-nodelay-sends-at-once.pkt"},
    {"setsockopt", NB, "TCP_MAXSEG", option_tcp_maxseg,
     "sockopt/setsockopt-tcp-maxseg-advertised-mss.pkt"},
    {"setsockopt", NB, "round trip", option_roundtrip,
     "sockopt/setsockopt-getsockopt-roundtrip.pkt"},
    {"setsockopt", NB, "TCP_CONGESTION names", option_tcp_congestion_names,
     "unit.tcp_cubic, sim.tcp_throughput test_cubic_beats_reno_*"},
    {"setsockopt", NB, "TCP_CONGESTION ENOENT", option_tcp_congestion_enoent, NULL},
    {"setsockopt", NB, "TCP_CONGESTION EINVAL, EFAULT, EBADF",
     option_tcp_congestion_einval_efault, NULL},
    {"accept", NB, "TCP_CONGESTION inherited", option_tcp_congestion_inherited_by_accept, NULL},

    {"poll", NB, "events, POLLNVAL", poll_events, "shutdown/poll-rdhup-after-peer-fin.pkt"},
    {"poll", NB, "EFAULT", poll_efault, NULL},
};

#define NCELLS (sizeof cells / sizeof cells[0])

static void run_cells(const char *call)
{
    for (size_t i = 0; i < NCELLS; i++) {
        const struct cell *c = &cells[i];
        if (strcmp(c->call, call) != 0) continue;
        struct world w;
        world_init(&w);
        int failed_before = test_current_failed;
        cell_checks = 0;
        c->run(&w);
        if (cell_checks == 0) test_fail(__FILE__, __LINE__, "cell made no assertion");
        if (test_current_failed != failed_before)
            fprintf(stderr, "  ^ in cell %s / %s / %s\n", c->call, c->mode, c->error);
        world_free(&w);
    }
}

static void test_socket(void) { run_cells("socket"); }
static void test_bind(void) { run_cells("bind"); }
static void test_listen(void) { run_cells("listen"); }
static void test_accept(void) { run_cells("accept"); }
static void test_connect(void) { run_cells("connect"); }
static void test_send(void) { run_cells("send"); }
static void test_recv(void) { run_cells("recv"); }
static void test_shutdown(void) { run_cells("shutdown"); }
static void test_close(void) { run_cells("close"); }
static void test_getsockname(void) { run_cells("getsockname"); }
static void test_getpeername(void) { run_cells("getpeername"); }
static void test_setsockopt(void) { run_cells("setsockopt"); }
static void test_getsockopt(void) { run_cells("getsockopt"); }
static void test_poll(void) { run_cells("poll"); }

/* Every cell belongs to one of the calls above. */
static void test_every_cell_runs(void)
{
    static const char *const calls[] = {"socket",   "bind",  "listen",      "accept",
                                        "connect",  "send",  "recv",        "shutdown",
                                        "close",    "getsockname", "getpeername",
                                        "setsockopt", "getsockopt", "poll"};
    for (size_t i = 0; i < NCELLS; i++) {
        bool known = false;
        for (size_t j = 0; j < sizeof calls / sizeof calls[0]; j++)
            if (strcmp(cells[i].call, calls[j]) == 0) known = true;
        CHECK(known);
    }
    fprintf(stderr, "api_matrix: %zu cells\n", NCELLS);
}

TEST_MAIN("api_matrix", TEST_CASE(test_every_cell_runs), TEST_CASE(test_socket),
          TEST_CASE(test_bind), TEST_CASE(test_listen), TEST_CASE(test_accept),
          TEST_CASE(test_connect), TEST_CASE(test_send), TEST_CASE(test_recv),
          TEST_CASE(test_shutdown), TEST_CASE(test_close), TEST_CASE(test_getsockname),
          TEST_CASE(test_getpeername), TEST_CASE(test_setsockopt), TEST_CASE(test_getsockopt),
          TEST_CASE(test_poll))
