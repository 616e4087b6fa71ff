/* Fast recovery after 2 GiB without a loss. RFC 6582's RECOVER keeps a
 * recovery from starting twice for one window: no new recovery while
 * SND.UNA < RECOVER, compared modulo 2^32. RECOVER used to stay at the
 * ISS until the first loss, so once 2^31 bytes had been acknowledged the
 * comparison turned true again and every loss waited for a timeout, until
 * 4 GiB (found by review with a 2.2 GB simulated transfer). RECOVER now
 * trails SND.UNA outside recovery.
 *
 * The test starts where that transfer was: RECOVER put just under 2^31
 * bytes behind SND.UNA, as if 2 GiB had gone by since the last loss. 4 MB
 * more go, one data segment in the middle is lost, and the sender must
 * recover by duplicate ACKs/SACK with no timeout, for both SACK and
 * NewReno recovery. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "finack/sim.h"
#include "finack/socket.h"
#include "stack.h"
#include "tcp/tcp.h"
#include "test.h"

#define CLIENT_ADDR 0x0a000001u
#define SERVER_ADDR 0x0a000002u
#define BYTES (4u << 20)

static struct finack_stack *st[2];
static struct finack_sim_link *link_;
static uint64_t seen, drop_at;
static bool dropped;

/* The server's receiver: drops the first data segment past drop_at. */
static void to_server(void *ctx, const uint8_t *p, size_t len, finack_time_t now)
{
    (void)ctx;
    size_t ihl = (size_t)(p[0] & 15) * 4, tot = (size_t)p[2] << 8 | p[3];
    if (p[9] == 6 && tot > ihl + 20) {
        size_t data = tot - ihl - (size_t)(p[ihl + 12] >> 4) * 4;
        seen += data;
        if (data && !dropped && seen > drop_at) {
            dropped = true;
            return;
        }
    }
    finack_stack_input(st[1], finack_sim_link_end(link_, 1), p, len, now);
}

static void run(bool sack)
{
    seen = 0;
    dropped = false;
    struct finack_sim *sim;
    CHECK_EQ(finack_sim_create(&sim, 3), 0);
    struct finack_sim_link_config lc;
    finack_sim_link_config_init(&lc);
    CHECK_EQ(finack_sim_link_create(sim, &lc, &link_), 0);
    for (int i = 0; i < 2; i++) {
        struct finack_stack_config cfg;
        finack_stack_config_init(&cfg);
        cfg.secret[0] = (uint64_t)i + 1;
        cfg.no_sack = !sack;
        CHECK_EQ(finack_stack_create(&st[i], &cfg), 0);
        CHECK_EQ(finack_sim_add_stack(sim, st[i]), 0);
        CHECK_EQ(finack_sim_link_attach(link_, i, st[i]), 0);
        CHECK_EQ(finack_stack_add_interface(st[i], finack_sim_link_end(link_, i),
                                            i ? SERVER_ADDR : CLIENT_ADDR, 24),
                 0);
    }
    CHECK_EQ(finack_sim_link_set_receiver(link_, 1, to_server, NULL), 0);
    int big = 1 << 20;
    int l = finack_socket(st[1], AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(finack_setsockopt(st[1], l, SOL_SOCKET, SO_RCVBUF, &big, sizeof big), 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(80)};
    CHECK_EQ(finack_bind(st[1], l, (struct sockaddr *)&sin, sizeof sin), 0);
    CHECK_EQ(finack_listen(st[1], l, 4), 0);
    int c = finack_socket(st[0], AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(finack_setsockopt(st[0], c, SOL_SOCKET, SO_SNDBUF, &big, sizeof big), 0);
    sin.sin_addr.s_addr = htonl(SERVER_ADDR);
    CHECK_EQ(finack_connect(st[0], c, (struct sockaddr *)&sin, sizeof sin), -EINPROGRESS);
    finack_sim_run_until(sim, FINACK_MSEC(50));
    int s = finack_accept(st[1], l, NULL, NULL);
    CHECK(s >= 0);
    if (s < 0) return;

    /* As if 2^31 - 4096 bytes had been acknowledged since the last loss. */
    struct tcp_conn *conn = st[0]->sockets.socks[c].conn;
    conn->recover = conn->snd_una - 0x7ffff000u;
    drop_at = 2u << 20;

    static uint8_t buf[1 << 16];
    uint64_t sent = 0, got = 0;
    finack_time_t t = FINACK_MSEC(50);
    while (got < BYTES && t < FINACK_SEC(30)) {
        while (sent < BYTES) {
            size_t want = BYTES - sent < sizeof buf ? (size_t)(BYTES - sent) : sizeof buf;
            ssize_t n = finack_send(st[0], c, buf, want, 0);
            if (n <= 0) break;
            sent += (uint64_t)n;
        }
        ssize_t n;
        while ((n = finack_recv(st[1], s, buf, sizeof buf, 0)) > 0) got += (uint64_t)n;
        t += FINACK_MSEC(1);
        finack_sim_run_until(sim, t);
    }
    CHECK(dropped);
    CHECK_U64(got, BYTES);
    enum finack_counter recovered = sack ? FINACK_CTR_TCP_SACK_RECOVERY : FINACK_CTR_TCP_RENO_RECOVERY;
    CHECK_U64(finack_stack_counter(st[0], recovered), 1);
    CHECK_U64(finack_stack_counter(st[0], FINACK_CTR_TCP_TIMEOUTS), 0);
    finack_sim_destroy(sim);
    finack_stack_destroy(st[0]);
    finack_stack_destroy(st[1]);
}

static void test_sack_recovery_after_2gib(void) { run(true); }
static void test_newreno_recovery_after_2gib(void) { run(false); }

TEST_MAIN("tcp_recover_wrap", TEST_CASE(test_sack_recovery_after_2gib),
          TEST_CASE(test_newreno_recovery_after_2gib))
