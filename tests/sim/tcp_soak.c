/* A seeded soak of the TCP stack on the simulator.
 *
 * One client stack and one server stack share one simulated link (1 ms each
 * way, 200 µs jitter). The link goes through four loss levels in turn — 0,
 * 5, 10 and 20 % each way, every level with reordering and duplication, the
 * lossy ones also with 1 % single-bit corruption — and at each level
 * CONNS_PER_LEVEL connections are opened, used and closed, at most
 * MAX_ACTIVE at a time, all from the client's ephemeral ports to one server
 * port. The stacks live through all four levels, so TIME_WAITs of one level
 * meet the connections of the next, and the last level wraps the ephemeral
 * port range (28232 ports) and reuses 4-tuples. Each connection sends a
 * seeded random payload of 0..8 KB each way (one in ten is empty) and ends
 * in one of five ways:
 *
 *  - client first: the client sends, shuts down its side (FIN) and reads to
 *    EOF; the server reads to EOF and sends (half of them only after the
 *    client's FIN), then closes. The client ends in TIME_WAIT, the server
 *    from LAST_ACK.
 *  - server first: the same with the roles swapped.
 *  - simultaneous: both shut down at the same instant once both have queued
 *    their payload; the FINs cross and both go to TIME_WAIT.
 *  - abort by the client or by the server: that side has SO_LINGER 0 and
 *    closes (RST) after reading a seeded part of the other's payload. The
 *    other side keeps sending (its payload, then a byte every 500 ms, as an
 *    application would, so a lost RST is answered by another) and must see
 *    ECONNRESET exactly once, and never EOF.
 *
 * Every byte received is compared with the sender's stream: it arrives once,
 * in order, and a graceful connection delivers all of it, then EOF exactly
 * once (recv keeps returning 0 after it, nothing else). After the last
 * connection the clock runs past 2·MSL (not settable through the API: the
 * default 60 s); then neither stack may hold a connection, a TIME_WAIT
 * record or a socket. Each connection's life on both stacks is followed
 * through the state-change hook: its TCBs are born and end CLOSED once, the
 * active closers through TIME_WAIT and its expiry, the passive ones from
 * LAST_ACK, an abort's peer by the reset, none by a timeout. Every corrupted
 * packet must be dropped by a checksum (or a header check) and none
 * accepted. A sanitizer build also checks that nothing leaks or is used
 * after being freed.
 *
 * The taps between the stacks and the link tag every segment with the
 * connection that sent it, so that a segment of an earlier connection on the
 * same 4-tuple (an earlier "incarnation") accepted by a later one is seen.
 *
 * Some outcomes are recognized exactly, counted, named and printed (anything
 * else is a plain failure):
 *
 * Stack weaknesses, which fail the test (the soak found both before the
 * RFC 6056 Algorithm 4 port choice; none since, in 24 other seeds):
 *  - blocked: the client's SYNs reach the server, which holds the 4-tuple
 *    (in TIME_WAIT, RFC 6191 refusing a new incarnation) and never makes a
 *    connection of them; connect() fails with ETIMEDOUT.
 *  - stale: the connection accepted a segment of an earlier incarnation
 *    (their sequence spaces overlap and there is no PAWS check); whatever
 *    then goes wrong on it — old bytes delivered, an old ACK acknowledging
 *    bytes the peer never got (a hang, then ETIMEDOUT) — is counted here.
 * What loss does to any TCP (Linux alike), which does not fail it:
 *  - connect timeout: no SYN-ACK reached the client in 7 tries.
 *  - half-open: the handshake's last ACK lost 6 times; the server drops its
 *    SYN_RCVD after 5 SYN-ACK retries, silently, while the client, which
 *    waits for the server to speak first, is ESTABLISHED and never learns.
 *    Its application gives up after APP_TIMEOUT.
 *  - FIN outlived TIME_WAIT: a FIN, or the ACK of it, lost until the peer's
 *    TIME_WAIT was over; the closer is then reset (or times out).
 *  - ghost: a retransmitted SYN that arrives after the server's connection
 *    ended makes a new SYN_RCVD child, which dies (reset or timeout).
 *
 * One summary line per level goes to stdout. The connection table, the
 * TIME_WAIT records, the socket table and the state-change hook are read
 * through the library's private headers, as tcp_scenarios does. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "finack/sim.h"
#include "finack/socket.h"
#include "stack.h"
#include "tcp/tcp.h"
#include "test.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define CLIENT 0
#define SERVER 1
#define CLIENT_ADDR 0x0a000001u
#define SERVER_ADDR 0x0a000002u
#define SERVER_PORT 80
#define SEED 20240611u

#define LEVELS 4
#define CONNS_PER_LEVEL 8000
#define CONNS (LEVELS * CONNS_PER_LEVEL)
#define MAX_ACTIVE 200
#define MAX_PAYLOAD 8192
#define MAX_LIVES 4                    /* server TCBs one connection may cause (ghosts) */
#define HEARTBEAT FINACK_MSEC(500)     /* an abort's peer pokes the aborted connection */
#define STEP_MIN FINACK_MSEC(1)        /* the application looks at its sockets this often, */
#define STEP_MAX FINACK_MSEC(50)       /* or at the next event if later, but at most this */
#define APP_TIMEOUT FINACK_SEC(60)     /* a client left on a half-open connection gives up */
#define STALL_LIMIT FINACK_SEC(1200)   /* no progress for this long is a failure */
#define LEVEL_LIMIT FINACK_SEC(3600)   /* virtual time allowed for one level's connections */
#define DRAIN (2 * TCP_DEFAULT_MSL + FINACK_SEC(10))
#define DRAIN_MAX FINACK_SEC(1200)     /* a FIN still retransmitted may take longer */
#define MAX_NOTES 40
#define MAX_KNOWN_NOTES 10             /* of those, about known outcomes */
#define NO_CONN (-1)

struct level {
    const char *name;
    double loss, reorder, duplicate, corrupt;
};

static const struct level levels[LEVELS] = {
    {"loss-0", 0.00, 0.02, 0.02, 0.00},
    {"loss-5", 0.05, 0.03, 0.02, 0.01},
    {"loss-10", 0.10, 0.04, 0.02, 0.01},
    {"loss-20", 0.20, 0.05, 0.02, 0.01},
};

enum pattern {
    CLIENT_FIRST,
    SERVER_FIRST,
    SIMULTANEOUS,
    ABORT_BY_CLIENT,
    ABORT_BY_SERVER,
    PATTERN__COUNT
};
static const char *const pattern_names[] = {"client-first", "server-first", "simultaneous",
                                            "abort-by-client", "abort-by-server"};

/* How a connection ended, when not as planned. */
enum outcome {
    OK,
    BLOCKED,         /* weakness */
    STALE,           /* weakness */
    CONNECT_TIMEOUT, /* loss */
    HALF_OPEN,       /* loss */
    FAILED,          /* unexplained: the test fails */
    OUTCOME__COUNT
};

/* One side of a connection, as the application sees it. */
struct side {
    int fd;             /* -1 before connect/accept and after close */
    size_t len;         /* payload this side sends */
    size_t sent;        /* bytes send() took (an abort's peer: heartbeats too) */
    size_t got;         /* bytes received, all checked */
    unsigned eofs, resets;
    bool started;       /* ESTABLISHED once */
    bool shut, closed;
    finack_time_t next_beat;
};

/* One TCB of a connection, as the state-change hook saw it. */
struct life {
    uint32_t iss;
    unsigned died, time_waits;
    int died_from, died_error;
    finack_time_t died_at;
};

struct soak_conn {
    unsigned id, level;
    enum pattern pattern;
    enum outcome outcome;
    int aborter;         /* CLIENT, SERVER, or -1 for a graceful close */
    bool closer[2];      /* which side shuts down first (both: simultaneous) */
    bool after_fin;      /* the passive closer sends only after the other's FIN */
    bool simul_shut;
    bool accepted, done, torn_down;
    size_t abort_at;     /* the aborter closes once it has read this much */
    uint64_t key;        /* the payload streams' seed */
    uint16_t cport;
    uint32_t iss;        /* the client's ISS */
    uint32_t srv_iss;    /* the ISS of the server TCB accept() gave */
    int prev_on_port;    /* the connection that had this client port before */
    unsigned syns_in, synacks_in; /* handshake segments that reached the other stack */
    unsigned stale_hits; /* segments of earlier incarnations it accepted */
    finack_time_t half_open_at, last_progress;
    uint64_t progress;
    struct side end[2];
    struct life cli;
    struct life srv[MAX_LIVES];
    unsigned nsrv;
};

/* What one level did (the stacks' and the link's counters as differences). */
struct tally {
    unsigned patterns[PATTERN__COUNT], empty_payloads, after_fin;
    unsigned outcomes[OUTCOME__COUNT];
    unsigned reuses, reuses_live, stale_accepted, stale_conns;
    unsigned fin_outlived, ghosts, max_active;
    unsigned timeouts[2][TCPS__COUNT]; /* TCBs ended by ETIMEDOUT, by side and state */
    uint64_t bytes[2];                 /* payload delivered to the application, by sender */
    uint64_t rtx[2];                   /* segments sending sequence space again, by sender */
    uint64_t segs, bad_csum[2];
    struct finack_sim_path_stats path[2];
    finack_time_t started, finished;
};

struct world;

/* What a stack transmits on: tags and counts segments, then hands the
 * packet to the simulated link as if the stack had sent it there. */
struct tap {
    struct finack_link link;
    struct world *w;
    int side;
};

/* Sequence space sent so far on one connection (by client port), per
 * direction, to recognize a segment that sends some of it again. */
struct flow {
    bool known[2];
    uint32_t iss[2], max_end[2];
};

/* Which connection sent a packet, by sending side and IP ID (sequential per
 * stack, so unique among the packets in flight). */
struct tag {
    int conn;
    uint32_t seq, ack;
    uint16_t sport, dport;
    uint8_t flags;
};

struct world {
    struct finack_sim *sim;
    struct finack_sim_link *link;
    struct finack_stack *st[2];
    struct tap tap[2];
    struct flow *flows;   /* [65536] */
    struct tag *tags;     /* [2][65536] */
    int *last_on_port;    /* [65536]: latest connection with this client port */
    int lfd;

    struct soak_conn *conns;
    unsigned started, done;
    unsigned *active;
    unsigned nactive;
    unsigned level;       /* the one running */
    struct tally tally[LEVELS];

    unsigned client_births, births[2], deaths[2], unmatched;
    finack_time_t drained;
    unsigned failures, known_notes;
    char notes[MAX_NOTES][240];
    unsigned nnotes;
};

/* ---- Seeded values ---------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t next_rand(uint64_t *state)
{
    *state += 0x9e3779b97f4a7c15u;
    return mix64(*state);
}

/* Bytes [off, off + n) of the stream side dir of c sends: a function of the
 * connection's key, the direction and the offset alone, and unbounded (an
 * abort's peer goes on past its payload). */
static void fill(const struct soak_conn *c, int dir, size_t off, uint8_t *out, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t pos = off + i;
        uint64_t word = mix64(c->key ^ ((uint64_t)(dir + 1) << 56) ^
                              ((uint64_t)(pos >> 3) * 0x9e3779b97f4a7c15u));
        for (size_t b = pos & 7; b < 8 && i < n; b++, i++) out[i] = (uint8_t)(word >> (8 * b));
    }
}

/* ---- Bookkeeping ------------------------------------------------------------- */

static finack_time_t now_of(const struct world *w) { return finack_sim_now(w->sim); }
static const char *side_name(int s) { return s == CLIENT ? "client" : "server"; }
static bool seq_before(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static struct tally *tally_of(struct world *w, const struct soak_conn *c)
{
    return &w->tally[c ? c->level : w->level];
}

static void note(struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct world *w, const char *fmt, ...)
{
    if (w->nnotes == MAX_NOTES) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->notes[w->nnotes++], sizeof w->notes[0], fmt, ap);
    va_end(ap);
}

static void describe(struct world *w, const struct soak_conn *c, int s, const char *what,
                     bool known)
{
    if (known && w->known_notes++ >= MAX_KNOWN_NOTES) return;
    note(w, "%s: seed %u conn %u (%s, port %u, %zu/%zu bytes) %s: %s (t=%.3f s)",
         levels[c->level].name, SEED, c->id, pattern_names[c->pattern], c->cport,
         c->end[CLIENT].len, c->end[SERVER].len, side_name(s), what, (double)now_of(w) / 1e6);
}

/* Something went wrong on c. After it accepted a segment of an earlier
 * incarnation that is the known weakness; otherwise a failure. Either way
 * the connection is torn down (service() does it) so the run goes on. */
static void fail(struct world *w, struct soak_conn *c, int s, const char *what, long long a,
                 long long b)
{
    bool stale = c->stale_hits > 0;
    if (stale && c->outcome == STALE) return;
    if (!stale) w->failures++;
    char text[128];
    snprintf(text, sizeof text, "%s%s (%lld, %lld)",
             stale ? "known weakness: stale segment accepted, then " : "", what, a, b);
    describe(w, c, s, text, stale);
    c->outcome = stale ? STALE : FAILED;
}

/* The connection a TCB (or TIME_WAIT record) of stack side belongs to: by
 * client port and client ISS. */
static struct soak_conn *conn_for(struct world *w, int side, const struct tcp_tuple *t,
                                  uint32_t iss, uint32_t irs)
{
    uint16_t cport = side == CLIENT ? t->lport : t->rport;
    uint32_t ciss = side == CLIENT ? iss : irs;
    for (int i = w->last_on_port[cport]; i != NO_CONN; i = w->conns[i].prev_on_port)
        if (w->conns[i].iss == ciss) return &w->conns[i];
    return NULL;
}

static struct soak_conn *conn_of_tcb(struct world *w, int side, const struct tcp_conn *k)
{
    return conn_for(w, side, &k->tuple, k->iss, k->irs);
}

static struct life *life_of(struct soak_conn *c, int side, uint32_t iss)
{
    if (side == CLIENT) return &c->cli;
    for (unsigned i = 0; i < c->nsrv; i++)
        if (c->srv[i].iss == iss) return &c->srv[i];
    return NULL;
}

/* The server TCB that carried the connection: the accepted one, or the
 * first if none was accepted; NULL if the server never had one. */
static const struct life *main_srv(const struct soak_conn *c)
{
    for (unsigned i = 0; i < c->nsrv; i++)
        if (c->accepted && c->srv[i].iss == c->srv_iss) return &c->srv[i];
    return c->nsrv ? &c->srv[0] : NULL;
}

/* ---- Taps and hooks ---------------------------------------------------------- */

/* Drops only a damaged packet can cause. */
static bool malformed(enum finack_drop_reason r)
{
    switch (r) {
    case FINACK_DROP_IP_TRUNCATED:
    case FINACK_DROP_IP_BAD_VERSION:
    case FINACK_DROP_IP_BAD_IHL:
    case FINACK_DROP_IP_BAD_CHECKSUM:
    case FINACK_DROP_IP_TOTAL_LEN_SHORT:
    case FINACK_DROP_IP_TOTAL_LEN_LONG:
    case FINACK_DROP_IP_FRAGMENT:
    case FINACK_DROP_TCP_TRUNCATED:
    case FINACK_DROP_TCP_BAD_DATA_OFFSET:
    case FINACK_DROP_TCP_DATA_OFFSET_PAST_END:
    case FINACK_DROP_TCP_BAD_OPTION_LENGTH:
    case FINACK_DROP_TCP_OPTION_PAST_HEADER:
    case FINACK_DROP_TCP_BAD_CHECKSUM: return true;
    default: return false;
    }
}

static bool parse_tcp(const uint8_t *packet, size_t len, struct ipv4_header *ip,
                      struct tcp_segment *seg)
{
    return wire_ipv4_parse(packet, len, false, ip) == FINACK_DROP_NONE &&
           ip->protocol == IPPROTO_TCP_ &&
           wire_tcp_parse(ip->payload, ip->payload_len, ip->src, ip->dst, false, seg) ==
               FINACK_DROP_NONE;
}

/* The connection of the TCB (or TIME_WAIT record) stack side holds for a
 * segment it sends (out) or receives, if any. */
static struct soak_conn *holder(struct world *w, int side, const struct ipv4_header *ip,
                                const struct tcp_segment *seg, bool out)
{
    struct tcp_tuple t = {.laddr = out ? ip->src : ip->dst, .raddr = out ? ip->dst : ip->src,
                          .lport = out ? seg->src_port : seg->dst_port,
                          .rport = out ? seg->dst_port : seg->src_port};
    struct tcp_conn *k = tcp_table_lookup(w->st[side]->tcp, &t);
    if (k) return conn_of_tcb(w, side, k);
    struct tcp_timewait *tw = tcp_tw_lookup(w->st[side]->tcp, &t);
    return tw ? conn_for(w, side, &tw->tuple, tw->iss, tw->irs) : NULL;
}

static void count_segment(struct world *w, int side, const struct tcp_segment *seg)
{
    struct flow *f = &w->flows[side == CLIENT ? seg->src_port : seg->dst_port];
    uint32_t span = (uint32_t)seg->payload_len + !!(seg->flags & TCP_FLAG_SYN) +
                    !!(seg->flags & TCP_FLAG_FIN);
    if ((seg->flags & TCP_FLAG_RST) || span == 0) return;
    if (seg->flags & TCP_FLAG_SYN) {
        if (f->known[side] && seg->seq == f->iss[side]) {
            w->tally[w->level].rtx[side]++;
            return;
        }
        /* A new connection on this port (a client's SYN starts both ways). */
        if (side == CLIENT) f->known[SERVER] = false;
        f->known[side] = true;
        f->iss[side] = seg->seq;
        f->max_end[side] = seg->seq + span;
        return;
    }
    if (!f->known[side]) return;
    if (seq_before(seg->seq, f->max_end[side])) w->tally[w->level].rtx[side]++;
    if (seq_before(f->max_end[side], seg->seq + span)) f->max_end[side] = seg->seq + span;
}

static int tap_transmit(struct finack_link *link, const uint8_t *packet, size_t len,
                        finack_time_t now)
{
    (void)now;
    struct tap *t = link->driver;
    struct world *w = t->w;
    struct ipv4_header ip;
    struct tcp_segment seg;
    if (parse_tcp(packet, len, &ip, &seg)) {
        count_segment(w, t->side, &seg);
        struct soak_conn *c = holder(w, t->side, &ip, &seg, true);
        w->tags[t->side * 65536 + ip.id] = (struct tag){
            .conn = c ? (int)c->id : NO_CONN, .seq = seg.seq, .ack = seg.ack,
            .sport = seg.src_port, .dport = seg.dst_port, .flags = seg.flags};
    }
    return finack_sim_link_inject(w->link, t->side, packet, len);
}

static const struct finack_link_ops tap_ops = {.transmit = tap_transmit};

static void on_packet(void *ctx, const uint8_t *packet, size_t len, finack_time_t now)
{
    struct tap *t = ctx;
    struct world *w = t->w;
    struct ipv4_header ip;
    struct tcp_segment seg;
    struct soak_conn *to = NULL, *from = NULL;
    if (parse_tcp(packet, len, &ip, &seg)) {
        const struct tag *tag = &w->tags[(1 - t->side) * 65536 + ip.id];
        if (tag->conn != NO_CONN && tag->seq == seg.seq && tag->ack == seg.ack &&
            tag->flags == seg.flags && tag->sport == seg.src_port && tag->dport == seg.dst_port)
            from = &w->conns[tag->conn];
        to = holder(w, t->side, &ip, &seg, false);
    }
    enum finack_drop_reason r = finack_stack_input(w->st[t->side], &t->link, packet, len, now);
    if (!from || malformed(r)) return;
    /* The handshake got this far (whatever the stack made of it). */
    if ((seg.flags & TCP_FLAG_SYN) && !(seg.flags & TCP_FLAG_ACK)) from->syns_in++;
    if ((seg.flags & TCP_FLAG_SYN) && (seg.flags & TCP_FLAG_ACK)) from->synacks_in++;
    /* A segment of an earlier incarnation accepted by a later one. */
    if (r == FINACK_DROP_NONE && to && from->id < to->id) {
        struct tally *y = tally_of(w, to);
        y->stale_accepted++;
        if (!to->stale_hits++) y->stale_conns++;
    }
}

static void on_state(void *ctx, const struct tcp_state_change *ch)
{
    struct tap *t = ctx;
    struct world *w = t->w;
    int side = t->side, from = (int)ch->from, to = (int)ch->to;
    if (ch->tuple.rport == 0) return; /* the listener */
    bool birth = to == TCPS_SYN_SENT || (to == TCPS_SYN_RCVD && from != TCPS_SYN_SENT);
    if (birth) w->births[side]++;
    if (to == TCPS_CLOSED) w->deaths[side]++;
    if (side == CLIENT && birth) {
        w->client_births++; /* inside connect(): start() records it */
        return;
    }
    struct soak_conn *c = conn_for(w, side, &ch->tuple, ch->iss, ch->irs);
    if (to == TCPS_CLOSED && ch->error == ETIMEDOUT) tally_of(w, c)->timeouts[side][from]++;
    if (c && birth) {
        if (c->nsrv == MAX_LIVES) {
            w->unmatched++;
            return;
        }
        c->srv[c->nsrv++] = (struct life){.iss = ch->iss};
        return;
    }
    struct life *l = c ? life_of(c, side, ch->iss) : NULL;
    if (!l) {
        w->unmatched++;
        return;
    }
    if (to == TCPS_TIME_WAIT) l->time_waits++;
    if (to == TCPS_CLOSED) {
        l->died++;
        l->died_from = from;
        l->died_error = ch->error;
        l->died_at = finack_sim_now(w->sim);
    }
}

/* ---- The world --------------------------------------------------------------- */

static struct finack_stack *make_stack(struct world *w, int side)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = side_name(side);
    cfg.secret[0] = mix64(SEED * 2 + (uint64_t)side);
    cfg.secret[1] = mix64(SEED * 2 + (uint64_t)side + 0x100);
    struct finack_stack *s;
    if (finack_stack_create(&s, &cfg)) abort();
    struct tap *t = &w->tap[side];
    *t = (struct tap){.w = w, .side = side};
    t->link = (struct finack_link){.ops = &tap_ops, .driver = t,
                                   .mtu = finack_sim_link_end(w->link, side)->mtu,
                                   .name = side == CLIENT ? "soak.client" : "soak.server"};
    if (finack_stack_add_interface(s, &t->link, side == CLIENT ? CLIENT_ADDR : SERVER_ADDR, 24))
        abort();
    if (finack_sim_link_set_receiver(w->link, side, on_packet, t)) abort();
    if (finack_sim_add_stack(w->sim, s)) abort();
    s->on_state_change = on_state;
    s->on_state_change_ctx = t;
    return s;
}

static struct world *world_new(void)
{
    struct world *w = calloc(1, sizeof *w);
    if (!w) abort();
    w->flows = calloc(65536, sizeof *w->flows);
    w->tags = malloc(2 * 65536 * sizeof *w->tags);
    w->last_on_port = malloc(65536 * sizeof *w->last_on_port);
    w->conns = calloc(CONNS, sizeof *w->conns);
    w->active = calloc(MAX_ACTIVE, sizeof *w->active);
    if (!w->flows || !w->tags || !w->last_on_port || !w->conns || !w->active) abort();
    for (int p = 0; p < 65536; p++) w->last_on_port[p] = NO_CONN;
    for (int i = 0; i < 2 * 65536; i++) w->tags[i] = (struct tag){.conn = NO_CONN};
    if (finack_sim_create(&w->sim, SEED)) abort();
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    if (finack_sim_link_create(w->sim, &cfg, &w->link)) abort();
    for (int side = CLIENT; side <= SERVER; side++) w->st[side] = make_stack(w, side);
    return w;
}

static void world_free(struct world *w)
{
    finack_sim_destroy(w->sim);
    for (int side = CLIENT; side <= SERVER; side++) finack_stack_destroy(w->st[side]);
    free(w->flows);
    free(w->tags);
    free(w->last_on_port);
    free(w->conns);
    free(w->active);
    free(w);
}

static void set_level(struct world *w, unsigned level)
{
    const struct level *lv = &levels[level];
    struct finack_sim_path path = {.latency = FINACK_MSEC(1), .jitter = 200, .loss = lv->loss,
                                   .reorder = lv->reorder, .duplicate = lv->duplicate,
                                   .corrupt = lv->corrupt};
    if (finack_sim_link_set_path(w->link, FINACK_SIM_A, &path) ||
        finack_sim_link_set_path(w->link, FINACK_SIM_B, &path))
        abort();
    w->level = level;
}

static struct sockaddr_in sockaddr_of(uint32_t ip, uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(ip)};
    return a;
}

static struct tcp_conn *conn_of(struct finack_stack *s, int fd)
{
    return s->sockets.socks[fd].conn;
}

static int set_linger_zero(struct finack_stack *s, int fd)
{
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    return finack_setsockopt(s, fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

/* ---- The application ----------------------------------------------------------- */

static void plan(struct world *w, uint64_t *rng, unsigned id, unsigned level)
{
    struct soak_conn *c = &w->conns[id];
    struct tally *y = &w->tally[level];
    *c = (struct soak_conn){.id = id, .level = level, .aborter = -1, .key = next_rand(rng),
                            .prev_on_port = NO_CONN};
    unsigned r = (unsigned)(next_rand(rng) % 100);
    c->pattern = r < 30 ? CLIENT_FIRST
               : r < 55 ? SERVER_FIRST
               : r < 75 ? SIMULTANEOUS
               : r < 88 ? ABORT_BY_CLIENT
                        : ABORT_BY_SERVER;
    y->patterns[c->pattern]++;
    for (int s = CLIENT; s <= SERVER; s++) {
        c->end[s].fd = -1;
        c->end[s].len = next_rand(rng) % 10 == 0 ? 0 : 1 + next_rand(rng) % MAX_PAYLOAD;
        y->empty_payloads += c->end[s].len == 0;
    }
    bool after_fin = next_rand(rng) & 1;
    switch (c->pattern) {
    case CLIENT_FIRST: c->closer[CLIENT] = true; break;
    case SERVER_FIRST: c->closer[SERVER] = true; break;
    case SIMULTANEOUS: c->closer[CLIENT] = c->closer[SERVER] = true; break;
    case ABORT_BY_CLIENT: c->aborter = CLIENT; break;
    case ABORT_BY_SERVER: c->aborter = SERVER; break;
    default: abort();
    }
    if (c->aborter >= 0) c->abort_at = next_rand(rng) % (c->end[1 - c->aborter].len + 1);
    c->after_fin = after_fin && (c->pattern == CLIENT_FIRST || c->pattern == SERVER_FIRST);
    y->after_fin += c->after_fin;
}

static void start(struct world *w, unsigned id)
{
    struct soak_conn *c = &w->conns[id];
    struct finack_stack *cli = w->st[CLIENT];
    int fd = finack_socket(cli, AF_INET, SOCK_STREAM, 0);
    if (fd < 0) abort();
    if (c->aborter == CLIENT && set_linger_zero(cli, fd)) abort();
    struct sockaddr_in sa = sockaddr_of(SERVER_ADDR, SERVER_PORT);
    unsigned births = w->client_births;
    int r = finack_connect(cli, fd, (struct sockaddr *)&sa, sizeof sa);
    c->end[CLIENT].fd = fd;
    if (r != -EINPROGRESS || w->client_births != births + 1) {
        fail(w, c, CLIENT, "connect", r, -EINPROGRESS);
        return;
    }
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    finack_getsockname(cli, fd, (struct sockaddr *)&me, &len);
    c->cport = ntohs(me.sin_port);
    c->iss = c->cli.iss = conn_of(cli, fd)->iss;
    c->prev_on_port = w->last_on_port[c->cport];
    w->last_on_port[c->cport] = (int)id;
    if (c->prev_on_port == NO_CONN) return;
    /* The port was used before: does the server still hold the 4-tuple? */
    struct tally *y = tally_of(w, c);
    y->reuses++;
    struct tcp_tuple t = {.laddr = SERVER_ADDR, .raddr = CLIENT_ADDR, .lport = SERVER_PORT,
                          .rport = c->cport};
    if (tcp_table_lookup(w->st[SERVER]->tcp, &t) || tcp_tw_lookup(w->st[SERVER]->tcp, &t))
        y->reuses_live++;
}

static void close_side(struct world *w, struct soak_conn *c, int s)
{
    struct side *me = &c->end[s];
    if (me->fd < 0 || me->closed) return;
    int r = finack_close(w->st[s], me->fd);
    if (r) fail(w, c, s, "close", r, 0);
    me->closed = true;
    me->fd = -1;
}

/* Reset whatever is left of a connection that went wrong. */
static void tear_down(struct world *w, struct soak_conn *c)
{
    for (int s = CLIENT; s <= SERVER; s++) {
        if (c->end[s].fd >= 0 && !c->end[s].closed) set_linger_zero(w->st[s], c->end[s].fd);
        close_side(w, c, s);
    }
    /* Not accepted yet: accept_all() resets it if it ever comes. */
    c->end[SERVER].closed = true;
    c->torn_down = true;
}

/* recv() or send() failed with err (positive). */
static void side_error(struct world *w, struct soak_conn *c, int s, int err, const char *call)
{
    struct side *me = &c->end[s];
    if (err == ECONNRESET && c->aborter == 1 - s && !me->resets && !me->eofs) {
        me->resets++; /* what an abort's peer waits for */
        return;
    }
    if (err == ECONNRESET && c->outcome == HALF_OPEN) { /* the listener's answer */
        me->resets++;
        return;
    }
    if (err == ETIMEDOUT && s == CLIENT && !me->started && !c->accepted && !c->stale_hits) {
        /* connect() failed: no SYN-ACK came back (loss), or SYNs reached a
         * server that never made a connection of them. */
        if (!c->synacks_in && (!c->syns_in || c->nsrv)) {
            c->outcome = CONNECT_TIMEOUT;
            describe(w, c, s, "loss: connect() timed out", true);
            return;
        }
        if (c->syns_in && !c->nsrv) {
            c->outcome = BLOCKED;
            describe(w, c, s, "known weakness: blocked, connect() timed out", true);
            return;
        }
    }
    fail(w, c, s, call, -err, (long long)me->resets);
}

static void receive(struct world *w, struct soak_conn *c, int s)
{
    struct side *me = &c->end[s];
    uint8_t buf[4096], want[4096];
    if (me->eofs || me->resets) return;
    for (;;) {
        ssize_t r = finack_recv(w->st[s], me->fd, buf, sizeof buf, 0);
        if (r == -EAGAIN) return;
        if (r < 0) {
            side_error(w, c, s, (int)-r, "recv");
            return;
        }
        if (r == 0) {
            me->eofs++;
            if (c->aborter >= 0) {
                fail(w, c, s, "EOF on a connection the other side aborts", (long long)me->got, 0);
                return;
            }
            if (me->got != c->end[1 - s].len)
                fail(w, c, s, "EOF before all the data", (long long)me->got,
                     (long long)c->end[1 - s].len);
            /* Whoever sent its FIN first is CLOSING or TIME_WAIT by now; the
             * other side is CLOSE_WAIT. */
            const char *state = finack_socket_state(w->st[s], me->fd);
            bool ok = me->shut ? !strcmp(state, "TIME_WAIT") || !strcmp(state, "CLOSING")
                               : !strcmp(state, "CLOSE_WAIT");
            if (!ok) fail(w, c, s, state, me->shut, 0);
            return;
        }
        size_t n = (size_t)r;
        fill(c, 1 - s, me->got, want, n);
        if (memcmp(buf, want, n) != 0) {
            size_t at = 0;
            while (buf[at] == want[at]) at++;
            fail(w, c, s, "byte differs at offset", (long long)(me->got + at), (long long)n);
            return;
        }
        me->got += n;
        tally_of(w, c)->bytes[1 - s] += n;
        if (c->aborter < 0 && me->got > c->end[1 - s].len) {
            fail(w, c, s, "more bytes than were sent", (long long)me->got,
                 (long long)c->end[1 - s].len);
            return;
        }
    }
}

static bool send_bytes(struct world *w, struct soak_conn *c, int s, size_t upto)
{
    struct side *me = &c->end[s];
    uint8_t buf[4096];
    while (me->sent < upto) {
        size_t n = upto - me->sent < sizeof buf ? upto - me->sent : sizeof buf;
        fill(c, s, me->sent, buf, n);
        ssize_t r = finack_send(w->st[s], me->fd, buf, n, 0);
        if (r == -EAGAIN) return true;
        if (r <= 0) {
            side_error(w, c, s, r ? (int)-r : EIO, "send");
            return false;
        }
        me->sent += (size_t)r;
    }
    return true;
}

static void transmit(struct world *w, struct soak_conn *c, int s)
{
    struct side *me = &c->end[s];
    if (me->shut || me->resets) return;
    if (c->after_fin && !c->closer[s] && !me->eofs) return;
    if (!send_bytes(w, c, s, me->len) || me->sent < me->len) return;
    if (c->closer[s] && c->pattern != SIMULTANEOUS) {
        int r = finack_shutdown(w->st[s], me->fd, SHUT_WR);
        if (r) fail(w, c, s, "shutdown", r, 0);
        me->shut = true;
    }
    if (c->aborter == 1 - s) {
        finack_time_t now = now_of(w);
        if (!me->next_beat) {
            me->next_beat = now + HEARTBEAT;
        } else if (now >= me->next_beat) {
            me->next_beat = now + HEARTBEAT;
            send_bytes(w, c, s, me->sent + 1);
        }
    }
}

/* EOF, or the reset, stays reported: recv returns 0 and nothing else. */
static void check_end_of_stream(struct world *w, struct soak_conn *c, int s)
{
    uint8_t b;
    ssize_t r = finack_recv(w->st[s], c->end[s].fd, &b, 1, 0);
    if (r != 0) fail(w, c, s, "recv after EOF or reset", (long long)r, 0);
}

static void maybe_close(struct world *w, struct soak_conn *c, int s)
{
    struct side *me = &c->end[s];
    if (me->closed) return;
    if (c->aborter == s) {
        if (me->got >= c->abort_at && c->accepted) close_side(w, c, s); /* SO_LINGER 0: RST */
        return;
    }
    if (c->aborter == 1 - s) {
        if (!me->resets) return;
    } else if (!me->eofs || me->sent < me->len || (c->closer[s] && !me->shut)) {
        return;
    }
    check_end_of_stream(w, c, s);
    close_side(w, c, s);
}

static void service_side(struct world *w, struct soak_conn *c, int s)
{
    struct side *me = &c->end[s];
    if (me->fd < 0 || me->closed) return;
    if (!me->started) { /* until ESTABLISHED (or failed) only check for errors */
        const char *state = finack_socket_state(w->st[s], me->fd);
        if (!strcmp(state, "SYN_SENT")) return;
        me->started = strcmp(state, "CLOSED") != 0;
    }
    receive(w, c, s);
    if (c->outcome != OK || me->closed) return;
    transmit(w, c, s);
    if (c->outcome != OK || me->closed) return;
    maybe_close(w, c, s);
}

/* Whether the server dropped a SYN_RCVD connection after its SYN-ACK
 * retries: with ETIMEDOUT, or with no error at all (it has no socket to
 * tell; Linux drops a request sock silently). */
static bool gave_up_syn_rcvd(const struct life *l)
{
    return l && l->died && l->died_from == TCPS_SYN_RCVD &&
           (l->died_error == ETIMEDOUT || l->died_error == 0);
}

/* The handshake's last ACK was lost so often that the server dropped its
 * SYN_RCVD connection while the client is ESTABLISHED (see the top). */
static void check_half_open(struct world *w, struct soak_conn *c)
{
    if (c->outcome == OK && !c->accepted && gave_up_syn_rcvd(main_srv(c)) &&
        c->end[CLIENT].started && !c->stale_hits) {
        c->outcome = HALF_OPEN;
        c->half_open_at = now_of(w);
        describe(w, c, SERVER, "loss: half-open, SYN_RCVD timed out, the client gives up", true);
    }
}

static void check_progress(struct world *w, struct soak_conn *c)
{
    uint64_t progress = c->accepted;
    for (int s = CLIENT; s <= SERVER; s++)
        progress += c->end[s].sent + c->end[s].got + c->end[s].eofs + c->end[s].resets +
                    c->end[s].started + c->end[s].shut + c->end[s].closed;
    if (progress != c->progress || !c->last_progress) {
        c->progress = progress;
        c->last_progress = now_of(w);
    } else if (now_of(w) - c->last_progress > STALL_LIMIT && c->outcome == OK) {
        fail(w, c, CLIENT, "no progress for STALL_LIMIT", 0, 0);
    }
}

static void service(struct world *w, struct soak_conn *c)
{
    check_half_open(w, c);
    service_side(w, c, CLIENT);
    service_side(w, c, SERVER);
    check_progress(w, c);
    if (c->pattern == SIMULTANEOUS && !c->simul_shut && c->outcome == OK && c->accepted &&
        !c->end[SERVER].closed && c->end[CLIENT].started &&
        c->end[CLIENT].sent == c->end[CLIENT].len && c->end[SERVER].sent == c->end[SERVER].len) {
        /* Both FINs leave at the same instant and cross. */
        for (int s = CLIENT; s <= SERVER; s++) {
            int r = finack_shutdown(w->st[s], c->end[s].fd, SHUT_WR);
            if (r) fail(w, c, s, "shutdown", r, 0);
            c->end[s].shut = true;
        }
        c->simul_shut = true;
    }
    bool give_up = c->outcome == HALF_OPEN &&
                   (c->end[CLIENT].resets || now_of(w) >= c->half_open_at + APP_TIMEOUT);
    if (c->outcome != OK && (c->outcome != HALF_OPEN || give_up) && !c->torn_down)
        tear_down(w, c);
    if (!c->end[CLIENT].closed || !c->end[SERVER].closed) return;
    c->done = true;
    w->done++;
    if (c->outcome != OK) return;
    if (c->aborter < 0) {
        for (int s = CLIENT; s <= SERVER; s++)
            if (c->end[s].got != c->end[1 - s].len || c->end[s].eofs != 1)
                fail(w, c, s, "ended without all the data and one EOF", (long long)c->end[s].got,
                     (long long)c->end[s].eofs);
    } else if (c->end[1 - c->aborter].resets != 1) {
        fail(w, c, 1 - c->aborter, "resets seen", c->end[1 - c->aborter].resets, 1);
    }
}

static void accept_all(struct world *w)
{
    struct finack_stack *srv = w->st[SERVER];
    for (;;) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        int fd = finack_accept(srv, w->lfd, (struct sockaddr *)&peer, &len);
        if (fd == -EAGAIN) return;
        if (fd < 0) {
            note(w, "accept: %d", fd);
            w->failures++;
            return;
        }
        struct soak_conn *c = conn_of_tcb(w, SERVER, conn_of(srv, fd));
        if (!c || c->accepted) {
            note(w, "accepted an unknown connection from port %u", ntohs(peer.sin_port));
            w->failures++;
            set_linger_zero(srv, fd);
            finack_close(srv, fd);
            continue;
        }
        c->accepted = true;
        c->srv_iss = conn_of(srv, fd)->iss;
        if (c->end[SERVER].closed) { /* torn down already */
            set_linger_zero(srv, fd);
            finack_close(srv, fd);
            continue;
        }
        c->end[SERVER].fd = fd;
        if (c->aborter == SERVER && set_linger_zero(srv, fd)) abort();
    }
}

/* Application time: the next event, but at least STEP_MIN and at most
 * STEP_MAX ahead. */
static void advance(struct world *w)
{
    finack_time_t now = now_of(w), next = finack_sim_next_event(w->sim);
    finack_time_t t = now + STEP_MIN;
    if (next == FINACK_TIME_NEVER || next > now + STEP_MAX) t = now + STEP_MAX;
    else if (next > t) t = next;
    finack_sim_run_until(w->sim, t);
}

/* ---- Checks at the end ----------------------------------------------------------- */

/* TCBs and TIME_WAIT records. */
static size_t connections(const struct finack_stack *s)
{
    return s->tcp->conn_count + s->tcp->tw_count;
}

static size_t open_sockets(struct finack_stack *s)
{
    size_t n = 0;
    for (int fd = 0; fd < s->sockets.count; fd++) n += s->sockets.socks[fd].in_use;
    return n;
}

static void dump_connections(struct world *w, int side)
{
    struct tcp_stack *tcp = w->st[side]->tcp;
    unsigned shown = 0;
    for (size_t b = 0; b < tcp->bucket_count; b++)
        for (struct tcp_conn *k = tcp->buckets[b]; k && shown < 20; k = k->hash_next, shown++)
            fprintf(stderr, "  %s still holds %u -> %u in %s\n", side_name(side),
                    k->tuple.lport, k->tuple.rport, tcp_state_name(k->state));
    for (size_t b = 0; b < tcp->tw_bucket_count; b++)
        for (struct tcp_timewait *t = tcp->tw_buckets[b]; t && shown < 20;
             t = t->hash_next, shown++)
            fprintf(stderr, "  %s still holds %u -> %u in a TIME_WAIT record\n",
                    side_name(side), t->tuple.lport, t->tuple.rport);
}

/* Sum of the drops only a damaged packet can cause. */
static uint64_t malformed_drops(struct finack_stack *s)
{
    uint64_t n = 0;
    for (int r = 0; r < FINACK_DROP__COUNT; r++)
        if (malformed((enum finack_drop_reason)r))
            n += finack_stack_drops(s, (enum finack_drop_reason)r);
    return n;
}

static void life_mismatch(struct world *w, struct soak_conn *c, int s, const struct life *l,
                          const char *want)
{
    char text[200];
    snprintf(text, sizeof text, "TCB ended from %s with error %d after %u TIME_WAITs, %u deaths; "
             "wanted %s", tcp_state_name((enum tcp_state)l->died_from), l->died_error,
             l->time_waits, l->died, want);
    w->failures++;
    describe(w, c, s, text, false);
}

/* How one side's TCB must have ended, by the way the connection closed. */
static void check_life(struct world *w, struct soak_conn *c, int s)
{
    const struct life *l = s == CLIENT ? &c->cli : main_srv(c);
    const struct life *peer = s == CLIENT ? main_srv(c) : &c->cli;
    if (!l) { /* the server never had a TCB */
        if (c->outcome != BLOCKED && c->outcome != CONNECT_TIMEOUT)
            life_mismatch(w, c, s, &(struct life){0}, "a server TCB");
        return;
    }
    if (l->died != 1) {
        life_mismatch(w, c, s, l, "one death");
        return;
    }
    switch (c->outcome) {
    case OK: break;
    case BLOCKED:
    case CONNECT_TIMEOUT:
        if (s == CLIENT && (l->died_from != TCPS_SYN_SENT || l->died_error != ETIMEDOUT))
            life_mismatch(w, c, s, l, "SYN_SENT, ETIMEDOUT");
        if (s == SERVER && l->died_from != TCPS_SYN_RCVD)
            life_mismatch(w, c, s, l, "SYN_RCVD");
        return;
    case HALF_OPEN:
        if (s == SERVER && !gave_up_syn_rcvd(l)) life_mismatch(w, c, s, l, "SYN_RCVD, timed out");
        return;
    default: return; /* torn down after going wrong: any end will do */
    }
    int from, error = 0;
    unsigned tw = 0;
    if (c->aborter == s) {
        from = TCPS_ESTABLISHED; /* the peer never sends a FIN */
    } else if (c->aborter == 1 - s) {
        from = TCPS_ESTABLISHED;
        error = ECONNRESET;
    } else if (c->closer[s]) {
        from = TCPS_TIME_WAIT;
        tw = 1;
    } else {
        from = TCPS_LAST_ACK;
    }
    if (l->died_from == from && l->died_error == error && l->time_waits == tw) return;
    /* A FIN, or the ACK of it, lost until the peer's TIME_WAIT was over: the
     * closer is reset by the peer's stack (or runs out of retries). */
    bool fin_pending = l->died_from == TCPS_FIN_WAIT_1 || l->died_from == TCPS_CLOSING ||
                       l->died_from == TCPS_LAST_ACK;
    if (c->aborter < 0 && fin_pending && !l->time_waits && peer && peer->died &&
        peer->died_from == TCPS_TIME_WAIT && peer->died_at <= l->died_at) {
        tally_of(w, c)->fin_outlived++;
        char text[96];
        snprintf(text, sizeof text, "loss: FIN outlived the peer's TIME_WAIT, TCB ended at %.3f s",
                 (double)l->died_at / 1e6);
        describe(w, c, s, text, true);
        return;
    }
    char want[64];
    snprintf(want, sizeof want, "%s with error %d after %u TIME_WAITs",
             tcp_state_name((enum tcp_state)from), error, tw);
    life_mismatch(w, c, s, l, want);
}

/* Server TCBs other than the main one: made by a late retransmitted SYN,
 * they never establish. */
static void check_ghosts(struct world *w, struct soak_conn *c)
{
    const struct life *m = main_srv(c);
    for (unsigned i = 0; i < c->nsrv; i++) {
        const struct life *l = &c->srv[i];
        if (l == m) continue;
        tally_of(w, c)->ghosts++;
        if (l->died != 1 || l->died_from != TCPS_SYN_RCVD) life_mismatch(w, c, SERVER, l, "ghost");
    }
}

/* Counters of the stacks and the link, to tell one level's share. */
struct snapshot {
    uint64_t segs, bad_csum[2];
    struct finack_sim_path_stats path[2];
};

static struct snapshot snapshot(struct world *w)
{
    struct snapshot n = {0};
    for (int s = CLIENT; s <= SERVER; s++) {
        n.segs += finack_stack_counter(w->st[s], FINACK_CTR_TCP_OUT_SEGS);
        n.bad_csum[s] = finack_stack_drops(w->st[s], FINACK_DROP_TCP_BAD_CHECKSUM);
        n.path[s] = finack_sim_link_stats(w->link, s == CLIENT ? FINACK_SIM_A : FINACK_SIM_B);
    }
    return n;
}

static struct finack_sim_path_stats path_minus(struct finack_sim_path_stats a,
                                               struct finack_sim_path_stats b)
{
    return (struct finack_sim_path_stats){
        .sent = a.sent - b.sent, .delivered = a.delivered - b.delivered, .lost = a.lost - b.lost,
        .too_big = a.too_big - b.too_big, .queue_drops = a.queue_drops - b.queue_drops,
        .duplicated = a.duplicated - b.duplicated, .reordered = a.reordered - b.reordered,
        .corrupted = a.corrupted - b.corrupted};
}

/* Open, use and close one level's connections. */
static void run_level(struct world *w, unsigned level, uint64_t *rng)
{
    struct tally *y = &w->tally[level];
    set_level(w, level);
    unsigned first = level * CONNS_PER_LEVEL, end = first + CONNS_PER_LEVEL;
    for (unsigned i = first; i < end; i++) plan(w, rng, i, level);
    struct snapshot before = snapshot(w);
    y->started = now_of(w);
    while ((w->started < end || w->nactive) && now_of(w) < y->started + LEVEL_LIMIT) {
        while (w->nactive < MAX_ACTIVE && w->started < end) {
            w->active[w->nactive++] = w->started;
            start(w, w->started++);
        }
        if (w->nactive > y->max_active) y->max_active = w->nactive;
        accept_all(w);
        for (unsigned i = 0; i < w->nactive;) {
            struct soak_conn *c = &w->conns[w->active[i]];
            service(w, c);
            if (c->done) w->active[i] = w->active[--w->nactive];
            else i++;
        }
        advance(w);
    }
    y->finished = now_of(w);
    for (unsigned i = 0; i < w->nactive; i++) {
        struct soak_conn *c = &w->conns[w->active[i]];
        fail(w, c, CLIENT, "still open at the time limit", c->end[CLIENT].closed,
             c->end[SERVER].closed);
        tear_down(w, c);
    }
    w->nactive = 0;
    struct snapshot after = snapshot(w);
    y->segs = after.segs - before.segs;
    for (int s = CLIENT; s <= SERVER; s++) {
        y->bad_csum[s] = after.bad_csum[s] - before.bad_csum[s];
        y->path[s] = path_minus(after.path[s], before.path[s]);
    }
}

static void print_level(const struct world *w, unsigned level)
{
    const struct level *lv = &levels[level];
    const struct tally *y = &w->tally[level];
    const unsigned *n = y->patterns, *o = y->outcomes;
    unsigned timeouts = 0;
    for (int s = CLIENT; s <= SERVER; s++)
        for (int st = 0; st < TCPS__COUNT; st++) timeouts += y->timeouts[s][st];
    printf("soak %s seed=%u loss=%.2f reorder=%.2f dup=%.2f corrupt=%.2f: %u conns "
           "(client-first %u, server-first %u, simultaneous %u, aborts %u+%u; %u empty payloads, "
           "%u send after FIN; at most %u open), %u ok; bytes c2s=%" PRIu64 " s2c=%" PRIu64
           "; segs=%" PRIu64 " rtx=%" PRIu64 "+%" PRIu64 " lost=%" PRIu64 "+%" PRIu64
           " corrupted=%" PRIu64 "+%" PRIu64 " bad-tcp-csum=%" PRIu64 "+%" PRIu64
           "; port reuses %u (%u with the server still holding the tuple); "
           "WEAKNESS blocked=%u stale-segments-accepted=%u (%u conns, %u went wrong); "
           "LOSS connect-timeout=%u half-open=%u fin-outlived-time-wait=%u ghosts=%u; "
           "ETIMEDOUT TCBs=%u (SYN_SENT %u, SYN_RCVD %u); virtual %.1f s\n",
           lv->name, SEED, lv->loss, lv->reorder, lv->duplicate, lv->corrupt, CONNS_PER_LEVEL,
           n[CLIENT_FIRST], n[SERVER_FIRST], n[SIMULTANEOUS], n[ABORT_BY_CLIENT],
           n[ABORT_BY_SERVER], y->empty_payloads, y->after_fin, y->max_active, o[OK],
           y->bytes[CLIENT], y->bytes[SERVER], y->segs, y->rtx[CLIENT], y->rtx[SERVER],
           y->path[CLIENT].lost, y->path[SERVER].lost, y->path[CLIENT].corrupted,
           y->path[SERVER].corrupted, y->bad_csum[SERVER], y->bad_csum[CLIENT], y->reuses,
           y->reuses_live, o[BLOCKED], y->stale_accepted, y->stale_conns, o[STALE],
           o[CONNECT_TIMEOUT], o[HALF_OPEN], y->fin_outlived, y->ghosts, timeouts,
           y->timeouts[CLIENT][TCPS_SYN_SENT], y->timeouts[SERVER][TCPS_SYN_RCVD],
           (double)(y->finished - y->started) / 1e6);
}

static void test_soak(void)
{
    struct world *w = world_new();
    struct finack_stack *cli = w->st[CLIENT], *srv = w->st[SERVER];
    w->lfd = finack_socket(srv, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = sockaddr_of(0, SERVER_PORT);
    REQUIRE(finack_bind(srv, w->lfd, (struct sockaddr *)&any, sizeof any) == 0);
    REQUIRE(finack_listen(srv, w->lfd, 1024) == 0);
    uint64_t rng = mix64(SEED);
    for (unsigned level = 0; level < LEVELS; level++) run_level(w, level, &rng);
    CHECK_EQ(w->done, CONNS);

    /* Past 2·MSL after the last close nothing is left, but for a FIN still
     * being retransmitted (then see check_life()). */
    finack_time_t finished = now_of(w);
    finack_sim_run_until(w->sim, finished + DRAIN);
    while (connections(cli) + connections(srv) && now_of(w) < finished + DRAIN_MAX)
        finack_sim_run_until(w->sim, now_of(w) + FINACK_SEC(10));
    w->drained = now_of(w) - finished;
    CHECK_EQ(cli->tcp->conn_count, 0);
    CHECK_EQ(srv->tcp->conn_count, 0);
    CHECK_EQ(cli->tcp->tw_count, 0);
    CHECK_EQ(srv->tcp->tw_count, 0);
    if (connections(cli) + connections(srv)) {
        dump_connections(w, CLIENT);
        dump_connections(w, SERVER);
    }
    CHECK_EQ(finack_close(srv, w->lfd), 0);
    CHECK_EQ(open_sockets(cli), 0);
    CHECK_EQ(open_sockets(srv), 0);
    CHECK(finack_sim_next_event(w->sim) == FINACK_TIME_NEVER);

    /* Every TCB was born once and ended CLOSED once, the way its
     * connection's close says. */
    for (unsigned i = 0; i < CONNS; i++) {
        struct soak_conn *c = &w->conns[i];
        check_life(w, c, CLIENT);
        check_life(w, c, SERVER);
        check_ghosts(w, c);
        w->tally[c->level].outcomes[c->outcome]++;
    }
    CHECK_EQ(w->unmatched, 0);
    CHECK_EQ(w->births[CLIENT], CONNS);
    CHECK_EQ(w->deaths[CLIENT], w->births[CLIENT]);
    CHECK_EQ(w->deaths[SERVER], w->births[SERVER]);
    CHECK_EQ(w->failures, 0);

    /* The faults happened, and every corrupted copy was dropped on arrival. */
    struct snapshot all = snapshot(w);
    CHECK_U64(malformed_drops(srv), all.path[CLIENT].corrupted);
    CHECK_U64(malformed_drops(cli), all.path[SERVER].corrupted);
    for (int s = CLIENT; s <= SERVER; s++) {
        CHECK_EQ(finack_stack_drops(w->st[s], FINACK_DROP_IP_BAD_SOURCE), 0);
        CHECK_EQ(finack_stack_drops(w->st[s], FINACK_DROP_IP_NOT_FOR_US), 0);
        CHECK_EQ(finack_stack_drops(w->st[s], FINACK_DROP_IP_UNKNOWN_PROTOCOL), 0);
        CHECK_EQ(finack_stack_drops(w->st[s], FINACK_DROP_TCP_NO_MEMORY), 0);
        CHECK_EQ(finack_stack_drops(w->st[s], FINACK_DROP_OUT_LINK_ERROR), 0);
    }
    for (unsigned level = 0; level < LEVELS; level++) {
        const struct tally *y = &w->tally[level];
        CHECK(y->path[CLIENT].reordered > 0 && y->path[SERVER].reordered > 0);
        CHECK(y->path[CLIENT].duplicated > 0 && y->path[SERVER].duplicated > 0);
        if (levels[level].loss > 0) {
            CHECK(y->path[CLIENT].lost > 0 && y->path[SERVER].lost > 0);
            CHECK(y->rtx[CLIENT] > 0 && y->rtx[SERVER] > 0);
        }
        if (levels[level].corrupt > 0) CHECK(y->bad_csum[CLIENT] > 0 && y->bad_csum[SERVER] > 0);
        CHECK_EQ(y->outcomes[FAILED], 0);
        CHECK_EQ(y->outcomes[BLOCKED], 0);
        CHECK_EQ(y->stale_accepted, 0);
    }

    for (unsigned i = 0; i < w->nnotes; i++) fprintf(stderr, "  %s\n", w->notes[i]);
    if (test_current_failed)
        for (int s = CLIENT; s <= SERVER; s++)
            for (int r = 1; r < FINACK_DROP__COUNT; r++)
                if (finack_stack_drops(w->st[s], (enum finack_drop_reason)r))
                    fprintf(stderr, "  %s dropped %" PRIu64 " for %s\n", side_name(s),
                            finack_stack_drops(w->st[s], (enum finack_drop_reason)r),
                            finack_drop_reason_name((enum finack_drop_reason)r));
    for (unsigned level = 0; level < LEVELS; level++) print_level(w, level);
    printf("soak: %u connections, all gone %.0f s after the last (2*MSL = %.0f s)\n", CONNS,
           (double)w->drained / 1e6, (double)(2 * TCP_DEFAULT_MSL) / 1e6);
    fflush(stdout);
    world_free(w);
}

TEST_MAIN("tcp_soak", TEST_CASE(test_soak))
