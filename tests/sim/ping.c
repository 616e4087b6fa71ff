/* Two real stacks on a simulated link, 10.0.0.1/24 at end A and 10.0.0.2/24
 * at end B, pinging: replies come back after exactly one round trip on the
 * virtual clock, loss loses some, the same seed gives the same capture, and
 * tshark reads the capture. */
#include "finack/finack.h"
#include "finack/pcap.h"
#include "finack/sim.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#define ADDR_A 0x0a000001u /* 10.0.0.1 */
#define ADDR_B 0x0a000002u /* 10.0.0.2 */
#define PING_ID 0x4242
#define MAX_PINGS 256

struct replies {
    size_t count;
    uint16_t seq[MAX_PINGS];
    finack_time_t t[MAX_PINGS];
    uint32_t from[MAX_PINGS];
};

static void on_reply(void *ctx, uint32_t from, uint16_t id, uint16_t seq, const uint8_t *data,
                     size_t len, finack_time_t now)
{
    (void)data;
    (void)len;
    struct replies *r = ctx;
    if (id != PING_ID || r->count == MAX_PINGS) return;
    r->seq[r->count] = seq;
    r->t[r->count] = now;
    r->from[r->count] = from;
    r->count++;
}

struct net {
    struct finack_sim *sim;
    struct finack_sim_link *link;
    struct finack_stack *a, *b;
    struct replies replies; /* echo replies seen by A */
};

static struct finack_stack *new_stack(struct finack_sim *sim, const char *name)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = name;
    /* secrets from the sim, so the seed decides everything */
    cfg.secret[0] = finack_sim_random(sim);
    cfg.secret[1] = finack_sim_random(sim);
    struct finack_stack *stack;
    return finack_stack_create(&stack, &cfg) == 0 ? stack : NULL;
}

static bool net_open(struct net *n, uint64_t seed, const struct finack_sim_link_config *cfg)
{
    memset(n, 0, sizeof *n);
    if (finack_sim_create(&n->sim, seed) != 0) return false;
    if (finack_sim_link_create(n->sim, cfg, &n->link) != 0) return false;
    n->a = new_stack(n->sim, "A");
    n->b = new_stack(n->sim, "B");
    if (!n->a || !n->b) return false;
    if (finack_stack_add_interface(n->a, finack_sim_link_end(n->link, FINACK_SIM_A), ADDR_A, 24) ||
        finack_stack_add_interface(n->b, finack_sim_link_end(n->link, FINACK_SIM_B), ADDR_B, 24))
        return false;
    if (finack_sim_link_attach(n->link, FINACK_SIM_A, n->a) ||
        finack_sim_link_attach(n->link, FINACK_SIM_B, n->b))
        return false;
    finack_stack_on_echo_reply(n->a, on_reply, &n->replies);
    return true;
}

static void net_close(struct net *n)
{
    finack_sim_destroy(n->sim);
    finack_stack_destroy(n->a);
    finack_stack_destroy(n->b);
}

/* Ping B from A count times, interval apart, starting at the current time. */
static void ping_series(struct net *n, uint16_t count, finack_time_t interval)
{
    static const uint8_t data[] = "finack sim ping";
    finack_time_t t0 = finack_sim_now(n->sim);
    for (uint16_t seq = 0; seq < count; seq++) {
        finack_sim_run_until(n->sim, t0 + seq * interval);
        int err = finack_stack_ping(n->a, ADDR_B, PING_ID, seq, data, sizeof data - 1,
                                    finack_sim_now(n->sim));
        CHECK_EQ(err, 0);
    }
    finack_sim_run(n->sim, t0 + count * interval + FINACK_SEC(10));
}

static struct finack_sim_link_config link_config(finack_time_t a_to_b, finack_time_t b_to_a)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    cfg.a_to_b.latency = a_to_b;
    cfg.b_to_a.latency = b_to_a;
    return cfg;
}

/* ---- Tests ---------------------------------------------------------------------- */

static void test_echo_reply_after_one_round_trip(void)
{
    struct finack_sim_link_config cfg = link_config(FINACK_MSEC(5), FINACK_MSEC(5));
    struct net n;
    REQUIRE(net_open(&n, 1, &cfg));
    finack_sim_run_until(n.sim, FINACK_SEC(1));
    ping_series(&n, 1, FINACK_SEC(1));
    REQUIRE(n.replies.count == 1);
    CHECK_EQ(n.replies.seq[0], 0);
    CHECK_EQ(n.replies.from[0], ADDR_B);
    CHECK_U64(n.replies.t[0], FINACK_SEC(1) + 2 * FINACK_MSEC(5));
    CHECK_U64(finack_stack_counter(n.a, FINACK_CTR_ICMP_OUT_ECHOS), 1);
    CHECK_U64(finack_stack_counter(n.b, FINACK_CTR_ICMP_IN_ECHOS), 1);
    CHECK_U64(finack_stack_counter(n.b, FINACK_CTR_ICMP_OUT_ECHO_REPS), 1);
    CHECK_U64(finack_stack_counter(n.a, FINACK_CTR_ICMP_IN_ECHO_REPS), 1);
    CHECK_U64(finack_sim_link_stats(n.link, FINACK_SIM_A).delivered, 1);
    CHECK_U64(finack_sim_link_stats(n.link, FINACK_SIM_B).delivered, 1);
    net_close(&n);
}

/* Each direction's latency counts once: 3 ms out, 7 ms back. */
static void test_rtt_is_sum_of_latencies_for_every_ping(void)
{
    struct finack_sim_link_config cfg = link_config(FINACK_MSEC(3), FINACK_MSEC(7));
    struct net n;
    REQUIRE(net_open(&n, 2, &cfg));
    ping_series(&n, 20, FINACK_SEC(1));
    REQUIRE(n.replies.count == 20);
    for (uint16_t i = 0; i < 20; i++) {
        CHECK_EQ(n.replies.seq[i], i);
        CHECK_U64(n.replies.t[i], i * FINACK_SEC(1) + FINACK_MSEC(10));
    }
    CHECK_U64(finack_stack_counter(n.a, FINACK_CTR_ICMP_IN_ECHO_REPS), 20);
    net_close(&n);
}

/* With 30% loss each way about half the pings (0.7 * 0.7) come back; every
 * reply that did come is still one round trip late, and the counters agree
 * with what the link delivered. */
static void test_loss_loses_some_pings(void)
{
    enum { PINGS = 200 };
    struct finack_sim_link_config cfg = link_config(FINACK_MSEC(5), FINACK_MSEC(5));
    cfg.a_to_b.loss = 0.30;
    cfg.b_to_a.loss = 0.30;
    struct net n;
    REQUIRE(net_open(&n, 3, &cfg));
    ping_series(&n, PINGS, FINACK_MSEC(100));
    uint64_t replies = finack_stack_counter(n.a, FINACK_CTR_ICMP_IN_ECHO_REPS);
    struct finack_sim_path_stats ab = finack_sim_link_stats(n.link, FINACK_SIM_A);
    struct finack_sim_path_stats ba = finack_sim_link_stats(n.link, FINACK_SIM_B);
    /* expected 98, standard deviation 7 */
    CHECK(replies > 55 && replies < 140);
    CHECK(ab.lost > 0 && ba.lost > 0);
    CHECK_U64(ab.sent, PINGS);
    CHECK_U64(finack_stack_counter(n.b, FINACK_CTR_ICMP_IN_ECHOS), ab.delivered);
    CHECK_U64(ba.sent, ab.delivered);
    CHECK_U64(replies, ba.delivered);
    CHECK_U64(n.replies.count, replies);
    bool exact = true;
    for (size_t i = 0; i < n.replies.count; i++)
        exact &= n.replies.t[i] == n.replies.seq[i] * FINACK_MSEC(100) + FINACK_MSEC(10);
    CHECK(exact);
    net_close(&n);
}

static bool capture_pings(uint64_t seed, uint8_t **bytes, size_t *len)
{
    struct finack_sim_link_config cfg = link_config(FINACK_MSEC(2), FINACK_MSEC(2));
    cfg.a_to_b.jitter = cfg.b_to_a.jitter = 700;
    cfg.a_to_b.loss = cfg.b_to_a.loss = 0.2;
    struct net n;
    struct finack_pcap *pcap;
    if (!net_open(&n, seed, &cfg) || finack_pcap_open_memory(&pcap) != 0) return false;
    finack_sim_link_capture(n.link, FINACK_SIM_A, pcap);
    ping_series(&n, 50, FINACK_MSEC(10));
    net_close(&n);
    size_t n_bytes;
    const uint8_t *p = finack_pcap_bytes(pcap, &n_bytes);
    *bytes = malloc(n_bytes);
    if (*bytes) memcpy(*bytes, p, n_bytes);
    *len = n_bytes;
    finack_pcap_close(pcap);
    return *bytes != NULL;
}

static void test_same_seed_same_capture(void)
{
    uint8_t *c1, *c2, *c3;
    size_t n1, n2, n3;
    REQUIRE(capture_pings(77, &c1, &n1));
    REQUIRE(capture_pings(77, &c2, &n2));
    REQUIRE(capture_pings(78, &c3, &n3));
    CHECK(n1 > 24 + 50 * 16);
    CHECK(n1 == n2 && memcmp(c1, c2, n1) == 0);
    CHECK(n1 != n3 || memcmp(c1, c3, n1) != 0);
    free(c1);
    free(c2);
    free(c3);
}

/* ---- The capture, read back and by tshark -------------------------------------- */

struct record_times {
    size_t count;
    uint64_t t[64];
    uint8_t icmp_type[64];
};

static int note_record(void *ctx, const uint8_t *p, size_t len, uint64_t t_us)
{
    struct record_times *r = ctx;
    if (r->count == 64 || len < 21) return -ENOSPC;
    r->t[r->count] = t_us;
    r->icmp_type[r->count] = p[(p[0] & 0xf) * 4];
    r->count++;
    return 0;
}


static void test_capture_file_read_back_and_by_tshark(void)
{
    char path[] = "/tmp/finack_sim_ping_XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    struct finack_sim_link_config cfg = link_config(FINACK_MSEC(5), FINACK_MSEC(5));
    struct net n;
    struct finack_pcap *pcap;
    REQUIRE(net_open(&n, 4, &cfg));
    REQUIRE(finack_pcap_open_file(&pcap, path) == 0);
    REQUIRE(finack_sim_link_capture(n.link, FINACK_SIM_A, pcap) == 0);
    ping_series(&n, 5, FINACK_SEC(1));
    net_close(&n);
    REQUIRE(finack_pcap_close(pcap) == 0);

    /* tcpdump at A: each request when sent, each reply when it arrived */
    struct record_times r = {0};
    CHECK_EQ(finack_pcap_read_file(path, note_record, &r), 0);
    REQUIRE(r.count == 10);
    for (size_t i = 0; i < 5; i++) {
        CHECK_EQ(r.icmp_type[2 * i], 8);
        CHECK_EQ(r.icmp_type[2 * i + 1], 0);
        CHECK_U64(r.t[2 * i], i * FINACK_SEC(1));
        CHECK_U64(r.t[2 * i + 1], i * FINACK_SEC(1) + FINACK_MSEC(10));
    }

    if (test_have_tool("tshark")) {
        static const char *const bad[] = {"Malformed", "Bad]", "incorrect", "Expert Info (Error",
                                          "Expert Info (Warning", NULL};
        static const char *const want[] = {"Echo (ping) request", "Echo (ping) reply",
                                           "Src: 10.0.0.2, Dst: 10.0.0.1",
                                           "Header checksum status: Good",
                                           "[Response time: 10.000 ms]", NULL};
        char cmd[512];
        snprintf(cmd, sizeof cmd, "tshark -r %s -V -o ip.check_checksum:TRUE 2>&1", path);
        CHECK(test_tool_accepts(cmd, bad, want));
    } else {
        printf("SKIP tshark not installed\n");
    }
    if (test_have_tool("tcpdump")) {
        static const char *const bad[] = {"bad cksum", "wrong icmp cksum", "[|", NULL};
        static const char *const want[] = {"ICMP echo request", "ICMP echo reply", NULL};
        char cmd[512];
        snprintf(cmd, sizeof cmd, "tcpdump -nn -vv -r %s 2>&1", path);
        CHECK(test_tool_accepts(cmd, bad, want));
    } else {
        printf("SKIP tcpdump not installed\n");
    }
    unlink(path);
}

TEST_MAIN("ping", TEST_CASE(test_echo_reply_after_one_round_trip),
          TEST_CASE(test_rtt_is_sum_of_latencies_for_every_ping),
          TEST_CASE(test_loss_loses_some_pings), TEST_CASE(test_same_seed_same_capture),
          TEST_CASE(test_capture_file_read_back_and_by_tshark))
