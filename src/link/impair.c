/* Loss, delay, reordering and duplication in front of a device (see
 * finack/impair.h).
 *
 * Each direction has a FIFO of delayed packets (due = arrival + delay, so
 * due times never decrease along it) and a list of packets picked for
 * reordering, in arrival order, each with a deadline. When a FIFO packet
 * is handed on, every reordered packet that arrived before it follows it
 * at once: it has been overtaken by exactly the packets that arrived
 * after it and were due before it was released. */
#include "finack/impair.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/prng.h"

/* Room for the largest IPv4 packet a device can hand over. */
#define IMPAIR_RX_BUF 65536u

struct held {
    finack_time_t due;  /* FIFO: when it is handed on; reorder list: the latest */
    uint64_t seq;       /* arrival order within the direction */
    size_t len;
    uint8_t *data;
};

/* A growable ring of held packets, oldest first. */
struct held_queue {
    struct held *slots;
    size_t cap, head, count;
};

struct impair_dir {
    uint64_t rng[4];  /* xoshiro256** state */
    uint64_t next_seq;
    struct held_queue fifo, reordered;
    struct finack_impair_stats stats;
};

struct finack_impair {
    struct finack_impair_config cfg;
    struct impair_dir dir[2];
    /* Set by finack_impair_attach(): */
    struct finack_link link;  /* what the stack transmits on */
    struct finack_impair_device device;
    uint8_t *rx_buf;
};

/* ---- Held queues ------------------------------------------------------------------ */

static struct held *queue_at(struct held_queue *q, size_t i)
{
    return &q->slots[(q->head + i) % q->cap];
}

static int queue_push(struct held_queue *q, const struct held *h)
{
    if (q->count == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        struct held *slots = malloc(cap * sizeof *slots);
        if (!slots) return -ENOMEM;
        for (size_t i = 0; i < q->count; i++) slots[i] = *queue_at(q, i);
        free(q->slots);
        q->slots = slots;
        q->cap = cap;
        q->head = 0;
    }
    *queue_at(q, q->count) = *h;
    q->count++;
    return 0;
}

static struct held queue_pop(struct held_queue *q)
{
    struct held h = q->slots[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return h;
}

static void queue_free(struct held_queue *q)
{
    while (q->count) free(queue_pop(q).data);
    free(q->slots);
    *q = (struct held_queue){0};
}

/* ---- Create and destroy --------------------------------------------------------------- */

static bool probability_valid(double p) { return p >= 0.0 && p <= 1.0; } /* NaN fails */

int finack_impair_create(struct finack_impair **out, const struct finack_impair_config *cfg)
{
    *out = NULL;
    if (!probability_valid(cfg->loss) || !probability_valid(cfg->duplicate) ||
        !probability_valid(cfg->reorder))
        return -EINVAL;
    struct finack_impair *imp = calloc(1, sizeof *imp);
    if (!imp) return -ENOMEM;
    imp->cfg = *cfg;
    /* Two streams from one seed: what one direction carries does not
     * change the other's draws. */
    uint64_t x = cfg->seed;
    for (int d = 0; d < 2; d++) prng_seed(imp->dir[d].rng, &x);
    *out = imp;
    return 0;
}

void finack_impair_destroy(struct finack_impair *imp)
{
    if (!imp) return;
    for (int d = 0; d < 2; d++) {
        queue_free(&imp->dir[d].fifo);
        queue_free(&imp->dir[d].reordered);
    }
    free(imp->rx_buf);
    free(imp);
}

void finack_impair_get_stats(const struct finack_impair *imp, enum finack_impair_dir dir,
                             struct finack_impair_stats *out)
{
    *out = imp->dir[dir].stats;
}

/* ---- The scheduler ----------------------------------------------------------------------- */

static int hold_copy(struct impair_dir *d, const struct finack_impair_config *cfg,
                     const uint8_t *packet, size_t len, finack_time_t now)
{
    if (d->fifo.count + d->reordered.count >= FINACK_IMPAIR_MAX_HELD) {
        d->stats.queue_drops++;
        return 0;
    }
    bool reorder = prng_chance(d->rng, cfg->reorder);
    struct held h = {.due = now + cfg->delay, .seq = d->next_seq++, .len = len,
                     .data = malloc(len ? len : 1)};
    if (!h.data) return -ENOMEM;
    memcpy(h.data, packet, len);
    int rc;
    if (reorder) {
        h.due += FINACK_IMPAIR_REORDER_HOLD;
        rc = queue_push(&d->reordered, &h);
        if (rc == 0) d->stats.reordered++;
    } else {
        rc = queue_push(&d->fifo, &h);
    }
    if (rc) free(h.data);
    return rc;
}

int finack_impair_push(struct finack_impair *imp, enum finack_impair_dir dir,
                       const uint8_t *packet, size_t len, finack_time_t now)
{
    struct impair_dir *d = &imp->dir[dir];
    d->stats.packets++;
    if (prng_chance(d->rng, imp->cfg.loss)) {
        d->stats.lost++;
        return 0;
    }
    bool twice = prng_chance(d->rng, imp->cfg.duplicate);
    int rc = hold_copy(d, &imp->cfg, packet, len, now);
    if (rc == 0 && twice) {
        d->stats.duplicated++;
        rc = hold_copy(d, &imp->cfg, packet, len, now);
    }
    return rc;
}

static void hand_on(struct impair_dir *d, enum finack_impair_dir dir, struct held h,
                    finack_time_t now, finack_impair_deliver_fn deliver, void *ctx)
{
    d->stats.delivered++;
    deliver(ctx, dir, h.data, h.len, now);
    free(h.data);
}

finack_time_t finack_impair_run(struct finack_impair *imp, enum finack_impair_dir dir,
                                finack_time_t now, finack_impair_deliver_fn deliver, void *ctx)
{
    struct impair_dir *d = &imp->dir[dir];
    struct held_queue *fifo = &d->fifo, *re = &d->reordered;
    for (;;) {
        bool fifo_due = fifo->count && fifo->slots[fifo->head].due <= now;
        bool re_due = re->count && re->slots[re->head].due <= now;
        if (fifo_due && (!re_due || fifo->slots[fifo->head].due <= re->slots[re->head].due)) {
            struct held h = queue_pop(fifo);
            uint64_t seq = h.seq;
            hand_on(d, dir, h, now, deliver, ctx);
            /* Overtaken: the held packets that arrived before this one. */
            while (re->count && re->slots[re->head].seq < seq)
                hand_on(d, dir, queue_pop(re), now, deliver, ctx);
        } else if (re_due) {
            hand_on(d, dir, queue_pop(re), now, deliver, ctx);
        } else {
            break;
        }
    }
    finack_time_t next = FINACK_TIME_NEVER;
    if (fifo->count) next = fifo->slots[fifo->head].due;
    if (re->count && re->slots[re->head].due < next) next = re->slots[re->head].due;
    return next;
}

/* ---- Around a device ------------------------------------------------------------------------ */

static void deliver_out(void *ctx, enum finack_impair_dir dir, const uint8_t *packet, size_t len,
                        finack_time_t now)
{
    (void)dir;
    struct finack_impair *imp = ctx;
    struct finack_link *dev = imp->device.link;
    /* A refusal is a loss like any other here; the device counts it. */
    (void)dev->ops->transmit(dev, packet, len, now);
}

struct deliver_in_ctx {
    struct finack_impair *imp;
    struct finack_stack *stack;
};

static void deliver_in(void *ctx, enum finack_impair_dir dir, const uint8_t *packet, size_t len,
                       finack_time_t now)
{
    (void)dir;
    struct deliver_in_ctx *c = ctx;
    (void)finack_stack_input(c->stack, &c->imp->link, packet, len, now);
}

static int impair_transmit(struct finack_link *link, const uint8_t *packet, size_t len,
                           finack_time_t now)
{
    struct finack_impair *imp = link->driver;
    int rc = finack_impair_push(imp, FINACK_IMPAIR_OUT, packet, len, now);
    (void)finack_impair_run(imp, FINACK_IMPAIR_OUT, now, deliver_out, imp);
    return rc;
}

static const struct finack_link_ops impair_ops = {.transmit = impair_transmit};

static int impair_receive(void *ctx, struct finack_stack *stack, finack_time_t now, int budget)
{
    struct finack_impair *imp = ctx;
    struct deliver_in_ctx in = {imp, stack};
    int count = 0;
    while (count < budget) {
        ssize_t n = imp->device.read(imp->device.ctx, imp->rx_buf, IMPAIR_RX_BUF, now);
        if (n < 0) return count ? count : (int)n;
        if (n == 0) break;
        count++;
        int rc = finack_impair_push(imp, FINACK_IMPAIR_IN, imp->rx_buf, (size_t)n, now);
        if (rc < 0) return count;
        (void)finack_impair_run(imp, FINACK_IMPAIR_IN, now, deliver_in, &in);
    }
    return count;
}

static finack_time_t impair_poll(void *ctx, struct finack_stack *stack, finack_time_t now)
{
    struct finack_impair *imp = ctx;
    struct deliver_in_ctx in = {imp, stack};
    finack_time_t a = finack_impair_run(imp, FINACK_IMPAIR_IN, now, deliver_in, &in);
    finack_time_t b = finack_impair_run(imp, FINACK_IMPAIR_OUT, now, deliver_out, imp);
    return a < b ? a : b;
}

int finack_impair_attach(struct finack_impair *imp, const struct finack_impair_device *device,
                         struct finack_loop_link *out)
{
    if (!device || !device->link || !device->read || device->fd < 0) return -EINVAL;
    if (!imp->rx_buf) {
        imp->rx_buf = malloc(IMPAIR_RX_BUF);
        if (!imp->rx_buf) return -ENOMEM;
    }
    imp->device = *device;
    imp->link = (struct finack_link){.ops = &impair_ops, .driver = imp,
                                     .mtu = device->link->mtu, .name = device->link->name};
    *out = (struct finack_loop_link){.link = &imp->link, .fd = device->fd,
                                     .receive = impair_receive, .ctx = imp,
                                     .poll = impair_poll};
    return 0;
}
