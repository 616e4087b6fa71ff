/*
 * Impairments on the finack side of a real link: loss, delay, reordering
 * and duplication, as `tc netem` would add them on a Linux device (netem
 * is not available everywhere finack runs; the simulated link of
 * finack/sim.h has its own).
 *
 * The same impairments apply to both directions, each with its own queue
 * and its own random stream: packets the device delivers to the stack
 * (FINACK_IMPAIR_IN) and packets the stack transmits (FINACK_IMPAIR_OUT).
 * A packet is, in this order:
 *   1. lost with probability loss;
 *   2. duplicated with probability duplicate (the copy goes through 3 and
 *      4 on its own);
 *   3. picked for reordering with probability reorder: it is held back
 *      until the next packet of its direction has gone (it then follows
 *      that packet), or for FINACK_IMPAIR_REORDER_HOLD past its time if no
 *      packet comes;
 *   4. held for delay, first in first out.
 *
 * Deterministic: every draw comes from a PRNG seeded from seed, and time
 * is always passed in (nothing here reads a clock), so the same seed, the
 * same packets and the same times give the same deliveries. Held packets
 * are copies (the caller's buffer may go away); a direction holds at most
 * FINACK_IMPAIR_MAX_HELD packets, beyond which a packet is dropped as a
 * full router queue would drop it (counted as queue_drops).
 */
#ifndef FINACK_IMPAIR_H
#define FINACK_IMPAIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "finack/finack.h"
#include "finack/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FINACK_IMPAIR_REORDER_HOLD FINACK_MSEC(10)
#define FINACK_IMPAIR_MAX_HELD 65536

struct finack_impair_config {
    double loss;          /* probability 0..1 that a packet is dropped */
    double duplicate;     /* probability 0..1 that a packet is sent twice */
    double reorder;       /* probability 0..1 that a packet is overtaken */
    finack_time_t delay;  /* added to every packet, µs */
    uint64_t seed;        /* the PRNG seed */
};

enum finack_impair_dir {
    FINACK_IMPAIR_IN,   /* device → stack */
    FINACK_IMPAIR_OUT,  /* stack → device */
};

struct finack_impair_stats {
    uint64_t packets;      /* handed in */
    uint64_t lost;         /* dropped by loss */
    uint64_t duplicated;   /* extra copies made */
    uint64_t reordered;    /* held back to be overtaken */
    uint64_t queue_drops;  /* dropped because the direction held too many */
    uint64_t delivered;    /* handed on (copies included) */
};

struct finack_impair;

/* -EINVAL for a probability outside 0..1 (or NaN), -ENOMEM. */
int finack_impair_create(struct finack_impair **out, const struct finack_impair_config *cfg);
/* Frees every held packet. NULL is allowed. */
void finack_impair_destroy(struct finack_impair *imp);

/* ---- The packet scheduler (what the unit tests drive) ------------------------ */

/* Called for each packet a direction hands on; the bytes are valid only
 * during the call. */
typedef void (*finack_impair_deliver_fn)(void *ctx, enum finack_impair_dir dir,
                                         const uint8_t *packet, size_t len, finack_time_t now);

/* Hand in one packet travelling in dir at now. Returns 0 (lost, held or
 * due at once: finack_impair_run() hands it on), or -ENOMEM. */
int finack_impair_push(struct finack_impair *imp, enum finack_impair_dir dir,
                       const uint8_t *packet, size_t len, finack_time_t now);

/* Hand on, in order, every packet of dir due at or before now. Returns
 * when dir next has a packet due (FINACK_TIME_NEVER: it holds none).
 * deliver may push into the other direction, not into dir. */
finack_time_t finack_impair_run(struct finack_impair *imp, enum finack_impair_dir dir,
                                finack_time_t now, finack_impair_deliver_fn deliver, void *ctx);

void finack_impair_get_stats(const struct finack_impair *imp, enum finack_impair_dir dir,
                             struct finack_impair_stats *out);

/* ---- Around a device, as a link of the run loop ------------------------------ */

/* The device under the impairments: the link it transmits on, its
 * descriptor, and a read of one packet (length, 0 when none is waiting,
 * or a negative errno), as finack_tun_read(). */
struct finack_impair_device {
    struct finack_link *link;
    int fd;
    ssize_t (*read)(void *ctx, uint8_t *buf, size_t cap, finack_time_t now);
    void *ctx;
};

/* Put imp between device and a stack. The returned loop link's link is
 * the one to give finack_stack_add_interface() (same MTU as the device's);
 * its poll callback hands on delayed packets. Packets the device refuses
 * on the way out are dropped (the stack has moved on; TCP retransmits). */
int finack_impair_attach(struct finack_impair *imp, const struct finack_impair_device *device,
                         struct finack_loop_link *out);

#ifdef __cplusplus
}
#endif
#endif
