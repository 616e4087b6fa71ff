#include "sim_pair.h"

#include <stdio.h>
#include <stdlib.h>

#include "stack.h"
#include "test.h"
#include "wire/ipv4.h"

uint32_t addr_of_side(int side) { return side == A ? A_ADDR : B_ADDR; }

static void on_packet(void *ctx, const uint8_t *packet, size_t len, finack_time_t now)
{
    struct end *e = ctx;
    struct world *w = e->w;
    struct ipv4_header ip;
    struct tcp_segment seg;
    bool tcp = wire_ipv4_parse(packet, len, false, &ip) == FINACK_DROP_NONE &&
               ip.protocol == IPPROTO_TCP_ &&
               wire_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, false, &seg) ==
                   FINACK_DROP_NONE;
    int from = 1 - e->side;
    bool drop = tcp && (w->drop_all[from] || w->drop_next[from]);
    if (tcp && w->drop_next[from]) w->drop_next[from]--;
    if (tcp) {
        if (w->nlog < LOG_CAP) {
            struct seg_rec *r = &w->log[w->nlog];
            r->t = now;
            r->from = from;
            r->dropped = drop;
            r->seg = seg;
            r->seg.payload = NULL;
        }
        w->nlog++;
    }
    if (!drop && e->stack)
        finack_stack_input(e->stack, finack_sim_link_end(w->link, e->side), packet, len, now);
}

static void on_state(void *ctx, const struct tcp_state_change *ch)
{
    const struct tcp_tuple *tuple = &ch->tuple;
    int from = (int)ch->from, to = (int)ch->to;
    struct end *e = ctx;
    struct world *w = e->w;
    w->transitions[e->side][from][to]++;
    if (tuple->rport == 0 || w->nstates == STATE_CAP) return; /* listeners */
    w->states[w->nstates++] = (struct state_rec){
        .t = finack_sim_now(w->sim), .side = e->side, .lport = tuple->lport,
        .rport = tuple->rport, .from = from, .to = to};
}

static struct finack_stack *make_stack(struct world *w, int side, uint64_t seed)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = side == A ? "A" : "B";
    cfg.secret[0] = seed * 2654435761u + (uint64_t)side;
    cfg.secret[1] = seed * 40503u + 7;
    struct finack_stack *s;
    if (finack_stack_create(&s, &cfg)) abort();
    if (finack_stack_add_interface(s, finack_sim_link_end(w->link, side), addr_of_side(side), 24))
        abort();
    s->on_state_change = on_state;
    s->on_state_change_ctx = &w->ends[side];
    if (finack_sim_add_stack(w->sim, s)) abort();
    return s;
}

struct world *world_new(uint64_t seed, bool stack_a, bool stack_b,
                        const struct finack_sim_link_config *cfg)
{
    struct world *w = calloc(1, sizeof *w);
    if (!w || finack_sim_create(&w->sim, seed)) abort();
    struct finack_sim_link_config def;
    finack_sim_link_config_init(&def);
    if (finack_sim_link_create(w->sim, cfg ? cfg : &def, &w->link)) abort();
    for (int side = A; side <= B; side++) {
        w->ends[side] = (struct end){.w = w, .side = side};
        if (side == A ? stack_a : stack_b) w->ends[side].stack = make_stack(w, side, seed);
        if (finack_sim_link_set_receiver(w->link, side, on_packet, &w->ends[side])) abort();
    }
    return w;
}

void dump(struct world *w, size_t first)
{
    for (size_t i = first; i < w->nlog && i < LOG_CAP; i++) {
        const struct seg_rec *r = &w->log[i];
        char flags[10];
        fprintf(stderr, "    [%zu] %10.6f %c %-4s seq=%u ack=%u win=%u len=%zu%s\n", i,
                (double)r->t / 1e6, r->from == A ? '>' : '<',
                tcp_flags_string(r->seg.flags, flags), r->seg.seq, r->seg.ack, r->seg.window,
                r->seg.payload_len, r->dropped ? " dropped" : "");
    }
}

void world_free(struct world *w)
{
    if (test_current_failed) dump(w, 0);
    finack_sim_destroy(w->sim);
    for (int side = A; side <= B; side++) finack_stack_destroy(w->ends[side].stack);
    free(w);
}

finack_time_t now_of(struct world *w) { return finack_sim_now(w->sim); }
void run_for(struct world *w, finack_time_t dt) { finack_sim_run_until(w->sim, now_of(w) + dt); }
void run_to(struct world *w, finack_time_t t) { finack_sim_run_until(w->sim, t); }
struct finack_stack *stack_a(struct world *w) { return w->ends[A].stack; }
struct finack_stack *stack_b(struct world *w) { return w->ends[B].stack; }

const char *ladder(struct world *w, size_t first)
{
    size_t n = 0;
    w->text[0] = '\0';
    for (size_t i = first; i < w->nlog && i < LOG_CAP; i++) {
        const struct seg_rec *r = &w->log[i];
        char flags[10];
        n += (size_t)snprintf(w->text + n, sizeof w->text - n, "%s%c%s", n ? " " : "",
                              r->from == A ? '>' : '<', tcp_flags_string(r->seg.flags, flags));
        if (r->seg.payload_len)
            n += (size_t)snprintf(w->text + n, sizeof w->text - n, ":%zu", r->seg.payload_len);
        if (r->dropped) n += (size_t)snprintf(w->text + n, sizeof w->text - n, "!");
        if (n >= sizeof w->text - 16) break;
    }
    return w->text;
}

const char *states_of(struct world *w, int side, uint16_t lport)
{
    size_t n = 0;
    w->text[0] = '\0';
    for (size_t i = 0; i < w->nstates; i++) {
        const struct state_rec *r = &w->states[i];
        if (r->side != side || (lport && r->lport != lport)) continue;
        n += (size_t)snprintf(w->text + n, sizeof w->text - n, "%s%s", n ? " " : "",
                              tcp_state_name((enum tcp_state)r->to));
    }
    return w->text;
}

finack_time_t entered(const struct world *w, int side, uint16_t lport, int state)
{
    for (size_t i = 0; i < w->nstates; i++) {
        const struct state_rec *r = &w->states[i];
        if (r->side == side && (!lport || r->lport == lport) && r->to == state) return r->t;
    }
    return FINACK_TIME_NEVER;
}

const struct tcp_segment *logged(const struct world *w, size_t i)
{
    return i < w->nlog && i < LOG_CAP ? &w->log[i].seg : NULL;
}

void peer_send(struct world *w, int side, const struct tcp_segment *seg)
{
    uint8_t buf[1600];
    uint32_t src = addr_of_side(side), dst = addr_of_side(1 - side);
    int n = wire_tcp_emit(buf + IPV4_HEADER_MIN, sizeof buf - IPV4_HEADER_MIN, src, dst, seg);
    if (n < 0) abort();
    struct ipv4_header ip = {.total_len = (uint16_t)(IPV4_HEADER_MIN + n), .ttl = 64,
                             .frag = IPV4_FLAG_DF, .protocol = IPPROTO_TCP_, .src = src,
                             .dst = dst};
    wire_ipv4_emit(buf, sizeof buf, &ip);
    if (finack_sim_link_inject(w->link, side, buf, ip.total_len)) abort();
}

struct sockaddr_in sockaddr_of(uint32_t ip, uint16_t port)
{
    return (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port),
                                .sin_addr.s_addr = htonl(ip)};
}

int bind_to(struct finack_stack *s, int fd, uint32_t ip, uint16_t port)
{
    struct sockaddr_in sa = sockaddr_of(ip, port);
    return finack_bind(s, fd, (struct sockaddr *)&sa, sizeof sa);
}

int connect_to(struct finack_stack *s, int fd, uint32_t ip, uint16_t port)
{
    struct sockaddr_in sa = sockaddr_of(ip, port);
    return finack_connect(s, fd, (struct sockaddr *)&sa, sizeof sa);
}

struct tcp_conn *conn_of(struct finack_stack *s, int fd) { return s->sockets.socks[fd].conn; }

int set_int(struct finack_stack *s, int fd, int level, int name, int v)
{
    return finack_setsockopt(s, fd, level, name, &v, sizeof v);
}

int get_int(struct finack_stack *s, int fd, int level, int name)
{
    int v = -12345;
    socklen_t len = sizeof v;
    int err = finack_getsockopt(s, fd, level, name, &v, &len);
    return err ? err : v;
}

int so_error(struct finack_stack *s, int fd) { return get_int(s, fd, SOL_SOCKET, SO_ERROR); }
