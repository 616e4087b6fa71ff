/* Two stacks over the simulated link: handshake, a transfer both ways,
 * the 4-way close, TIME_WAIT for 2·MSL, under clean and lossy links. */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "finack/sim.h"
#include "finack/socket.h"
#include "test.h"

#define CLIENT_ADDR 0x0a000001u
#define SERVER_ADDR 0x0a000002u

struct world {
    struct finack_sim *sim;
    struct finack_sim_link *link;
    struct finack_stack *client, *server;
};

static struct finack_stack *make_stack(const char *name, uint64_t seed)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = name;
    cfg.secret[0] = seed;
    cfg.secret[1] = seed * 7 + 1;
    struct finack_stack *s;
    if (finack_stack_create(&s, &cfg)) abort();
    return s;
}

static void world_init(struct world *w, uint64_t seed, double loss, double reorder)
{
    REQUIRE(finack_sim_create(&w->sim, seed) == 0);
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    cfg.a_to_b.loss = cfg.b_to_a.loss = loss;
    cfg.a_to_b.reorder = cfg.b_to_a.reorder = reorder;
    REQUIRE(finack_sim_link_create(w->sim, &cfg, &w->link) == 0);
    w->client = make_stack("client", seed + 1);
    w->server = make_stack("server", seed + 2);
    REQUIRE(finack_stack_add_interface(w->client, finack_sim_link_end(w->link, FINACK_SIM_A),
                                       CLIENT_ADDR, 24) == 0);
    REQUIRE(finack_stack_add_interface(w->server, finack_sim_link_end(w->link, FINACK_SIM_B),
                                       SERVER_ADDR, 24) == 0);
    finack_sim_link_attach(w->link, FINACK_SIM_A, w->client);
    finack_sim_link_attach(w->link, FINACK_SIM_B, w->server);
    finack_sim_add_stack(w->sim, w->client);
    finack_sim_add_stack(w->sim, w->server);
}

static void world_free(struct world *w)
{
    finack_sim_destroy(w->sim);
    finack_stack_destroy(w->client);
    finack_stack_destroy(w->server);
}

static struct sockaddr_in addr_of(uint32_t ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(ip)};
    return a;
}

/* Run the simulation in small steps until cond holds or time runs out. */
#define RUN_UNTIL(w, cond, limit_us)                                               \
    do {                                                                           \
        finack_time_t until_ = finack_sim_now((w)->sim) + (limit_us);              \
        while (!(cond) && finack_sim_now((w)->sim) < until_)                        \
            finack_sim_run_until((w)->sim, finack_sim_now((w)->sim) + 1000);        \
    } while (0)

/* finack_tcp_info() and TCP_INFO after the transfer, the client's FIN
 * acknowledged: what was sent, acknowledged, received and resent. */
static void check_info(struct world *w, int cfd, int afd, size_t total, bool lossy)
{
    struct finack_tcp_info ci, si;
    REQUIRE(finack_tcp_info(w->client, cfd, &ci) == 0);
    REQUIRE(finack_tcp_info(w->server, afd, &si) == 0);
    CHECK_STR(ci.state, "FIN_WAIT_2");
    CHECK_STR(si.state, "CLOSE_WAIT");
    CHECK_U64(ci.bytes_acked, total);
    CHECK_U64(si.bytes_received, total);
    CHECK_U64(ci.bytes_in_flight, 0);
    CHECK_EQ(ci.unsent, 0);
    CHECK(ci.timestamps && ci.sack && si.timestamps && si.sack);
    CHECK_EQ(ci.snd_mss, 1448); /* 1500 - 40 - 12 of timestamps */
    CHECK_EQ(ci.rcv_wscale, 7);
    /* 1 ms each way: on a clean link the smoothed RTT is 2 ms. */
    if (!lossy) CHECK(ci.rtt_us >= 2000 && ci.rtt_us < 3000);
    CHECK(ci.rto_us >= 200000);
    /* Resent segments exactly when the link lost some of ours. */
    if (finack_sim_link_stats(w->link, FINACK_SIM_A).lost) CHECK(ci.total_retrans > 0);
    if (!lossy) CHECK_U64(ci.total_retrans, 0);
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    REQUIRE(finack_getsockopt(w->client, cfd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0);
    CHECK_EQ(len, sizeof ti);
    CHECK_EQ(ti.tcpi_state, 5); /* Linux's TCP_FIN_WAIT2 */
    CHECK_EQ(ti.tcpi_snd_mss, 1448);
    CHECK_EQ(ti.tcpi_rtt, ci.rtt_us);
    CHECK_EQ(ti.tcpi_snd_cwnd, ci.cwnd / 1448);
    CHECK_EQ(ti.tcpi_options & 3, 3); /* timestamps and SACK */
    struct finack_tcp_info li;
    CHECK_EQ(finack_tcp_info(w->server, 0, &li), -ENOTCONN); /* the listener */
}

static void transfer(uint64_t seed, double loss, double reorder, size_t total)
{
    struct world w;
    world_init(&w, seed, loss, reorder);
    int lfd = finack_socket(w.server, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = addr_of(0, 80);
    REQUIRE(finack_bind(w.server, lfd, (struct sockaddr *)&sa, sizeof sa) == 0);
    REQUIRE(finack_listen(w.server, lfd, 16) == 0);
    CHECK_STR(finack_socket_state(w.server, lfd), "LISTEN");

    int cfd = finack_socket(w.client, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in da = addr_of(SERVER_ADDR, 80);
    CHECK_EQ(finack_connect(w.client, cfd, (struct sockaddr *)&da, sizeof da), -EINPROGRESS);
    CHECK_STR(finack_socket_state(w.client, cfd), "SYN_SENT");
    int afd = -EAGAIN;
    RUN_UNTIL(&w, (afd = finack_accept(w.server, lfd, NULL, NULL)) >= 0, FINACK_SEC(120));
    REQUIRE(afd >= 0);
    RUN_UNTIL(&w, !strcmp(finack_socket_state(w.client, cfd), "ESTABLISHED"), FINACK_SEC(60));
    CHECK_STR(finack_socket_state(w.client, cfd), "ESTABLISHED");
    CHECK_STR(finack_socket_state(w.server, afd), "ESTABLISHED");
    /* finack_poll over the server's sockets: the listener has nothing
     * queued, the new connection is writable, a bad handle is POLLNVAL,
     * a negative one skipped. */
    struct pollfd pfd[4] = {{.fd = lfd, .events = POLLIN},
                            {.fd = afd, .events = POLLIN | POLLOUT},
                            {.fd = 99, .events = POLLIN},
                            {.fd = -1, .events = POLLIN}};
    CHECK_EQ(finack_poll(w.server, pfd, 4), 2);
    CHECK_EQ(pfd[0].revents, 0);
    CHECK_EQ(pfd[1].revents, POLLOUT);
    CHECK_EQ(pfd[2].revents, POLLNVAL);
    CHECK_EQ(pfd[3].revents, 0);

    uint8_t *out = malloc(total), *in = malloc(total);
    for (size_t i = 0; i < total; i++) out[i] = (uint8_t)(i * 131 + (i >> 8));
    size_t sent = 0, got = 0;
    bool closed = false;
    finack_time_t limit = finack_sim_now(w.sim) + FINACK_SEC(3600);
    while (got < total && finack_sim_now(w.sim) < limit) {
        if (sent < total) {
            ssize_t n = finack_send(w.client, cfd, out + sent, total - sent, 0);
            if (n > 0) sent += (size_t)n;
            else REQUIRE(n == -EAGAIN);
        } else if (!closed) {
            CHECK_EQ(finack_shutdown(w.client, cfd, SHUT_WR), 0);
            closed = true;
        }
        ssize_t n = finack_recv(w.server, afd, in + got, total - got, 0);
        if (n > 0) got += (size_t)n;
        finack_sim_run_until(w.sim, finack_sim_now(w.sim) + 500);
    }
    CHECK_U64(got, total);
    CHECK(memcmp(in, out, total) == 0);
    /* The client's FIN arrives after the data: EOF, then the server closes. */
    char c;
    ssize_t eof = -1;
    RUN_UNTIL(&w, (eof = finack_recv(w.server, afd, &c, 1, 0)) == 0, FINACK_SEC(120));
    CHECK_EQ(eof, 0);
    RUN_UNTIL(&w, !strcmp(finack_socket_state(w.client, cfd), "FIN_WAIT_2"), FINACK_SEC(120));
    check_info(&w, cfd, afd, total, loss > 0 || reorder > 0);
    CHECK_STR(finack_socket_state(w.server, afd), "CLOSE_WAIT");
    CHECK_EQ(finack_close(w.server, afd), 0);
    RUN_UNTIL(&w, !strcmp(finack_socket_state(w.client, cfd), "TIME_WAIT"), FINACK_SEC(120));
    CHECK_STR(finack_socket_state(w.client, cfd), "TIME_WAIT");
    /* 2·MSL later the connection is gone. */
    finack_sim_run_until(w.sim, finack_sim_now(w.sim) + FINACK_SEC(121));
    CHECK_STR(finack_socket_state(w.client, cfd), "CLOSED");
    CHECK_EQ(finack_close(w.client, cfd), 0);
    CHECK_EQ(finack_close(w.server, lfd), 0);
    free(out);
    free(in);
    world_free(&w);
}

static void test_clean_link_transfer_and_close(void) { transfer(1, 0, 0, 200000); }
static void test_tiny_transfer(void) { transfer(1, 0, 0, 10); }
static void test_lossy_link_transfer_and_close(void) { transfer(2, 0.05, 0, 100000); }
static void test_reordering_link_transfer(void) { transfer(3, 0.01, 0.05, 100000); }

static void test_connect_to_closed_port_is_refused(void)
{
    struct world w;
    world_init(&w, 9, 0, 0);
    int cfd = finack_socket(w.client, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in da = addr_of(SERVER_ADDR, 81);
    CHECK_EQ(finack_connect(w.client, cfd, (struct sockaddr *)&da, sizeof da), -EINPROGRESS);
    finack_sim_run_until(w.sim, FINACK_MSEC(10));
    CHECK_STR(finack_socket_state(w.client, cfd), "CLOSED");
    int err = 0;
    socklen_t len = sizeof err;
    CHECK_EQ(finack_getsockopt(w.client, cfd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    CHECK_EQ(err, ECONNREFUSED);
    CHECK_EQ(finack_stack_drops(w.server, FINACK_DROP_TCP_NO_SOCKET), 1);
    finack_close(w.client, cfd);
    world_free(&w);
}

TEST_MAIN("tcp_transfer", TEST_CASE(test_tiny_transfer), TEST_CASE(test_clean_link_transfer_and_close),
          TEST_CASE(test_lossy_link_transfer_and_close), TEST_CASE(test_reordering_link_transfer),
          TEST_CASE(test_connect_to_closed_port_is_refused))
