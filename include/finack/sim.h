/* The simulator: stacks in one process joined by point-to-point links, on a
 * virtual clock, with seeded faults.
 *
 * A struct finack_sim owns the clock (µs, starting at 0), one PRNG seeded
 * from a uint64_t, the links, and the packets in flight on all of them. It
 * drives the stacks added to it: it delivers each packet at its arrival time
 * with finack_stack_input() and calls finack_stack_poll() when a stack's
 * deadline comes. Nothing reads the real clock or sleeps, so simulated
 * minutes take milliseconds, and the same seed with the same calls gives the
 * same packets byte for byte (every random draw comes from the one PRNG, in
 * the order the events happen).
 *
 * Time: stacks must be given finack_sim_now() as `now` in every call made on
 * them from outside the sim (finack_stack_ping(..., finack_sim_now(sim))).
 * The sim stamps everything sent on its links with its own clock.
 *
 * Nothing here is thread-safe; one sim belongs to one thread.
 */
#ifndef FINACK_SIM_H
#define FINACK_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "finack/finack.h"
#include "finack/pcap.h"

#ifdef __cplusplus
extern "C" {
#endif

struct finack_sim;
struct finack_sim_link;

/* The two ends of a link. A packet transmitted at end A travels the a_to_b
 * path and arrives at end B. */
#define FINACK_SIM_A 0
#define FINACK_SIM_B 1

/* One direction of a link. Each packet sent into it meets, in this order:
 *
 *  1. MTU: longer than the link's mtu → dropped (too_big); transmit returns
 *     -EMSGSIZE.
 *  2. loss: with probability `loss` it vanishes on the wire (lost);
 *     transmit still returns 0, as a real wire would.
 *  3. queue: with rate_bps set, packets wait for the wire. If the bytes of
 *     earlier packets not yet fully serialized, plus this one, exceed
 *     queue_limit, it is tail-dropped (queue_drops) and transmit returns
 *     -ENOBUFS. So queue_limit below the mtu drops every packet that finds
 *     the wire busy, and one below a packet's size drops it always.
 *     0 = unlimited. Ignored without a rate.
 *  4. serialization: departure = max(now, busy_until) + len*8/rate_bps,
 *     rounded up to the µs; busy_until keeps the exact fraction, so many
 *     packets add up without drift. rate_bps 0 = infinitely fast.
 *  5. propagation: arrival = departure + latency + a uniform draw in
 *     [0, jitter] µs.
 *  6. order: unless reordered, arrival is raised to at least the previous
 *     arrival on this path, so jitter alone never reorders (FIFO, like one
 *     cable). With probability `reorder` the packet instead gets
 *     reorder_delay more and is exempt from that rule, so later packets
 *     overtake it (reordered). reorder_delay 0 means 2 * latency + 1 ms.
 *  7. duplicate: with probability `duplicate` a second copy arrives 1 µs
 *     after the first (duplicated).
 *  8. corrupt: each copy, independently, with probability `corrupt` has one
 *     bit of one byte flipped, both chosen uniformly (corrupted).
 *
 * A probability of 0 draws nothing from the PRNG, so enabling one fault
 * changes the draws of the others, but a given configuration and seed always
 * give the same run. Probabilities must lie in [0, 1]. */
struct finack_sim_path {
    finack_time_t latency;       /* one-way propagation delay, µs */
    finack_time_t jitter;        /* extra delay drawn uniformly in [0, jitter] µs */
    uint64_t rate_bps;           /* bits per second; 0 = unlimited */
    size_t queue_limit;          /* bytes awaiting serialization; 0 = unlimited */
    double loss, duplicate, reorder, corrupt;
    finack_time_t reorder_delay; /* extra delay of a reordered packet; 0 = 2*latency + 1 ms */
};

struct finack_sim_link_config {
    uint32_t mtu;                /* largest IPv4 packet carried, 68..65535 */
    struct finack_sim_path a_to_b, b_to_a;
};

/* mtu 1500; each way 1 ms latency, no jitter, unlimited rate and queue,
 * no faults. */
void finack_sim_link_config_init(struct finack_sim_link_config *cfg);

/* Counters of one direction, named after the step of the path that counts
 * them. sent counts every packet handed in (transmit or inject); delivered
 * counts copies that reached the far end (duplicates included), when they
 * arrive. */
struct finack_sim_path_stats {
    uint64_t sent, delivered, lost, too_big, queue_drops, duplicated, reordered, corrupted;
};

/* ---- The simulator -------------------------------------------------------- */

int finack_sim_create(struct finack_sim **out, uint64_t seed);
/* Frees the links and the packets in flight. Stacks and pcaps given to the
 * sim stay the caller's, to destroy or close after (or before) this. */
void finack_sim_destroy(struct finack_sim *sim);

finack_time_t finack_sim_now(const struct finack_sim *sim);

/* The next number from the sim's PRNG, for tests that want seeded values of
 * their own (stack secrets, payloads). Drawing changes later fault draws. */
uint64_t finack_sim_random(struct finack_sim *sim);

/* Poll stack at its deadlines from now on. Adding a stack twice is a no-op.
 * The stack must outlive the sim or be removed first. */
int finack_sim_add_stack(struct finack_sim *sim, struct finack_stack *stack);
/* Stop driving stack: no more polls, and any link end it is attached to is
 * detached (packets arriving there are then discarded). */
void finack_sim_remove_stack(struct finack_sim *sim, struct finack_stack *stack);

/* ---- Links ------------------------------------------------------------------ */

/* Create a link owned by sim (freed by finack_sim_destroy). Returns -EINVAL
 * for an mtu outside 68..65535 or a probability outside [0, 1]. */
int finack_sim_link_create(struct finack_sim *sim, const struct finack_sim_link_config *cfg,
                           struct finack_sim_link **out);

/* Change one direction's path from now on (packets in flight keep the fate
 * already drawn). side_sending is the end whose transmissions it carries. */
int finack_sim_link_set_path(struct finack_sim_link *link, int side_sending,
                             const struct finack_sim_path *path);

/* The finack_link of one end, to give to finack_stack_add_interface(). Named
 * "simN.a" / "simN.b", N counting links in creation order. NULL for a side
 * other than FINACK_SIM_A or FINACK_SIM_B. */
struct finack_link *finack_sim_link_end(struct finack_sim_link *link, int side);

/* Deliver packets arriving at this end to stack through finack_stack_input()
 * (with this end's finack_link), and add the stack to the sim if it is not
 * there yet. Replaces any receiver function. NULL detaches. */
int finack_sim_link_attach(struct finack_sim_link *link, int side, struct finack_stack *stack);

/* Hand packets arriving at this end to fn instead (a test, or a script
 * playing the remote host with raw packets). The bytes are valid only during
 * the call; fn may transmit (finack_sim_link_inject) from inside. Replaces
 * any attached stack. fn NULL: arriving packets are discarded. */
typedef void (*finack_sim_receive_fn)(void *ctx, const uint8_t *packet, size_t len,
                                      finack_time_t now);
int finack_sim_link_set_receiver(struct finack_sim_link *link, int side, finack_sim_receive_fn fn,
                                 void *ctx);

/* Send a packet from this end at the current sim time, exactly as if the
 * stack there had transmitted it (same path, faults and capture). Returns
 * what transmit would: 0, -EMSGSIZE, -ENOBUFS, -ENOMEM or -EINVAL. */
int finack_sim_link_inject(struct finack_sim_link *link, int side, const uint8_t *packet,
                           size_t len);

/* tcpdump on the host at this end: record every packet the end transmits
 * (when transmitted, before any fault) and every copy delivered to it (when
 * delivered, as delivered: corrupted bits included). Both ends may write
 * into the same pcap. NULL stops capturing. The pcap stays the caller's and
 * must stay open while the sim may write to it. */
int finack_sim_link_capture(struct finack_sim_link *link, int side, struct finack_pcap *pcap);

/* Counters of the direction that carries side_sending's transmissions. */
struct finack_sim_path_stats finack_sim_link_stats(const struct finack_sim_link *link,
                                                   int side_sending);

/* ---- Running ---------------------------------------------------------------- */

/* The time of the next event: the earliest packet arrival or stack deadline
 * (FINACK_TIME_NEVER if there is none). May be before now if a stack asked
 * for a poll in the past; the clock then stays at now. */
finack_time_t finack_sim_next_event(const struct finack_sim *sim);

/* Move the clock to the next event (never backwards), deliver every packet
 * due by then in (arrival time, send order) order, including packets those
 * deliveries send with no delay, then poll each stack whose deadline is due,
 * in the order they were added. Returns 1 if there was an event, 0 if the
 * sim is idle. */
int finack_sim_step(struct finack_sim *sim);

/* Process every event at or before t, then set the clock to t (if it is
 * not already later) and poll every stack at it, so that socket calls made
 * next happen at time t. */
void finack_sim_run_until(struct finack_sim *sim, finack_time_t t);

/* Process events until there are none left or the next one lies after limit.
 * The clock stays at the last event processed (it is not moved to limit);
 * returns that time. */
finack_time_t finack_sim_run(struct finack_sim *sim, finack_time_t limit);

#ifdef __cplusplus
}
#endif
#endif
