/* The stage every scenario plays on (world.c): two finack stacks joined by
 * one simulated link, both traced into a struct sim_result, and the helpers
 * a scenario's applications use to act at the right virtual time and to
 * note what they did. Private to tools/sim/. */
#ifndef FINACK_TOOLS_SIM_WORLD_H
#define FINACK_TOOLS_SIM_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "finack/sim.h"
#include "finack/socket.h"
#include "sim/scenario.h"

struct sim_world;

struct sim_trace_ctx {
    struct sim_world *w;
    int side;
};

struct sim_world {
    struct finack_sim *sim;
    struct finack_sim_link *link;
    struct finack_stack *stack[2];
    struct sim_result *r;
    struct sim_trace_ctx trace_ctx[2];
    int error;                   /* -ENOMEM once recording failed */
};

/* Link and stacks for a run: link as given (NULL: 10 ms each way, no
 * faults), stacks named r->host[] with secrets from the seed; with
 * capture, the left host's packets are recorded there. */
int world_open(struct sim_world *w, struct sim_result *r, uint64_t seed,
               const struct finack_sim_link_config *link, struct finack_pcap *capture);
void world_close(struct sim_world *w);

static inline finack_time_t world_now(const struct sim_world *w) { return finack_sim_now(w->sim); }

/* Run the clock to t (or by dt), every stack polled there. */
void world_run_until(struct sim_world *w, finack_time_t t);
void world_run_for(struct sim_world *w, finack_time_t dt);

/* Process the next event if it comes by limit; false if none does. Every
 * stack is polled at the event's time, so socket calls made next see it. */
bool world_step(struct sim_world *w, finack_time_t limit);

/* Step event by event until cond holds (checked first, and after each
 * event), or no event comes within limit µs of now. Test cond again after. */
#define WORLD_WAIT(w, cond, limit)                                                    \
    for (finack_time_t wait_until_ = world_now(w) + (limit);                          \
         !(cond) && world_step((w), wait_until_);)                                    \
        ;

/* A note on side's line at the current time. */
void world_note(struct sim_world *w, int side, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Note "CALL = RESULT" (a count, or the errno's name) and return result. */
long world_call(struct sim_world *w, int side, long result, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "EADDRINUSE" for -EADDRINUSE; a number for errnos the tool never meets. */
const char *world_errno_name(long negative_errno, char *buf, size_t size);

/* Put a crafted TCP segment on the wire from side, as if its host had sent
 * it (an old duplicate), and record it as an injected event. */
int world_inject(struct sim_world *w, int side, uint16_t sport, uint16_t dport, uint32_t seq,
                 uint32_t ack, uint8_t flags, uint16_t window);

/* Socket helpers; addresses in host byte order. Each returns what the
 * finack call returned. */
int world_bind(struct sim_world *w, int side, int fd, uint32_t addr, uint16_t port);
int world_connect(struct sim_world *w, int side, int fd, uint32_t addr, uint16_t port);
int world_set_int(struct sim_world *w, int side, int fd, int level, int name, int value);
/* The state of fd's connection ("ESTABLISHED"). */
bool world_state_is(struct sim_world *w, int side, int fd, const char *state);

#endif
