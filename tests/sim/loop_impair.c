/* Impairments (finack/impair.h) under the run loop, in real time: stack B
 * reaches stack A over a datagram socketpair through a finack_impair with
 * a delay, so every packet B sends or receives is held. The loop must
 * wake for held packets by itself (the link's poll callback): without it
 * a held SYN would wait for the loop's 200 ms idle cap.
 *
 * Nothing sleeps; every socket has a 10 s timeout so a stall fails a
 * check instead of hanging. */
#include "finack/impair.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "finack/loop.h"
#include "finack/runtime.h"
#include "finack/socket.h"
#include "test.h"

#define ADDR_A 0x0a000001u /* 10.0.0.1 */
#define ADDR_B 0x0a000002u /* 10.0.0.2 */
#define PORT 5000
#define DELAY_MS 20

struct net {
    struct finack_dgram_link *la, *lb;
    struct finack_impair *imp;
    struct finack_stack *a, *b;
    struct finack_loop *loop_a, *loop_b;
};

static ssize_t dgram_read(void *ctx, uint8_t *buf, size_t cap, finack_time_t now)
{
    (void)now;
    int fd = *(int *)ctx;
    ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    return n;
}

static struct finack_stack *new_stack(const char *name, struct finack_link *link, uint32_t addr)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = name;
    struct finack_stack *stack;
    if (finack_stack_create(&stack, &cfg) != 0) return NULL;
    if (finack_stack_add_interface(stack, link, addr, 24) != 0) {
        finack_stack_destroy(stack);
        return NULL;
    }
    return stack;
}

static void net_close(struct net *n)
{
    if (n->loop_a) finack_loop_stop(n->loop_a);
    if (n->loop_b) finack_loop_stop(n->loop_b);
    if (n->a) finack_stack_destroy(n->a);
    if (n->b) finack_stack_destroy(n->b);
    finack_impair_destroy(n->imp);
    if (n->la) finack_dgram_link_free(n->la);
    if (n->lb) finack_dgram_link_free(n->lb);
}

static int fd_b; /* the impaired end's descriptor, for dgram_read */

static bool net_open(struct net *n, const struct finack_impair_config *cfg)
{
    *n = (struct net){0};
    if (finack_dgram_link_pair(&n->la, &n->lb, 1500) != 0) return false;
    struct finack_loop_link la = finack_dgram_link_loop(n->la);
    struct finack_loop_link lb_raw = finack_dgram_link_loop(n->lb);
    fd_b = lb_raw.fd;
    struct finack_impair_device dev = {.link = lb_raw.link, .fd = lb_raw.fd,
                                       .read = dgram_read, .ctx = &fd_b};
    struct finack_loop_link lb;
    if (finack_impair_create(&n->imp, cfg) != 0 || finack_impair_attach(n->imp, &dev, &lb) != 0)
        return false;
    n->a = new_stack("A", la.link, ADDR_A);
    n->b = new_stack("B", lb.link, ADDR_B);
    return n->a && n->b && finack_loop_start(&n->loop_a, n->a, &la) == 0 &&
           finack_loop_start(&n->loop_b, n->b, &lb) == 0;
}

static void guard(struct finack_loop *loop, int fd)
{
    struct timeval tv = {.tv_sec = 10};
    finack_loop_setsockopt(loop, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    finack_loop_setsockopt(loop, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int listen_a(struct net *n)
{
    int fd = finack_loop_socket(n->loop_a, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT),
                              .sin_addr.s_addr = htonl(ADDR_A)};
    guard(n->loop_a, fd);
    if (finack_loop_bind(n->loop_a, fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        finack_loop_listen(n->loop_a, fd, 8) != 0)
        return -1;
    return fd;
}

static int connect_b(struct net *n)
{
    int fd = finack_loop_socket(n->loop_b, AF_INET, SOCK_STREAM, 0);
    guard(n->loop_b, fd);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT),
                              .sin_addr.s_addr = htonl(ADDR_A)};
    int rc = finack_loop_connect(n->loop_b, fd, (struct sockaddr *)&sin, sizeof sin);
    return rc == 0 ? fd : rc;
}

/* The handshake takes one delayed SYN and one delayed SYN-ACK: at least
 * twice the delay, and far less than the loop's idle cap would add. The
 * SYN is held while connect() sleeps in its wait: the wait itself must
 * tell the loop thread (it took 221 ms about one run in eight when only
 * the end of a call did). */
static void test_delay_wakes_the_loop(void)
{
    struct net n;
    struct finack_impair_config cfg = {.delay = FINACK_MSEC(DELAY_MS), .seed = 1};
    REQUIRE(net_open(&n, &cfg));
    int lfd = listen_a(&n);
    CHECK(lfd >= 0);
    finack_time_t t0 = finack_clock_now();
    int fd = connect_b(&n);
    finack_time_t took = finack_clock_now() - t0;
    CHECK(fd >= 0);
    CHECK(took >= FINACK_MSEC(2 * DELAY_MS));
    /* Without the wake-up: the SYN alone would wait 200 ms, then + 2 delays. */
    if (took >= FINACK_MSEC(2 * DELAY_MS + 160))
        fprintf(stderr, "  the handshake took %llu us\n", (unsigned long long)took);
    CHECK(took < FINACK_MSEC(2 * DELAY_MS + 160));
    struct finack_impair_stats out, in;
    finack_impair_get_stats(n.imp, FINACK_IMPAIR_OUT, &out);
    finack_impair_get_stats(n.imp, FINACK_IMPAIR_IN, &in);
    CHECK(out.delivered >= 1 && in.delivered >= 1);
    net_close(&n);
}

struct writer {
    struct finack_loop *loop;
    int fd;
    const uint8_t *data;
    size_t len;
    ssize_t rc;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    w->rc = finack_loop_send(w->loop, w->fd, w->data, w->len, 0);
    finack_loop_shutdown(w->loop, w->fd, SHUT_WR);
    return NULL;
}

/* Bytes arrive intact through loss, reordering and duplication each way. */
static void test_transfer_through_faults(void)
{
    struct net n;
    struct finack_impair_config cfg = {.delay = FINACK_MSEC(1), .loss = 0.02, .reorder = 0.05,
                                       .duplicate = 0.02, .seed = 9};
    REQUIRE(net_open(&n, &cfg));
    int lfd = listen_a(&n);
    int fd = connect_b(&n);
    REQUIRE(lfd >= 0 && fd >= 0);
    int afd = finack_loop_accept(n.loop_a, lfd, NULL, NULL);
    REQUIRE(afd >= 0);
    guard(n.loop_a, afd);

    size_t len = 300000;
    uint8_t *data = malloc(len), *got = malloc(len);
    REQUIRE(data && got);
    for (size_t i = 0; i < len; i++) data[i] = (uint8_t)(i * 7 + (i >> 9));
    struct writer w = {.loop = n.loop_b, .fd = fd, .data = data, .len = len};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, writer_main, &w) == 0);
    size_t have = 0;
    for (;;) {
        ssize_t r = finack_loop_recv(n.loop_a, afd, got + have, len - have, 0);
        if (r <= 0) {
            CHECK_EQ(r, 0);
            break;
        }
        have += (size_t)r;
        if (have == len) {
            char extra;
            CHECK_EQ(finack_loop_recv(n.loop_a, afd, &extra, 1, 0), 0);
            break;
        }
    }
    pthread_join(th, NULL);
    CHECK_EQ(w.rc, (ssize_t)len);
    CHECK_U64(have, len);
    CHECK_MEM(got, data, len);
    struct finack_impair_stats out;
    finack_impair_get_stats(n.imp, FINACK_IMPAIR_OUT, &out);
    CHECK(out.lost > 0 && out.reordered > 0 && out.duplicated > 0);
    free(data);
    free(got);
    net_close(&n);
}

TEST_MAIN("loop_impair", TEST_CASE(test_delay_wakes_the_loop),
          TEST_CASE(test_transfer_through_faults))
