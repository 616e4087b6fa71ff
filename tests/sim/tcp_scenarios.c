/* The TCP scenarios of the seed article, each on the simulated link with
 * every segment on the wire and every state change recorded: open and the
 * 4-way close, CLOSE_WAIT and FIN_WAIT_2 that last, half-close, TIME_WAIT's
 * re-ACK, simultaneous open and close, old duplicate SYNs (RFC 9293
 * Figure 8), RST for a closed port, SYN backoff, RFC 5961, abortive close,
 * and a lossy soak of many connections.
 *
 * Either end of the link is a finack stack or a script: a scripted end sees
 * the segments that reach it in the log and answers with crafted ones
 * (peer_send). Segments are written as a ladder, one token per segment in
 * arrival order: '>' for A to B, '<' for B to A, the flags as tcpdump prints
 * them, ":len" for a payload, '!' for a segment the test dropped. */
#include <errno.h>
#include <stdlib.h>

#include "finack/sim.h"
#include "finack/socket.h"
#include "sim_pair.h"
#include "stack.h"
#include "tcp/tcp.h"
#include "test.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define MSL FINACK_SEC(60)

static uint16_t local_port(struct finack_stack *s, int fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    finack_getsockname(s, fd, (struct sockaddr *)&sa, &len);
    return ntohs(sa.sin_port);
}

/* Two stacks: B listens on port 80, A connects; returns once A is
 * ESTABLISHED and B has accepted. */
struct pair {
    int lfd, cfd, afd;
    uint16_t cport;
};

static bool open_pair(struct world *w, struct pair *p)
{
    p->lfd = finack_socket(stack_b(w), AF_INET, SOCK_STREAM, 0);
    if (bind_to(stack_b(w), p->lfd, 0, 80) || finack_listen(stack_b(w), p->lfd, 64)) return false;
    p->cfd = finack_socket(stack_a(w), AF_INET, SOCK_STREAM, 0);
    if (connect_to(stack_a(w), p->cfd, B_ADDR, 80) != -EINPROGRESS) return false;
    p->cport = local_port(stack_a(w), p->cfd);
    p->afd = -EAGAIN;
    RUN_UNTIL(w, (p->afd = finack_accept(stack_b(w), p->lfd, NULL, NULL)) >= 0, FINACK_SEC(10));
    RUN_UNTIL(w, !strcmp(finack_socket_state(stack_a(w), p->cfd), "ESTABLISHED"), FINACK_SEC(10));
    return p->afd >= 0 && !strcmp(finack_socket_state(stack_a(w), p->cfd), "ESTABLISHED");
}

/* ---- 1. Open and the 4-way close ------------------------------------------ */

static void test_open_and_four_way_close(void)
{
    struct world *w = world_new(1, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    char c;
    CHECK_EQ(finack_recv(stack_b(w), p.afd, &c, 1, 0), -EAGAIN);
    /* The active closer closes its socket: its connection lives on, orphaned. */
    CHECK_EQ(finack_close(stack_a(w), p.cfd), 0);
    ssize_t eof = -1;
    RUN_UNTIL(w, (eof = finack_recv(stack_b(w), p.afd, &c, 1, 0)) == 0, FINACK_SEC(1));
    CHECK_EQ(eof, 0);
    run_for(w, FINACK_MSEC(10));
    CHECK_STR(finack_socket_state(stack_b(w), p.afd), "CLOSE_WAIT");
    CHECK_EQ(finack_close(stack_b(w), p.afd), 0);
    run_for(w, FINACK_SEC(1));
    CHECK_STR(ladder(w, 0), ">S <S. >. >F. <. <F. >.");

    /* Sequence numbers: SYN and FIN each take one. */
    REQUIRE(w->nlog == 7);
    uint32_t ciss = logged(w, 0)->seq, siss = logged(w, 1)->seq;
    CHECK_U64(logged(w, 1)->ack, ciss + 1);
    CHECK_U64(logged(w, 2)->seq, ciss + 1);
    CHECK_U64(logged(w, 2)->ack, siss + 1);
    CHECK_U64(logged(w, 3)->seq, ciss + 1);
    CHECK_U64(logged(w, 4)->ack, ciss + 2);
    CHECK_U64(logged(w, 5)->seq, siss + 1);
    CHECK_U64(logged(w, 5)->ack, ciss + 2);
    CHECK_U64(logged(w, 6)->seq, ciss + 2);
    CHECK_U64(logged(w, 6)->ack, siss + 2);

    CHECK_STR(states_of(w, A, 0), "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
    CHECK_STR(states_of(w, B, 0), "SYN_RCVD ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    finack_time_t tw = entered(w, A, 0, TCPS_TIME_WAIT);
    CHECK_U64(tw, w->log[5].t); /* on the FIN's arrival */
    CHECK_U64(entered(w, B, 0, TCPS_CLOSED), w->log[6].t);
    /* TIME_WAIT lasts exactly 2·MSL, then the connection is gone. */
    CHECK_U64(conn_of(stack_b(w), p.lfd)->msl, MSL);
    finack_sim_run_until(w->sim, tw + 2 * MSL - 1);
    /* The closed socket's TIME_WAIT is a small record, not a TCB. */
    CHECK_EQ(stack_a(w)->tcp->conn_count, 0);
    CHECK_EQ(stack_a(w)->tcp->tw_count, 1);
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), FINACK_TIME_NEVER);
    finack_sim_run_until(w->sim, tw + 2 * MSL);
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), tw + 2 * MSL);
    CHECK_STR(states_of(w, A, 0), "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT CLOSED");
    CHECK_EQ(stack_a(w)->tcp->conn_count, 0);
    CHECK_EQ(stack_b(w)->tcp->conn_count, 0);
    CHECK_EQ(w->nlog, 7); /* TIME_WAIT's end is silent */
    world_free(w);
}

/* ---- 2. CLOSE_WAIT and FIN_WAIT_2 that last --------------------------------- */

static void test_close_wait_lasts_fin_wait_2_times_out_only_orphaned(void)
{
    struct world *w = world_new(2, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    /* A half-closes but keeps its socket; B never closes. */
    CHECK_EQ(finack_shutdown(stack_a(w), p.cfd, SHUT_WR), 0);
    run_for(w, FINACK_SEC(600));
    CHECK_STR(finack_socket_state(stack_b(w), p.afd), "CLOSE_WAIT");
    CHECK_STR(finack_socket_state(stack_a(w), p.cfd), "FIN_WAIT_2");
    CHECK_STR(ladder(w, 0), ">S <S. >. >F. <."); /* ten quiet minutes */

    /* Once A's socket is closed, FIN_WAIT_2 is orphaned and ends after
     * tcp_fin_timeout (60 s), silently, as Linux's default does. */
    finack_time_t closed_at = now_of(w);
    CHECK_EQ(finack_close(stack_a(w), p.cfd), 0);
    run_for(w, TCP_FIN_TIMEOUT - 1);
    CHECK_EQ(stack_a(w)->tcp->conn_count, 1);
    run_for(w, 1);
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), closed_at + TCP_FIN_TIMEOUT);
    CHECK_EQ(stack_a(w)->tcp->conn_count, 0);
    CHECK_STR(ladder(w, 0), ">S <S. >. >F. <.");
    CHECK_STR(finack_socket_state(stack_b(w), p.afd), "CLOSE_WAIT");

    /* B's FIN, much later, finds no connection: a RST <SEQ=SEG.ACK>. */
    size_t mark = w->nlog;
    CHECK_EQ(finack_close(stack_b(w), p.afd), 0);
    run_for(w, FINACK_SEC(1));
    CHECK_STR(ladder(w, mark), "<F. >R");
    CHECK_U64(logged(w, mark + 1)->seq, logged(w, mark)->ack);
    CHECK_STR(states_of(w, B, 0), "SYN_RCVD ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    CHECK_EQ(stack_b(w)->tcp->conn_count, 0);
    world_free(w);
}

/* ---- 3. Half-close ------------------------------------------------------- */

static void test_half_close(void)
{
    struct world *w = world_new(3, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    CHECK_EQ(finack_send(stack_a(w), p.cfd, "request", 7, 0), 7);
    CHECK_EQ(finack_shutdown(stack_a(w), p.cfd, SHUT_WR), 0);
    CHECK_EQ(finack_send(stack_a(w), p.cfd, "x", 1, 0), -EPIPE);
    char got[16] = {0};
    ssize_t n = -1;
    RUN_UNTIL(w, (n = finack_recv(stack_b(w), p.afd, got, sizeof got, 0)) > 0, FINACK_SEC(1));
    CHECK_EQ(n, 7);
    CHECK_MEM(got, "request", 7);
    n = -1;
    RUN_UNTIL(w, (n = finack_recv(stack_b(w), p.afd, got, sizeof got, 0)) == 0, FINACK_SEC(1));
    CHECK_EQ(n, 0);
    run_for(w, FINACK_MSEC(10));
    CHECK_STR(finack_socket_state(stack_a(w), p.cfd), "FIN_WAIT_2");

    /* The half that is still open carries a response of several segments. */
    static uint8_t out[5000], in[5000];
    for (size_t i = 0; i < sizeof out; i++) out[i] = (uint8_t)(i * 7 + 3);
    CHECK_EQ(finack_send(stack_b(w), p.afd, out, sizeof out, 0), (ssize_t)sizeof out);
    size_t have = 0;
    RUN_UNTIL(w,
              (n = finack_recv(stack_a(w), p.cfd, in + have, sizeof in - have, 0)) > 0 &&
                  (have += (size_t)n) == sizeof in,
              FINACK_SEC(2));
    CHECK_U64(have, sizeof in);
    CHECK_MEM(in, out, sizeof in);
    CHECK_STR(finack_socket_state(stack_a(w), p.cfd), "FIN_WAIT_2");
    CHECK_EQ(finack_recv(stack_a(w), p.cfd, in, 1, 0), -EAGAIN);
    /* Everything read and acknowledged: neither end holds ring memory. */
    run_for(w, FINACK_MSEC(50));
    CHECK(conn_of(stack_a(w), p.cfd)->rcv_buf.buf == NULL);
    CHECK(conn_of(stack_b(w), p.afd)->snd_buf.buf == NULL);
    CHECK(conn_of(stack_b(w), p.afd)->rcv_buf.buf == NULL);
    CHECK_EQ(finack_close(stack_b(w), p.afd), 0);
    run_for(w, FINACK_MSEC(10));
    CHECK_EQ(finack_recv(stack_a(w), p.cfd, in, 1, 0), 0);
    CHECK_STR(finack_socket_state(stack_a(w), p.cfd), "TIME_WAIT");
    CHECK_STR(states_of(w, A, 0), "SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT");
    CHECK_STR(states_of(w, B, 0), "SYN_RCVD ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    world_free(w);
}

/* ---- 4. TIME_WAIT re-ACKs a retransmitted FIN -------------------------------- */

static void test_time_wait_reacks_retransmitted_fin(void)
{
    struct world *w = world_new(4, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    CHECK_EQ(finack_shutdown(stack_a(w), p.cfd, SHUT_WR), 0);
    char c;
    ssize_t eof = -1;
    RUN_UNTIL(w, (eof = finack_recv(stack_b(w), p.afd, &c, 1, 0)) == 0, FINACK_SEC(1));
    run_for(w, FINACK_MSEC(10));
    /* A's last ACK is lost. */
    size_t mark = w->nlog;
    w->drop_next[A] = 1;
    CHECK_EQ(finack_close(stack_b(w), p.afd), 0);
    run_for(w, FINACK_MSEC(100));
    CHECK_STR(ladder(w, mark), "<F. >.!");
    CHECK_STR(finack_socket_state(stack_a(w), p.cfd), "TIME_WAIT");
    finack_time_t tw = entered(w, A, 0, TCPS_TIME_WAIT);
    CHECK_U64(tw, w->log[mark].t);
    /* B retransmits its FIN after its RTO (200 ms, the floor); A answers
     * with an ACK and starts 2·MSL over. */
    RUN_UNTIL(w, w->nlog >= mark + 4, FINACK_SEC(5));
    CHECK_STR(ladder(w, mark), "<F. >.! <F. >.");
    finack_time_t reack = w->log[mark + 2].t;
    CHECK_U64(reack - w->log[mark].t, TCP_MIN_RTO);
    CHECK_U64(logged(w, mark + 2)->seq, logged(w, mark)->seq);
    CHECK_U64(logged(w, mark + 3)->ack, logged(w, mark)->seq + 1);
    CHECK_U64(w->log[mark + 3].t, reack + LATENCY); /* answered at once */
    CHECK_STR(states_of(w, B, 0), "SYN_RCVD ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
    CHECK_U64(entered(w, B, 0, TCPS_CLOSED), reack + LATENCY);

    finack_sim_run_until(w->sim, tw + 2 * MSL);
    CHECK_STR(finack_socket_state(stack_a(w), p.cfd), "TIME_WAIT");
    finack_sim_run_until(w->sim, reack + 2 * MSL - 1);
    CHECK_STR(finack_socket_state(stack_a(w), p.cfd), "TIME_WAIT");
    finack_sim_run_until(w->sim, reack + 2 * MSL);
    CHECK_STR(finack_socket_state(stack_a(w), p.cfd), "CLOSED");
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), reack + 2 * MSL);
    CHECK_EQ(stack_a(w)->tcp->conn_count, 0);
    CHECK_EQ(stack_b(w)->tcp->conn_count, 0);
    CHECK_EQ(finack_close(stack_a(w), p.cfd), 0);
    world_free(w);
}

/* ---- 5. Simultaneous open ------------------------------------------------ */

static void test_simultaneous_open(void)
{
    struct world *w = world_new(5, true, true, NULL);
    int fa = finack_socket(stack_a(w), AF_INET, SOCK_STREAM, 0);
    int fb = finack_socket(stack_b(w), AF_INET, SOCK_STREAM, 0);
    REQUIRE(bind_to(stack_a(w), fa, A_ADDR, 1000) == 0);
    REQUIRE(bind_to(stack_b(w), fb, B_ADDR, 2000) == 0);
    CHECK_EQ(connect_to(stack_a(w), fa, B_ADDR, 2000), -EINPROGRESS);
    CHECK_EQ(connect_to(stack_b(w), fb, A_ADDR, 1000), -EINPROGRESS);
    run_for(w, FINACK_MSEC(50));
    /* Each SYN crosses the other; each end answers SYN-ACK from its ISS,
     * and each SYN-ACK completes its receiver's handshake (RFC 9293 §3.5,
     * Figure 7): four segments, no extra ACKs. */
    CHECK_STR(ladder(w, 0), ">S <S <S. >S.");
    CHECK_STR(states_of(w, A, 0), "SYN_SENT SYN_RCVD ESTABLISHED");
    CHECK_STR(states_of(w, B, 0), "SYN_SENT SYN_RCVD ESTABLISHED");
    REQUIRE(w->nlog == 4);
    uint32_t iss_a = logged(w, 0)->seq, iss_b = logged(w, 1)->seq;
    CHECK_U64(logged(w, 2)->seq, iss_b);
    CHECK_U64(logged(w, 2)->ack, iss_a + 1);
    CHECK_U64(logged(w, 3)->seq, iss_a);
    CHECK_U64(logged(w, 3)->ack, iss_b + 1);
    CHECK_EQ(entered(w, A, 0, TCPS_ESTABLISHED), 2 * LATENCY);
    CHECK_EQ(entered(w, B, 0, TCPS_ESTABLISHED), 2 * LATENCY);
    /* The SYN-ACK's window is never scaled (RFC 7323 §2.2). */
    CHECK_U64(conn_of(stack_a(w), fa)->snd_wnd, logged(w, 2)->window);
    CHECK_U64(conn_of(stack_b(w), fb)->snd_wnd, logged(w, 3)->window);

    /* Data flows both ways. */
    static uint8_t ab[20000], ba[20000], in_a[20000], in_b[20000];
    for (size_t i = 0; i < sizeof ab; i++) {
        ab[i] = (uint8_t)(i * 13);
        ba[i] = (uint8_t)(i * 17 + 1);
    }
    size_t sent_ab = 0, sent_ba = 0, got_a = 0, got_b = 0;
    for (int round = 0; round < 2000 && (got_a < sizeof ba || got_b < sizeof ab); round++) {
        ssize_t n;
        n = finack_send(stack_a(w), fa, ab + sent_ab, sizeof ab - sent_ab, 0);
        if (n > 0) sent_ab += (size_t)n;
        n = finack_send(stack_b(w), fb, ba + sent_ba, sizeof ba - sent_ba, 0);
        if (n > 0) sent_ba += (size_t)n;
        n = finack_recv(stack_b(w), fb, in_b + got_b, sizeof in_b - got_b, 0);
        if (n > 0) got_b += (size_t)n;
        n = finack_recv(stack_a(w), fa, in_a + got_a, sizeof in_a - got_a, 0);
        if (n > 0) got_a += (size_t)n;
        run_for(w, FINACK_MSEC(1));
    }
    CHECK_U64(got_b, sizeof ab);
    CHECK_U64(got_a, sizeof ba);
    CHECK_MEM(in_b, ab, sizeof ab);
    CHECK_MEM(in_a, ba, sizeof ba);
    CHECK_EQ(finack_stack_drops(stack_a(w), FINACK_DROP_TCP_NOT_ACCEPTABLE), 0);
    CHECK_EQ(finack_stack_drops(stack_b(w), FINACK_DROP_TCP_NOT_ACCEPTABLE), 0);
    world_free(w);
}

/* ---- 6. Simultaneous close --------------------------------------------- */

static void test_simultaneous_close(void)
{
    struct world *w = world_new(6, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    run_for(w, FINACK_MSEC(100));
    size_t mark = w->nlog;
    finack_time_t t0 = now_of(w);
    CHECK_EQ(finack_close(stack_a(w), p.cfd), 0);
    CHECK_EQ(finack_close(stack_b(w), p.afd), 0);
    run_for(w, FINACK_MSEC(100));
    /* Each FIN arrives in FIN_WAIT_1 without the ACK of the other: CLOSING,
     * and B's ACK left first (A's FIN reached B first). */
    CHECK_STR(ladder(w, mark), ">F. <F. <. >.");
    REQUIRE(w->nlog == mark + 4);
    CHECK_U64(logged(w, mark + 2)->ack, logged(w, mark)->seq + 1);
    CHECK_U64(logged(w, mark + 3)->ack, logged(w, mark + 1)->seq + 1);
    CHECK_STR(states_of(w, A, 0), "SYN_SENT ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT");
    CHECK_STR(states_of(w, B, 0), "SYN_RCVD ESTABLISHED FIN_WAIT_1 CLOSING TIME_WAIT");
    CHECK_U64(entered(w, A, 0, TCPS_CLOSING), t0 + LATENCY);
    CHECK_U64(entered(w, A, 0, TCPS_TIME_WAIT), t0 + 2 * LATENCY);
    CHECK_U64(entered(w, B, 0, TCPS_TIME_WAIT), t0 + 2 * LATENCY);
    finack_sim_run_until(w->sim, t0 + 2 * LATENCY + 2 * MSL);
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), t0 + 2 * LATENCY + 2 * MSL);
    CHECK_U64(entered(w, B, 0, TCPS_CLOSED), t0 + 2 * LATENCY + 2 * MSL);
    CHECK_EQ(stack_a(w)->tcp->conn_count, 0);
    CHECK_EQ(stack_b(w)->tcp->conn_count, 0);
    world_free(w);
}

/* ---- 7. Old duplicate SYNs (RFC 9293 §3.5, Figure 8) ------------------------ */

static void test_listener_recovers_from_old_duplicate_syn(void)
{
    struct world *w = world_new(7, false, true, NULL);
    int lfd = finack_socket(stack_b(w), AF_INET, SOCK_STREAM, 0);
    REQUIRE(bind_to(stack_b(w), lfd, 0, 80) == 0);
    REQUIRE(finack_listen(stack_b(w), lfd, 8) == 0);
    struct tcp_conn *lst = conn_of(stack_b(w), lfd);
    /* An old duplicate SYN arrives first. */
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 80, .seq = 90,
                                          .flags = TCP_FLAG_SYN, .window = 8192});
    run_for(w, FINACK_MSEC(5));
    CHECK_STR(ladder(w, 0), ">S <S.");
    CHECK_U64(logged(w, 1)->ack, 91);
    CHECK_EQ(lst->half_open_count, 1);
    /* A, knowing it sent no such SYN, resets it: B goes back to LISTEN. */
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 80, .seq = 91,
                                          .flags = TCP_FLAG_RST});
    run_for(w, FINACK_MSEC(5));
    CHECK_EQ(lst->half_open_count, 0);
    CHECK_EQ(stack_b(w)->tcp->conn_count, 0);
    CHECK_STR(finack_socket_state(stack_b(w), lfd), "LISTEN");
    CHECK_STR(states_of(w, B, 0), "SYN_RCVD CLOSED");
    /* The real SYN then opens the connection. */
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 80, .seq = 100,
                                          .flags = TCP_FLAG_SYN, .window = 8192});
    run_for(w, FINACK_MSEC(5));
    REQUIRE(w->nlog == 5);
    CHECK_U64(logged(w, 4)->ack, 101);
    uint32_t iss = logged(w, 4)->seq;
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 80, .seq = 101,
                                          .ack = iss + 1, .flags = TCP_FLAG_ACK, .window = 8192});
    run_for(w, FINACK_MSEC(5));
    CHECK_STR(ladder(w, 0), ">S <S. >R >S <S. >.");
    int afd = finack_accept(stack_b(w), lfd, NULL, NULL);
    REQUIRE(afd >= 0);
    CHECK_STR(finack_socket_state(stack_b(w), afd), "ESTABLISHED");
    CHECK_STR(states_of(w, B, 0), "SYN_RCVD CLOSED SYN_RCVD ESTABLISHED");
    CHECK_EQ(finack_accept(stack_b(w), lfd, NULL, NULL), -EAGAIN);
    world_free(w);
}

static void test_syn_sent_resets_syn_ack_for_another_syn(void)
{
    struct world *w = world_new(8, true, false, NULL);
    int cfd = finack_socket(stack_a(w), AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect_to(stack_a(w), cfd, B_ADDR, 80), -EINPROGRESS);
    run_for(w, FINACK_MSEC(5));
    REQUIRE(w->nlog == 1);
    uint32_t iss = logged(w, 0)->seq;
    uint16_t cport = logged(w, 0)->src_port;
    /* A SYN-ACK acknowledging an older SYN: RST <SEQ=SEG.ACK>, stay in SYN_SENT. */
    peer_send(w, B, &(struct tcp_segment){.src_port = 80, .dst_port = cport, .seq = 300,
                                          .ack = iss - 9, .flags = TCP_FLAG_SYN | TCP_FLAG_ACK,
                                          .window = 8192});
    run_for(w, FINACK_MSEC(5));
    CHECK_STR(ladder(w, 0), ">S <S. >R");
    CHECK_U64(logged(w, 2)->seq, iss - 9);
    CHECK_STR(finack_socket_state(stack_a(w), cfd), "SYN_SENT");
    CHECK_EQ(finack_stack_drops(stack_a(w), FINACK_DROP_TCP_BAD_ACK), 1);
    /* The SYN-ACK for our SYN establishes. */
    peer_send(w, B, &(struct tcp_segment){.src_port = 80, .dst_port = cport, .seq = 400,
                                          .ack = iss + 1, .flags = TCP_FLAG_SYN | TCP_FLAG_ACK,
                                          .window = 8192});
    run_for(w, FINACK_MSEC(5));
    CHECK_STR(ladder(w, 0), ">S <S. >R <S. >.");
    CHECK_U64(logged(w, 4)->seq, iss + 1);
    CHECK_U64(logged(w, 4)->ack, 401);
    CHECK_STR(states_of(w, A, 0), "SYN_SENT ESTABLISHED");
    CHECK_EQ(so_error(stack_a(w), cfd), 0);
    world_free(w);
}

/* ---- 8. RST for a closed port ------------------------------------------- */

static void test_closed_port_answers_rst(void)
{
    struct world *w = world_new(9, true, true, NULL);
    /* A SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (RFC 9293 §3.10.7.1). */
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 81, .seq = 1000,
                                          .flags = TCP_FLAG_SYN, .window = 8192});
    run_for(w, FINACK_MSEC(5));
    CHECK_STR(ladder(w, 0), ">S <R.");
    CHECK_U64(logged(w, 1)->seq, 0);
    CHECK_U64(logged(w, 1)->ack, 1001);
    CHECK_EQ(logged(w, 1)->window, 0);
    CHECK_EQ(logged(w, 1)->src_port, 81);
    CHECK_EQ(logged(w, 1)->dst_port, 5000);
    /* A segment with ACK and data: <SEQ=SEG.ACK><CTL=RST>; a RST: nothing. */
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 81, .seq = 1001,
                                          .ack = 777, .flags = TCP_FLAG_ACK | TCP_FLAG_PSH,
                                          .window = 8192, .payload = (const uint8_t *)"abc",
                                          .payload_len = 3});
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 81, .seq = 1004,
                                          .flags = TCP_FLAG_RST});
    run_for(w, FINACK_MSEC(5));
    CHECK_STR(ladder(w, 0), ">S <R. >P.:3 >R <R");
    CHECK_U64(logged(w, 4)->seq, 777);
    CHECK_EQ(finack_stack_drops(stack_b(w), FINACK_DROP_TCP_NO_SOCKET), 3);

    /* connect() from a stack sees ECONNREFUSED through SO_ERROR, once. */
    size_t mark = w->nlog;
    int cfd = finack_socket(stack_a(w), AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect_to(stack_a(w), cfd, B_ADDR, 81), -EINPROGRESS);
    run_for(w, FINACK_MSEC(5));
    CHECK_STR(ladder(w, mark), ">S <R.");
    CHECK_U64(logged(w, mark + 1)->ack, logged(w, mark)->seq + 1);
    CHECK_STR(finack_socket_state(stack_a(w), cfd), "CLOSED");
    CHECK(finack_socket_events(stack_a(w), cfd) & POLLERR);
    CHECK_EQ(so_error(stack_a(w), cfd), ECONNREFUSED);
    CHECK_EQ(so_error(stack_a(w), cfd), 0);
    CHECK_STR(states_of(w, A, 0), "SYN_SENT CLOSED");
    CHECK_EQ(stack_a(w)->tcp->conn_count, 0);
    CHECK_EQ(finack_close(stack_a(w), cfd), 0);
    world_free(w);
}

/* ---- 9. SYN retransmission and backoff ------------------------------------ */

static void test_syn_backoff_then_etimedout(void)
{
    struct world *w = world_new(10, true, false, NULL); /* B ignores everything */
    int cfd = finack_socket(stack_a(w), AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect_to(stack_a(w), cfd, B_ADDR, 80), -EINPROGRESS);
    finack_sim_run_until(w->sim, FINACK_SEC(126));
    CHECK_STR(finack_socket_state(stack_a(w), cfd), "SYN_SENT");
    CHECK_EQ(finack_connect(stack_a(w), cfd, (struct sockaddr *)&(struct sockaddr_in){
                                .sin_family = AF_INET, .sin_port = htons(80),
                                .sin_addr.s_addr = htonl(B_ADDR)},
                            sizeof(struct sockaddr_in)),
             -EALREADY);
    finack_sim_run_until(w->sim, FINACK_SEC(200));
    /* RTO 1 s doubling; 6 retries (Linux tcp_syn_retries), then 64 s more. */
    static const unsigned at[] = {0, 1, 3, 7, 15, 31, 63};
    CHECK_STR(ladder(w, 0), ">S >S >S >S >S >S >S");
    REQUIRE(w->nlog == 7);
    for (size_t i = 0; i < 7; i++) {
        CHECK_U64(w->log[i].t, FINACK_SEC(at[i]) + LATENCY);
        CHECK_U64(logged(w, i)->seq, logged(w, 0)->seq);
    }
    CHECK_U64(entered(w, A, 0, TCPS_CLOSED), FINACK_SEC(127));
    CHECK_STR(states_of(w, A, 0), "SYN_SENT CLOSED");
    CHECK_STR(finack_socket_state(stack_a(w), cfd), "CLOSED");
    CHECK_EQ(so_error(stack_a(w), cfd), ETIMEDOUT);
    CHECK_EQ(stack_a(w)->tcp->conn_count, 0);
    world_free(w);
}

/* The passive side's SYN-ACK backs off the same way; after 5 retries (Linux
 * tcp_synack_retries) the half-open connection is forgotten, silently. */
static void test_synack_backoff_then_half_open_dropped(void)
{
    struct world *w = world_new(16, false, true, NULL); /* A never completes */
    int lfd = finack_socket(stack_b(w), AF_INET, SOCK_STREAM, 0);
    REQUIRE(bind_to(stack_b(w), lfd, 0, 80) == 0);
    REQUIRE(finack_listen(stack_b(w), lfd, 8) == 0);
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 80, .seq = 1,
                                          .flags = TCP_FLAG_SYN, .window = 8192});
    /* Half-open, the connection is a small record, not a TCB. */
    finack_sim_run_until(w->sim, FINACK_SEC(10));
    CHECK_EQ(stack_b(w)->tcp->conn_count, 0);
    CHECK_EQ(stack_b(w)->tcp->sr_count, 1);
    CHECK_EQ(conn_of(stack_b(w), lfd)->half_open_count, 1);
    finack_sim_run_until(w->sim, FINACK_SEC(200));
    CHECK_EQ(stack_b(w)->tcp->sr_count, 0);
    CHECK_STR(ladder(w, 0), ">S <S. <S. <S. <S. <S. <S.");
    static const unsigned at[] = {0, 1, 3, 7, 15, 31};
    REQUIRE(w->nlog == 7);
    for (size_t i = 0; i < 6; i++) {
        CHECK_U64(w->log[i + 1].t, FINACK_SEC(at[i]) + 2 * LATENCY);
        CHECK_U64(logged(w, i + 1)->seq, logged(w, 1)->seq);
    }
    CHECK_STR(states_of(w, B, 0), "SYN_RCVD CLOSED");
    CHECK_U64(entered(w, B, 0, TCPS_CLOSED), FINACK_SEC(63) + LATENCY);
    CHECK_EQ(conn_of(stack_b(w), lfd)->half_open_count, 0);
    CHECK_EQ(stack_b(w)->tcp->conn_count, 0);
    CHECK_EQ(finack_accept(stack_b(w), lfd, NULL, NULL), -EAGAIN);
    /* A late ACK now meets only the listener: RST <SEQ=SEG.ACK>. */
    uint32_t iss = logged(w, 1)->seq;
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 80, .seq = 2,
                                          .ack = iss + 1, .flags = TCP_FLAG_ACK, .window = 8192});
    run_for(w, FINACK_MSEC(5));
    CHECK_STR(ladder(w, 7), ">. <R");
    CHECK_U64(logged(w, 8)->seq, iss + 1);
    world_free(w);
}

/* ---- 10. RFC 5961: blind RST and SYN ---------------------------------------- */

static void test_rfc5961_challenge_acks(void)
{
    struct world *w = world_new(11, true, false, NULL);
    int cfd = finack_socket(stack_a(w), AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(connect_to(stack_a(w), cfd, B_ADDR, 80), -EINPROGRESS);
    run_for(w, FINACK_MSEC(5));
    REQUIRE(w->nlog == 1);
    uint32_t iss = logged(w, 0)->seq, irs = 5000;
    uint16_t cport = logged(w, 0)->src_port;
    struct tcp_segment to_a = {.src_port = 80, .dst_port = cport, .ack = iss + 1,
                               .window = 8192};
#define SEND_TO_A(seq_, flags_, data_, len_)                                                 \
    do {                                                                                     \
        struct tcp_segment s_ = to_a;                                                        \
        s_.seq = (seq_);                                                                     \
        s_.flags = (flags_);                                                                 \
        s_.payload = (const uint8_t *)(data_);                                               \
        s_.payload_len = (len_);                                                             \
        peer_send(w, B, &s_);                                                                \
        run_for(w, FINACK_MSEC(5));                                                          \
    } while (0)
    SEND_TO_A(irs, TCP_FLAG_SYN | TCP_FLAG_ACK, NULL, 0);
    CHECK_STR(ladder(w, 0), ">S <S. >.");
    CHECK_STR(finack_socket_state(stack_a(w), cfd), "ESTABLISHED");
    uint32_t rcv_nxt = irs + 1;

    /* A RST in the window but not at RCV.NXT: a challenge ACK, no reset. */
    size_t mark = w->nlog;
    SEND_TO_A(rcv_nxt + 100, TCP_FLAG_RST, NULL, 0);
    CHECK_STR(ladder(w, mark), "<R >.");
    CHECK_U64(logged(w, mark + 1)->seq, iss + 1);
    CHECK_U64(logged(w, mark + 1)->ack, rcv_nxt);
    CHECK_STR(finack_socket_state(stack_a(w), cfd), "ESTABLISHED");
    /* Another within 500 ms goes unanswered: one challenge ACK per 500 ms
     * per connection (RFC 5961 §7, Linux's tcp_invalid_ratelimit). */
    mark = w->nlog;
    SEND_TO_A(rcv_nxt + 101, TCP_FLAG_RST, NULL, 0);
    CHECK_STR(ladder(w, mark), "<R");
    /* A RST outside the window: dropped without a word. */
    mark = w->nlog;
    SEND_TO_A(rcv_nxt + 1000000, TCP_FLAG_RST, NULL, 0);
    CHECK_STR(ladder(w, mark), "<R");
    CHECK_STR(finack_socket_state(stack_a(w), cfd), "ESTABLISHED");
    /* A SYN on the established connection: a challenge ACK (§4.2). */
    run_for(w, TCP_CHALLENGE_ACK_INTERVAL);
    mark = w->nlog;
    SEND_TO_A(rcv_nxt + 50, TCP_FLAG_SYN, NULL, 0);
    CHECK_STR(ladder(w, mark), "<S >.");
    CHECK_U64(logged(w, mark + 1)->ack, rcv_nxt);
    run_for(w, TCP_CHALLENGE_ACK_INTERVAL);
    mark = w->nlog;
    SEND_TO_A(rcv_nxt, TCP_FLAG_SYN | TCP_FLAG_ACK, NULL, 0); /* at RCV.NXT too */
    CHECK_STR(ladder(w, mark), "<S. >.");
    CHECK_U64(logged(w, mark + 1)->ack, rcv_nxt);
    CHECK_STR(finack_socket_state(stack_a(w), cfd), "ESTABLISHED");
    CHECK_EQ(finack_stack_drops(stack_a(w), FINACK_DROP_TCP_RST_IGNORED), 2);
    CHECK_EQ(finack_stack_drops(stack_a(w), FINACK_DROP_TCP_SYN_IN_WINDOW), 2);

    /* The connection still carries data. */
    mark = w->nlog;
    SEND_TO_A(rcv_nxt, TCP_FLAG_ACK | TCP_FLAG_PSH, "abc", 3);
    CHECK_STR(ladder(w, mark), "<P.:3 >.");
    CHECK_U64(logged(w, mark + 1)->ack, rcv_nxt + 3);
    char buf[8];
    CHECK_EQ(finack_recv(stack_a(w), cfd, buf, sizeof buf, 0), 3);
    CHECK_MEM(buf, "abc", 3);
    rcv_nxt += 3;

    /* A RST exactly at RCV.NXT resets: ECONNRESET, nothing sent. */
    mark = w->nlog;
    SEND_TO_A(rcv_nxt, TCP_FLAG_RST, NULL, 0);
    CHECK_STR(ladder(w, mark), "<R");
    CHECK_STR(finack_socket_state(stack_a(w), cfd), "CLOSED");
    CHECK_EQ(finack_recv(stack_a(w), cfd, buf, sizeof buf, 0), -ECONNRESET);
    CHECK_EQ(finack_send(stack_a(w), cfd, "x", 1, 0), -EPIPE);
    CHECK_STR(states_of(w, A, 0), "SYN_SENT ESTABLISHED CLOSED");
    CHECK_EQ(stack_a(w)->tcp->conn_count, 0);
#undef SEND_TO_A
    world_free(w);
}

/* ---- 11. Abortive close and EPIPE ----------------------------------------- */

static void test_close_with_unread_data_sends_rst(void)
{
    struct world *w = world_new(12, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    CHECK_EQ(finack_send(stack_b(w), p.afd, "unread", 6, 0), 6);
    run_for(w, FINACK_MSEC(100));
    size_t mark = w->nlog;
    struct tcp_conn *c = conn_of(stack_a(w), p.cfd);
    uint32_t snd_nxt = c->snd_nxt, rcv_nxt = c->rcv_nxt;
    CHECK_EQ(finack_close(stack_a(w), p.cfd), 0); /* 6 bytes never read */
    CHECK_EQ(stack_a(w)->tcp->conn_count, 0);
    run_for(w, FINACK_MSEC(10));
    CHECK_STR(ladder(w, mark), ">R.");
    CHECK_U64(logged(w, mark)->seq, snd_nxt);
    CHECK_U64(logged(w, mark)->ack, rcv_nxt);
    char buf[8];
    CHECK_EQ(finack_recv(stack_b(w), p.afd, buf, sizeof buf, 0), -ECONNRESET);
    CHECK_STR(states_of(w, A, 0), "SYN_SENT ESTABLISHED CLOSED");
    CHECK_STR(states_of(w, B, 0), "SYN_RCVD ESTABLISHED CLOSED");
    CHECK_EQ(stack_b(w)->tcp->conn_count, 0);
    world_free(w);
}

static void test_linger_zero_close_sends_rst(void)
{
    struct world *w = world_new(13, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    CHECK_EQ(finack_setsockopt(stack_a(w), p.cfd, SOL_SOCKET, SO_LINGER, &l, sizeof l), 0);
    size_t mark = w->nlog;
    CHECK_EQ(finack_close(stack_a(w), p.cfd), 0);
    run_for(w, FINACK_MSEC(10));
    CHECK_STR(ladder(w, mark), ">R."); /* no FIN, no TIME_WAIT */
    CHECK_STR(states_of(w, A, 0), "SYN_SENT ESTABLISHED CLOSED");
    char buf[8];
    CHECK_EQ(finack_recv(stack_b(w), p.afd, buf, sizeof buf, 0), -ECONNRESET);
    CHECK_EQ(stack_a(w)->tcp->conn_count, 0);
    CHECK_EQ(stack_b(w)->tcp->conn_count, 0);
    world_free(w);
}

static void test_send_after_shutdown_wr_is_epipe(void)
{
    struct world *w = world_new(14, true, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    CHECK_EQ(finack_shutdown(stack_a(w), p.cfd, SHUT_WR), 0);
    CHECK_EQ(finack_send(stack_a(w), p.cfd, "x", 1, 0), -EPIPE);
    run_for(w, FINACK_MSEC(10));
    CHECK_EQ(finack_send(stack_a(w), p.cfd, "x", 1, 0), -EPIPE);
    /* Reading still works: the other half is open. */
    CHECK_EQ(finack_send(stack_b(w), p.afd, "ok", 2, 0), 2);
    run_for(w, FINACK_MSEC(10));
    char buf[4];
    CHECK_EQ(finack_recv(stack_a(w), p.cfd, buf, sizeof buf, 0), 2);
    CHECK_STR(finack_socket_state(stack_a(w), p.cfd), "FIN_WAIT_2");
    world_free(w);
}

/* A connection reset while it waits in the accept queue is still handed out
 * by accept(), and its first read reports the reset, as on Linux; one left
 * in the queue is freed with the stack. */
static void test_reset_before_accept(void)
{
    struct world *w = world_new(17, true, true, NULL);
    int lfd = finack_socket(stack_b(w), AF_INET, SOCK_STREAM, 0);
    REQUIRE(bind_to(stack_b(w), lfd, 0, 80) == 0);
    REQUIRE(finack_listen(stack_b(w), lfd, 8) == 0);
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    int fds[2];
    for (int i = 0; i < 2; i++) {
        fds[i] = finack_socket(stack_a(w), AF_INET, SOCK_STREAM, 0);
        CHECK_EQ(connect_to(stack_a(w), fds[i], B_ADDR, 80), -EINPROGRESS);
        finack_setsockopt(stack_a(w), fds[i], SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    run_for(w, FINACK_MSEC(10));
    CHECK_EQ(conn_of(stack_b(w), lfd)->accept_count, 2);
    for (int i = 0; i < 2; i++) CHECK_EQ(finack_close(stack_a(w), fds[i]), 0);
    run_for(w, FINACK_MSEC(10));
    CHECK_EQ(stack_b(w)->tcp->conn_count, 0);
    int afd = finack_accept(stack_b(w), lfd, NULL, NULL);
    REQUIRE(afd >= 0);
    char c;
    CHECK_EQ(finack_recv(stack_b(w), afd, &c, 1, 0), -ECONNRESET);
    CHECK_STR(finack_socket_state(stack_b(w), afd), "CLOSED");
    world_free(w); /* the second one is still queued */
}

/* ---- 12. Soak: many connections over a lossy, reordering link ---------------- */

#define SOAK_CONNS 500
#define SOAK_BYTES 20480

static uint8_t soak_byte(uint16_t cport, int dir, size_t i)
{
    return (uint8_t)(cport * 31u + (unsigned)dir * 101u + i * 7u + (i >> 9));
}

struct soak_end {
    int fd;
    uint16_t cport;
    size_t sent, got;
    bool shut, eof, closed, bad;
};

/* Send the rest, read what came (checking every byte), and close when the
 * exchange is over. dir: 0 for the client's data, 1 for the server's. */
static void soak_service(struct finack_stack *s, struct soak_end *e, int dir, unsigned *errors)
{
    uint8_t buf[4096];
    while (e->sent < SOAK_BYTES) {
        size_t n = SOAK_BYTES - e->sent < sizeof buf ? SOAK_BYTES - e->sent : sizeof buf;
        for (size_t i = 0; i < n; i++) buf[i] = soak_byte(e->cport, dir, e->sent + i);
        ssize_t r = finack_send(s, e->fd, buf, n, 0);
        if (r == -EAGAIN) break;
        if (r <= 0) {
            (*errors)++;
            e->bad = true;
            break;
        }
        e->sent += (size_t)r;
    }
    if (dir == 0 && e->sent == SOAK_BYTES && !e->shut) {
        if (finack_shutdown(s, e->fd, SHUT_WR)) (*errors)++;
        e->shut = true;
    }
    for (;;) {
        ssize_t r = finack_recv(s, e->fd, buf, sizeof buf, 0);
        if (r == -EAGAIN) break;
        if (r < 0) {
            (*errors)++;
            e->bad = true;
            break;
        }
        if (r == 0) {
            e->eof = true;
            break;
        }
        for (ssize_t i = 0; i < r; i++)
            if (buf[i] != soak_byte(e->cport, 1 - dir, e->got + (size_t)i)) e->bad = true;
        e->got += (size_t)r;
    }
    bool done = e->eof && e->sent == SOAK_BYTES && (dir == 1 || e->shut);
    if (done || e->bad) {
        if (e->got != SOAK_BYTES) e->bad = true;
        finack_close(s, e->fd);
        e->closed = true;
    }
}

static void test_soak_lossy_many_connections(void)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    struct finack_sim_path path = {.latency = FINACK_MSEC(1), .jitter = 200, .loss = 0.05,
                                   .reorder = 0.02, .duplicate = 0.02};
    cfg.a_to_b = cfg.b_to_a = path;
    struct world *w = world_new(15, true, true, &cfg);
    struct finack_stack *sa = stack_a(w), *sb = stack_b(w);
    int lfd = finack_socket(sb, AF_INET, SOCK_STREAM, 0);
    REQUIRE(bind_to(sb, lfd, 0, 80) == 0);
    REQUIRE(finack_listen(sb, lfd, 1024) == 0);
    static struct soak_end cli[SOAK_CONNS], srv[SOAK_CONNS];
    memset(cli, 0, sizeof cli);
    memset(srv, 0, sizeof srv);
    for (int i = 0; i < SOAK_CONNS; i++) {
        cli[i].fd = finack_socket(sa, AF_INET, SOCK_STREAM, 0);
        REQUIRE(connect_to(sa, cli[i].fd, B_ADDR, 80) == -EINPROGRESS);
        cli[i].cport = local_port(sa, cli[i].fd);
    }
    int accepted = 0, finished = 0;
    unsigned errors = 0;
    finack_time_t limit = FINACK_SEC(900);
    while (finished < 2 * SOAK_CONNS && now_of(w) < limit) {
        for (int i = 0; i < SOAK_CONNS; i++) {
            if (cli[i].closed || strcmp(finack_socket_state(sa, cli[i].fd), "SYN_SENT") == 0)
                continue;
            soak_service(sa, &cli[i], 0, &errors);
            finished += cli[i].closed;
        }
        for (;;) {
            struct sockaddr_in peer;
            socklen_t len = sizeof peer;
            int fd = finack_accept(sb, lfd, (struct sockaddr *)&peer, &len);
            if (fd < 0) break;
            REQUIRE(accepted < SOAK_CONNS);
            srv[accepted++] = (struct soak_end){.fd = fd, .cport = ntohs(peer.sin_port)};
        }
        for (int i = 0; i < accepted; i++) {
            if (srv[i].closed) continue;
            soak_service(sb, &srv[i], 1, &errors);
            finished += srv[i].closed;
        }
        run_for(w, FINACK_MSEC(2));
    }
    CHECK_EQ(finished, 2 * SOAK_CONNS);
    CHECK_EQ(accepted, SOAK_CONNS);
    CHECK_EQ(errors, 0);
    int bad = 0;
    for (int i = 0; i < SOAK_CONNS; i++) bad += cli[i].bad + srv[i].bad;
    CHECK_EQ(bad, 0);
    /* The faults did happen. */
    struct finack_sim_path_stats st = finack_sim_link_stats(w->link, A);
    CHECK(st.lost > 100 && st.reordered > 10 && st.duplicated > 10);

    /* Every connection ends: the active closer (A) through TIME_WAIT, the
     * passive one through LAST_ACK; none otherwise. */
    finack_sim_run_until(w->sim, now_of(w) + 2 * MSL + FINACK_SEC(10));
    CHECK_EQ(sa->tcp->conn_count, 0);
    CHECK_EQ(sb->tcp->conn_count, 0);
    unsigned to_closed_a = 0, to_closed_b = 0;
    for (int s = 0; s < TCPS__COUNT; s++) {
        to_closed_a += w->transitions[A][s][TCPS_CLOSED];
        to_closed_b += w->transitions[B][s][TCPS_CLOSED];
    }
    CHECK_EQ(w->transitions[A][TCPS_TIME_WAIT][TCPS_CLOSED], SOAK_CONNS);
    CHECK_EQ(to_closed_a, SOAK_CONNS);
    CHECK_EQ(w->transitions[B][TCPS_LAST_ACK][TCPS_CLOSED], SOAK_CONNS);
    CHECK_EQ(to_closed_b, SOAK_CONNS);
    CHECK_EQ(finack_close(sb, lfd), 0);
    world_free(w);
}

/* A SYN that reopens a 4-tuple held in TIME_WAIT (RFC 6191) gets an ISS
 * above the old connection's SND.NXT, so no segment of the old incarnation
 * can fall into the new one's window (RFC 9293's condition for MAY-2;
 * Linux's tw_isn = tw_snd_nxt + 65535 + 2). */
static void test_time_wait_reuse_starts_above_old_sequence_space(void)
{
    struct world *w = world_new(17, false, true, NULL);
    int lfd = finack_socket(stack_b(w), AF_INET, SOCK_STREAM, 0);
    REQUIRE(bind_to(stack_b(w), lfd, 0, 80) == 0);
    REQUIRE(finack_listen(stack_b(w), lfd, 8) == 0);
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 80, .seq = 100,
                                          .flags = TCP_FLAG_SYN, .window = 8192});
    run_for(w, FINACK_MSEC(5));
    uint32_t iss = logged(w, 1)->seq;
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 80, .seq = 101,
                                          .ack = iss + 1, .flags = TCP_FLAG_ACK, .window = 8192});
    run_for(w, FINACK_MSEC(5));
    int fd = finack_accept(stack_b(w), lfd, NULL, NULL);
    REQUIRE(fd >= 0);
    REQUIRE(finack_close(stack_b(w), fd) == 0); /* our FIN: we will hold TIME_WAIT */
    run_for(w, FINACK_MSEC(5));
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 80, .seq = 101,
                                          .ack = iss + 2, .flags = TCP_FLAG_FIN | TCP_FLAG_ACK,
                                          .window = 8192});
    run_for(w, FINACK_MSEC(5));
    CHECK_EQ(stack_b(w)->tcp->tw_count, 1);
    peer_send(w, A, &(struct tcp_segment){.src_port = 5000, .dst_port = 80, .seq = 50000,
                                          .flags = TCP_FLAG_SYN, .window = 8192});
    run_for(w, FINACK_MSEC(5));
    CHECK_STR(ladder(w, 0), ">S <S. >. <F. >F. <. >S <S.");
    CHECK_EQ(stack_b(w)->tcp->tw_count, 0);
    CHECK_U64(logged(w, 7)->seq, iss + 2 + 65535 + 2);
    CHECK_U64(logged(w, 7)->ack, 50001);
    world_free(w);
}

TEST_MAIN("tcp_scenarios", TEST_CASE(test_open_and_four_way_close),
          TEST_CASE(test_close_wait_lasts_fin_wait_2_times_out_only_orphaned),
          TEST_CASE(test_half_close), TEST_CASE(test_time_wait_reacks_retransmitted_fin),
          TEST_CASE(test_simultaneous_open), TEST_CASE(test_simultaneous_close),
          TEST_CASE(test_listener_recovers_from_old_duplicate_syn),
          TEST_CASE(test_syn_sent_resets_syn_ack_for_another_syn),
          TEST_CASE(test_closed_port_answers_rst), TEST_CASE(test_syn_backoff_then_etimedout),
          TEST_CASE(test_synack_backoff_then_half_open_dropped),
          TEST_CASE(test_rfc5961_challenge_acks),
          TEST_CASE(test_close_with_unread_data_sends_rst),
          TEST_CASE(test_linger_zero_close_sends_rst),
          TEST_CASE(test_send_after_shutdown_wr_is_epipe), TEST_CASE(test_reset_before_accept),
          TEST_CASE(test_soak_lossy_many_connections),
          TEST_CASE(test_time_wait_reuse_starts_above_old_sequence_space))
