/* SO_REUSEADDR on both sockets lets a new server bind a port still held
 * by an orphaned connection in FIN_WAIT_2 (or any state but LISTEN), as on
 * Linux (inet_csk_bind_conflict: sk_reuse on both and sk2 not listening;
 * checked on loopback). Without it on the new socket: EADDRINUSE. */
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


static void reuseaddr_beside_fin_wait_2(struct world *w)
{
    (void)buf, (void)in_flight, (void)peer_resets, (void)so_error, (void)connected, (void)silence;
    int l = listen_on(w, PORT);
    EXPECT_EQ(set_int(w->b, l, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    int c = connect_start(w, B_ADDR, PORT);
    int s = -1;
    RUN_UNTIL(w, (s = finack_accept(w->b, l, NULL, NULL)) >= 0, FINACK_SEC(5));
    REQUIRE(s >= 0);
    finack_close(w->b, l);
    finack_close(w->b, s); /* B: FIN_WAIT_2 (A never closes) */
    run_for(w, FINACK_MSEC(10));
    (void)c;
    int n = tcp_socket(w->b);
    struct sockaddr_in sa = sin_of(B_ADDR, PORT);
    EXPECT_EQ(finack_bind(w->b, n, SA(sa), sizeof sa), -EADDRINUSE);
    EXPECT_EQ(set_int(w->b, n, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    EXPECT_EQ(finack_bind(w->b, n, SA(sa), sizeof sa), 0); /* Linux: 0 */
    EXPECT_EQ(finack_listen(w->b, n, 4), 0);
}

static void test_reuseaddr_beside_fin_wait_2(void)
{
    struct world w;
    world_init(&w);
    reuseaddr_beside_fin_wait_2(&w);
    world_free(&w);
}

TEST_MAIN("api_pending_reuseaddr", TEST_CASE(test_reuseaddr_beside_fin_wait_2))
