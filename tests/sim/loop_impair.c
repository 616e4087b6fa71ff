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
#include "loop_pair.h"
#include "test.h"

#define PORT 5000
#define DELAY_MS 20

static int listen_a(struct loop_pair *n)
{
    int fd = loop_tcp_socket(n->loop_a, 0);
    struct sockaddr_in sin = sin_of(ADDR_A, PORT);
    if (finack_loop_bind(n->loop_a, fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        finack_loop_listen(n->loop_a, fd, 8) != 0)
        return -1;
    return fd;
}

static int connect_b(struct loop_pair *n)
{
    int fd = loop_tcp_socket(n->loop_b, 0);
    struct sockaddr_in sin = sin_of(ADDR_A, PORT);
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
    struct loop_pair n;
    struct finack_impair_config cfg = {.delay = FINACK_MSEC(DELAY_MS), .seed = 1};
    REQUIRE(loop_pair_open_impaired(&n, &cfg));
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
    loop_pair_close(&n);
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
    struct loop_pair n;
    struct finack_impair_config cfg = {.delay = FINACK_MSEC(1), .loss = 0.02, .reorder = 0.05,
                                       .duplicate = 0.02, .seed = 9};
    REQUIRE(loop_pair_open_impaired(&n, &cfg));
    int lfd = listen_a(&n);
    int fd = connect_b(&n);
    REQUIRE(lfd >= 0 && fd >= 0);
    int afd = finack_loop_accept(n.loop_a, lfd, NULL, NULL);
    REQUIRE(afd >= 0);
    loop_guarded(n.loop_a, afd);

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
    loop_pair_close(&n);
}

TEST_MAIN("loop_impair", TEST_CASE(test_delay_wakes_the_loop),
          TEST_CASE(test_transfer_through_faults))
