/* finack_stack_config.msl: TIME_WAIT lasts 2·MSL of the stack that holds
 * it, the default 60 s when the field is 0. A client with MSL 1 s closes
 * first; its TIME_WAIT (seen in the connection table, as `finack ss`
 * sees it) is there at 1.9 s and gone at 2.1 s, while a default stack's
 * is still there at 119 s and gone at 121 s. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "finack/sim.h"
#include "finack/socket.h"
#include "test.h"

#define CLIENT_ADDR 0x0a000001u
#define SERVER_ADDR 0x0a000002u
#define PORT 80

struct count_ctx {
    unsigned time_wait;
};

static int count_time_wait(void *ctx, const struct finack_conn_info *row)
{
    struct count_ctx *c = ctx;
    if (strcmp(row->state, "TIME_WAIT") == 0) c->time_wait++;
    return 0;
}

static unsigned time_waits(struct finack_stack *stack)
{
    struct count_ctx c = {0};
    finack_stack_connections(stack, true, count_time_wait, &c);
    return c.time_wait;
}

/* Open a connection client -> server, close the client first, and return
 * the time at which the client entered TIME_WAIT (after the server's FIN). */
struct msl_world {
    struct finack_sim *sim;
    struct finack_stack *stack[2]; /* client, server */
};

static finack_time_t close_into_time_wait(finack_time_t client_msl, struct msl_world *w)
{
    CHECK_EQ(finack_sim_create(&w->sim, 7), 0);
    struct finack_sim *sim = w->sim;
    struct finack_sim_link_config lc;
    finack_sim_link_config_init(&lc); /* 1 ms each way by default */
    struct finack_sim_link *link;
    CHECK_EQ(finack_sim_link_create(sim, &lc, &link), 0);
    struct finack_stack **st = w->stack;
    for (int i = 0; i < 2; i++) {
        struct finack_stack_config cfg;
        finack_stack_config_init(&cfg);
        cfg.secret[0] = (uint64_t)i + 1;
        if (i == 0) cfg.msl = client_msl;
        CHECK_EQ(finack_stack_create(&st[i], &cfg), 0);
        CHECK_EQ(finack_sim_add_stack(sim, st[i]), 0);
        CHECK_EQ(finack_sim_link_attach(link, i, st[i]), 0);
        CHECK_EQ(finack_stack_add_interface(st[i], finack_sim_link_end(link, i),
                                            i ? SERVER_ADDR : CLIENT_ADDR, 24),
                 0);
    }
    int l = finack_socket(st[1], AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    CHECK_EQ(finack_bind(st[1], l, (struct sockaddr *)&sin, sizeof sin), 0);
    CHECK_EQ(finack_listen(st[1], l, 4), 0);
    int c = finack_socket(st[0], AF_INET, SOCK_STREAM, 0);
    sin.sin_addr.s_addr = htonl(SERVER_ADDR);
    CHECK_EQ(finack_connect(st[0], c, (struct sockaddr *)&sin, sizeof sin), -EINPROGRESS);
    finack_sim_run_until(sim, FINACK_MSEC(100));
    int s = finack_accept(st[1], l, NULL, NULL);
    CHECK(s >= 0);
    CHECK_EQ(finack_close(st[0], c), 0);
    finack_sim_run_until(sim, FINACK_MSEC(200));
    CHECK_EQ(finack_close(st[1], s), 0);
    finack_sim_run_until(sim, FINACK_MSEC(300));
    CHECK_EQ(time_waits(st[0]), 1u);
    return FINACK_MSEC(200); /* the server's FIN left at 200 ms, arrived ~1 ms later */
}

static void free_world(struct msl_world *w)
{
    finack_sim_destroy(w->sim);
    finack_stack_destroy(w->stack[0]);
    finack_stack_destroy(w->stack[1]);
}

static void test_msl_one_second(void)
{
    struct msl_world w = {0};
    finack_time_t t = close_into_time_wait(FINACK_SEC(1), &w);
    finack_sim_run_until(w.sim, t + FINACK_MSEC(1900));
    CHECK_EQ(time_waits(w.stack[0]), 1u);
    finack_sim_run_until(w.sim, t + FINACK_MSEC(2100));
    CHECK_EQ(time_waits(w.stack[0]), 0u);
    free_world(&w);
}

static void test_msl_default_is_60s(void)
{
    struct msl_world w = {0};
    finack_time_t t = close_into_time_wait(0, &w);
    finack_sim_run_until(w.sim, t + FINACK_SEC(119));
    CHECK_EQ(time_waits(w.stack[0]), 1u);
    finack_sim_run_until(w.sim, t + FINACK_SEC(121));
    CHECK_EQ(time_waits(w.stack[0]), 0u);
    free_world(&w);
}

TEST_MAIN("tcp_msl", TEST_CASE(test_msl_one_second), TEST_CASE(test_msl_default_is_60s))
