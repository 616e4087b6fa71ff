/* The TCP timers that keep an idle or stalled connection honest, on the
 * simulated link with exact times: the persist timer and its zero-window
 * probes, keepalive, TCP_USER_TIMEOUT, and the SYN_RCVD timeout. Each is
 * checked against Linux's behaviour (net/ipv4/tcp_timer.c).
 *
 * The harness (tests/harness/sim_pair.h) is sim.tcp_scenarios' too:
 * either end is a finack stack or a script, every segment that reaches the far end is logged with its arrival
 * time, and the ladder prints one token per segment ('>' A to B, '<' B to A,
 * tcpdump's flags, ":len" for a payload, '!' when the test dropped it). */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>

#include "finack/sim.h"
#include "finack/socket.h"
#include "sim_pair.h"
#include "stack.h"
#include "tcp/tcp.h"
#include "test.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define RTT (2 * LATENCY)

/* B listens on port 80 (with SO_RCVBUF rcvbuf if non-zero), A connects;
 * returns once A is ESTABLISHED and B has accepted. */
struct pair {
    int lfd, cfd, afd;
};

static bool open_pair(struct world *w, struct pair *p, int rcvbuf)
{
    p->lfd = finack_socket(stack_b(w), AF_INET, SOCK_STREAM, 0);
    if (rcvbuf && set_int(stack_b(w), p->lfd, SOL_SOCKET, SO_RCVBUF, rcvbuf)) return false;
    if (bind_to(stack_b(w), p->lfd, 0, 80) || finack_listen(stack_b(w), p->lfd, 8)) return false;
    p->cfd = finack_socket(stack_a(w), AF_INET, SOCK_STREAM, 0);
    if (connect_to(stack_a(w), p->cfd, B_ADDR, 80) != -EINPROGRESS) return false;
    p->afd = -EAGAIN;
    RUN_UNTIL(w, (p->afd = finack_accept(stack_b(w), p->lfd, NULL, NULL)) >= 0, FINACK_SEC(10));
    return p->afd >= 0 && !strcmp(finack_socket_state(stack_a(w), p->cfd), "ESTABLISHED");
}

static uint8_t pattern(size_t i) { return (uint8_t)(i * 7 + (i >> 8) + 3); }

/* A writes what its send buffer takes of total bytes (from *sent on). */
static void push(struct world *w, int fd, size_t total, size_t *sent)
{
    uint8_t buf[4096];
    while (*sent < total) {
        size_t n = total - *sent < sizeof buf ? total - *sent : sizeof buf;
        for (size_t i = 0; i < n; i++) buf[i] = pattern(*sent + i);
        ssize_t r = finack_send(stack_a(w), fd, buf, n, 0);
        if (r <= 0) break;
        *sent += (size_t)r;
    }
}

/* B reads what has arrived, checking every byte; false on a wrong byte. */
static bool drain(struct world *w, int fd, size_t *got)
{
    uint8_t buf[16384];
    for (;;) {
        ssize_t r = finack_recv(stack_b(w), fd, buf, sizeof buf, 0);
        if (r <= 0) return true;
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] != pattern(*got + (size_t)i)) return false;
        *got += (size_t)r;
    }
}

/* ---- 1. Zero window: probes, then the window opens ----------------------- */

#define TOTAL 40000

/* A fills B's 8 KiB receive buffer, which B does not read, until an ACK
 * takes everything in flight and closes the window. Returns the index of
 * that ACK in the log. */
static size_t fill_window(struct world *w, const struct pair *p, size_t *sent)
{
    struct tcp_conn *c = conn_of(stack_a(w), p->cfd);
    push(w, p->cfd, TOTAL, sent);
    RUN_UNTIL(w, c->snd_wnd == 0 && c->snd_una == c->snd_max, FINACK_SEC(2));
    return w->nlog - 1;
}

/* Transfer the rest, B reading as it comes; true when all TOTAL bytes
 * arrived in order. */
static bool finish_transfer(struct world *w, const struct pair *p, size_t *sent, size_t *got)
{
    bool good = true;
    for (int ms = 0; ms < 10000 && *got < TOTAL && good; ms++) {
        push(w, p->cfd, TOTAL, sent);
        good = drain(w, p->afd, got);
        run_for(w, FINACK_MSEC(1));
    }
    return good && *got == TOTAL;
}

/* One probe and its answer: A's ACK one below SND.UNA, no data; B's ACK
 * of SND.UNA with its window. */
static void check_probe_pair(struct world *w, size_t i, const struct tcp_conn *c,
                             uint32_t b_seq, uint16_t a_window, uint16_t b_window)
{
    const struct tcp_segment *probe = logged(w, i), *answer = logged(w, i + 1);
    REQUIRE(probe && answer);
    CHECK_EQ(w->log[i].from, A);
    CHECK_EQ(probe->flags, TCP_FLAG_ACK);
    CHECK_U64(probe->seq, c->snd_una - 1);
    CHECK_U64(probe->ack, c->rcv_nxt);
    CHECK_EQ(probe->window, a_window);
    CHECK_EQ(probe->payload_len, 0);
    CHECK_EQ(w->log[i + 1].from, B);
    CHECK_EQ(answer->flags, TCP_FLAG_ACK);
    CHECK_U64(answer->seq, b_seq);
    CHECK_U64(answer->ack, c->snd_una);
    CHECK_EQ(answer->window, b_window);
    CHECK_U64(w->log[i + 1].t, w->log[i].t + LATENCY); /* answered at once */
}

/* B stops reading; A's data meets a window too small to use (SWS), then a
 * zero window. The persist timer starts at the RTO (200 ms), the first
 * probe sends the bytes that fit, the next ones are probe ACKs, each
 * interval twice the last from the answer's arrival (Linux tcp_ack_probe).
 * When B reads, its window update restarts the transfer at once. */
static void test_zero_window_probes_until_window_opens(void)
{
    struct world *w = world_new(1, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p, 8192));
    struct tcp_conn *c = conn_of(stack_a(w), p.cfd);
    size_t sent = 0, got = 0;
    size_t z = fill_window(w, &p, &sent);
    /* Five full segments; B's last ACK leaves 8192 − 5·1448 = 952 bytes
     * (B's 8 KiB SO_RCVBUF gets window scale 0, as Linux's window_clamp
     * for a locked buffer), less than an MSS and than half the largest
     * window: sender SWS avoidance holds the data, and with nothing in
     * flight only the persist timer can move it. Its probe sends what
     * fits. Then the window is zero. */
    CHECK_STR(ladder(w, 0), ">S <S. >. >.:1448 >.:1448 >.:1448 >.:1448 >.:1448 <. <. <. <. "
                            ">P.:952 <.");
    REQUIRE(z == 13);
    CHECK_U64(c->rto, TCP_MIN_RTO);
    CHECK_EQ(logged(w, 11)->window, 952);
    CHECK_U64(logged(w, 11)->ack, logged(w, 12)->seq);
    CHECK_U64(w->log[12].t, w->log[11].t + TCP_MIN_RTO + LATENCY);
    CHECK_EQ(logged(w, 12)->flags, TCP_FLAG_ACK | TCP_FLAG_PSH);
    CHECK_EQ(logged(w, z)->window, 0);
    CHECK_U64(logged(w, z)->ack, logged(w, 12)->seq + 952);
    CHECK_U64(c->snd_una, logged(w, z)->ack);

    /* Zero window: probes at 200 ms, then 400, 800, 1600 ms after each
     * answer; each answered with the window still zero. */
    finack_time_t t0 = w->log[z].t; /* A takes the ACK that closed the window */
    uint32_t b_seq = logged(w, 1)->seq + 1;
    uint16_t a_window = logged(w, 2)->window;
    CHECK_EQ(a_window, TCP_DEFAULT_RCVBUF >> 7);
    finack_time_t sent_at = t0 + TCP_MIN_RTO;
    run_to(w, t0 + FINACK_MSEC(200 + 402 + 802 + 1602) + RTT);
    CHECK_STR(ladder(w, z + 1), ">. <. >. <. >. <. >. <.");
    for (unsigned k = 0; k < 4; k++) {
        size_t i = z + 1 + 2 * k;
        CHECK_U64(w->log[i].t, sent_at + LATENCY);
        check_probe_pair(w, i, c, b_seq, a_window, 0);
        sent_at += RTT + (TCP_MIN_RTO << (k + 1));
    }
    CHECK(timer_armed(&c->timers[TCP_TIMER_PERSIST].timer));
    CHECK_EQ(c->probes_out, 0); /* every probe was answered */
    CHECK_STR(finack_socket_state(stack_a(w), p.cfd), "ESTABLISHED");

    /* B reads everything: its window update (8192 bytes) reaches A,
     * which sends at once and stops probing. */
    size_t mark = w->nlog;
    finack_time_t read_at = now_of(w);
    CHECK(drain(w, p.afd, &got));
    CHECK_U64(got, 7240 + 952);
    run_for(w, RTT);
    CHECK_STR(ladder(w, mark), "<. >.:1448 >.:1448 >.:1448 >.:1448 >.:1448");
    CHECK_U64(w->log[mark].t, read_at + LATENCY);
    CHECK_EQ(logged(w, mark)->window, 8192);
    CHECK_U64(logged(w, mark)->ack, logged(w, z)->ack);
    CHECK_U64(w->log[mark + 1].t, read_at + RTT);
    CHECK_U64(logged(w, mark + 1)->seq, logged(w, z)->ack);
    CHECK(!timer_armed(&c->timers[TCP_TIMER_PERSIST].timer));
    CHECK_EQ(c->persist_backoff, 0);
    CHECK_U64(c->probes_tstamp, FINACK_TIME_NEVER);

    CHECK(finish_transfer(w, &p, &sent, &got));
    CHECK_U64(got, TOTAL);
    CHECK_EQ(finack_stack_counter(stack_a(w), FINACK_CTR_TCP_WIN_PROBE), 5);
    CHECK_EQ(finack_stack_counter(stack_a(w), FINACK_CTR_TCP_ABORT_ON_TIMEOUT), 0);
    world_free(w);
}

/* ---- 2. Probes answered for half an hour --------------------------------- */

/* RFC 1122 §4.2.2.17: the sender must keep probing as long as the receiver
 * answers. The interval doubles up to TCP_RTO_MAX (120 s) and stays there;
 * after 30 minutes the connection is still there. B then reads, but its
 * window update is lost: the next probe's answer carries the open window,
 * and the transfer completes. */
static void test_zero_window_probes_answered_never_time_out(void)
{
    struct world *w = world_new(2, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p, 8192));
    struct tcp_conn *c = conn_of(stack_a(w), p.cfd);
    size_t sent = 0, got = 0;
    size_t z = fill_window(w, &p, &sent);
    REQUIRE(logged(w, z)->window == 0 && c->snd_una == c->snd_max);
    CHECK_U64(c->rto, TCP_MIN_RTO);
    finack_time_t t0 = w->log[z].t;
    uint32_t b_seq = logged(w, 1)->seq + 1;
    uint16_t a_window = logged(w, 2)->window;
    run_to(w, t0 + FINACK_SEC(1800));
    /* 200 ms, 400 ms, ... 102.4 s, then 120 s (plus the round trip to the
     * answer that restarts each interval): 23 probes in 30 minutes. */
    finack_time_t sent_at = t0 + TCP_MIN_RTO;
    unsigned probes = 0;
    for (size_t i = z + 1; i + 1 < w->nlog; i += 2, probes++) {
        CHECK_U64(w->log[i].t, sent_at + LATENCY);
        check_probe_pair(w, i, c, b_seq, a_window, 0);
        finack_time_t interval = TCP_MIN_RTO << (probes + 1 < 10 ? probes + 1 : 10);
        sent_at += RTT + (interval < TCP_MAX_RTO ? interval : TCP_MAX_RTO);
    }
    CHECK_EQ(probes, 23);
    CHECK_U64(w->nlog, z + 1 + 2 * 23);
    CHECK_STR(finack_socket_state(stack_a(w), p.cfd), "ESTABLISHED");
    CHECK_STR(finack_socket_state(stack_b(w), p.afd), "ESTABLISHED");
    CHECK_EQ(c->probes_out, 0);
    CHECK_EQ(so_error(stack_a(w), p.cfd), 0);

    /* B reads; its window update is lost. */
    size_t mark = w->nlog;
    w->drop_next[B] = 1;
    CHECK(drain(w, p.afd, &got));
    run_for(w, RTT);
    CHECK_STR(ladder(w, mark), "<.!");
    CHECK_EQ(logged(w, mark)->window, 8192);
    /* The probe due next finds the window open; data follows its answer. */
    run_to(w, sent_at + RTT + LATENCY);
    CHECK_STR(ladder(w, mark), "<.! >. <. >.:1448 >.:1448 >.:1448 >.:1448 >.:1448");
    CHECK_U64(w->log[mark + 1].t, sent_at + LATENCY);
    check_probe_pair(w, mark + 1, c, b_seq, a_window, 8192);
    CHECK_U64(w->log[mark + 3].t, sent_at + RTT + LATENCY);
    CHECK(finish_transfer(w, &p, &sent, &got));
    CHECK_EQ(finack_stack_counter(stack_a(w), FINACK_CTR_TCP_WIN_PROBE), 1 + 23 + 1);
    world_free(w);
}

/* ---- 3. Probes unanswered: ETIMEDOUT after tcp_retries2 ------------------ */

/* The receiver vanishes while its window is zero. Fifteen unanswered probes
 * (Linux tcp_retries2), and at the timer after the last one the connection
 * ends with ETIMEDOUT and no RST: 924.6 s after the window closed, Linux's
 * figure for an RTO of 200 ms. */
static void test_zero_window_probes_unanswered_time_out(void)
{
    struct world *w = world_new(3, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p, 8192));
    struct tcp_conn *c = conn_of(stack_a(w), p.cfd);
    size_t sent = 0;
    size_t z = fill_window(w, &p, &sent);
    REQUIRE(logged(w, z)->window == 0 && c->snd_una == c->snd_max);
    CHECK_U64(c->rto, TCP_MIN_RTO);
    finack_time_t t0 = w->log[z].t;
    uint32_t snd_una = c->snd_una;
    w->drop_all[B] = true;
    run_to(w, t0 + FINACK_SEC(2000));
    finack_time_t sent_at = t0 + TCP_MIN_RTO;
    for (unsigned k = 0; k < 15; k++) {
        size_t i = z + 1 + 2 * k;
        REQUIRE(i + 1 < w->nlog);
        CHECK_U64(w->log[i].t, sent_at + LATENCY);
        CHECK_EQ(w->log[i].from, A);
        CHECK_U64(logged(w, i)->seq, snd_una - 1);
        CHECK_EQ(logged(w, i)->payload_len, 0);
        CHECK(w->log[i + 1].dropped);
        finack_time_t interval = TCP_MIN_RTO << (k + 1 < 10 ? k + 1 : 10);
        sent_at += interval < TCP_MAX_RTO ? interval : TCP_MAX_RTO;
    }
    CHECK_U64(w->nlog, z + 1 + 2 * 15); /* no RST */
    CHECK_U64(sent_at, t0 + FINACK_MSEC(924600));
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), sent_at);
    CHECK_STR(states_of(w, A, 0), "SYN_SENT ESTABLISHED CLOSED");
    CHECK(finack_socket_events(stack_a(w), p.cfd) & POLLERR);
    CHECK_EQ(so_error(stack_a(w), p.cfd), ETIMEDOUT);
    CHECK_EQ(so_error(stack_a(w), p.cfd), 0);
    CHECK_EQ(finack_send(stack_a(w), p.cfd, "x", 1, 0), -EPIPE);
    CHECK_EQ(stack_a(w)->tcp->conn_count, 0);
    CHECK_EQ(finack_stack_counter(stack_a(w), FINACK_CTR_TCP_ABORT_ON_TIMEOUT), 1);
    world_free(w);
}

/* An orphan (its socket closed, data and FIN still waiting) is not kept
 * forever by a peer that answers probes but never opens its window: as
 * Linux's tcp_orphan_retries() has it, it ends once the probe interval
 * would reach TCP_RTO_MAX, after ten probes. */
static void test_orphan_zero_window_gives_up(void)
{
    struct world *w = world_new(13, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p, 8192));
    struct tcp_conn *c = conn_of(stack_a(w), p.cfd);
    size_t sent = 0;
    size_t z = fill_window(w, &p, &sent);
    REQUIRE(logged(w, z)->window == 0 && c->snd_una == c->snd_max);
    CHECK_U64(c->rto, TCP_MIN_RTO);
    finack_time_t t0 = w->log[z].t;
    CHECK_EQ(finack_close(stack_a(w), p.cfd), 0);
    CHECK_STR(tcp_state_name(c->state), "FIN_WAIT_1");
    run_to(w, t0 + FINACK_SEC(1000));
    finack_time_t sent_at = t0 + TCP_MIN_RTO;
    for (unsigned k = 0; k < 10; k++) {
        size_t i = z + 1 + 2 * k;
        REQUIRE(i + 1 < w->nlog);
        CHECK_U64(w->log[i].t, sent_at + LATENCY);
        CHECK_EQ(w->log[i].from, A);
        CHECK_EQ(logged(w, i)->payload_len, 0);
        CHECK_EQ(w->log[i + 1].from, B);
        sent_at += RTT + (TCP_MIN_RTO << (k + 1));
    }
    CHECK_U64(w->nlog, z + 1 + 2 * 10);
    /* The eleventh would wait 204.8 s, over TCP_RTO_MAX: the end, at
     * what would have been 120 s. */
    finack_time_t end = sent_at - (TCP_MIN_RTO << 10) + TCP_MAX_RTO;
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), end);
    CHECK_EQ(stack_a(w)->tcp->conn_count, 0);
    CHECK_STR(finack_socket_state(stack_b(w), p.afd), "ESTABLISHED");
    world_free(w);
}

/* ---- 4. Keepalive -------------------------------------------------------- */

/* A keepalive probe: A's ACK one below SND.NXT, no data. */
static void check_keepalive(struct world *w, size_t i, const struct tcp_conn *c)
{
    const struct tcp_segment *s = logged(w, i);
    REQUIRE(s);
    CHECK_EQ(w->log[i].from, A);
    CHECK_EQ(s->flags, TCP_FLAG_ACK);
    CHECK_U64(s->seq, c->snd_nxt - 1);
    CHECK_U64(s->ack, c->rcv_nxt);
    CHECK_EQ(s->payload_len, 0);
}

static void test_keepalive_options(void)
{
    struct world *w = world_new(4, true, true, NULL);
    struct finack_stack *s = stack_a(w);
    int fd = finack_socket(s, AF_INET, SOCK_STREAM, 0);
    /* Linux's defaults: off, 7200 s, 75 s, 9 probes, no user timeout. */
    CHECK_EQ(get_int(s, fd, SOL_SOCKET, SO_KEEPALIVE), 0);
    CHECK_EQ(get_int(s, fd, IPPROTO_TCP, TCP_KEEPIDLE), 7200);
    CHECK_EQ(get_int(s, fd, IPPROTO_TCP, TCP_KEEPINTVL), 75);
    CHECK_EQ(get_int(s, fd, IPPROTO_TCP, TCP_KEEPCNT), 9);
    CHECK_EQ(get_int(s, fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 0);
    /* Linux's ranges and errno. */
    static const int names[] = {TCP_KEEPIDLE, TCP_KEEPINTVL};
    for (size_t i = 0; i < 2; i++) {
        CHECK_EQ(set_int(s, fd, IPPROTO_TCP, names[i], 0), -EINVAL);
        CHECK_EQ(set_int(s, fd, IPPROTO_TCP, names[i], -1), -EINVAL);
        CHECK_EQ(set_int(s, fd, IPPROTO_TCP, names[i], 32768), -EINVAL);
        CHECK_EQ(set_int(s, fd, IPPROTO_TCP, names[i], 32767), 0);
        CHECK_EQ(get_int(s, fd, IPPROTO_TCP, names[i]), 32767);
        CHECK_EQ(set_int(s, fd, IPPROTO_TCP, names[i], 1), 0);
        CHECK_EQ(get_int(s, fd, IPPROTO_TCP, names[i]), 1);
    }
    CHECK_EQ(set_int(s, fd, IPPROTO_TCP, TCP_KEEPCNT, 0), -EINVAL);
    CHECK_EQ(set_int(s, fd, IPPROTO_TCP, TCP_KEEPCNT, 128), -EINVAL);
    CHECK_EQ(set_int(s, fd, IPPROTO_TCP, TCP_KEEPCNT, 127), 0);
    CHECK_EQ(get_int(s, fd, IPPROTO_TCP, TCP_KEEPCNT), 127);
    CHECK_EQ(set_int(s, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, -1), -EINVAL);
    CHECK_EQ(set_int(s, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 30000), 0);
    CHECK_EQ(get_int(s, fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 30000);
    CHECK_EQ(set_int(s, fd, SOL_SOCKET, SO_KEEPALIVE, 5), 0);
    CHECK_EQ(get_int(s, fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    short small = 1;
    CHECK_EQ(finack_setsockopt(s, fd, IPPROTO_TCP, TCP_KEEPCNT, &small, sizeof small), -EINVAL);

    /* An accepted connection takes its listener's settings. */
    struct finack_stack *sb = stack_b(w);
    int lfd = finack_socket(sb, AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(set_int(sb, lfd, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
    CHECK_EQ(set_int(sb, lfd, IPPROTO_TCP, TCP_KEEPIDLE, 100), 0);
    CHECK_EQ(set_int(sb, lfd, IPPROTO_TCP, TCP_KEEPINTVL, 20), 0);
    CHECK_EQ(set_int(sb, lfd, IPPROTO_TCP, TCP_KEEPCNT, 4), 0);
    CHECK_EQ(set_int(sb, lfd, IPPROTO_TCP, TCP_USER_TIMEOUT, 9000), 0);
    REQUIRE(bind_to(sb, lfd, 0, 80) == 0 && finack_listen(sb, lfd, 8) == 0);
    CHECK_EQ(connect_to(s, fd, B_ADDR, 80), -EINPROGRESS);
    int afd = -EAGAIN;
    RUN_UNTIL(w, (afd = finack_accept(sb, lfd, NULL, NULL)) >= 0, FINACK_SEC(1));
    REQUIRE(afd >= 0);
    CHECK_EQ(get_int(sb, afd, SOL_SOCKET, SO_KEEPALIVE), 1);
    CHECK_EQ(get_int(sb, afd, IPPROTO_TCP, TCP_KEEPIDLE), 100);
    CHECK_EQ(get_int(sb, afd, IPPROTO_TCP, TCP_KEEPINTVL), 20);
    CHECK_EQ(get_int(sb, afd, IPPROTO_TCP, TCP_KEEPCNT), 4);
    CHECK_EQ(get_int(sb, afd, IPPROTO_TCP, TCP_USER_TIMEOUT), 9000);
    struct tcp_conn *child = conn_of(sb, afd);
    CHECK(child->keepalive);
    CHECK_U64(child->user_timeout, FINACK_MSEC(9000));
    CHECK(timer_armed(&child->timers[TCP_TIMER_KEEPALIVE].timer));
    /* Off again: no timer. */
    CHECK_EQ(set_int(sb, afd, SOL_SOCKET, SO_KEEPALIVE, 0), 0);
    CHECK(!timer_armed(&child->timers[TCP_TIMER_KEEPALIVE].timer));
    world_free(w);
}

/* With Linux's defaults the first probe goes 7200 s after the last thing
 * received, then one every 75 s; at the timer after the 9th unanswered
 * probe A resets the connection and reports ETIMEDOUT. */
static void test_keepalive_unanswered_resets(void)
{
    struct world *w = world_new(5, true, true, NULL);
    struct finack_stack *s = stack_a(w);
    struct pair p;
    p.cfd = finack_socket(s, AF_INET, SOCK_STREAM, 0);
    /* Set before connect(): the idle clock starts at ESTABLISHED. */
    CHECK_EQ(set_int(s, p.cfd, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
    p.lfd = finack_socket(stack_b(w), AF_INET, SOCK_STREAM, 0);
    REQUIRE(bind_to(stack_b(w), p.lfd, 0, 80) == 0 && finack_listen(stack_b(w), p.lfd, 8) == 0);
    CHECK_EQ(connect_to(s, p.cfd, B_ADDR, 80), -EINPROGRESS);
    p.afd = -EAGAIN;
    RUN_UNTIL(w, (p.afd = finack_accept(stack_b(w), p.lfd, NULL, NULL)) >= 0, FINACK_SEC(1));
    REQUIRE(p.afd >= 0);
    struct tcp_conn *c = conn_of(s, p.cfd);
    finack_time_t est = entered(w, A, 0, TCPS_ESTABLISHED);
    CHECK_U64(est, 2 * LATENCY);
    CHECK_STR(ladder(w, 0), ">S <S. >.");
    w->drop_all[B] = true; /* B's answers never arrive */

    run_to(w, est + FINACK_SEC(7200) - 1);
    CHECK_U64(w->nlog, 3);
    run_to(w, est + FINACK_SEC(8000));
    CHECK_STR(ladder(w, 3), ">. <.! >. <.! >. <.! >. <.! >. <.! >. <.! >. <.! >. <.! >. <.! >R.");
    REQUIRE(w->nlog == 3 + 19);
    for (unsigned k = 0; k < 9; k++) {
        size_t i = 3 + 2 * k;
        CHECK_U64(w->log[i].t, est + FINACK_SEC(7200 + 75 * k) + LATENCY);
        check_keepalive(w, i, c);
        /* B, which has no keepalive of its own, answers every probe. */
        CHECK_U64(logged(w, i + 1)->ack, c->snd_nxt);
        CHECK_U64(w->log[i + 1].t, w->log[i].t + LATENCY);
    }
    /* The RST at 7200 + 9·75 s: SEQ = SND.NXT, as Linux's
     * tcp_send_active_reset. B takes it. */
    size_t r = 3 + 18;
    CHECK_U64(w->log[r].t, est + FINACK_SEC(7875) + LATENCY);
    CHECK_EQ(logged(w, r)->flags, TCP_FLAG_RST | TCP_FLAG_ACK);
    CHECK_U64(logged(w, r)->seq, c->snd_nxt);
    CHECK_U64(logged(w, r)->ack, c->rcv_nxt);
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), est + FINACK_SEC(7875));
    CHECK_STR(finack_socket_state(s, p.cfd), "CLOSED");
    char buf[4];
    CHECK_EQ(finack_recv(s, p.cfd, buf, sizeof buf, 0), -ETIMEDOUT);
    CHECK_EQ(finack_recv(s, p.cfd, buf, sizeof buf, 0), 0);
    CHECK_EQ(finack_recv(stack_b(w), p.afd, buf, sizeof buf, 0), -ECONNRESET);
    CHECK_EQ(finack_stack_counter(s, FINACK_CTR_TCP_KEEPALIVE), 9);
    CHECK_EQ(finack_stack_counter(s, FINACK_CTR_TCP_ABORT_ON_TIMEOUT), 1);
    CHECK_EQ(finack_stack_drops(stack_b(w), FINACK_DROP_TCP_NOT_ACCEPTABLE), 9);
    world_free(w);
}

/* Answered probes keep the connection: each answer restarts the idle
 * clock, so the next probe goes TCP_KEEPIDLE after the answer (the timer
 * that fires TCP_KEEPINTVL after the probe finds the connection no longer
 * idle and waits for the rest). Data restarts it too. When the answers
 * stop, TCP_KEEPCNT probes TCP_KEEPINTVL apart, then the RST. */
static void test_keepalive_answered_keeps_connection(void)
{
    struct world *w = world_new(6, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p, 0));
    struct finack_stack *s = stack_a(w);
    struct tcp_conn *c = conn_of(s, p.cfd);
    size_t mark = w->nlog;
    finack_time_t on = now_of(w);
    CHECK_EQ(set_int(s, p.cfd, IPPROTO_TCP, TCP_KEEPIDLE, 60), 0);
    CHECK_EQ(set_int(s, p.cfd, IPPROTO_TCP, TCP_KEEPINTVL, 10), 0);
    CHECK_EQ(set_int(s, p.cfd, IPPROTO_TCP, TCP_KEEPCNT, 3), 0);
    CHECK(!timer_armed(&c->timers[TCP_TIMER_KEEPALIVE].timer)); /* SO_KEEPALIVE is off */
    CHECK_EQ(set_int(s, p.cfd, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
    run_to(w, on + FINACK_SEC(30));
    CHECK_EQ(set_int(s, p.cfd, SOL_SOCKET, SO_KEEPALIVE, 1), 0); /* already on: no change */
    /* Three probes, each answered; the first a full TCP_KEEPIDLE after
     * SO_KEEPALIVE went on (Linux tcp_set_keepalive), the others
     * TCP_KEEPIDLE after the answer before. */
    finack_time_t probe[8];
    probe[0] = on + FINACK_SEC(60);
    for (int k = 1; k < 3; k++) probe[k] = probe[k - 1] + RTT + FINACK_SEC(60);
    run_to(w, probe[2] + FINACK_SEC(30));
    CHECK_STR(ladder(w, mark), ">. <. >. <. >. <.");
    for (int k = 0; k < 3; k++) {
        size_t i = mark + 2 * (size_t)k;
        CHECK_U64(w->log[i].t, probe[k] + LATENCY);
        check_keepalive(w, i, c);
        CHECK_U64(w->log[i + 1].t, probe[k] + RTT);
        CHECK_U64(logged(w, i + 1)->ack, c->snd_nxt);
    }
    CHECK_EQ(c->probes_out, 0);

    /* B sends data: the idle clock restarts when it arrives. */
    finack_time_t data_at = now_of(w);
    CHECK_EQ(finack_send(stack_b(w), p.afd, "hello", 5, 0), 5);
    run_to(w, data_at + FINACK_SEC(60) + RTT + LATENCY);
    CHECK_STR(ladder(w, mark + 6), "<P.:5 >. >. <.");
    char buf[8];
    CHECK_EQ(finack_recv(s, p.cfd, buf, sizeof buf, 0), 5);
    probe[3] = data_at + LATENCY + FINACK_SEC(60);
    CHECK_U64(w->log[mark + 8].t, probe[3] + LATENCY);
    check_keepalive(w, mark + 8, c);

    /* B goes silent: probes 10 s apart, the RST at the third's timer. */
    w->drop_all[B] = true;
    probe[4] = probe[3] + RTT + FINACK_SEC(60);
    probe[5] = probe[4] + FINACK_SEC(10);
    probe[6] = probe[5] + FINACK_SEC(10);
    finack_time_t reset = probe[6] + FINACK_SEC(10);
    run_to(w, reset + FINACK_SEC(100));
    CHECK_STR(ladder(w, mark + 10), ">. <.! >. <.! >. <.! >R.");
    for (int k = 4; k < 7; k++) {
        size_t i = mark + 10 + 2 * (size_t)(k - 4);
        CHECK_U64(w->log[i].t, probe[k] + LATENCY);
        check_keepalive(w, i, c);
    }
    CHECK_U64(w->log[mark + 16].t, reset + LATENCY);
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), reset);
    CHECK_EQ(so_error(s, p.cfd), ETIMEDOUT);
    CHECK_EQ(finack_recv(s, p.cfd, buf, sizeof buf, 0), 0);
    CHECK_STR(finack_socket_state(stack_b(w), p.afd), "CLOSED");
    CHECK_EQ(finack_stack_counter(s, FINACK_CTR_TCP_KEEPALIVE), 7);
    world_free(w);
}

/* The peer's keepalives (SEQ = RCV.NXT - 1, with no data or one garbage
 * byte) are answered at once with an ACK of RCV.NXT, and deliver nothing.
 * As on Linux they fail the sequence check, so they do not restart our own
 * idle clock: A's probe still goes TCP_KEEPIDLE after the last ACK. */
static void test_peer_keepalive_is_answered(void)
{
    struct world *w = world_new(7, true, false, NULL);
    struct finack_stack *s = stack_a(w);
    int fd = finack_socket(s, AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(set_int(s, fd, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
    CHECK_EQ(set_int(s, fd, IPPROTO_TCP, TCP_KEEPIDLE, 60), 0);
    CHECK_EQ(connect_to(s, fd, B_ADDR, 80), -EINPROGRESS);
    run_for(w, FINACK_MSEC(5));
    REQUIRE(w->nlog == 1);
    uint32_t iss = logged(w, 0)->seq, irs = 7000;
    uint16_t cport = logged(w, 0)->src_port;
    struct tcp_segment seg = {.src_port = 80, .dst_port = cport, .seq = irs,
                              .ack = iss + 1, .flags = TCP_FLAG_SYN | TCP_FLAG_ACK,
                              .window = 8192};
    peer_send(w, B, &seg);
    run_for(w, FINACK_MSEC(5));
    CHECK_STR(ladder(w, 0), ">S <S. >.");
    finack_time_t est = entered(w, A, 0, TCPS_ESTABLISHED);
    CHECK_U64(est, w->log[1].t);

    seg.flags = TCP_FLAG_ACK;
    seg.seq = irs; /* RCV.NXT - 1 */
    run_to(w, est + FINACK_SEC(20));
    peer_send(w, B, &seg);
    run_to(w, est + FINACK_SEC(30));
    seg.payload = (const uint8_t *)"?";
    seg.payload_len = 1;
    peer_send(w, B, &seg);
    run_for(w, FINACK_MSEC(5));
    CHECK_STR(ladder(w, 3), "<. >. <.:1 >.");
    for (size_t i = 4; i <= 6; i += 2) {
        CHECK_U64(w->log[i].t, w->log[i - 1].t + LATENCY);
        CHECK_U64(logged(w, i)->seq, iss + 1);
        CHECK_U64(logged(w, i)->ack, irs + 1);
        CHECK_EQ(logged(w, i)->payload_len, 0);
    }
    char buf[4];
    CHECK_EQ(finack_recv(s, fd, buf, sizeof buf, 0), -EAGAIN);
    CHECK_EQ(finack_stack_drops(s, FINACK_DROP_TCP_NOT_ACCEPTABLE), 2);
    /* A's own probe: 60 s after the SYN-ACK, the last acceptable segment. */
    run_to(w, est + FINACK_SEC(61));
    CHECK_STR(ladder(w, 7), ">.");
    CHECK_U64(w->log[7].t, est + FINACK_SEC(60) + LATENCY);
    CHECK_U64(logged(w, 7)->seq, iss);
    world_free(w);
}

/* ---- 5. TCP_USER_TIMEOUT ------------------------------------------------- */

/* A sends 100 bytes at a peer that has gone (everything A sends is lost)
 * with TCP_USER_TIMEOUT ut_ms (0: none); returns when the connection ended,
 * relative to the send, and logs the retransmission times in *rtx. */
static finack_time_t black_hole(uint64_t seed, int ut_ms, finack_time_t *rtx, size_t *nrtx)
{
    struct world *w = world_new(seed, true, true, NULL);
    struct pair p;
    if (!open_pair(w, &p, 0)) abort();
    struct finack_stack *s = stack_a(w);
    if (ut_ms) CHECK_EQ(set_int(s, p.cfd, IPPROTO_TCP, TCP_USER_TIMEOUT, ut_ms), 0);
    CHECK_U64(conn_of(s, p.cfd)->rto, TCP_MIN_RTO);
    w->drop_all[A] = true;
    size_t mark = w->nlog;
    finack_time_t at = now_of(w);
    static uint8_t data[100];
    CHECK_EQ(finack_send(s, p.cfd, data, sizeof data, 0), 100);
    run_for(w, FINACK_SEC(3600));
    *nrtx = 0;
    for (size_t i = mark; i < w->nlog; i++) {
        CHECK_EQ(w->log[i].from, A);
        CHECK_EQ(logged(w, i)->payload_len, 100); /* no RST at the end */
        if (i > mark) rtx[(*nrtx)++] = w->log[i].t - LATENCY - at;
    }
    finack_time_t end = entered(w, A, 0, TCPS_CLOSED) - at;
    CHECK_EQ(so_error(s, p.cfd), ETIMEDOUT);
    CHECK_STR(finack_socket_state(stack_b(w), p.afd), "ESTABLISHED");
    world_free(w);
    return end;
}

/* Linux semantics: the time counts from the first transmission of what is
 * unacknowledged; the connection ends at the first retransmission timeout
 * after it has passed, and the timer is cut short so that this is exactly
 * when it has passed. It replaces tcp_retries2: a longer user timeout
 * keeps retransmitting after the 15th retry. */
static void test_user_timeout_ends_retransmission(void)
{
    finack_time_t rtx[32];
    size_t n;
    /* Without: 15 retransmissions from 200 ms doubling to 120 s, the end
     * at 924.6 s (Linux's figure for tcp_retries2 = 15). */
    static const unsigned no_ut[] = {200, 600, 1400, 3000, 6200, 12600, 25400, 51000,
                                     102200, 204600, 324600, 444600, 564600, 684600, 804600};
    CHECK_U64(black_hole(8, 0, rtx, &n), FINACK_MSEC(924600));
    CHECK_U64(n, 15);
    for (size_t i = 0; i < n && i < 15; i++) CHECK_U64(rtx[i], FINACK_MSEC(no_ut[i]));
    /* 5 s: the fifth timeout, due at 6.2 s, comes at 5 s and ends it. */
    CHECK_U64(black_hole(8, 5000, rtx, &n), FINACK_SEC(5));
    CHECK_U64(n, 4);
    for (size_t i = 0; i < n && i < 4; i++) CHECK_U64(rtx[i], FINACK_MSEC(no_ut[i]));
    /* 100 ms, less than the first RTO: the first timeout retransmits (no
     * retransmission yet to have timed out), the next comes a jiffy later. */
    CHECK_U64(black_hole(8, 100, rtx, &n), FINACK_MSEC(201));
    CHECK_U64(n, 1);
    /* 20 min: past the 924.6 s of tcp_retries2, three more retransmissions
     * 120 s apart, then the end at 1200 s. */
    CHECK_U64(black_hole(8, 1200000, rtx, &n), FINACK_SEC(1200));
    CHECK_U64(n, 18);
    CHECK_U64(rtx[14], FINACK_MSEC(804600));
    CHECK_U64(rtx[15], FINACK_MSEC(924600));
    CHECK_U64(rtx[17], FINACK_MSEC(1164600));
}

/* SYN_SENT too: TCP_USER_TIMEOUT shortens the connect timeout (Linux
 * tcp_write_timeout applies it after the SYN retry count). */
static void test_user_timeout_ends_connect(void)
{
    struct world *w = world_new(9, true, false, NULL); /* B ignores everything */
    struct finack_stack *s = stack_a(w);
    int fd = finack_socket(s, AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(set_int(s, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 10000), 0);
    CHECK_EQ(connect_to(s, fd, B_ADDR, 80), -EINPROGRESS);
    run_to(w, FINACK_SEC(200));
    /* SYNs at 0, 1, 3, 7 s; the next, due at 15 s, is cut to 10 s. */
    CHECK_STR(ladder(w, 0), ">S >S >S >S");
    static const unsigned at[] = {0, 1, 3, 7};
    for (size_t i = 0; i < 4 && i < w->nlog; i++)
        CHECK_U64(w->log[i].t, FINACK_SEC(at[i]) + LATENCY);
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), FINACK_SEC(10));
    CHECK_EQ(so_error(s, fd), ETIMEDOUT);
    world_free(w);
}

/* Zero-window probing ends TCP_USER_TIMEOUT after the first probe, even
 * though every probe is answered (Linux since 5.12: a receiver that keeps
 * its window shut that long counts as gone); the probe intervals are cut
 * to end it on time. No RST. */
static void test_user_timeout_ends_zero_window_probing(void)
{
    struct world *w = world_new(10, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p, 8192));
    struct finack_stack *s = stack_a(w);
    struct tcp_conn *c = conn_of(s, p.cfd);
    CHECK_EQ(set_int(s, p.cfd, IPPROTO_TCP, TCP_USER_TIMEOUT, 3000), 0);
    size_t sent = 0;
    size_t z = fill_window(w, &p, &sent);
    REQUIRE(logged(w, z)->window == 0 && c->snd_una == c->snd_max);
    CHECK_U64(c->rto, TCP_MIN_RTO);
    finack_time_t t0 = w->log[z].t;
    run_to(w, t0 + FINACK_SEC(10));
    /* Probes at 200 ms; 400, 800 and 1600 ms after each answer, the last
     * cut to 3.2 s: the end, 3 s after the first probe. */
    CHECK_STR(ladder(w, z + 1), ">. <. >. <. >. <. >. <.");
    static const unsigned probe_ms[] = {200, 602, 1404, 3006};
    for (size_t k = 0; k < 4; k++) {
        size_t i = z + 1 + 2 * k;
        CHECK_U64(w->log[i].t, t0 + FINACK_MSEC(probe_ms[k]) + LATENCY);
        check_probe_pair(w, i, c, logged(w, 1)->seq + 1, logged(w, 2)->window, 0);
    }
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), t0 + FINACK_MSEC(3200));
    CHECK_EQ(so_error(s, p.cfd), ETIMEDOUT);
    CHECK_STR(finack_socket_state(stack_b(w), p.afd), "ESTABLISHED");
    world_free(w);
}

/* ---- 6. A window shrunk under data in flight ----------------------------- */

/* Step the simulation until a segment from side reaches the far end (or
 * until limit); true if one did. The clock is then at its arrival. */
static bool await_segment(struct world *w, int side, finack_time_t limit)
{
    size_t n = w->nlog;
    for (;;) {
        for (size_t i = n; i < w->nlog; i++)
            if (w->log[i].from == side) return true;
        if (finack_sim_next_event(w->sim) > limit || !finack_sim_step(w->sim)) return false;
    }
}

/* The peer takes back the window it offered and answers with a zero window
 * (Linux tcp_retransmit_timer's "receiver dastardly shrinks window"): the
 * retransmissions go out anyway and are the probes; the connection lives
 * as long as they are answered, past tcp_retries2, and ends once the peer
 * has said nothing for 2·TCP_RTO_MAX. */
static void test_shrunk_window_retransmissions_probe(void)
{
    struct world *w = world_new(11, true, false, NULL);
    struct finack_stack *s = stack_a(w);
    int fd = finack_socket(s, AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect_to(s, fd, B_ADDR, 80), -EINPROGRESS);
    REQUIRE(await_segment(w, A, FINACK_SEC(1)));
    uint32_t iss = logged(w, 0)->seq, irs = 9000;
    uint16_t cport = logged(w, 0)->src_port;
    /* No options: MSS 536, no scaling, no timestamps. */
    struct tcp_segment to_a = {.src_port = 80, .dst_port = cport, .seq = irs, .ack = iss + 1,
                               .flags = TCP_FLAG_SYN | TCP_FLAG_ACK, .window = 536};
    peer_send(w, B, &to_a);
    to_a.seq = irs + 1;
    to_a.flags = TCP_FLAG_ACK;
    run_for(w, FINACK_MSEC(5));
    struct tcp_conn *c = conn_of(s, fd);
    REQUIRE(c->state == TCPS_ESTABLISHED);
    CHECK_U64(c->rto, TCP_MIN_RTO);
    static uint8_t data[2000];
    CHECK_EQ(finack_send(s, fd, data, sizeof data, 0), 2000);
    REQUIRE(await_segment(w, A, now_of(w) + FINACK_MSEC(5)));
    finack_time_t d = w->log[w->nlog - 1].t - LATENCY;
    CHECK_EQ(logged(w, w->nlog - 1)->payload_len, 536);
    /* B shrinks its window to zero, acknowledging nothing. */
    to_a.window = 0;
    peer_send(w, B, &to_a);
    run_for(w, LATENCY);
    size_t mark = w->nlog;
    /* Every retransmission answered the same way, for 30 minutes: 200 ms
     * doubling to 120 s, 23 of them, past tcp_retries2's 15. */
    finack_time_t rtx = TCP_MIN_RTO, last = d;
    unsigned n = 0;
    while (await_segment(w, A, d + FINACK_SEC(1800))) {
        const struct seg_rec *r = &w->log[w->nlog - 1];
        CHECK_U64(r->t, last + rtx + LATENCY);
        CHECK_U64(r->seg.seq, iss + 1);
        CHECK_EQ(r->seg.payload_len, 536);
        CHECK_EQ(r->seg.flags, TCP_FLAG_ACK);
        last = r->t - LATENCY;
        rtx = 2 * rtx < TCP_MAX_RTO ? 2 * rtx : TCP_MAX_RTO;
        n++;
        peer_send(w, B, &to_a);
    }
    CHECK_EQ(n, 23);
    CHECK_U64(w->nlog, mark + 2 * 23);
    CHECK_STR(finack_socket_state(s, fd), "ESTABLISHED");
    /* Silence: the timeouts 120 s and 240 s after the last answer still
     * retransmit; at 360 s nothing has come for more than 240 s. */
    run_to(w, last + FINACK_SEC(1000));
    CHECK_U64(w->nlog, mark + 2 * 23 + 2);
    CHECK_U64(w->log[w->nlog - 1].t, last + FINACK_SEC(240) + LATENCY);
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), last + FINACK_SEC(360));
    CHECK_EQ(so_error(s, fd), ETIMEDOUT);
    world_free(w);
}

/* ---- 7. SYN_RCVD gives up ------------------------------------------------ */

/* A completes its handshake but its ACKs are all lost. B's half-open child
 * retransmits the SYN-ACK at 1, 3, 7, 15 and 31 s (Linux
 * tcp_synack_retries = 5), A re-acknowledges each, and at 63 s B forgets
 * the child without a word: no RST. A, ESTABLISHED all along, learns of it
 * only when it sends: B's listener answers with a RST. */
static void test_syn_rcvd_times_out_silently(void)
{
    struct world *w = world_new(12, true, true, NULL);
    int lfd = finack_socket(stack_b(w), AF_INET, SOCK_STREAM, 0);
    REQUIRE(bind_to(stack_b(w), lfd, 0, 80) == 0 && finack_listen(stack_b(w), lfd, 8) == 0);
    int cfd = finack_socket(stack_a(w), AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect_to(stack_a(w), cfd, B_ADDR, 80), -EINPROGRESS);
    run_to(w, LATENCY); /* the SYN is in */
    w->drop_all[A] = true;
    run_to(w, FINACK_SEC(100));
    CHECK_STR(ladder(w, 0), ">S <S. >.! <S. >.! <S. >.! <S. >.! <S. >.! <S. >.!");
    static const unsigned at[] = {0, 1, 3, 7, 15, 31};
    for (size_t k = 0; k < 6; k++) {
        size_t i = 1 + 2 * k;
        CHECK_U64(w->log[i].t, LATENCY + FINACK_SEC(at[k]) + LATENCY);
        CHECK_U64(logged(w, i)->seq, logged(w, 1)->seq);
        CHECK_U64(logged(w, i)->ack, logged(w, 0)->seq + 1);
    }
    CHECK_STR(states_of(w, B, 0), "SYN_RCVD CLOSED");
    CHECK_U64(entered(w, B, 0, TCPS_CLOSED), LATENCY + FINACK_SEC(63));
    CHECK_EQ(conn_of(stack_b(w), lfd)->half_open_count, 0);
    CHECK_EQ(stack_b(w)->tcp->conn_count, 0);
    CHECK_STR(finack_socket_state(stack_a(w), cfd), "ESTABLISHED");
    w->drop_all[A] = false;
    size_t mark = w->nlog;
    CHECK_EQ(finack_send(stack_a(w), cfd, "late", 4, 0), 4);
    run_for(w, FINACK_MSEC(10));
    CHECK_STR(ladder(w, mark), ">P.:4 <R");
    char buf[4];
    CHECK_EQ(finack_recv(stack_a(w), cfd, buf, sizeof buf, 0), -ECONNRESET);
    world_free(w);
}

TEST_MAIN("tcp_timers", TEST_CASE(test_zero_window_probes_until_window_opens),
          TEST_CASE(test_zero_window_probes_answered_never_time_out),
          TEST_CASE(test_zero_window_probes_unanswered_time_out),
          TEST_CASE(test_orphan_zero_window_gives_up),
          TEST_CASE(test_keepalive_options), TEST_CASE(test_keepalive_unanswered_resets),
          TEST_CASE(test_keepalive_answered_keeps_connection),
          TEST_CASE(test_peer_keepalive_is_answered),
          TEST_CASE(test_user_timeout_ends_retransmission),
          TEST_CASE(test_user_timeout_ends_connect),
          TEST_CASE(test_user_timeout_ends_zero_window_probing),
          TEST_CASE(test_shrunk_window_retransmissions_probe),
          TEST_CASE(test_syn_rcvd_times_out_silently))
