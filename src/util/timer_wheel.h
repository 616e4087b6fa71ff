/*
 * A hierarchical timing wheel with exact, microsecond deadlines.
 *
 * Eleven levels of 64 slots cover all 64 bits of time, six bits a level. A
 * timer due at `expiry` sits at the level of the most significant six-bit
 * group in which expiry differs from the wheel's current time, in the slot
 * named by that group of expiry (the scheme of Varghese & Lauck, placed by
 * XOR as in W. Ahern's timeout.c). Arming and cancelling are O(1); advancing
 * moves each timer down at most once per level; the next deadline is found
 * from one 64-bit occupancy mask per level. Level-0 slots are one
 * microsecond wide, so timers fire at exactly their expiry, never rounded.
 *
 * Timers are intrusive: embed a struct timer in the owner and recover the
 * owner in the callback with container_of.
 */
#ifndef FINACK_UTIL_TIMER_WHEEL_H
#define FINACK_UTIL_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TIMER_WHEEL_LEVELS 11
#define TIMER_WHEEL_SLOTS 64

struct timer;
typedef void (*timer_fn)(struct timer *timer, uint64_t now);

struct timer {
    struct timer *next, **pprev; /* pprev == NULL: not armed */
    uint64_t expiry;
    timer_fn fn;
    uint8_t level, slot;         /* where it sits; level LEVELS = due list */
};

struct timer_wheel {
    uint64_t now;                                 /* time of the last advance */
    uint64_t occupied[TIMER_WHEEL_LEVELS];        /* bit s: slot s non-empty */
    struct timer *slots[TIMER_WHEEL_LEVELS][TIMER_WHEEL_SLOTS];
    struct timer *due;                            /* expired, not yet run */
    size_t count;                                 /* armed timers */
};

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

void timer_wheel_init(struct timer_wheel *wheel, uint64_t now);
void timer_init(struct timer *timer, timer_fn fn);

/* Arm (or re-arm) timer to fire at expiry; a time at or before the wheel's
 * current time fires on the next advance. */
void timer_arm(struct timer_wheel *wheel, struct timer *timer, uint64_t expiry);
void timer_cancel(struct timer_wheel *wheel, struct timer *timer);

static inline bool timer_armed(const struct timer *timer) { return timer->pprev != NULL; }

/* Move the wheel's time to now (never backwards) and run every timer due at
 * or before it, in expiry order within each slot's cascade. Callbacks may arm
 * and cancel any timer, including themselves. Returns how many ran. */
size_t timer_wheel_advance(struct timer_wheel *wheel, uint64_t now);

/* The earliest time a timer may be due: exact when the earliest timer is in
 * level 0, otherwise the start of its slot (a lower bound; advancing to it
 * cascades the timer closer). UINT64_MAX if none is armed. */
uint64_t timer_wheel_next(const struct timer_wheel *wheel);

#endif
