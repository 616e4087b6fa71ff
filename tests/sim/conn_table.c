/* The connection table (finack_stack_connections), row by row, on the
 * simulated link with its virtual clock: every figure below — queue
 * lengths, timers, the time left on them — follows from the script of the
 * test, so the rows are asserted exactly.
 *
 * A (10.0.0.1) listens on port 80; B (10.0.0.2) connects to it four times,
 * and a third host (10.0.0.3, packets written by the test) leaves a SYN:
 *
 *   c1  ESTABLISHED; B sends 100 bytes A never reads, A sends 200 bytes
 *       that never reach B (the test drops them): Recv-Q 100, Send-Q 200,
 *       the retransmission timer running at A.
 *   c2  B closes and A's application never does: CLOSE_WAIT at A (the seed
 *       article's netstat example), FIN_WAIT_2 at B with its timeout. A
 *       has not read the EOF either: its Recv-Q counts the FIN, as Linux's.
 *   c3  A closes first, then B: a TIME_WAIT record at A (no socket).
 *   c4  established but not accepted: in A's accept queue (no socket yet),
 *       counted in the listener's Recv-Q.
 *   SYN from 10.0.0.3: a half-open record at A, SYN-ACK timer running. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>

#include "finack/sim.h"
#include "finack/socket.h"
#include "test.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define A_ADDR 0x0a000001u /* 10.0.0.1 */
#define B_ADDR 0x0a000002u /* 10.0.0.2 */
#define C_ADDR 0x0a000003u /* 10.0.0.3: no stack, only the test's SYN */
#define PORT 80
#define BACKLOG 16
#define MAX_ROWS 16

struct world {
    struct finack_sim *sim;
    struct finack_sim_link *link;
    struct finack_stack *a, *b;
    bool drop_to_b; /* discard what reaches B */
};

static void to_b(void *ctx, const uint8_t *packet, size_t len, finack_time_t now)
{
    struct world *w = ctx;
    if (w->drop_to_b) return;
    finack_stack_input(w->b, finack_sim_link_end(w->link, FINACK_SIM_B), packet, len, now);
}

static struct finack_stack *new_stack(struct world *w, int side, uint32_t addr, uint64_t seed)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = side == FINACK_SIM_A ? "A" : "B";
    cfg.secret[0] = seed;
    cfg.secret[1] = seed * 31 + 7;
    struct finack_stack *s;
    if (finack_stack_create(&s, &cfg) != 0) abort();
    if (finack_stack_add_interface(s, finack_sim_link_end(w->link, side), addr, 24) != 0) abort();
    if (finack_sim_add_stack(w->sim, s) != 0) abort();
    return s;
}

static void world_open(struct world *w)
{
    memset(w, 0, sizeof *w);
    if (finack_sim_create(&w->sim, 6) != 0) abort();
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    cfg.mtu = 1500;
    cfg.a_to_b.latency = cfg.b_to_a.latency = FINACK_MSEC(1);
    if (finack_sim_link_create(w->sim, &cfg, &w->link) != 0) abort();
    w->a = new_stack(w, FINACK_SIM_A, A_ADDR, 1);
    w->b = new_stack(w, FINACK_SIM_B, B_ADDR, 2);
    if (finack_sim_link_attach(w->link, FINACK_SIM_A, w->a) != 0) abort();
    if (finack_sim_link_set_receiver(w->link, FINACK_SIM_B, to_b, w) != 0) abort();
}

static void world_close(struct world *w)
{
    finack_sim_destroy(w->sim);
    finack_stack_destroy(w->a);
    finack_stack_destroy(w->b);
}

static void run_to_ms(struct world *w, uint64_t ms) { finack_sim_run_until(w->sim, FINACK_MSEC(ms)); }

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
    return (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port),
                                .sin_addr.s_addr = htonl(addr)};
}

static int connect_b(struct world *w)
{
    int fd = finack_socket(w->b, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = sin_of(A_ADDR, PORT);
    int rc = finack_connect(w->b, fd, (struct sockaddr *)&to, sizeof to);
    CHECK_EQ(rc, -EINPROGRESS);
    return fd;
}

static uint16_t local_port(struct finack_stack *stack, int fd)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    CHECK_EQ(finack_getsockname(stack, fd, (struct sockaddr *)&sin, &len), 0);
    return ntohs(sin.sin_port);
}

/* A SYN from 10.0.0.3:40000, as a host with no stack here would send it. */
static void inject_syn(struct world *w)
{
    uint8_t pkt[80];
    struct tcp_segment syn = {.src_port = 40000, .dst_port = PORT, .seq = 1000,
                              .flags = TCP_FLAG_SYN, .window = 65535};
    syn.opt.has_mss = true;
    syn.opt.mss = 1460;
    int n = wire_tcp_emit(pkt + 20, sizeof pkt - 20, C_ADDR, A_ADDR, &syn);
    REQUIRE(n > 0);
    struct ipv4_header ip = {.total_len = (uint16_t)(20 + n), .ttl = 64,
                             .protocol = IPPROTO_TCP, .src = C_ADDR, .dst = A_ADDR};
    REQUIRE(wire_ipv4_emit(pkt, sizeof pkt, &ip) == 20);
    CHECK_EQ(finack_sim_link_inject(w->link, FINACK_SIM_B, pkt, (size_t)(20 + n)), 0);
}

/* ---- Rows as text ---------------------------------------------------------- */

struct table {
    finack_time_t now;
    char rows[MAX_ROWS][160];
    int count;
};

/* "STATE LADDR:LPORT RADDR:RPORT fd=N rq=N sq=N TIMER" with the time left
 * on the timer in µs and the retransmit count. */
static int collect(void *ctx, const struct finack_conn_info *r)
{
    struct table *t = ctx;
    if (t->count == MAX_ROWS) return -ENOSPC;
    char la[16], ra[16], timer[64] = "-";
    if (r->timer)
        snprintf(timer, sizeof timer, "%s,%" PRIu64 "us,%u", r->timer,
                 r->timer_expires - t->now, r->retransmits);
    snprintf(t->rows[t->count++], sizeof t->rows[0], "%s %s:%u %s:%u fd=%d rq=%u sq=%u %s",
             r->state, finack_format_ipv4(r->laddr, la), r->lport,
             finack_format_ipv4(r->raddr, ra), r->rport, r->fd, r->recv_q, r->send_q, timer);
    return 0;
}

static int by_text(const void *x, const void *y) { return strcmp(x, y); }
static int by_pointed_text(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static void table_of(struct world *w, struct finack_stack *stack, bool all, struct table *t)
{
    memset(t, 0, sizeof *t);
    t->now = finack_sim_now(w->sim);
    int n = finack_stack_connections(stack, all, collect, t);
    CHECK_EQ(n, t->count);
    qsort(t->rows, (size_t)t->count, sizeof t->rows[0], by_text);
}

/* want: the expected rows, sorted, NULL-terminated. */
static void check_rows(const struct table *t, const char *const *want)
{
    int n = 0;
    for (; want[n]; n++) {
        if (n >= t->count) {
            test_fail(__FILE__, __LINE__, "missing row \"%s\"", want[n]);
            continue;
        }
        CHECK_STR(t->rows[n], want[n]);
    }
    for (int i = n; i < t->count; i++) test_fail(__FILE__, __LINE__, "extra row \"%s\"", t->rows[i]);
}

__attribute__((format(printf, 3, 4))) static const char *fmt(char *buf, size_t len,
                                                              const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, len, f, ap);
    va_end(ap);
    return buf;
}

/* ---- The scene ---------------------------------------------------------------- */

struct scene {
    struct world w;
    int lfd, a1, a2, b1, b4;
    uint16_t p1, p2, p3, p4;
};

static void build_scene(struct scene *s)
{
    struct world *w = &s->w;
    world_open(w);
    s->lfd = finack_socket(w->a, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = sin_of(0, PORT);
    CHECK_EQ(finack_bind(w->a, s->lfd, (struct sockaddr *)&any, sizeof any), 0);
    CHECK_EQ(finack_listen(w->a, s->lfd, BACKLOG), 0);

    /* c1 at 0 ms: established at 3 ms. */
    s->b1 = connect_b(w);
    s->p1 = local_port(w->b, s->b1);
    run_to_ms(w, 10);
    s->a1 = finack_accept(w->a, s->lfd, NULL, NULL);
    CHECK_EQ(s->a1, 1);

    /* c2 at 10 ms; B closes at 20 ms, A's application never does. */
    int b2 = connect_b(w);
    s->p2 = local_port(w->b, b2);
    run_to_ms(w, 20);
    s->a2 = finack_accept(w->a, s->lfd, NULL, NULL);
    CHECK_EQ(s->a2, 2);
    CHECK_EQ(finack_close(w->b, b2), 0);
    run_to_ms(w, 100);

    /* c3 at 100 ms; A closes at 110 ms, B at 120 ms: B's FIN reaches A at
     * 121 ms, when A's TIME_WAIT begins. */
    int b3 = connect_b(w);
    s->p3 = local_port(w->b, b3);
    run_to_ms(w, 110);
    int a3 = finack_accept(w->a, s->lfd, NULL, NULL);
    CHECK_EQ(a3, 3);
    CHECK_EQ(finack_close(w->a, a3), 0);
    run_to_ms(w, 120);
    CHECK_EQ(finack_close(w->b, b3), 0);

    /* c4 at 130 ms, left in the accept queue. */
    run_to_ms(w, 130);
    s->b4 = connect_b(w);
    s->p4 = local_port(w->b, s->b4);

    /* The SYN from 10.0.0.3 leaves B's end at 140 ms, reaches A at 141. */
    run_to_ms(w, 140);
    inject_syn(w);

    /* c1's data: 100 bytes to A at 150 ms (never read); from 200 ms
     * nothing reaches B, and A sends 200 bytes: the retransmission timer
     * runs from 200 ms for the 200 ms minimum RTO. */
    run_to_ms(w, 150);
    uint8_t data[200];
    memset(data, 'x', sizeof data);
    CHECK_EQ(finack_send(w->b, s->b1, data, 100, 0), 100);
    run_to_ms(w, 200);
    w->drop_to_b = true;
    CHECK_EQ(finack_send(w->a, s->a1, data, 200, 0), 200);
    run_to_ms(w, 300);
}

static void test_server_rows_all(void)
{
    struct scene s;
    build_scene(&s);
    struct table t;
    table_of(&s.w, s.w.a, true, &t);
    char r[6][160];
    const char *want[] = {
        /* The half-open record: SYN-ACK at 141 ms, next at 1.141 s. */
        "SYN_RCVD 10.0.0.1:80 10.0.0.3:40000 fd=-1 rq=0 sq=0 on,841000us,0",
        fmt(r[0], sizeof r[0], "CLOSE_WAIT 10.0.0.1:80 10.0.0.2:%u fd=2 rq=1 sq=0 -", s.p2),
        fmt(r[1], sizeof r[1], "ESTABLISHED 10.0.0.1:80 10.0.0.2:%u fd=-1 rq=0 sq=0 -", s.p4),
        fmt(r[2], sizeof r[2], "ESTABLISHED 10.0.0.1:80 10.0.0.2:%u fd=1 rq=100 sq=200 on,100000us,0",
            s.p1),
        "LISTEN 0.0.0.0:80 0.0.0.0:0 fd=0 rq=1 sq=16 -",
        /* 2·MSL (120 s) from 121 ms. */
        fmt(r[3], sizeof r[3], "TIME_WAIT 10.0.0.1:80 10.0.0.2:%u fd=-1 rq=0 sq=0 timewait,119821000us,0",
            s.p3),
        NULL,
    };
    qsort(want, 6, sizeof want[0], by_pointed_text);
    check_rows(&t, want);
    world_close(&s.w);
}

/* Without all, as `ss -t`: no listener, TIME_WAIT or half-open row. */
static void test_server_rows_connected_only(void)
{
    struct scene s;
    build_scene(&s);
    struct table t;
    table_of(&s.w, s.w.a, false, &t);
    char r[3][160];
    const char *want[] = {
        fmt(r[0], sizeof r[0], "CLOSE_WAIT 10.0.0.1:80 10.0.0.2:%u fd=2 rq=1 sq=0 -", s.p2),
        fmt(r[1], sizeof r[1], "ESTABLISHED 10.0.0.1:80 10.0.0.2:%u fd=-1 rq=0 sq=0 -", s.p4),
        fmt(r[2], sizeof r[2], "ESTABLISHED 10.0.0.1:80 10.0.0.2:%u fd=1 rq=100 sq=200 on,100000us,0",
            s.p1),
        NULL,
    };
    qsort(want, 3, sizeof want[0], by_pointed_text);
    check_rows(&t, want);
    world_close(&s.w);
}

/* B: c2 orphaned in FIN_WAIT_2 with its 60 s timeout (shown as "timewait",
 * as ss shows Linux's), c3 gone (LAST_ACK answered), c1 and c4 open. */
static void test_client_rows(void)
{
    struct scene s;
    build_scene(&s);
    struct table t;
    table_of(&s.w, s.w.b, true, &t);
    char r[3][160];
    const char *want[] = {
        fmt(r[0], sizeof r[0], "ESTABLISHED 10.0.0.2:%u 10.0.0.1:80 fd=0 rq=0 sq=0 -", s.p1),
        fmt(r[1], sizeof r[1], "ESTABLISHED 10.0.0.2:%u 10.0.0.1:80 fd=1 rq=0 sq=0 -", s.p4),
        /* A acknowledged B's FIN at once (21 ms, reaching B at 22 ms):
         * 60 s from then. */
        fmt(r[2], sizeof r[2], "FIN_WAIT_2 10.0.0.2:%u 10.0.0.1:80 fd=-1 rq=0 sq=0 timewait,59722000us,0",
            s.p2),
        NULL,
    };
    qsort(want, 3, sizeof want[0], by_pointed_text);
    check_rows(&t, want);
    world_close(&s.w);
}

struct find {
    uint16_t rport;
    struct finack_conn_info row;
    int found;
};

static int find_row(void *ctx, const struct finack_conn_info *r)
{
    struct find *f = ctx;
    if (r->rport == f->rport) {
        f->row = *r;
        f->found++;
    }
    return 0;
}

/* The retransmission goes out at 400 ms; the row then says so: one
 * timeout, the next at twice the RTO (800 ms). rtt, rto and cwnd agree
 * with TCP_INFO. */
static void test_retransmit_row(void)
{
    struct scene s;
    build_scene(&s);
    run_to_ms(&s.w, 450);
    struct table t;
    table_of(&s.w, s.w.a, false, &t);
    char want[160];
    snprintf(want, sizeof want,
             "ESTABLISHED 10.0.0.1:80 10.0.0.2:%u fd=1 rq=100 sq=200 on,350000us,1", s.p1);
    bool found = false;
    for (int i = 0; i < t.count; i++) found |= strcmp(t.rows[i], want) == 0;
    if (!found) test_fail(__FILE__, __LINE__, "no row \"%s\"", want);

    struct finack_tcp_info info;
    CHECK_EQ(finack_tcp_info(s.w.a, s.a1, &info), 0);
    struct find f = {.rport = s.p1};
    CHECK_EQ(finack_stack_connections(s.w.a, false, find_row, &f), 3);
    CHECK_EQ(f.found, 1);
    CHECK_EQ(f.row.rtt_us, info.rtt_us);
    CHECK_EQ(f.row.rto_us, info.rto_us);
    CHECK_EQ(f.row.rto_us, 400000);
    CHECK_EQ(f.row.cwnd, info.cwnd);
    CHECK_EQ(f.row.retransmits, info.retransmits);
    world_close(&s.w);
}

/* Once the application reads the EOF, the FIN leaves the Recv-Q (Linux's
 * copied_seq moves past it); a peek does not take it. */
static void test_close_wait_eof_read(void)
{
    struct scene s;
    build_scene(&s);
    char c;
    CHECK_EQ(finack_recv(s.w.a, s.a2, &c, 1, MSG_PEEK), 0);
    struct find f = {.rport = s.p2};
    CHECK(finack_stack_connections(s.w.a, false, find_row, &f) > 0);
    CHECK_EQ(f.found, 1);
    CHECK_STR(f.row.state, "CLOSE_WAIT");
    CHECK_EQ(f.row.recv_q, 1);
    CHECK_EQ(finack_recv(s.w.a, s.a2, &c, 1, 0), 0);
    f.found = 0;
    CHECK(finack_stack_connections(s.w.a, false, find_row, &f) > 0);
    CHECK_EQ(f.found, 1);
    CHECK_EQ(f.row.recv_q, 0);
    world_close(&s.w);
}

/* A SYN nobody answers: SYN_SENT with the SYN in Send-Q (as Linux shows
 * it) and the retransmission timer at the initial RTO, then doubled. */
static void test_syn_sent_row(void)
{
    struct world w;
    world_open(&w);
    w.drop_to_b = true;
    int fd = finack_socket(w.b, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in to = sin_of(A_ADDR, 81); /* A has no listener there: A would RST */
    CHECK_EQ(finack_connect(w.b, fd, (struct sockaddr *)&to, sizeof to), -EINPROGRESS);
    run_to_ms(&w, 500);
    struct table t;
    table_of(&w, w.b, false, &t);
    char want[160];
    snprintf(want, sizeof want, "SYN_SENT 10.0.0.2:%u 10.0.0.1:81 fd=0 rq=0 sq=1 on,500000us,0",
             local_port(w.b, fd));
    CHECK_EQ(t.count, 1);
    CHECK_STR(t.rows[0], want);
    run_to_ms(&w, 1500);
    table_of(&w, w.b, false, &t);
    snprintf(want, sizeof want, "SYN_SENT 10.0.0.2:%u 10.0.0.1:81 fd=0 rq=0 sq=1 on,1500000us,1",
             local_port(w.b, fd));
    CHECK_STR(t.rows[0], want);
    world_close(&w);
}

/* A callback's non-zero answer stops the walk and is returned. */
static int stop_at_first(void *ctx, const struct finack_conn_info *r)
{
    (void)r;
    ++*(int *)ctx;
    return 42;
}

static void test_walk_stops(void)
{
    struct scene s;
    build_scene(&s);
    int calls = 0;
    CHECK_EQ(finack_stack_connections(s.w.a, true, stop_at_first, &calls), 42);
    CHECK_EQ(calls, 1);
    CHECK_EQ(finack_stack_connections(s.w.a, true, NULL, NULL), -EINVAL);
    CHECK_EQ(finack_stack_connections(NULL, true, stop_at_first, &calls), -EINVAL);
    world_close(&s.w);
}

TEST_MAIN("sim.conn_table", TEST_CASE(test_server_rows_all),
          TEST_CASE(test_server_rows_connected_only), TEST_CASE(test_client_rows),
          TEST_CASE(test_retransmit_row), TEST_CASE(test_close_wait_eof_read),
          TEST_CASE(test_syn_sent_row),
          TEST_CASE(test_walk_stops))
