/* 100,000 concurrent connections between two simulated stacks: all open
 * at once, all ESTABLISHED together, then all closed, and both stacks
 * empty 2·MSL later. What must not grow with the number of connections
 * (lookups, timers, socket handles) is exercised at that scale; the
 * virtual time shows nothing waited on anything else. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finack/sim.h"
#include "finack/socket.h"
#include "stack.h"
#include "tcp/tcp.h"
#include "test.h"

#define CLIENT_ADDR 0x0a000001u
#define SERVER_ADDR 0x0a000002u
#define CONNS 100000
#define PORTS 4 /* server ports: 4 x 28,232 ephemeral ports per destination */

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

static void test_hundred_thousand_connections(void)
{
    struct finack_sim *sim;
    REQUIRE(finack_sim_create(&sim, 42) == 0);
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    struct finack_sim_link *link;
    REQUIRE(finack_sim_link_create(sim, &cfg, &link) == 0);
    struct finack_stack *cli = make_stack("client", 1), *srv = make_stack("server", 2);
    REQUIRE(finack_stack_add_interface(cli, finack_sim_link_end(link, FINACK_SIM_A), CLIENT_ADDR,
                                       24) == 0);
    REQUIRE(finack_stack_add_interface(srv, finack_sim_link_end(link, FINACK_SIM_B), SERVER_ADDR,
                                       24) == 0);
    finack_sim_link_attach(link, FINACK_SIM_A, cli);
    finack_sim_link_attach(link, FINACK_SIM_B, srv);

    int lfd[PORTS];
    for (int p = 0; p < PORTS; p++) {
        lfd[p] = finack_socket(srv, AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(80 + p))};
        REQUIRE(finack_bind(srv, lfd[p], (struct sockaddr *)&sa, sizeof sa) == 0);
        REQUIRE(finack_listen(srv, lfd[p], CONNS) == 0);
    }
    /* Opened in batches of 10,000 with accept() between, as a server
     * keeps up with its queue (the backlog is Linux's somaxconn, 4096). */
    static int cfd[CONNS];
    int accepted = 0;
    for (int i = 0; i < CONNS; i++) {
        cfd[i] = finack_socket(cli, AF_INET, SOCK_STREAM, 0);
        REQUIRE(cfd[i] == i); /* handles stay dense: the lowest free one */
        struct sockaddr_in da = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)(80 + i % PORTS)),
                                 .sin_addr.s_addr = htonl(SERVER_ADDR)};
        REQUIRE(finack_connect(cli, cfd[i], (struct sockaddr *)&da, sizeof da) == -EINPROGRESS);
        if ((i + 1) % 10000) continue;
        /* One round trip (1 ms each way) completes the batch's handshakes. */
        finack_sim_run_until(sim, finack_sim_now(sim) + FINACK_MSEC(3));
        for (int p = 0; p < PORTS; p++) {
            int fd;
            while ((fd = finack_accept(srv, lfd[p], NULL, NULL)) >= 0) accepted++;
            CHECK_EQ(fd, -EAGAIN);
        }
    }
    finack_time_t opened = finack_sim_now(sim);
    CHECK_EQ(accepted, CONNS);
    CHECK_EQ(cli->tcp->conn_count, CONNS);
    CHECK_EQ(srv->tcp->conn_count, CONNS);
    CHECK_EQ(srv->tcp->sr_count, 0);
    CHECK_EQ(finack_stack_drops(srv, FINACK_DROP_TCP_LISTEN_OVERFLOW), 0);
    unsigned established = 0;
    for (int i = 0; i < CONNS; i++)
        established += strcmp(finack_socket_state(cli, cfd[i]), "ESTABLISHED") == 0;
    CHECK_EQ(established, CONNS);

    /* The client closes everything; the server follows as it sees EOFs. */
    for (int i = 0; i < CONNS; i++) CHECK_EQ(finack_close(cli, cfd[i]), 0);
    finack_sim_run_until(sim, opened + FINACK_MSEC(5));
    int closed = 0;
    for (int fd = PORTS; fd < PORTS + CONNS; fd++) {
        char c;
        if (finack_recv(srv, fd, &c, 1, 0) == 0) closed += finack_close(srv, fd) == 0;
    }
    CHECK_EQ(closed, CONNS);
    finack_sim_run_until(sim, opened + FINACK_MSEC(10));
    /* The client holds 100,000 small TIME_WAIT records, not TCBs. */
    CHECK_EQ(cli->tcp->conn_count, 0);
    CHECK_EQ(cli->tcp->tw_count, CONNS);
    CHECK_EQ(srv->tcp->conn_count, 0);
    finack_sim_run_until(sim, opened + FINACK_MSEC(10) + FINACK_SEC(121));
    CHECK_EQ(cli->tcp->tw_count, 0);
    /* Handles come back lowest first. */
    CHECK_EQ(finack_socket(cli, AF_INET, SOCK_STREAM, 0), 0);
    CHECK_EQ(finack_socket(cli, AF_INET, SOCK_STREAM, 0), 1);
    printf("many: %d connections opened in %.0f ms (virtual, batches of 10,000), closed, "
           "TIME_WAIT gone by %.1f s; %llu segments from the client\n",
           CONNS, opened / 1e3, finack_sim_now(sim) / 1e6,
           (unsigned long long)finack_stack_counter(cli, FINACK_CTR_TCP_OUT_SEGS));
    for (int p = 0; p < PORTS; p++) finack_close(srv, lfd[p]);
    finack_sim_destroy(sim);
    finack_stack_destroy(cli);
    finack_stack_destroy(srv);
}

TEST_MAIN("tcp_many", TEST_CASE(test_hundred_thousand_connections))
