/* Two ends on the simulated link, for the TCP tests that read the wire
 * (sim.tcp_scenarios, sim.tcp_timers): A (10.0.0.1) and B (10.0.0.2),
 * 1 ms each way by default. Either end is a finack stack or a script: a
 * scripted end sees the segments that reach it in the log and answers with
 * crafted ones (peer_send). Every TCP segment is logged as it reaches the
 * far end, and every state change of a connection (not a listener).
 *
 * The ladder is one token per segment in arrival order: '>' for A to B,
 * '<' for B to A, the flags as tcpdump prints them, ":len" for a payload,
 * '!' for a segment the test dropped. */
#ifndef FINACK_TEST_SIM_PAIR_H
#define FINACK_TEST_SIM_PAIR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "finack/sim.h"
#include "finack/socket.h"
#include "tcp/tcp.h"
#include "wire/tcp.h"

#define A_ADDR 0x0a000001u
#define B_ADDR 0x0a000002u
#define A FINACK_SIM_A
#define B FINACK_SIM_B
#define LATENCY FINACK_MSEC(1) /* the default link, each way */
#define LOG_CAP 1024
#define STATE_CAP 256

struct world;

struct end {
    struct world *w;
    int side;
    struct finack_stack *stack; /* NULL: a script plays this end */
};

/* One segment as it reached the far end of the link. */
struct seg_rec {
    finack_time_t t; /* arrival at the far end: sent at t - LATENCY */
    int from;
    bool dropped;
    struct tcp_segment seg; /* payload pointer cleared; payload_len kept */
};

struct state_rec {
    finack_time_t t;
    int side;
    uint16_t lport, rport;
    int from, to;
};

struct world {
    struct finack_sim *sim;
    struct finack_sim_link *link;
    struct end ends[2];
    struct seg_rec log[LOG_CAP];
    size_t nlog; /* may exceed LOG_CAP: later segments are counted only */
    struct state_rec states[STATE_CAP];
    size_t nstates;
    unsigned transitions[2][TCPS__COUNT][TCPS__COUNT]; /* listeners' too */
    bool drop_all[2];      /* drop every segment this end sends */
    unsigned drop_next[2]; /* drop this many of the next segments this end sends */
    char text[8192];       /* what ladder() and states_of() return */
};

/* A world whose ends are stacks (stack_a, stack_b) or scripts. cfg NULL: the
 * default link, 1 ms each way, no faults. */
struct world *world_new(uint64_t seed, bool stack_a, bool stack_b,
                        const struct finack_sim_link_config *cfg);
/* Frees w; if the test has failed, first prints the log (dump). */
void world_free(struct world *w);
/* Every logged segment from index first on, with its time, to stderr. */
void dump(struct world *w, size_t first);

finack_time_t now_of(struct world *w);
void run_for(struct world *w, finack_time_t dt);
void run_to(struct world *w, finack_time_t t);
struct finack_stack *stack_a(struct world *w);
struct finack_stack *stack_b(struct world *w);

/* Run in 1 ms steps until cond holds or limit_us pass. */
#define RUN_UNTIL(w, cond, limit_us)                                                \
    do {                                                                            \
        finack_time_t until_ = now_of(w) + (limit_us);                              \
        while (!(cond) && now_of(w) < until_) run_for((w), FINACK_MSEC(1));         \
    } while (0)

/* The ladder of segments logged from index first on. */
const char *ladder(struct world *w, size_t first);
/* The states one end's connections went through (lport 0: any), in order. */
const char *states_of(struct world *w, int side, uint16_t lport);
/* When one end's connection (lport 0: any) first entered state; NEVER if not. */
finack_time_t entered(const struct world *w, int side, uint16_t lport, int state);
/* The i-th logged segment, NULL past the log. */
const struct tcp_segment *logged(const struct world *w, size_t i);
/* A scripted end sends seg (ports, seq, ack, flags, window, payload). */
void peer_send(struct world *w, int side, const struct tcp_segment *seg);

uint32_t addr_of_side(int side);
struct sockaddr_in sockaddr_of(uint32_t ip, uint16_t port);
int bind_to(struct finack_stack *s, int fd, uint32_t ip, uint16_t port);
int connect_to(struct finack_stack *s, int fd, uint32_t ip, uint16_t port);
struct tcp_conn *conn_of(struct finack_stack *s, int fd);
int set_int(struct finack_stack *s, int fd, int level, int name, int v);
/* The option's value, or the negative error getsockopt gave. */
int get_int(struct finack_stack *s, int fd, int level, int name);
int so_error(struct finack_stack *s, int fd);

#endif
