/* Traces from two stacks on the simulated link (include/finack/trace.h,
 * docs/TRACE.md): a whole connection's state and segment events on both
 * hosts, a lost segment and its retransmission, drops, the persist timer
 * under a zero window, TIME_WAIT re-ACKing a retransmitted FIN, and the
 * same packets with tracing on as off.
 *
 * Each host's events are kept and written as tokens: a state change as
 * FROM>TO, a segment as out:FLAGS or in:FLAGS (tcpdump's letters, ":len"
 * for a payload, "*" for a retransmission), drop:REASON, timer:NAME. */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finack/sim.h"
#include "finack/socket.h"
#include "finack/trace.h"
#include "test.h"

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u
#define A FINACK_SIM_A
#define B FINACK_SIM_B
#define A_PORT 5000
#define B_PORT 80
#define LATENCY FINACK_MSEC(1)
#define EVENT_CAP 4096

struct event {
    struct finack_trace_event ev;
    uint8_t opts[40];
    char json[512];
};

struct host {
    struct world *w;
    int side;
    struct finack_stack *stack;
    struct event *events;
    size_t n;
};

struct world {
    struct finack_sim *sim;
    struct finack_sim_link *link;
    struct host hosts[2];
    bool trace;
    /* Segments the test loses on the wire: the next drop_count TCP
     * segments from drop_from with flags including drop_flags. */
    int drop_from;
    unsigned drop_count;
    uint8_t drop_flags;
    bool drop_with_data;
    /* Flip a payload byte of the next segment with data from this side. */
    int corrupt_from;
    bool corrupt_next;
    /* Every packet delivered, for the determinism check. */
    uint64_t wire_hash;
    size_t wire_packets;
    char text[16384];
};

static void on_trace(void *ctx, const struct finack_trace_event *ev)
{
    struct host *h = ctx;
    if (h->n == EVENT_CAP) abort();
    struct event *e = &h->events[h->n++];
    e->ev = *ev;
    if (ev->kind == FINACK_TRACE_SEG) {
        if (ev->opts_len > sizeof e->opts) abort();
        memcpy(e->opts, ev->opts, ev->opts_len);
        e->ev.opts = e->opts;
    }
    int n = finack_trace_format_json(ev, e->json, sizeof e->json);
    if (n <= 0 || (size_t)n >= sizeof e->json) abort();
}

static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++) h = (h ^ b[i]) * 0x100000001b3u;
    return h;
}

/* TCP header fields of a packet on the wire (IPv4 header of 20 bytes). */
static uint8_t tcp_flags_of(const uint8_t *p, size_t len) { return len >= 40 ? p[33] : 0; }
static size_t tcp_payload_of(const uint8_t *p, size_t len)
{
    if (len < 40) return 0;
    size_t total = (size_t)p[2] << 8 | p[3], header = 20 + (size_t)(p[32] >> 4) * 4;
    return total > header ? total - header : 0;
}

static void on_packet(void *ctx, const uint8_t *packet, size_t len, finack_time_t now)
{
    struct host *h = ctx;
    struct world *w = h->w;
    int from = 1 - h->side;
    w->wire_hash = fnv(fnv(w->wire_hash, &now, sizeof now), packet, len);
    w->wire_packets++;
    uint8_t flags = tcp_flags_of(packet, len);
    size_t payload = tcp_payload_of(packet, len);
    if (w->drop_count && w->drop_from == from && (flags & w->drop_flags) == w->drop_flags &&
        (!w->drop_with_data || payload)) {
        w->drop_count--;
        return;
    }
    uint8_t copy[2048];
    if (w->corrupt_next && w->corrupt_from == from && payload && len <= sizeof copy) {
        w->corrupt_next = false;
        memcpy(copy, packet, len);
        copy[len - 1] ^= 0x01; /* the last payload byte: the TCP checksum fails */
        packet = copy;
    }
    finack_stack_input(h->stack, finack_sim_link_end(w->link, h->side), packet, len, now);
}

static struct world *world_new(uint64_t seed, bool trace, const struct finack_sim_link_config *cfg)
{
    struct world *w = calloc(1, sizeof *w);
    if (!w || finack_sim_create(&w->sim, seed)) abort();
    struct finack_sim_link_config def;
    finack_sim_link_config_init(&def);
    if (finack_sim_link_create(w->sim, cfg ? cfg : &def, &w->link)) abort();
    w->trace = trace;
    w->wire_hash = 0xcbf29ce484222325u;
    for (int side = A; side <= B; side++) {
        struct host *h = &w->hosts[side];
        h->w = w;
        h->side = side;
        h->events = calloc(EVENT_CAP, sizeof *h->events);
        if (!h->events) abort();
        struct finack_stack_config sc;
        finack_stack_config_init(&sc);
        sc.name = side == A ? "A" : "B";
        sc.secret[0] = seed * 2654435761u + (uint64_t)side;
        sc.secret[1] = seed * 40503u + 7;
        if (finack_stack_create(&h->stack, &sc)) abort();
        if (finack_stack_add_interface(h->stack, finack_sim_link_end(w->link, side),
                                       side == A ? A_ADDR : B_ADDR, 24))
            abort();
        if (trace) finack_stack_set_trace(h->stack, on_trace, h);
        if (finack_sim_add_stack(w->sim, h->stack)) abort();
        if (finack_sim_link_set_receiver(w->link, side, on_packet, h)) abort();
    }
    return w;
}

static void world_free(struct world *w)
{
    finack_sim_destroy(w->sim);
    for (int side = A; side <= B; side++) {
        finack_stack_destroy(w->hosts[side].stack);
        free(w->hosts[side].events);
    }
    free(w);
}

static struct finack_stack *stack_of(struct world *w, int side) { return w->hosts[side].stack; }
static finack_time_t now_of(struct world *w) { return finack_sim_now(w->sim); }
static void run_for(struct world *w, finack_time_t dt)
{
    finack_sim_run_until(w->sim, now_of(w) + dt);
}

#define RUN_UNTIL(w, cond, limit_us)                                                \
    do {                                                                            \
        finack_time_t until_ = now_of(w) + (limit_us);                              \
        while (!(cond) && now_of(w) < until_) run_for((w), FINACK_MSEC(1));         \
    } while (0)

/* Which kinds tokens() lists. */
#define K_STATE (1u << FINACK_TRACE_STATE)
#define K_SEG (1u << FINACK_TRACE_SEG)
#define K_DROP (1u << FINACK_TRACE_DROP)
#define K_TIMER (1u << FINACK_TRACE_TIMER)

static void token(const struct finack_trace_event *ev, char *buf, size_t size)
{
    char flags[9];
    switch (ev->kind) {
    case FINACK_TRACE_STATE:
        snprintf(buf, size, "%s>%s", ev->from, ev->to);
        break;
    case FINACK_TRACE_SEG:
        if (ev->len)
            snprintf(buf, size, "%s:%s:%u%s", ev->out ? "out" : "in",
                     finack_trace_flags(ev->flags, flags), (unsigned)ev->len,
                     ev->retransmit ? "*" : "");
        else
            snprintf(buf, size, "%s:%s%s", ev->out ? "out" : "in",
                     finack_trace_flags(ev->flags, flags), ev->retransmit ? "*" : "");
        break;
    case FINACK_TRACE_DROP:
        snprintf(buf, size, "drop:%s", finack_drop_reason_name(ev->reason));
        break;
    case FINACK_TRACE_TIMER:
        snprintf(buf, size, "timer:%s", ev->timer);
        break;
    }
}

/* One host's events from index first on, of the kinds in mask. */
static const char *tokens(struct world *w, int side, size_t first, unsigned mask)
{
    const struct host *h = &w->hosts[side];
    size_t n = 0;
    w->text[0] = '\0';
    for (size_t i = first; i < h->n; i++) {
        if (!(mask & (1u << h->events[i].ev.kind))) continue;
        char t[96];
        token(&h->events[i].ev, t, sizeof t);
        n += (size_t)snprintf(w->text + n, sizeof w->text - n, "%s%s", n ? " " : "", t);
        if (n >= sizeof w->text - 100) break;
    }
    return w->text;
}

static const struct finack_trace_event *event_at(struct world *w, int side, size_t i)
{
    return i < w->hosts[side].n ? &w->hosts[side].events[i].ev : NULL;
}

/* The index of the k-th (from 0) event of a host matching kind and token
 * prefix, or SIZE_MAX. */
static size_t find(struct world *w, int side, const char *prefix, unsigned k)
{
    const struct host *h = &w->hosts[side];
    for (size_t i = 0; i < h->n; i++) {
        char t[96];
        token(&h->events[i].ev, t, sizeof t);
        if (!strncmp(t, prefix, strlen(prefix)) && k-- == 0) return i;
    }
    return SIZE_MAX;
}

static struct sockaddr_in sockaddr_of(uint32_t ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(ip)};
    return a;
}

struct pair {
    int lfd, cfd, afd;
};

/* B listens on B_PORT, A connects from A_PORT; returns once B accepted. */
static bool open_pair(struct world *w, struct pair *p)
{
    struct finack_stack *a = stack_of(w, A), *b = stack_of(w, B);
    struct sockaddr_in any = sockaddr_of(0, B_PORT), from = sockaddr_of(A_ADDR, A_PORT),
                       to = sockaddr_of(B_ADDR, B_PORT);
    p->lfd = finack_socket(b, AF_INET, SOCK_STREAM, 0);
    if (finack_bind(b, p->lfd, (struct sockaddr *)&any, sizeof any) ||
        finack_listen(b, p->lfd, 8))
        return false;
    p->cfd = finack_socket(a, AF_INET, SOCK_STREAM, 0);
    if (finack_bind(a, p->cfd, (struct sockaddr *)&from, sizeof from)) return false;
    if (finack_connect(a, p->cfd, (struct sockaddr *)&to, sizeof to) != -EINPROGRESS)
        return false;
    p->afd = -EAGAIN;
    RUN_UNTIL(w, (p->afd = finack_accept(b, p->lfd, NULL, NULL)) >= 0, FINACK_SEC(10));
    return p->afd >= 0 && !strcmp(finack_socket_state(a, p->cfd), "ESTABLISHED");
}

/* ---- A whole connection on both hosts ----------------------------------- */

/* Open, 5 bytes each way, A closes first, B after; then TIME_WAIT ends.
 * Every state change and segment, in order, on both hosts; the seg events
 * of one host's "out" are the other's "in", field for field. */
static void test_connection_life_on_both_hosts(void)
{
    struct world *w = world_new(1, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    struct finack_stack *a = stack_of(w, A), *b = stack_of(w, B);
    char buf[16];
    CHECK_EQ(finack_send(a, p.cfd, "hello", 5, 0), 5);
    ssize_t got = -EAGAIN;
    RUN_UNTIL(w, (got = finack_recv(b, p.afd, buf, sizeof buf, 0)) > 0, FINACK_SEC(1));
    CHECK_EQ(got, 5);
    CHECK_EQ(finack_send(b, p.afd, "world", 5, 0), 5);
    got = -EAGAIN;
    RUN_UNTIL(w, (got = finack_recv(a, p.cfd, buf, sizeof buf, 0)) > 0, FINACK_SEC(1));
    CHECK_EQ(got, 5);
    run_for(w, FINACK_MSEC(100));
    CHECK_EQ(finack_close(a, p.cfd), 0);
    got = -EAGAIN;
    RUN_UNTIL(w, (got = finack_recv(b, p.afd, buf, sizeof buf, 0)) == 0, FINACK_SEC(1));
    CHECK_EQ(got, 0);
    CHECK_EQ(finack_close(b, p.afd), 0);
    CHECK_EQ(finack_close(b, p.lfd), 0);
    run_for(w, FINACK_SEC(121)); /* 2·MSL */

    CHECK_STR(tokens(w, A, 0, K_STATE | K_SEG),
              "CLOSED>SYN_SENT out:S in:SA SYN_SENT>ESTABLISHED out:A "
              "out:PA:5 in:A in:PA:5 out:A "
              "ESTABLISHED>FIN_WAIT_1 out:FA in:A FIN_WAIT_1>FIN_WAIT_2 "
              "in:FA FIN_WAIT_2>TIME_WAIT out:A TIME_WAIT>CLOSED");
    CHECK_STR(tokens(w, B, 0, K_STATE | K_SEG),
              "CLOSED>LISTEN in:S CLOSED>SYN_RCVD out:SA in:A SYN_RCVD>ESTABLISHED "
              "in:PA:5 out:A out:PA:5 in:A "
              "in:FA ESTABLISHED>CLOSE_WAIT out:A CLOSE_WAIT>LAST_ACK out:FA "
              "LISTEN>CLOSED in:A LAST_ACK>CLOSED");
    CHECK_STR(tokens(w, A, 0, K_DROP | K_TIMER), "timer:TIME_WAIT");
    CHECK_STR(tokens(w, B, 0, K_DROP | K_TIMER), "");

    /* conn is local-remote as each host sees it; the listener's has no
     * remote end. */
    const struct finack_trace_event *e = event_at(w, A, 0);
    REQUIRE(e);
    CHECK_STR(w->hosts[A].events[0].json,
              "{\"t_us\":0,\"host\":\"A\",\"conn\":\"10.0.0.1:5000-10.0.0.2:80\","
              "\"ev\":\"state\",\"from\":\"CLOSED\",\"to\":\"SYN_SENT\"}\n");
    CHECK_STR(w->hosts[B].events[0].json,
              "{\"t_us\":0,\"host\":\"B\",\"conn\":\"0.0.0.0:80-0.0.0.0:0\","
              "\"ev\":\"state\",\"from\":\"CLOSED\",\"to\":\"LISTEN\"}\n");
    e = event_at(w, B, find(w, B, "in:S", 0));
    REQUIRE(e);
    CHECK_EQ(e->laddr, B_ADDR);
    CHECK_EQ(e->lport, B_PORT);
    CHECK_EQ(e->raddr, A_ADDR);
    CHECK_EQ(e->rport, A_PORT);
    CHECK_U64(e->t, LATENCY);

    /* Each out on one host is the next in on the other, field for field
     * (no loss on this link), one latency later. */
    for (int side = A; side <= B; side++) {
        for (unsigned k = 0;; k++) {
            size_t o = find(w, side, "out:", k), i = find(w, 1 - side, "in:", k);
            if (o == SIZE_MAX || i == SIZE_MAX) {
                CHECK(o == SIZE_MAX && i == SIZE_MAX);
                break;
            }
            const struct finack_trace_event *so = event_at(w, side, o),
                                            *si = event_at(w, 1 - side, i);
            CHECK_U64(si->t, so->t + LATENCY);
            CHECK_EQ(so->flags, si->flags);
            CHECK_U64(so->seq, si->seq);
            CHECK_U64(so->ack, si->ack);
            CHECK_EQ(so->win, si->win);
            CHECK_U64(so->win_scaled, si->win_scaled);
            CHECK_EQ(so->len, si->len);
            CHECK_EQ(so->opts_len, si->opts_len);
            CHECK(so->opts_len == si->opts_len && !memcmp(so->opts, si->opts, so->opts_len));
            CHECK_EQ(so->laddr, si->raddr);
            CHECK_EQ(so->lport, si->rport);
            CHECK(!so->retransmit);
        }
    }

    /* The SYN's options in tcpdump's spelling; its window is never scaled;
     * later windows are. */
    e = event_at(w, A, find(w, A, "out:S", 0));
    REQUIRE(e);
    char opts[128];
    finack_trace_options(e->opts, e->opts_len, opts, sizeof opts);
    CHECK(!strncmp(opts, "mss 1460,sackOK,TS val ", 23));
    CHECK(strstr(opts, " ecr 0,nop,wscale 7") != NULL);
    CHECK_U64(e->win_scaled, e->win);
    e = event_at(w, A, find(w, A, "out:A", 0));
    REQUIRE(e);
    CHECK_U64(e->win_scaled, (uint32_t)e->win << 7);
    CHECK(strstr(w->hosts[A].events[find(w, A, "out:A", 0)].json,
                 "\"opts\":\"nop,nop,TS val ") != NULL);
    world_free(w);
}

/* ---- Loss and retransmission ------------------------------------------ */

/* A's first data segment is lost: out on A with no in on B, then the RTO
 * fires and the same bytes go out again marked rtx, and B takes them. */
static void test_lost_segment_then_retransmission(void)
{
    struct world *w = world_new(2, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    struct finack_stack *a = stack_of(w, A), *b = stack_of(w, B);
    size_t a0 = w->hosts[A].n, b0 = w->hosts[B].n;
    w->drop_from = A;
    w->drop_count = 1;
    w->drop_with_data = true;
    CHECK_EQ(finack_send(a, p.cfd, "0123456789", 10, 0), 10);
    char buf[16];
    ssize_t got = -EAGAIN;
    RUN_UNTIL(w, (got = finack_recv(b, p.afd, buf, sizeof buf, 0)) > 0, FINACK_SEC(5));
    CHECK_EQ(got, 10);
    run_for(w, FINACK_MSEC(50));
    CHECK_STR(tokens(w, A, a0, K_SEG | K_TIMER | K_DROP),
              "out:PA:10 timer:RTO out:PA:10* in:A");
    CHECK_STR(tokens(w, B, b0, K_SEG | K_TIMER | K_DROP), "in:PA:10 out:A");
    size_t first = find(w, A, "out:PA:10", 0), again = find(w, A, "out:PA:10*", 0);
    REQUIRE(first != SIZE_MAX && again != SIZE_MAX);
    CHECK_U64(event_at(w, A, first)->seq, event_at(w, A, again)->seq);
    CHECK(!event_at(w, A, first)->retransmit);
    CHECK(event_at(w, A, again)->retransmit);
    CHECK(strstr(w->hosts[A].events[again].json, ",\"rtx\":true}\n") != NULL);
    CHECK(strstr(w->hosts[A].events[first].json, "rtx") == NULL);
    /* The RTO fires at its time (1 s initial RTO, or the measured one). */
    size_t timer = find(w, A, "timer:RTO", 0);
    REQUIRE(timer != SIZE_MAX);
    CHECK_U64(event_at(w, A, timer)->t, event_at(w, A, again)->t);
    world_free(w);
}

/* A lost SYN: the SYN timer fires at 1 s and the SYN goes again, marked
 * rtx; a lost SYN-ACK: B's half-open record's SYNACK timer resends it. */
static void test_handshake_retransmissions(void)
{
    struct world *w = world_new(3, true, NULL);
    w->drop_from = A;
    w->drop_count = 1;
    w->drop_flags = 0x02; /* SYN */
    struct pair p;
    REQUIRE(open_pair(w, &p));
    CHECK_STR(tokens(w, A, 0, K_SEG | K_TIMER),
              "out:S timer:SYN out:S* in:SA out:A");
    CHECK_U64(event_at(w, A, find(w, A, "timer:SYN", 0))->t, FINACK_SEC(1));
    world_free(w);

    w = world_new(4, true, NULL);
    w->drop_from = B;
    w->drop_count = 1;
    w->drop_flags = 0x12; /* SYN-ACK */
    REQUIRE(open_pair(w, &p));
    /* Both ends time out at 1 s: A's SYN comes again first (B answers
     * it with its SYN-ACK, a retransmission), then B's own SYNACK timer
     * sends another; A ACKs both. */
    CHECK_STR(tokens(w, B, 0, K_SEG | K_TIMER | K_STATE),
              "CLOSED>LISTEN in:S CLOSED>SYN_RCVD out:SA in:S out:SA* timer:SYNACK out:SA* "
              "in:A SYN_RCVD>ESTABLISHED in:A");
    CHECK_STR(tokens(w, A, 0, K_SEG | K_TIMER),
              "out:S timer:SYN out:S* in:SA out:A in:SA out:A");
    CHECK_U64(event_at(w, B, find(w, B, "timer:SYNACK", 0))->t, LATENCY + FINACK_SEC(1));
    world_free(w);
}

/* ---- Drops --------------------------------------------------------------- */

/* A payload byte flipped on the wire: B drops the segment as
 * TCP_BAD_CHECKSUM before TCP could parse it, so with a zero tuple and no
 * in event; A's retransmission then gets through. */
static void test_bad_checksum_drop(void)
{
    struct world *w = world_new(5, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    size_t b0 = w->hosts[B].n;
    w->corrupt_from = A;
    w->corrupt_next = true;
    CHECK_EQ(finack_send(stack_of(w, A), p.cfd, "abc", 3, 0), 3);
    run_for(w, FINACK_SEC(2));
    CHECK_STR(tokens(w, B, b0, K_SEG | K_DROP), "drop:TCP_BAD_CHECKSUM in:PA:3 out:A");
    const struct finack_trace_event *e = event_at(w, B, find(w, B, "drop:", 0));
    REQUIRE(e);
    CHECK(e->laddr == 0 && e->raddr == 0 && e->lport == 0 && e->rport == 0);
    CHECK_STR(strstr(w->hosts[B].events[find(w, B, "drop:", 0)].json, "\"host\""),
              "\"host\":\"B\",\"conn\":\"0.0.0.0:0-0.0.0.0:0\",\"ev\":\"drop\","
              "\"reason\":\"TCP_BAD_CHECKSUM\"}\n");
    world_free(w);
}

/* Drops the TCP layer makes carry the connection: a segment to a closed
 * port is answered with a RST (out) and dropped as TCP_NO_SOCKET under its
 * own tuple. */
static void test_no_socket_drop_carries_tuple(void)
{
    struct world *w = world_new(6, true, NULL);
    struct finack_stack *a = stack_of(w, A);
    struct sockaddr_in to = sockaddr_of(B_ADDR, 81), from = sockaddr_of(A_ADDR, A_PORT);
    int fd = finack_socket(a, AF_INET, SOCK_STREAM, 0);
    CHECK_EQ(finack_bind(a, fd, (struct sockaddr *)&from, sizeof from), 0);
    CHECK_EQ(finack_connect(a, fd, (struct sockaddr *)&to, sizeof to), -EINPROGRESS);
    run_for(w, FINACK_MSEC(10));
    CHECK_STR(tokens(w, B, 0, K_SEG | K_DROP | K_STATE), "in:S out:RA drop:TCP_NO_SOCKET");
    CHECK_STR(tokens(w, A, 0, K_SEG | K_DROP | K_STATE),
              "CLOSED>SYN_SENT out:S in:RA SYN_SENT>CLOSED");
    const struct finack_trace_event *e = event_at(w, B, find(w, B, "drop:", 0));
    REQUIRE(e);
    CHECK_EQ(e->laddr, B_ADDR);
    CHECK_EQ(e->lport, 81);
    CHECK_EQ(e->raddr, A_ADDR);
    CHECK_EQ(e->rport, A_PORT);
    e = event_at(w, B, find(w, B, "out:RA", 0));
    REQUIRE(e);
    CHECK_EQ(e->lport, 81);
    CHECK_EQ(e->rport, A_PORT);
    finack_close(a, fd);
    world_free(w);
}

/* Corruption by the link itself (one bit anywhere): whatever layer
 * notices, the drop is reported once, with a zero tuple. */
static void test_link_corruption_is_a_drop(void)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    struct world *w = world_new(7, true, &cfg);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    struct finack_sim_path path = cfg.a_to_b;
    path.corrupt = 1.0;
    REQUIRE(finack_sim_link_set_path(w->link, A, &path) == 0);
    size_t b0 = w->hosts[B].n;
    CHECK_EQ(finack_send(stack_of(w, A), p.cfd, "x", 1, 0), 1);
    run_for(w, FINACK_MSEC(10));
    CHECK_STR(tokens(w, B, b0, K_SEG), "");
    size_t d = find(w, B, "drop:", 0);
    REQUIRE(d != SIZE_MAX);
    const struct finack_trace_event *e = event_at(w, B, d);
    CHECK(e->laddr == 0 && e->lport == 0 && e->raddr == 0 && e->rport == 0);
    CHECK_EQ(finack_stack_drops(stack_of(w, B), e->reason), 1);
    world_free(w);
}

/* ---- Timers ---------------------------------------------------------------- */

/* B never reads: A fills B's window, then probes the zero window. PERSIST
 * fires at growing intervals, each probe answered with a zero window. */
static void test_zero_window_persist_intervals(void)
{
    struct world *w = world_new(8, true, NULL);
    struct finack_stack *a = stack_of(w, A), *b = stack_of(w, B);
    struct pair p;
    p.lfd = finack_socket(b, AF_INET, SOCK_STREAM, 0);
    int rcvbuf = 4096;
    REQUIRE(finack_setsockopt(b, p.lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) == 0);
    struct sockaddr_in any = sockaddr_of(0, B_PORT), to = sockaddr_of(B_ADDR, B_PORT);
    REQUIRE(finack_bind(b, p.lfd, (struct sockaddr *)&any, sizeof any) == 0);
    REQUIRE(finack_listen(b, p.lfd, 8) == 0);
    p.cfd = finack_socket(a, AF_INET, SOCK_STREAM, 0);
    REQUIRE(finack_connect(a, p.cfd, (struct sockaddr *)&to, sizeof to) == -EINPROGRESS);
    p.afd = -EAGAIN;
    RUN_UNTIL(w, (p.afd = finack_accept(b, p.lfd, NULL, NULL)) >= 0, FINACK_SEC(1));
    REQUIRE(p.afd >= 0);
    static uint8_t data[32768];
    CHECK(finack_send(a, p.cfd, data, sizeof data, 0) > 8192);
    run_for(w, FINACK_SEC(20));
    size_t first = find(w, A, "timer:PERSIST", 0);
    REQUIRE(first != SIZE_MAX);
    finack_time_t prev = 0, prev_gap = 0;
    unsigned fired = 0;
    for (unsigned k = 0;; k++) {
        size_t i = find(w, A, "timer:PERSIST", k);
        if (i == SIZE_MAX) break;
        finack_time_t t = event_at(w, A, i)->t;
        /* Each firing sends a probe, which B answers with a zero window. */
        const struct finack_trace_event *probe = event_at(w, A, i + 1);
        REQUIRE(probe && probe->kind == FINACK_TRACE_SEG && probe->out);
        CHECK(!probe->retransmit);
        if (k) {
            CHECK(t - prev > prev_gap); /* growing: doubling from the RTO */
            prev_gap = t - prev;
        }
        prev = t;
        fired++;
    }
    CHECK(fired >= 5);
    /* B's answers to the probes carry a zero window. */
    size_t zero = 0;
    for (size_t i = find(w, B, "in:", 0); i < w->hosts[B].n; i++) {
        const struct finack_trace_event *e = event_at(w, B, i);
        if (e->kind == FINACK_TRACE_SEG && e->out && e->win == 0) zero++;
    }
    CHECK(zero >= fired);
    world_free(w);
}

/* TIME_WAIT re-ACKs a retransmitted FIN: B's last ACK... is A's; A's last
 * ACK is lost, B's LAST_ACK retransmits its FIN (rtx), A (TIME_WAIT, a
 * record since its socket is closed) takes it in and ACKs again. */
static void test_time_wait_reacks_retransmitted_fin(void)
{
    struct world *w = world_new(9, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    struct finack_stack *a = stack_of(w, A), *b = stack_of(w, B);
    CHECK_EQ(finack_close(a, p.cfd), 0);
    char c;
    ssize_t got = -EAGAIN;
    RUN_UNTIL(w, (got = finack_recv(b, p.afd, &c, 1, 0)) == 0, FINACK_SEC(1));
    REQUIRE(got == 0);
    run_for(w, FINACK_MSEC(10)); /* B's ACK of A's FIN: FIN_WAIT_2 */
    size_t a0 = w->hosts[A].n, b0 = w->hosts[B].n;
    w->drop_from = A;
    w->drop_count = 1;
    w->drop_flags = 0x10; /* the next segment from A: its last ACK */
    CHECK_EQ(finack_close(b, p.afd), 0);
    run_for(w, FINACK_SEC(3));
    CHECK_STR(tokens(w, B, b0, K_SEG | K_STATE | K_TIMER),
              "CLOSE_WAIT>LAST_ACK out:FA timer:RTO out:FA* in:A LAST_ACK>CLOSED");
    CHECK_STR(tokens(w, A, a0, K_SEG | K_STATE | K_TIMER),
              "in:FA FIN_WAIT_2>TIME_WAIT out:A in:FA out:A");
    /* The re-ACK has the same sequence numbers as the lost one. */
    const struct finack_trace_event *lost = event_at(w, A, find(w, A, "out:A", 0) + 0);
    size_t k = 0;
    while (find(w, A, "out:A", k + 1) != SIZE_MAX) k++;
    const struct finack_trace_event *again = event_at(w, A, find(w, A, "out:A", k));
    REQUIRE(lost && again);
    CHECK_U64(again->ack, event_at(w, A, a0)->seq + 1);
    CHECK(!again->retransmit); /* an ACK re-sends no sequence space */
    world_free(w);
}

/* Three duplicate ACKs: the lost first segment goes again at once (fast
 * retransmit, marked rtx, no timer), and B's duplicate ACKs show the data
 * it holds past the hole as SACK blocks. */
static void test_fast_retransmit_is_rtx_and_sack_is_spelled(void)
{
    struct world *w = world_new(10, true, NULL);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    struct finack_stack *a = stack_of(w, A), *b = stack_of(w, B);
    run_for(w, FINACK_MSEC(10));
    size_t a0 = w->hosts[A].n;
    w->drop_from = A;
    w->drop_count = 1;
    w->drop_with_data = true;
    static uint8_t data[8 * 1448];
    CHECK_EQ(finack_send(a, p.cfd, data, sizeof data, 0), (ssize_t)sizeof data);
    static uint8_t sink[sizeof data];
    size_t got = 0;
    ssize_t r;
    for (int i = 0; i < 100 && got < sizeof data; i++) {
        run_for(w, FINACK_MSEC(1));
        while ((r = finack_recv(b, p.afd, sink, sizeof sink, 0)) > 0) got += (size_t)r;
    }
    CHECK_EQ(got, sizeof data);
    run_for(w, FINACK_MSEC(10));
    /* B's first ACK also opens the window from the SYN-ACK's unscaled
     * 65535 to 128 KiB, so RFC 5681 §2 (e) would not count it; but it
     * SACKs new data, which makes it a duplicate for RFC 6675 (§2), and
     * three segments SACKed above the hole make it lost: the retransmission
     * follows the third ACK, as Linux's does (sacked_out > reordering).
     * After it: the rest of the duplicates, the ACK of everything, and the
     * window update once B has read. */
    CHECK_STR(tokens(w, A, a0, K_SEG | K_TIMER),
              "out:A:1448 out:A:1448 out:A:1448 out:A:1448 out:A:1448 out:A:1448 "
              "out:A:1448 out:PA:1448 in:A in:A in:A out:A:1448* in:A in:A in:A in:A in:A "
              "in:A");
    size_t rtx = find(w, A, "out:A:1448*", 0);
    REQUIRE(rtx != SIZE_MAX);
    CHECK_U64(event_at(w, A, rtx)->seq, event_at(w, A, a0)->seq);
    size_t dup = find(w, B, "out:A", 2); /* the third duplicate ACK */
    REQUIRE(dup != SIZE_MAX);
    CHECK(strstr(w->hosts[B].events[dup].json, "\"opts\":\"nop,nop,TS val ") != NULL);
    CHECK(strstr(w->hosts[B].events[dup].json, ",nop,nop,sack 1 {") != NULL);
    world_free(w);
}

/* finack_stack_on_state_change and the trace come from one reporting
 * path: the same changes, in the same order, at the same times. */
struct observed {
    char text[4096];
    size_t n;
};

static void on_state(void *ctx, const struct finack_state_event *ev)
{
    struct observed *o = ctx;
    o->n += (size_t)snprintf(o->text + o->n, sizeof o->text - o->n, "%s%llu:%u-%u:%s>%s",
                             o->n ? " " : "", (unsigned long long)ev->t, (unsigned)ev->lport,
                             (unsigned)ev->rport, ev->from, ev->to);
}

static void test_state_observer_matches_trace(void)
{
    struct world *w = world_new(11, true, NULL);
    struct observed obs = {.n = 0};
    finack_stack_on_state_change(stack_of(w, B), on_state, &obs);
    struct pair p;
    REQUIRE(open_pair(w, &p));
    CHECK_EQ(finack_close(stack_of(w, A), p.cfd), 0);
    run_for(w, FINACK_MSEC(10));
    CHECK_EQ(finack_close(stack_of(w, B), p.afd), 0);
    CHECK_EQ(finack_close(stack_of(w, B), p.lfd), 0);
    run_for(w, FINACK_SEC(1));
    char expect[4096];
    size_t n = 0;
    expect[0] = '\0';
    for (size_t i = 0; i < w->hosts[B].n; i++) {
        const struct finack_trace_event *e = event_at(w, B, i);
        if (e->kind != FINACK_TRACE_STATE) continue;
        n += (size_t)snprintf(expect + n, sizeof expect - n, "%s%llu:%u-%u:%s>%s", n ? " " : "",
                              (unsigned long long)e->t, (unsigned)e->lport, (unsigned)e->rport,
                              e->from, e->to);
    }
    CHECK(n > 0);
    CHECK_STR(obs.text, expect);
    world_free(w);
}

/* The timers not met elsewhere: DELACK (a receive buffer too small for
 * quick ACKs), KEEPALIVE (SO_KEEPALIVE, TCP_KEEPIDLE 1 s) and an orphaned
 * FIN_WAIT_2's timeout, each before what it does. */
static void test_timer_names(void)
{
    struct world *w = world_new(12, true, NULL);
    struct finack_stack *a = stack_of(w, A), *b = stack_of(w, B);
    struct pair p;
    p.lfd = finack_socket(b, AF_INET, SOCK_STREAM, 0);
    int small = 2048, one = 1;
    REQUIRE(finack_setsockopt(b, p.lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0);
    struct sockaddr_in any = sockaddr_of(0, B_PORT), to = sockaddr_of(B_ADDR, B_PORT);
    REQUIRE(finack_bind(b, p.lfd, (struct sockaddr *)&any, sizeof any) == 0);
    REQUIRE(finack_listen(b, p.lfd, 8) == 0);
    p.cfd = finack_socket(a, AF_INET, SOCK_STREAM, 0);
    REQUIRE(finack_setsockopt(a, p.cfd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) == 0);
    REQUIRE(finack_setsockopt(a, p.cfd, IPPROTO_TCP, TCP_KEEPIDLE, &one, sizeof one) == 0);
    REQUIRE(finack_connect(a, p.cfd, (struct sockaddr *)&to, sizeof to) == -EINPROGRESS);
    p.afd = -EAGAIN;
    RUN_UNTIL(w, (p.afd = finack_accept(b, p.lfd, NULL, NULL)) >= 0, FINACK_SEC(1));
    REQUIRE(p.afd >= 0);

    size_t b0 = w->hosts[B].n;
    CHECK_EQ(finack_send(a, p.cfd, "hi", 2, 0), 2);
    run_for(w, FINACK_MSEC(100));
    CHECK_STR(tokens(w, B, b0, K_SEG | K_TIMER), "in:PA:2 timer:DELACK out:A");
    CHECK_U64(event_at(w, B, find(w, B, "timer:DELACK", 0))->t,
              event_at(w, B, find(w, B, "in:PA:2", 0))->t + FINACK_MSEC(40));

    size_t a0 = w->hosts[A].n;
    run_for(w, FINACK_MSEC(1100));
    /* The first firing finds less idle time than TCP_KEEPIDLE since B's
     * delayed ACK and only re-arms; the second sends the probe. */
    CHECK_STR(tokens(w, A, a0, K_SEG | K_TIMER), "timer:KEEPALIVE timer:KEEPALIVE out:A in:A");

    /* A closes; B never does: A's orphaned FIN_WAIT_2 ends after 60 s. */
    a0 = w->hosts[A].n;
    CHECK_EQ(finack_close(a, p.cfd), 0);
    run_for(w, FINACK_SEC(61));
    CHECK_STR(tokens(w, A, a0, K_STATE | K_TIMER | K_SEG),
              "ESTABLISHED>FIN_WAIT_1 out:FA in:A FIN_WAIT_1>FIN_WAIT_2 "
              "timer:FIN_WAIT_2 FIN_WAIT_2>CLOSED");
    world_free(w);
}

/* Simultaneous open (RFC 9293 Figure 7): each end's SYN-ACK repeats the
 * sequence number of its SYN, so traces mark it rtx. */
static void test_simultaneous_open(void)
{
    struct world *w = world_new(13, true, NULL);
    int fd[2];
    for (int side = A; side <= B; side++) {
        struct finack_stack *s = stack_of(w, side);
        struct sockaddr_in me = sockaddr_of(side == A ? A_ADDR : B_ADDR, 7000),
                           peer = sockaddr_of(side == A ? B_ADDR : A_ADDR, 7000);
        fd[side] = finack_socket(s, AF_INET, SOCK_STREAM, 0);
        REQUIRE(finack_bind(s, fd[side], (struct sockaddr *)&me, sizeof me) == 0);
        REQUIRE(finack_connect(s, fd[side], (struct sockaddr *)&peer, sizeof peer) ==
                -EINPROGRESS);
    }
    run_for(w, FINACK_MSEC(10));
    for (int side = A; side <= B; side++) {
        CHECK_STR(tokens(w, side, 0, K_SEG | K_STATE),
                  "CLOSED>SYN_SENT out:S in:S SYN_SENT>SYN_RCVD out:SA* in:SA "
                  "SYN_RCVD>ESTABLISHED");
        CHECK_STR(finack_socket_state(stack_of(w, side), fd[side]), "ESTABLISHED");
    }
    world_free(w);
}

/* ---- Tracing changes nothing --------------------------------------------- */

/* A seeded lossy transfer gives the same packets, byte for byte and at the
 * same times, with tracing on and off. */
static uint64_t lossy_run(bool trace, size_t *packets, size_t *events)
{
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    cfg.a_to_b.loss = cfg.b_to_a.loss = 0.05;
    cfg.a_to_b.jitter = cfg.b_to_a.jitter = 200;
    cfg.a_to_b.rate_bps = 10000000;
    struct world *w = world_new(42, trace, &cfg);
    struct pair p;
    if (!open_pair(w, &p)) abort();
    struct finack_stack *a = stack_of(w, A), *b = stack_of(w, B);
    static uint8_t data[200000], sink[65536];
    size_t sent = 0, got = 0;
    for (int i = 0; i < 200000 && got < sizeof data; i++) {
        if (sent < sizeof data) {
            ssize_t n = finack_send(a, p.cfd, data + sent, sizeof data - sent, 0);
            if (n > 0) sent += (size_t)n;
        }
        ssize_t r = finack_recv(b, p.afd, sink, sizeof sink, 0);
        if (r > 0) got += (size_t)r;
        run_for(w, FINACK_MSEC(1));
    }
    if (got != sizeof data) abort();
    finack_close(a, p.cfd);
    finack_close(b, p.afd);
    run_for(w, FINACK_SEC(130));
    uint64_t h = w->wire_hash;
    *packets = w->wire_packets;
    *events = w->hosts[A].n + w->hosts[B].n;
    world_free(w);
    return h;
}

static void test_tracing_changes_no_packet(void)
{
    size_t packets_on, packets_off, events_on, events_off;
    uint64_t on = lossy_run(true, &packets_on, &events_on);
    uint64_t off = lossy_run(false, &packets_off, &events_off);
    CHECK_U64(on, off);
    CHECK_EQ(packets_on, packets_off);
    CHECK(packets_on > 100);
    CHECK(events_on > packets_on);
    CHECK_EQ(events_off, 0);
}

TEST_MAIN("trace", TEST_CASE(test_connection_life_on_both_hosts),
          TEST_CASE(test_lost_segment_then_retransmission),
          TEST_CASE(test_handshake_retransmissions), TEST_CASE(test_bad_checksum_drop),
          TEST_CASE(test_no_socket_drop_carries_tuple),
          TEST_CASE(test_link_corruption_is_a_drop),
          TEST_CASE(test_zero_window_persist_intervals),
          TEST_CASE(test_time_wait_reacks_retransmitted_fin),
          TEST_CASE(test_fast_retransmit_is_rtx_and_sack_is_spelled),
          TEST_CASE(test_state_observer_matches_trace), TEST_CASE(test_timer_names),
          TEST_CASE(test_simultaneous_open),
          TEST_CASE(test_tracing_changes_no_packet))
