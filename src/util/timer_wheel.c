#include "util/timer_wheel.h"

#include <assert.h>
#include <string.h>

#define BITS_PER_LEVEL 6
#define SLOT_MASK (TIMER_WHEEL_SLOTS - 1)
#define DUE_LEVEL TIMER_WHEEL_LEVELS

void timer_wheel_init(struct timer_wheel *wheel, uint64_t now)
{
    memset(wheel, 0, sizeof *wheel);
    wheel->now = now;
}

void timer_init(struct timer *timer, timer_fn fn)
{
    memset(timer, 0, sizeof *timer);
    timer->fn = fn;
}

static void list_push(struct timer **head, struct timer *timer)
{
    timer->next = *head;
    if (*head) (*head)->pprev = &timer->next;
    *head = timer;
    timer->pprev = head;
}

static void list_unlink(struct timer *timer)
{
    *timer->pprev = timer->next;
    if (timer->next) timer->next->pprev = timer->pprev;
    timer->next = NULL;
    timer->pprev = NULL;
}

/* The level is the most significant six-bit group where expiry and now
 * differ: above it both agree, so the timer's slot lies ahead of the
 * current position at that level and nothing wraps. */
/* The due list is kept in expiry order (ties in arrival order), so the
 * earliest is always its head: a single advance may make a hundred
 * thousand timers due at once (connections opened together). */
static void due_insert(struct timer_wheel *wheel, struct timer *timer)
{
    timer->level = DUE_LEVEL;
    struct timer **p = &wheel->due;
    while (*p && (*p)->expiry <= timer->expiry) p = &(*p)->next;
    timer->next = *p;
    if (*p) (*p)->pprev = &timer->next;
    *p = timer;
    timer->pprev = p;
}

static void place(struct timer_wheel *wheel, struct timer *timer)
{
    if (timer->expiry <= wheel->now) {
        due_insert(wheel, timer);
        return;
    }
    uint64_t diff = timer->expiry ^ wheel->now;
    unsigned level = (unsigned)(63 - __builtin_clzll(diff)) / BITS_PER_LEVEL;
    unsigned slot = (unsigned)(timer->expiry >> (level * BITS_PER_LEVEL)) & SLOT_MASK;
    timer->level = (uint8_t)level;
    timer->slot = (uint8_t)slot;
    list_push(&wheel->slots[level][slot], timer);
    wheel->occupied[level] |= UINT64_C(1) << slot;
}

void timer_cancel(struct timer_wheel *wheel, struct timer *timer)
{
    if (!timer_armed(timer)) return;
    unsigned level = timer->level, slot = timer->slot;
    list_unlink(timer);
    wheel->count--;
    if (level < TIMER_WHEEL_LEVELS && !wheel->slots[level][slot])
        wheel->occupied[level] &= ~(UINT64_C(1) << slot);
}

void timer_arm(struct timer_wheel *wheel, struct timer *timer, uint64_t expiry)
{
    timer_cancel(wheel, timer);
    timer->expiry = expiry;
    place(wheel, timer);
    wheel->count++;
}

/* Slots of one level whose time span has been reached when the clock moves
 * from `from` to `to`: (from, to] in that level's units, as a mask. */
static uint64_t passed_slots(uint64_t from, uint64_t to, unsigned level)
{
    uint64_t a = from >> (level * BITS_PER_LEVEL), b = to >> (level * BITS_PER_LEVEL);
    if (b - a >= TIMER_WHEEL_SLOTS) return ~UINT64_C(0);
    if (a == b) return 0;
    unsigned first = (unsigned)(a + 1) & SLOT_MASK, last = (unsigned)b & SLOT_MASK;
    uint64_t up_from_first = ~UINT64_C(0) << first;
    uint64_t up_to_last = last == 63 ? ~UINT64_C(0) : (UINT64_C(1) << (last + 1)) - 1;
    return first <= last ? (up_from_first & up_to_last) : (up_from_first | up_to_last);
}

/* Stable merge sort of a list chained by next (pprev ignored), by expiry. */
static struct timer *sort_by_expiry(struct timer *head, size_t n)
{
    if (n < 2) {
        if (head) head->next = NULL;
        return head;
    }
    struct timer *mid = head;
    for (size_t i = 1; i < n / 2; i++) mid = mid->next;
    struct timer *right = mid->next;
    mid->next = NULL;
    struct timer *a = sort_by_expiry(head, n / 2), *b = sort_by_expiry(right, n - n / 2);
    struct timer *out = NULL, **tail = &out;
    while (a && b) {
        struct timer **take = b->expiry < a->expiry ? &b : &a; /* ties: the left one */
        *tail = *take;
        tail = &(*take)->next;
        *take = (*take)->next;
    }
    *tail = a ? a : b;
    return out;
}

/* Merge a sorted chain (next only) into the sorted due list, fixing the
 * back links: O(both) however many became due together. */
static void due_merge(struct timer_wheel *wheel, struct timer *batch)
{
    struct timer *a = wheel->due, *out = NULL, **tail = &out;
    while (a || batch) {
        struct timer **take = !a ? &batch : !batch ? &a : batch->expiry < a->expiry ? &batch : &a;
        struct timer *t = *take;
        *take = t->next;
        t->level = DUE_LEVEL;
        *tail = t;
        t->pprev = tail;
        tail = &t->next;
    }
    *tail = NULL;
    wheel->due = out;
    if (out) out->pprev = &wheel->due;
}

/* Take every timer out of the slots that time has reached, then put each
 * back relative to the new time: due ones go to the due list, the rest drop
 * to a finer level. */
static void cascade(struct timer_wheel *wheel, uint64_t now)
{
    struct timer *moving = NULL;
    for (unsigned level = 0; level < TIMER_WHEEL_LEVELS; level++) {
        uint64_t mask = wheel->occupied[level] & passed_slots(wheel->now, now, level);
        while (mask) {
            unsigned slot = (unsigned)__builtin_ctzll(mask);
            mask &= mask - 1;
            struct timer *t;
            while ((t = wheel->slots[level][slot]) != NULL) {
                list_unlink(t);
                list_push(&moving, t);
            }
            wheel->occupied[level] &= ~(UINT64_C(1) << slot);
        }
    }
    wheel->now = now;
    struct timer *t, *due = NULL, **due_tail = &due;
    size_t due_count = 0;
    while ((t = moving) != NULL) {
        list_unlink(t);
        if (t->expiry <= now) { /* due: sorted together below */
            *due_tail = t;
            due_tail = &t->next;
            due_count++;
        } else {
            place(wheel, t);
        }
    }
    *due_tail = NULL;
    if (due_count) due_merge(wheel, sort_by_expiry(due, due_count));
}

/* Timers of one advance fire in expiry order: the due list is sorted. */
static struct timer *earliest_due(struct timer_wheel *wheel)
{
    return wheel->due;
}

size_t timer_wheel_advance(struct timer_wheel *wheel, uint64_t now)
{
    if (now > wheel->now) cascade(wheel, now);
    size_t ran = 0;
    struct timer *t;
    while ((t = earliest_due(wheel)) != NULL) {
        list_unlink(t);
        wheel->count--;
        ran++;
        t->fn(t, wheel->now);
    }
    return ran;
}

uint64_t timer_wheel_next(const struct timer_wheel *wheel)
{
    if (wheel->due) return wheel->now;
    uint64_t best = UINT64_MAX;
    for (unsigned level = 0; level < TIMER_WHEEL_LEVELS; level++) {
        if (!wheel->occupied[level]) continue;
        unsigned shift = level * BITS_PER_LEVEL;
        unsigned slot = (unsigned)__builtin_ctzll(wheel->occupied[level]);
        /* Timers of this level share now's bits above the level. */
        uint64_t above = shift + BITS_PER_LEVEL >= 64
                             ? 0
                             : (wheel->now >> (shift + BITS_PER_LEVEL)) << (shift + BITS_PER_LEVEL);
        uint64_t start = above | ((uint64_t)slot << shift);
        if (start < best) best = start;
    }
    assert(best > wheel->now || best == UINT64_MAX);
    return best;
}
