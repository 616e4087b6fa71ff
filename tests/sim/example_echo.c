/* The examples' echo server and client (examples/echo.c), run over a
 * datagram link pair in one process: what goes out comes back, byte for
 * byte, for small and large messages and several clients at once. */
#include "../../examples/echo.c"

#include "finack/loop.h"
#include "test.h"

#define ADDR_A 0x0a000001u /* 10.0.0.1: the server */
#define ADDR_B 0x0a000002u /* 10.0.0.2: the clients */
#define ECHO_PORT 7
#define CLIENTS 4
#define BIG (300u * 1024) /* larger than both sides' buffers together */

struct net {
    struct finack_dgram_link *la, *lb;
    struct finack_stack *a, *b;
    struct finack_loop *loop_a, *loop_b;
};

static struct finack_stack *new_stack(struct finack_link *link, uint32_t addr)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    struct finack_stack *stack;
    if (finack_stack_create(&stack, &cfg) != 0) return NULL;
    if (finack_stack_add_interface(stack, link, addr, 24) == 0) return stack;
    finack_stack_destroy(stack);
    return NULL;
}

static void net_close(struct net *n)
{
    if (n->loop_a) finack_loop_stop(n->loop_a);
    if (n->loop_b) finack_loop_stop(n->loop_b);
    if (n->a) finack_stack_destroy(n->a);
    if (n->b) finack_stack_destroy(n->b);
    if (n->la) finack_dgram_link_free(n->la);
    if (n->lb) finack_dgram_link_free(n->lb);
}

static bool net_open(struct net *n)
{
    memset(n, 0, sizeof *n);
    if (finack_dgram_link_pair(&n->la, &n->lb, 1500) != 0) return false;
    struct finack_loop_link la = finack_dgram_link_loop(n->la);
    struct finack_loop_link lb = finack_dgram_link_loop(n->lb);
    n->a = new_stack(la.link, ADDR_A);
    n->b = new_stack(lb.link, ADDR_B);
    if (n->a && n->b && finack_loop_start(&n->loop_a, n->a, &la) == 0 &&
        finack_loop_start(&n->loop_b, n->b, &lb) == 0)
        return true;
    net_close(n);
    return false;
}

struct server_run {
    struct finack_loop *loop;
    unsigned conns;
    int rc;
};

static void *server_main(void *arg)
{
    struct server_run *s = arg;
    s->rc = echo_server_run(s->loop, ECHO_PORT, s->conns);
    return NULL;
}

struct client_run {
    struct finack_loop *loop;
    size_t len;
    unsigned seed;
    ssize_t rc;
    bool exact;
};

static void *client_main(void *arg)
{
    struct client_run *c = arg;
    uint8_t *msg = malloc(c->len), *back = malloc(c->len);
    if (!msg || !back) {
        c->rc = -ENOMEM;
    } else {
        for (size_t i = 0; i < c->len; i++) msg[i] = (uint8_t)(i * 31u + c->seed);
        c->rc = echo_client_run(c->loop, ADDR_A, ECHO_PORT, msg, c->len, back, c->len);
        c->exact = c->rc == (ssize_t)c->len && memcmp(msg, back, c->len) == 0;
    }
    free(msg);
    free(back);
    return NULL;
}

static void test_echo(void)
{
    struct net n;
    REQUIRE(net_open(&n));
    struct server_run srv = {.loop = n.loop_a, .conns = 1 + CLIENTS, .rc = 1};
    pthread_t sth;
    REQUIRE(pthread_create(&sth, NULL, server_main, &srv) == 0);

    /* One small message first (a connect may find the listener not yet
     * there: ECONNREFUSED, then try again). */
    char reply[64];
    ssize_t got;
    do {
        got = echo_client_run(n.loop_b, ADDR_A, ECHO_PORT, "hello", 5, reply, sizeof reply);
    } while (got == -ECONNREFUSED);
    CHECK_EQ(got, 5);
    CHECK_MEM(reply, "hello", 5);

    /* Then several large ones at once. */
    struct client_run cl[CLIENTS];
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        cl[i] = (struct client_run){.loop = n.loop_b, .len = BIG - (size_t)i * 1000,
                                    .seed = (unsigned)i};
        REQUIRE(pthread_create(&th[i], NULL, client_main, &cl[i]) == 0);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(cl[i].rc, (ssize_t)cl[i].len);
        CHECK(cl[i].exact);
    }
    pthread_join(sth, NULL);
    CHECK_EQ(srv.rc, 0);
    net_close(&n);
}

TEST_MAIN("example_echo", TEST_CASE(test_echo))
