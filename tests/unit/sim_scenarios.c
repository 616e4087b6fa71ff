/* The facts each `finack sim` scenario is there to show, checked on the
 * events of the run (tools/sim/), not on the picture: the same code the
 * command runs, seed 1 as in the golden files. */
#include <errno.h>
#include <stdlib.h>

#include "ladder/ladder.h"
#include "sim/scenario.h"
#include "test.h"

#define LEFT SIM_LEFT
#define RIGHT SIM_RIGHT
#define LATENCY FINACK_MSEC(10)
#define MSL FINACK_SEC(60)

static struct sim_result run(const char *name)
{
    struct sim_params p;
    sim_params_init(&p);
    struct sim_result r;
    const struct sim_scenario *sc = sim_scenario_find(name);
    if (!sc) abort();
    int err = sim_run(sc, &p, &r);
    if (err) test_fail(__FILE__, __LINE__, "sim_run(%s) = %d", name, err);
    return r;
}

static bool is_seg(const struct sim_event *e) { return !e->note && e->kind == FINACK_TRACE_SEG; }
static bool is_state(const struct sim_event *e)
{
    /* Connections only: a listener's own LISTEN/CLOSED have no remote port. */
    return !e->note && e->kind == FINACK_TRACE_STATE && e->rport != 0;
}

/* The states side's connections entered, in order, space-separated. */
static const char *states_of(const struct sim_result *r, int side)
{
    static char text[1024];
    size_t n = 0;
    text[0] = 0;
    for (size_t i = 0; i < r->count; i++) {
        const struct sim_event *e = &r->events[i];
        if (e->side != side || !is_state(e)) continue;
        n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", n ? " " : "", e->to);
    }
    return text;
}

/* side's connections' transitions, "FROM>TO" each, space-separated. */
static const char *transitions_of(const struct sim_result *r, int side)
{
    static char text[2048];
    size_t n = 0;
    text[0] = 0;
    for (size_t i = 0; i < r->count; i++) {
        const struct sim_event *e = &r->events[i];
        if (e->side != side || !is_state(e)) continue;
        n += (size_t)snprintf(text + n, sizeof text - n, "%s%s>%s", n ? " " : "", e->from, e->to);
    }
    return text;
}

/* When side first entered state at or after index from; NEVER if not. */
static finack_time_t entered(const struct sim_result *r, int side, const char *state,
                             size_t from)
{
    for (size_t i = from; i < r->count; i++) {
        const struct sim_event *e = &r->events[i];
        if (e->side == side && is_state(e) && !strcmp(e->to, state)) return e->t;
    }
    return FINACK_TIME_NEVER;
}

/* The index of the first note of side reading text, from index from; -1. */
static long note_at(const struct sim_result *r, int side, const char *text, size_t from)
{
    for (size_t i = from; i < r->count; i++)
        if (r->events[i].note && r->events[i].side == side && !strcmp(r->events[i].text, text))
            return (long)i;
    return -1;
}

/* The segments side sent (out) as tcpdump flag letters, space-separated. */
static const char *sent_by(const struct sim_result *r, int side)
{
    static char text[4096];
    size_t n = 0;
    text[0] = 0;
    for (size_t i = 0; i < r->count && n < sizeof text - 16; i++) {
        const struct sim_event *e = &r->events[i];
        if (e->side != side || !is_seg(e) || !e->out) continue;
        char flags[16];
        n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", n ? " " : "",
                              finack_trace_flags(e->flags, flags));
    }
    return text;
}

static bool arrived(const struct sim_result *r, size_t i) { return sim_segment_arrived(r, i); }

static void test_handshake_syn_sent_and_syn_rcvd_reach_established(void)
{
    struct sim_result r = run("handshake");
    CHECK_STR(transitions_of(&r, LEFT), "CLOSED>SYN_SENT SYN_SENT>ESTABLISHED");
    /* The server's connection is a new TCB: born in SYN_RCVD (the listener
     * stays in LISTEN), so what matters is SYN_RCVD -> ESTABLISHED. */
    CHECK(strstr(transitions_of(&r, RIGHT), ">SYN_RCVD SYN_RCVD>ESTABLISHED") != NULL);
    CHECK_STR(sent_by(&r, LEFT), "S A");
    CHECK_STR(sent_by(&r, RIGHT), "SA");
    /* The server is established one way after the client: on the ACK. */
    finack_time_t c = entered(&r, LEFT, "ESTABLISHED", 0), s = entered(&r, RIGHT, "ESTABLISHED", 0);
    CHECK_U64(s - c, LATENCY);
    CHECK(note_at(&r, LEFT, "connect(:80) = EINPROGRESS", 0) >= 0);
    sim_result_free(&r);
}

static void test_old_duplicate_syn_is_reset_and_never_established(void)
{
    struct sim_result r = run("old-duplicate-syn");
    /* The old SYN, put on the wire for the client by the network. */
    size_t old = r.count;
    for (size_t i = 0; i < r.count && old == r.count; i++)
        if (r.events[i].injected) old = i;
    REQUIRE(old < r.count);
    uint32_t old_seq = r.events[old].seq;
    /* The server answers it with a SYN-ACK for old_seq + 1 ... */
    size_t synack = r.count, rst = r.count, real_syn = r.count;
    for (size_t i = old + 1; i < r.count; i++) {
        const struct sim_event *e = &r.events[i];
        if (!is_seg(e) || !e->out) continue;
        if (e->side == RIGHT && e->flags == (FINACK_TCP_SYN | FINACK_TCP_ACK) && synack == r.count)
            synack = i;
        if (e->side == LEFT && (e->flags & FINACK_TCP_RST) && rst == r.count) rst = i;
        if (e->side == LEFT && e->flags == FINACK_TCP_SYN && real_syn == r.count) real_syn = i;
    }
    REQUIRE(synack < r.count && rst < r.count && real_syn < r.count);
    CHECK_U64(r.events[synack].ack, old_seq + 1);
    /* ... the client, with no connection there, answers RST <SEQ=SEG.ACK> ... */
    CHECK(rst > synack && rst < real_syn);
    CHECK_U64(r.events[rst].seq, r.events[synack].ack);
    CHECK(arrived(&r, rst));
    /* ... so the server goes SYN_RCVD -> CLOSED for it, never ESTABLISHED. */
    CHECK(entered(&r, RIGHT, "ESTABLISHED", 0) > r.events[real_syn].t);
    CHECK(entered(&r, RIGHT, "CLOSED", old) < r.events[real_syn].t);
    CHECK_STR(states_of(&r, RIGHT), "SYN_RCVD CLOSED SYN_RCVD ESTABLISHED");
    /* The real connection on the same 4-tuple opens with another ISN. */
    CHECK(r.events[real_syn].seq != old_seq);
    CHECK_EQ(r.events[real_syn].lport, r.events[old].lport);
    CHECK_STR(states_of(&r, LEFT), "SYN_SENT ESTABLISHED");
    sim_result_free(&r);
}

static void test_isn_distinct_and_clock_driven_on_one_tuple(void)
{
    struct sim_result r = run("isn");
    uint32_t iss[3], srv[3];
    finack_time_t at[3];
    uint16_t port[3];
    int n = 0, m = 0;
    for (size_t i = 0; i < r.count; i++) {
        const struct sim_event *e = &r.events[i];
        if (!is_seg(e) || !e->out || !(e->flags & FINACK_TCP_SYN)) continue;
        if (e->side == LEFT && n < 3) {
            iss[n] = e->seq;
            at[n] = e->t;
            port[n++] = e->lport;
        }
        if (e->side == RIGHT && m < 3) srv[m++] = e->seq;
    }
    REQUIRE(n == 3 && m == 3);
    CHECK(port[0] == port[1] && port[1] != port[2]);
    CHECK(iss[0] != iss[1] && iss[1] != iss[2] && iss[0] != iss[2]);
    CHECK(srv[0] != srv[1] && srv[1] != srv[2] && srv[0] != srv[2]);
    /* RFC 6528: on one 4-tuple the ISN advances with the 4 µs clock ... */
    CHECK_U64((uint32_t)(iss[1] - iss[0]), (uint32_t)((at[1] - at[0]) / 4));
    CHECK_U64((uint32_t)(srv[1] - srv[0]), (uint32_t)((at[1] - at[0]) / 4));
    /* ... another 4-tuple's is unrelated. */
    CHECK((uint32_t)(iss[2] - iss[1]) != (uint32_t)((at[2] - at[1]) / 4));
    sim_result_free(&r);
}

static void test_close_four_way_and_time_wait_two_msl(void)
{
    struct sim_result r = run("close");
    CHECK_STR(states_of(&r, LEFT), "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED");
    CHECK_STR(states_of(&r, RIGHT), "SYN_RCVD ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    CHECK_STR(sent_by(&r, LEFT), "S A FA A");
    CHECK_STR(sent_by(&r, RIGHT), "SA A FA");
    finack_time_t tw = entered(&r, LEFT, "TIME_WAIT", 0);
    CHECK_U64(entered(&r, LEFT, "CLOSED", 0) - tw, 2 * MSL);
    CHECK(entered(&r, RIGHT, "CLOSED", 0) < tw + LATENCY + 1);
    CHECK(note_at(&r, RIGHT, "recv() = 0 (EOF)", 0) >= 0);
    sim_result_free(&r);
}

static void test_half_close_server_sends_after_client_fin(void)
{
    struct sim_result r = run("half-close");
    long shut = note_at(&r, LEFT, "shutdown(SHUT_WR) = 0", 0);
    REQUIRE(shut >= 0);
    finack_time_t fin_wait_2 = entered(&r, LEFT, "FIN_WAIT_2", 0);
    /* Payload from the server that reached the client in FIN_WAIT_2. */
    uint64_t after = 0;
    for (size_t i = 0; i < r.count; i++) {
        const struct sim_event *e = &r.events[i];
        if (is_seg(e) && !e->out && e->side == LEFT && e->t > fin_wait_2) after += e->len;
    }
    CHECK_U64(after, 3000);
    CHECK_U64(r.delivered, 3000);
    CHECK_STR(states_of(&r, LEFT), "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
    CHECK_STR(states_of(&r, RIGHT), "SYN_RCVD ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    CHECK(note_at(&r, LEFT, "recv() = 0 (EOF)", (size_t)shut) >= 0);
    sim_result_free(&r);
}

static void test_close_wait_and_fin_wait_2_stay(void)
{
    struct sim_result r = run("close-wait");
    CHECK_STR(states_of(&r, LEFT), "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2");
    CHECK_STR(states_of(&r, RIGHT), "SYN_RCVD ESTABLISHED CLOSE_WAIT");
    CHECK_STR(sent_by(&r, RIGHT), "SA A");
    CHECK(note_at(&r, RIGHT, "600 s later: CLOSE_WAIT", 0) >= 0);
    CHECK(note_at(&r, LEFT, "600 s later: FIN_WAIT_2", 0) >= 0);
    sim_result_free(&r);
}

static void test_time_wait_reacks_retransmitted_fin(void)
{
    struct sim_result r = run("time-wait-lost-ack");
    finack_time_t tw = entered(&r, LEFT, "TIME_WAIT", 0);
    REQUIRE(tw != FINACK_TIME_NEVER);
    /* The client's ACK on entering TIME_WAIT is lost ... */
    size_t lost = r.count, rtx = r.count, reack = r.count;
    for (size_t i = 0; i < r.count; i++) {
        const struct sim_event *e = &r.events[i];
        if (!is_seg(e) || !e->out) continue;
        if (e->side == LEFT && e->t == tw && e->flags == FINACK_TCP_ACK) lost = i;
        if (e->side == RIGHT && (e->flags & FINACK_TCP_FIN) && e->retransmit) rtx = i;
        if (e->side == LEFT && rtx < r.count && i > rtx && reack == r.count) reack = i;
    }
    REQUIRE(lost < r.count && rtx < r.count && reack < r.count);
    CHECK(!arrived(&r, lost));
    /* ... the passive closer, in LAST_ACK, sends its FIN again ... */
    CHECK(entered(&r, RIGHT, "LAST_ACK", 0) < r.events[rtx].t);
    CHECK(arrived(&r, rtx));
    /* ... and the client, still in TIME_WAIT, ACKs it again. */
    const struct sim_event *a = &r.events[reack];
    CHECK_EQ(a->flags, FINACK_TCP_ACK);
    CHECK_U64(a->ack, r.events[rtx].seq + 1);
    CHECK_U64(a->t, r.events[rtx].t + LATENCY);
    CHECK(entered(&r, LEFT, "CLOSED", 0) > a->t);
    CHECK(arrived(&r, reack));
    CHECK_U64(entered(&r, RIGHT, "CLOSED", 0), a->t + LATENCY);
    CHECK_STR(states_of(&r, LEFT), "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED");
    /* TIME_WAIT's 2·MSL started over with the retransmitted FIN. */
    CHECK_U64(entered(&r, LEFT, "CLOSED", 0), a->t + 2 * MSL);
    sim_result_free(&r);
}

static void test_reuseaddr_eaddrinuse_then_success(void)
{
    struct sim_result r = run("reuseaddr");
    long fail = note_at(&r, RIGHT, "bind(:80) = EADDRINUSE", 0);
    REQUIRE(fail >= 0);
    long opt = note_at(&r, RIGHT, "setsockopt(SO_REUSEADDR) = 0", (size_t)fail);
    long ok = note_at(&r, RIGHT, "bind(:80) = 0", (size_t)fail);
    CHECK(opt > fail && ok > opt);
    /* The server's TIME_WAIT holds the port then. */
    finack_time_t tw = entered(&r, RIGHT, "TIME_WAIT", 0);
    CHECK(tw < r.events[fail].t);
    CHECK(entered(&r, RIGHT, "CLOSED", (size_t)fail) > r.events[fail].t);
    /* The restarted server accepts a new connection. */
    CHECK(entered(&r, RIGHT, "ESTABLISHED", (size_t)ok) != FINACK_TIME_NEVER);
    CHECK(note_at(&r, RIGHT, "accept() = 1", (size_t)ok) >= 0);
    sim_result_free(&r);
}

static void test_simultaneous_open_both_syn_rcvd(void)
{
    struct sim_result r = run("simultaneous-open");
    CHECK_STR(states_of(&r, LEFT), "SYN_SENT SYN_RCVD ESTABLISHED");
    CHECK_STR(states_of(&r, RIGHT), "SYN_SENT SYN_RCVD ESTABLISHED");
    CHECK_STR(sent_by(&r, LEFT), "S SA");
    CHECK_STR(sent_by(&r, RIGHT), "S SA");
    CHECK_STR(r.host[0], "A");
    CHECK_STR(r.host[1], "B");
    sim_result_free(&r);
}

static void test_simultaneous_close_both_closing_then_time_wait(void)
{
    struct sim_result r = run("simultaneous-close");
    static const char both[] =
        "ESTABLISHED>FIN_WAIT_1 FIN_WAIT_1>CLOSING CLOSING>TIME_WAIT TIME_WAIT>CLOSED";
    CHECK(strstr(transitions_of(&r, LEFT), both) != NULL);
    CHECK(strstr(transitions_of(&r, RIGHT), both) != NULL);
    for (int side = 0; side < 2; side++) {
        finack_time_t closing = entered(&r, side, "CLOSING", 0);
        finack_time_t tw = entered(&r, side, "TIME_WAIT", 0);
        CHECK(closing < tw);
        CHECK_U64(entered(&r, side, "CLOSED", 0) - tw, 2 * MSL);
    }
    CHECK_STR(r.host[0], "A");
    sim_result_free(&r);
}

static void test_send_buffer_write_returns_before_delivery(void)
{
    struct sim_result r = run("send-buffer");
    long w1 = note_at(&r, LEFT, "write(12000) = 12000", 0);
    long w2 = note_at(&r, LEFT, "write(12000) = 4384", 0);
    long w3 = note_at(&r, LEFT, "write(7616) = EAGAIN", 0);
    REQUIRE(w1 >= 0 && w2 > w1 && w3 > w2);
    finack_time_t t = r.events[w1].t;
    /* When write() returned, no byte had reached the server yet. */
    uint64_t by_then = 0, later = 0;
    for (size_t i = 0; i < r.count; i++) {
        const struct sim_event *e = &r.events[i];
        if (!is_seg(e) || e->out || e->side != RIGHT) continue;
        if (e->t <= t)
            by_then += e->len;
        else
            later += e->len;
    }
    CHECK_U64(by_then, 0);
    CHECK_U64(later, 24000);
    CHECK_U64(r.delivered, 24000);
    sim_result_free(&r);
}

static void test_zero_window_probes_grow_then_update_resumes(void)
{
    struct sim_result r = run("zero-window");
    size_t zero = r.count;
    for (size_t i = 0; i < r.count && zero == r.count; i++) {
        const struct sim_event *e = &r.events[i];
        if (is_seg(e) && e->out && e->side == RIGHT && e->win_scaled == 0) zero = i;
    }
    REQUIRE(zero < r.count);
    long read = note_at(&r, RIGHT, "recv(4096) = 2896", 0);
    REQUIRE(read > (long)zero);
    /* Probes: the client's persist timer, at growing intervals. */
    finack_time_t probe[16];
    int n = 0;
    for (size_t i = zero; i < (size_t)read && n < 16; i++) {
        const struct sim_event *e = &r.events[i];
        if (!e->note && e->kind == FINACK_TRACE_TIMER && e->side == LEFT &&
            !strcmp(e->timer, "PERSIST"))
            probe[n++] = e->t;
    }
    CHECK(n >= 3);
    for (int i = 2; i < n; i++) CHECK(probe[i] - probe[i - 1] > probe[i - 1] - probe[i - 2]);
    /* Each probe is answered, still with window 0. */
    int zero_acks = 0;
    for (size_t i = zero + 1; i < (size_t)read; i++) {
        const struct sim_event *e = &r.events[i];
        if (is_seg(e) && e->out && e->side == RIGHT && e->win_scaled == 0) zero_acks++;
    }
    CHECK(zero_acks >= n - 1);
    /* The read opens the window: an update with no data, then data flows. */
    size_t update = r.count, resumed = r.count;
    for (size_t i = (size_t)read - 1; i < r.count; i++) {
        const struct sim_event *e = &r.events[i];
        if (!is_seg(e) || !e->out) continue;
        if (e->side == RIGHT && update == r.count && e->win_scaled > 0 && !e->len) update = i;
        if (e->side == LEFT && update < r.count && e->len && resumed == r.count) resumed = i;
    }
    REQUIRE(update < r.count && resumed < r.count);
    CHECK(r.events[update].t <= r.events[read].t);
    CHECK_U64(r.events[resumed].t, r.events[update].t + LATENCY);
    CHECK_U64(r.delivered, 10000);
    sim_result_free(&r);
}

static void test_bdp_large_buffer_by_window_over_rtt(void)
{
    struct sim_result r = run("bdp");
    REQUIRE(r.transfers == 2);
    double rtt = (double)r.rtt / 1e6;
    double link = 10e6;
    double expect_small = r.window[0] * 8.0 / rtt;
    double expect_large = r.window[1] * 8.0 / rtt < link ? r.window[1] * 8.0 / rtt : link;
    /* The small buffer: one window per round trip (a little less: the
     * segments' serialization and the ACKs' delay add to the RTT). */
    CHECK(r.throughput_bps[0] <= expect_small);
    CHECK(r.throughput_bps[0] > 0.8 * expect_small);
    /* The large one fills the link, after slow start. */
    CHECK(r.throughput_bps[1] <= link);
    CHECK(r.throughput_bps[1] > 0.6 * link);
    double ratio = r.throughput_bps[1] / r.throughput_bps[0];
    double expected = expect_large / expect_small;
    CHECK(ratio > 0.7 * expected);
    CHECK(ratio < 1.3 * expected);
    CHECK(r.collapse);
    sim_result_free(&r);
}

static void test_same_seed_same_events(void)
{
    size_t n;
    const struct sim_scenario *all = sim_scenarios(&n);
    for (size_t i = 0; i < n; i++) {
        struct sim_result a = run(all[i].name), b = run(all[i].name);
        CHECK_EQ(a.count, b.count);
        if (a.count == b.count) CHECK_MEM(a.events, b.events, a.count * sizeof a.events[0]);
        sim_result_free(&a);
        sim_result_free(&b);
    }
}

static void test_other_seed_other_isns(void)
{
    struct sim_params p;
    sim_params_init(&p);
    const struct sim_scenario *sc = sim_scenario_find("handshake");
    struct sim_result a, b;
    REQUIRE(sim_run(sc, &p, &a) == 0);
    p.seed = 2;
    REQUIRE(sim_run(sc, &p, &b) == 0);
    uint32_t isn_a = 0, isn_b = 0;
    for (size_t i = 0; i < a.count; i++)
        if (is_seg(&a.events[i]) && a.events[i].out) {
            isn_a = a.events[i].seq;
            break;
        }
    for (size_t i = 0; i < b.count; i++)
        if (is_seg(&b.events[i]) && b.events[i].out) {
            isn_b = b.events[i].seq;
            break;
        }
    CHECK(isn_a != isn_b);
    sim_result_free(&a);
    sim_result_free(&b);
}

static void test_custom_lossy_transfer_delivers_everything(void)
{
    struct sim_params p;
    sim_params_init(&p);
    p.seed = 3;
    p.loss = 0.05;
    p.bytes = 50000;
    p.rate_bps = 5000000;
    struct sim_result r;
    REQUIRE(sim_run(sim_scenario_find("custom"), &p, &r) == 0);
    CHECK_U64(r.delivered, 50000);
    bool retransmitted = false;
    for (size_t i = 0; i < r.count; i++)
        if (is_seg(&r.events[i]) && r.events[i].out && r.events[i].retransmit)
            retransmitted = true;
    CHECK(retransmitted);
    CHECK(r.transfers == 1 && r.throughput_bps[0] > 0);
    /* FIN_WAIT_1 has its cause on the picture: the noted shutdown(). */
    long shut = note_at(&r, LEFT, "shutdown(SHUT_WR) = 0", 0);
    CHECK(shut >= 0);
    if (shut >= 0) CHECK_U64(r.events[shut].t, entered(&r, LEFT, "FIN_WAIT_1", 0));
    sim_result_free(&r);
}

/* Every arrival the ladder pairs is one link latency or more after its
 * sending, and each direction arrives in the order it was sent (the link
 * is FIFO): twin ACKs that differ only in the window, and dup ACKs, are
 * not swapped or paired with the wrong copy. */
static void check_arrivals_in_link_order(const struct sim_result *r, finack_time_t latency)
{
    struct ladder l;
    ladder_init(&l);
    REQUIRE(sim_result_to_ladder(r, &l) == 0);
    REQUIRE(l.count == r->count);
    long *peer = malloc(l.count * sizeof *peer);
    REQUIRE(peer != NULL);
    CHECK_EQ(ladder_pair_segments(&l, peer), 0);
    finack_time_t last_in[2] = {0, 0};
    size_t paired = 0;
    for (size_t i = 0; i < l.count; i++) {
        const struct ladder_event *e = &l.events[i];
        if (e->kind != FINACK_TRACE_SEG || !e->out || peer[i] < 0) continue;
        finack_time_t t_in = l.events[peer[i]].t;
        CHECK(t_in >= e->t + latency);
        CHECK(t_in >= last_in[e->side]);
        last_in[e->side] = t_in;
        paired++;
    }
    CHECK(paired > 10);
    free(peer);
    ladder_free(&l);
}

static void test_arrivals_paired_in_link_order(void)
{
    struct sim_result r = run("send-buffer");
    check_arrivals_in_link_order(&r, LATENCY);
    sim_result_free(&r);
    struct sim_params p;
    sim_params_init(&p);
    p.seed = 4, p.loss = 0.05, p.bytes = 20000, p.rate_bps = 5000000; /* the custom golden */
    REQUIRE(sim_run(sim_scenario_find("custom"), &p, &r) == 0);
    check_arrivals_in_link_order(&r, LATENCY);
    sim_result_free(&r);
}

/* The demo's default transfer loses a data segment (the demo says so and
 * draws the cross), and a run with nothing lost has every segment arrive. */
static void test_demo_seed_loses_a_data_segment(void)
{
    struct sim_params p;
    sim_params_init(&p);
    p.seed = SIM_DEMO_SEED;
    p.loss = SIM_DEMO_LOSS;
    struct sim_result r;
    REQUIRE(sim_run(sim_scenario_find("custom"), &p, &r) == 0);
    bool *got = sim_segments_arrived(&r);
    REQUIRE(got != NULL);
    size_t lost_data = 0;
    for (size_t i = 0; i < r.count; i++)
        if (is_seg(&r.events[i]) && r.events[i].out && r.events[i].len && !got[i]) lost_data++;
    CHECK(lost_data >= 1);
    free(got);
    sim_result_free(&r);
    p.loss = 0;
    REQUIRE(sim_run(sim_scenario_find("custom"), &p, &r) == 0);
    for (size_t i = 0; i < r.count; i++)
        if (is_seg(&r.events[i]) && r.events[i].out) CHECK(arrived(&r, i));
    sim_result_free(&r);
}

static bool drawing_has(const struct sim_result *r, const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out) abort();
    CHECK_EQ(sim_draw(r, SIM_FORMAT_TEXT, false, out), 0);
    fclose(out);
    bool found = buf && strstr(buf, text) != NULL;
    free(buf);
    return found;
}

/* The state column never says a host is CLOSED while a socket of it lives
 * on: the listener's close beside its TIME_WAIT, the half-open connection
 * beside its listener, in words. */
static void test_listener_and_half_open_closed_in_words(void)
{
    struct sim_result r = run("reuseaddr");
    CHECK(drawing_has(&r, "(listener) CLOSED; TIME_WAIT remains"));
    sim_result_free(&r);
    r = run("old-duplicate-syn");
    CHECK(drawing_has(&r, "(half-open) CLOSED; still LISTEN"));
    sim_result_free(&r);
}

/* The notes explain the numbers: bdp's bound is min(window/RTT, link), and
 * close-wait says why FIN_WAIT_2 stays (shutdown(), not close()). */
static void test_notes_explain_bdp_and_fin_wait_2(void)
{
    struct sim_result r = run("bdp");
    CHECK(note_at(&r, RIGHT, "bound: min(20.97, link 10.00) = 10.00 Mbit/s", 0) >= 0);
    CHECK(note_at(&r, RIGHT, "bound: min(1.31, link 10.00) = 1.31 Mbit/s", 0) >= 0);
    sim_result_free(&r);
    r = run("close-wait");
    CHECK(note_at(&r, LEFT, " orphan after tcp_fin_timeout, 60 s)", 0) >= 0);
    sim_result_free(&r);
}

/* The notes reach the picture: text, SVG and JSON all carry the errno. */
static void test_notes_are_drawn(void)
{
    struct sim_result r = run("reuseaddr");
    static const enum sim_format formats[] = {SIM_FORMAT_TEXT, SIM_FORMAT_SVG, SIM_FORMAT_JSON};
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        char *text = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&text, &len);
        REQUIRE(out);
        CHECK_EQ(sim_draw(&r, formats[i], false, out), 0);
        fclose(out);
        CHECK(text && strstr(text, "bind(:80) = EADDRINUSE") != NULL);
        CHECK(text && strstr(text, "setsockopt(SO_REUSEADDR) = 0") != NULL);
        free(text);
    }
    sim_result_free(&r);
}

static void test_names_and_lookup(void)
{
    size_t n;
    const struct sim_scenario *all = sim_scenarios(&n);
    CHECK(n >= 14);
    for (size_t i = 0; i < n; i++) {
        CHECK(sim_scenario_find(all[i].name) == &all[i]);
        CHECK(all[i].summary[0] != 0);
    }
    CHECK(sim_scenario_find("no-such-thing") == NULL);
}

TEST_MAIN("sim_scenarios", TEST_CASE(test_handshake_syn_sent_and_syn_rcvd_reach_established),
          TEST_CASE(test_old_duplicate_syn_is_reset_and_never_established),
          TEST_CASE(test_isn_distinct_and_clock_driven_on_one_tuple),
          TEST_CASE(test_close_four_way_and_time_wait_two_msl),
          TEST_CASE(test_half_close_server_sends_after_client_fin),
          TEST_CASE(test_close_wait_and_fin_wait_2_stay),
          TEST_CASE(test_time_wait_reacks_retransmitted_fin),
          TEST_CASE(test_reuseaddr_eaddrinuse_then_success),
          TEST_CASE(test_simultaneous_open_both_syn_rcvd),
          TEST_CASE(test_arrivals_paired_in_link_order),
          TEST_CASE(test_listener_and_half_open_closed_in_words),
          TEST_CASE(test_notes_explain_bdp_and_fin_wait_2),
          TEST_CASE(test_demo_seed_loses_a_data_segment),
          TEST_CASE(test_simultaneous_close_both_closing_then_time_wait),
          TEST_CASE(test_send_buffer_write_returns_before_delivery),
          TEST_CASE(test_zero_window_probes_grow_then_update_resumes),
          TEST_CASE(test_bdp_large_buffer_by_window_over_rtt),
          TEST_CASE(test_same_seed_same_events),
          TEST_CASE(test_other_seed_other_isns),
          TEST_CASE(test_custom_lossy_transfer_delivers_everything),
          TEST_CASE(test_notes_are_drawn), TEST_CASE(test_names_and_lookup))
