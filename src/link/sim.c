/* The simulator: a virtual clock, one seeded PRNG, point-to-point links with
 * per-direction faults, and one priority queue of the packets in flight on
 * every link. See include/finack/sim.h for the model. */
#include "finack/sim.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/prng.h"

/* Copies of packets in flight. Their buffers are recycled through a free
 * list, so a long run allocates only up to its peak number in flight. */
struct sim_packet {
    struct sim_packet *next_free;
    struct sim_end *dst;
    size_t len, cap;
    uint8_t data[];
};

#define SIM_PACKET_MIN_CAP 2048

/* A packet's arrival. seq, a global send counter, orders arrivals at the
 * same µs in the order they were sent, so ties never depend on heap layout. */
struct sim_event {
    finack_time_t at;
    uint64_t seq;
    struct sim_packet *packet;
};

/* One end of a link: the finack_link a stack transmits on, and who receives
 * what arrives there. */
struct sim_end {
    struct finack_link link;
    struct finack_sim_link *owner;
    int side;
    struct finack_stack *stack;
    finack_sim_receive_fn receive;
    void *receive_ctx;
    struct finack_pcap *capture;
    char name[24];
};

/* Bytes accepted by a rate-limited path and the time each is fully on the
 * wire: the transmit queue, so tail drop can count what still waits. */
struct sim_queued {
    finack_time_t finish;
    size_t len;
};

struct sim_path {
    struct finack_sim_path cfg;
    struct finack_sim_path_stats stats;
    /* The wire is busy until busy_until + busy_frac / rate_bps µs; keeping
     * the fraction makes back-to-back serialization exact over any run. */
    finack_time_t busy_until;
    uint64_t busy_frac;
    finack_time_t last_arrival; /* of the last in-order packet: FIFO floor */
    struct sim_queued *queue;   /* ring */
    size_t queue_head, queue_count, queue_cap, queued_bytes;
};

struct finack_sim_link {
    struct finack_sim *sim;
    uint32_t mtu;
    struct sim_end ends[2];
    struct sim_path paths[2]; /* indexed by the sending side */
};

struct finack_sim {
    finack_time_t now;
    uint64_t rng[4];
    uint64_t next_seq;
    struct sim_event *heap;
    size_t heap_len, heap_cap;
    struct sim_packet *free_packets;
    struct finack_stack **stacks;
    size_t stack_count, stack_cap;
    struct finack_sim_link **links;
    size_t link_count, link_cap;
};

/* ---- Small helpers ------------------------------------------------------------ */

/* Grow *array (of elem-sized items, *cap of them) to hold at least need. */
static int grow(void **array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 8;
    while (n < need) n *= 2;
    if (n > SIZE_MAX / elem) return -ENOMEM;
    void *p = realloc(*array, n * elem);
    if (!p) return -ENOMEM;
    *array = p;
    *cap = n;
    return 0;
}

static finack_time_t time_min(finack_time_t a, finack_time_t b) { return a < b ? a : b; }
static finack_time_t time_max(finack_time_t a, finack_time_t b) { return a > b ? a : b; }

static bool side_valid(int side) { return side == FINACK_SIM_A || side == FINACK_SIM_B; }

uint64_t finack_sim_random(struct finack_sim *sim) { return prng_next(sim->rng); }

/* ---- The event heap: a binary min-heap on (at, seq) ------------------------------ */

static bool event_before(const struct sim_event *a, const struct sim_event *b)
{
    return a->at != b->at ? a->at < b->at : a->seq < b->seq;
}

static void heap_swap(struct sim_event *h, size_t i, size_t j)
{
    struct sim_event t = h[i];
    h[i] = h[j];
    h[j] = t;
}

static int heap_push(struct finack_sim *sim, struct sim_event ev)
{
    int err = grow((void **)&sim->heap, &sim->heap_cap, sim->heap_len + 1, sizeof *sim->heap);
    if (err) return err;
    size_t i = sim->heap_len++;
    sim->heap[i] = ev;
    while (i > 0 && event_before(&sim->heap[i], &sim->heap[(i - 1) / 2])) {
        heap_swap(sim->heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static struct sim_event heap_pop(struct finack_sim *sim)
{
    struct sim_event *h = sim->heap;
    struct sim_event top = h[0];
    h[0] = h[--sim->heap_len];
    size_t i = 0, n = sim->heap_len;
    for (;;) {
        size_t least = i, l = 2 * i + 1, r = l + 1;
        if (l < n && event_before(&h[l], &h[least])) least = l;
        if (r < n && event_before(&h[r], &h[least])) least = r;
        if (least == i) break;
        heap_swap(h, i, least);
        i = least;
    }
    return top;
}

/* ---- Packet buffers ------------------------------------------------------------- */

static struct sim_packet *packet_get(struct finack_sim *sim, size_t len)
{
    struct sim_packet *p = sim->free_packets;
    if (p && p->cap >= len) {
        sim->free_packets = p->next_free;
        return p;
    }
    /* The head is too small (only after a bigger mtu appeared): grow a
     * fresh buffer rather than search the list. */
    size_t cap = len > SIM_PACKET_MIN_CAP ? len : SIM_PACKET_MIN_CAP;
    p = malloc(sizeof *p + cap);
    if (p) p->cap = cap;
    return p;
}

static void packet_put(struct finack_sim *sim, struct sim_packet *p)
{
    p->next_free = sim->free_packets;
    sim->free_packets = p;
}

static void free_packet_list(struct sim_packet *p)
{
    while (p) {
        struct sim_packet *next = p->next_free;
        free(p);
        p = next;
    }
}

/* ---- A path: the fault model of one direction ------------------------------------ */

/* Forget the bytes whose serialization has finished by now. */
static void queue_expire(struct sim_path *path, finack_time_t now)
{
    while (path->queue_count && path->queue[path->queue_head].finish <= now) {
        path->queued_bytes -= path->queue[path->queue_head].len;
        path->queue_head = (path->queue_head + 1) % path->queue_cap;
        path->queue_count--;
    }
}

/* Make room for one more entry, before anything else about the packet is
 * decided, so that running out of memory leaves the path as it was. */
static int queue_reserve(struct sim_path *path)
{
    if (path->queue_count < path->queue_cap) return 0;
    size_t cap = path->queue_cap ? 2 * path->queue_cap : 64;
    struct sim_queued *q = malloc(cap * sizeof *q);
    if (!q) return -ENOMEM;
    /* unroll the ring into the new array */
    for (size_t i = 0; i < path->queue_count; i++)
        q[i] = path->queue[(path->queue_head + i) % path->queue_cap];
    free(path->queue);
    path->queue = q;
    path->queue_cap = cap;
    path->queue_head = 0;
    return 0;
}

static void queue_push(struct sim_path *path, finack_time_t finish, size_t len)
{
    path->queue[(path->queue_head + path->queue_count) % path->queue_cap] =
        (struct sim_queued){.finish = finish, .len = len};
    path->queue_count++;
    path->queued_bytes += len;
}

/* Tail drop: would this packet overflow the bytes still waiting? */
static bool queue_admits(struct sim_path *path, finack_time_t now, size_t len)
{
    if (!path->cfg.rate_bps) return true;
    queue_expire(path, now);
    return !path->cfg.queue_limit || path->queued_bytes + len <= path->cfg.queue_limit;
}

/* Put len bytes on the wire after what is already there; returns the µs at
 * which the last bit has left (the departure time). */
static finack_time_t serialize(struct sim_path *path, finack_time_t now, size_t len)
{
    if (now > path->busy_until || (now == path->busy_until && path->busy_frac == 0)) {
        path->busy_until = now;
        path->busy_frac = 0;
    }
    uint64_t rate = path->cfg.rate_bps;
    if (!rate) return path->busy_until + (path->busy_frac > 0);
    /* len * 8 bits at rate bits/s = len * 8e6 / rate µs; the remainder is
     * carried in busy_frac, in units of 1/rate µs. */
    uint64_t frac = path->busy_frac + (uint64_t)len * 8u * 1000000u;
    path->busy_until += frac / rate;
    path->busy_frac = frac % rate;
    return path->busy_until + (path->busy_frac > 0);
}

static finack_time_t reorder_delay(const struct finack_sim_path *cfg)
{
    return cfg->reorder_delay ? cfg->reorder_delay : 2 * cfg->latency + FINACK_MSEC(1);
}

/* Copy the packet into a buffer bound for dst at time at, maybe with one
 * bit flipped. */
static int schedule_copy(struct finack_sim *sim, struct sim_path *path, struct sim_end *dst,
                         const uint8_t *bytes, size_t len, finack_time_t at)
{
    struct sim_packet *p = packet_get(sim, len);
    if (!p) return -ENOMEM;
    p->dst = dst;
    p->len = len;
    if (len) memcpy(p->data, bytes, len);
    if (len && prng_chance(sim->rng, path->cfg.corrupt)) {
        size_t byte = (size_t)prng_below(sim->rng, len);
        p->data[byte] ^= (uint8_t)(1u << prng_below(sim->rng, 8));
        path->stats.corrupted++;
    }
    int err = heap_push(sim, (struct sim_event){.at = at, .seq = sim->next_seq++, .packet = p});
    if (err) packet_put(sim, p);
    return err;
}

/* Steps 5 to 8 of the model in sim.h, from the departure time on. */
static int propagate(struct finack_sim *sim, struct sim_path *path, struct sim_end *dst,
                     const uint8_t *bytes, size_t len, finack_time_t departure)
{
    const struct finack_sim_path *cfg = &path->cfg;
    finack_time_t at = departure + cfg->latency;
    if (cfg->jitter) at += prng_below(sim->rng, cfg->jitter + 1);
    bool reordered = prng_chance(sim->rng, cfg->reorder);
    if (reordered) {
        at += reorder_delay(cfg);
        path->stats.reordered++;
    } else {
        at = time_max(at, path->last_arrival);
    }
    bool duplicated = prng_chance(sim->rng, cfg->duplicate);
    if (!reordered) path->last_arrival = at + duplicated;
    int err = schedule_copy(sim, path, dst, bytes, len, at);
    if (err || !duplicated) return err;
    path->stats.duplicated++;
    return schedule_copy(sim, path, dst, bytes, len, at + 1);
}

/* A packet leaves end `side` of link now. */
static int path_send(struct finack_sim_link *link, int side, const uint8_t *bytes, size_t len)
{
    struct finack_sim *sim = link->sim;
    struct sim_path *path = &link->paths[side];
    struct sim_end *src = &link->ends[side];
    if (src->capture) finack_pcap_write(src->capture, bytes, len, sim->now);
    path->stats.sent++;
    if (len > link->mtu) {
        path->stats.too_big++;
        return -EMSGSIZE;
    }
    if (prng_chance(sim->rng, path->cfg.loss)) {
        path->stats.lost++;
        return 0;
    }
    if (!queue_admits(path, sim->now, len)) {
        path->stats.queue_drops++;
        return -ENOBUFS;
    }
    if (path->cfg.rate_bps) {
        int err = queue_reserve(path);
        if (err) return err;
    }
    finack_time_t departure = serialize(path, sim->now, len);
    if (path->cfg.rate_bps) queue_push(path, departure, len);
    return propagate(sim, path, &link->ends[!side], bytes, len, departure);
}

static int sim_transmit(struct finack_link *l, const uint8_t *packet, size_t len,
                        finack_time_t now)
{
    (void)now; /* the link runs on the sim's clock; see sim.h */
    struct sim_end *end = l->driver;
    if (!packet && len) return -EINVAL;
    return path_send(end->owner, end->side, packet, len);
}

static const struct finack_link_ops sim_link_ops = {.transmit = sim_transmit};

/* ---- Links ------------------------------------------------------------------------ */

static bool probability_valid(double p) { return p >= 0 && p <= 1; /* false for NaN */ }

/* Times beyond 2^48 µs (8.9 years) are surely mistakes, and bounding them
 * keeps every sum of delays far from overflow. */
static bool delay_valid(finack_time_t t) { return t < (UINT64_C(1) << 48); }

static bool path_valid(const struct finack_sim_path *p)
{
    return probability_valid(p->loss) && probability_valid(p->duplicate) &&
           probability_valid(p->reorder) && probability_valid(p->corrupt) &&
           delay_valid(p->latency) && delay_valid(p->jitter) && delay_valid(p->reorder_delay) &&
           p->rate_bps <= INT64_MAX; /* busy_frac + len*8e6 stays in 64 bits */
}

void finack_sim_link_config_init(struct finack_sim_link_config *cfg)
{
    struct finack_sim_path path = {.latency = FINACK_MSEC(1)};
    *cfg = (struct finack_sim_link_config){.mtu = 1500, .a_to_b = path, .b_to_a = path};
}

static void end_init(struct finack_sim_link *link, int side, size_t index)
{
    struct sim_end *end = &link->ends[side];
    end->owner = link;
    end->side = side;
    snprintf(end->name, sizeof end->name, "sim%zu.%c", index, side == FINACK_SIM_A ? 'a' : 'b');
    end->link = (struct finack_link){
        .ops = &sim_link_ops, .driver = end, .mtu = link->mtu, .name = end->name};
}

int finack_sim_link_create(struct finack_sim *sim, const struct finack_sim_link_config *cfg,
                           struct finack_sim_link **out)
{
    if (!sim || !cfg || !out) return -EINVAL;
    if (cfg->mtu < 68 || cfg->mtu > 65535) return -EINVAL; /* RFC 791: 68 is the least */
    if (!path_valid(&cfg->a_to_b) || !path_valid(&cfg->b_to_a)) return -EINVAL;
    int err = grow((void **)&sim->links, &sim->link_cap, sim->link_count + 1, sizeof *sim->links);
    if (err) return err;
    struct finack_sim_link *link = calloc(1, sizeof *link);
    if (!link) return -ENOMEM;
    link->sim = sim;
    link->mtu = cfg->mtu;
    link->paths[FINACK_SIM_A].cfg = cfg->a_to_b;
    link->paths[FINACK_SIM_B].cfg = cfg->b_to_a;
    end_init(link, FINACK_SIM_A, sim->link_count);
    end_init(link, FINACK_SIM_B, sim->link_count);
    sim->links[sim->link_count++] = link;
    *out = link;
    return 0;
}

int finack_sim_link_set_path(struct finack_sim_link *link, int side_sending,
                             const struct finack_sim_path *path)
{
    if (!link || !side_valid(side_sending) || !path || !path_valid(path)) return -EINVAL;
    link->paths[side_sending].cfg = *path;
    return 0;
}

struct finack_link *finack_sim_link_end(struct finack_sim_link *link, int side)
{
    return link && side_valid(side) ? &link->ends[side].link : NULL;
}

int finack_sim_link_attach(struct finack_sim_link *link, int side, struct finack_stack *stack)
{
    if (!link || !side_valid(side)) return -EINVAL;
    if (stack) {
        int err = finack_sim_add_stack(link->sim, stack);
        if (err) return err;
    }
    struct sim_end *end = &link->ends[side];
    end->stack = stack;
    end->receive = NULL;
    end->receive_ctx = NULL;
    return 0;
}

int finack_sim_link_set_receiver(struct finack_sim_link *link, int side, finack_sim_receive_fn fn,
                                 void *ctx)
{
    if (!link || !side_valid(side)) return -EINVAL;
    struct sim_end *end = &link->ends[side];
    end->stack = NULL;
    end->receive = fn;
    end->receive_ctx = ctx;
    return 0;
}

int finack_sim_link_inject(struct finack_sim_link *link, int side, const uint8_t *packet,
                           size_t len)
{
    if (!link || !side_valid(side) || (!packet && len)) return -EINVAL;
    return path_send(link, side, packet, len);
}

int finack_sim_link_capture(struct finack_sim_link *link, int side, struct finack_pcap *pcap)
{
    if (!link || !side_valid(side)) return -EINVAL;
    link->ends[side].capture = pcap;
    return 0;
}

struct finack_sim_path_stats finack_sim_link_stats(const struct finack_sim_link *link,
                                                   int side_sending)
{
    if (!link || !side_valid(side_sending)) return (struct finack_sim_path_stats){0};
    return link->paths[side_sending].stats;
}

/* ---- The simulator ------------------------------------------------------------------ */

int finack_sim_create(struct finack_sim **out, uint64_t seed)
{
    if (!out) return -EINVAL;
    struct finack_sim *sim = calloc(1, sizeof *sim);
    if (!sim) return -ENOMEM;
    prng_seed(sim->rng, &seed);
    *out = sim;
    return 0;
}

void finack_sim_destroy(struct finack_sim *sim)
{
    if (!sim) return;
    for (size_t i = 0; i < sim->heap_len; i++) free(sim->heap[i].packet);
    free(sim->heap);
    free_packet_list(sim->free_packets);
    for (size_t i = 0; i < sim->link_count; i++) {
        free(sim->links[i]->paths[0].queue);
        free(sim->links[i]->paths[1].queue);
        free(sim->links[i]);
    }
    free(sim->links);
    free(sim->stacks);
    free(sim);
}

finack_time_t finack_sim_now(const struct finack_sim *sim) { return sim->now; }

static bool has_stack(const struct finack_sim *sim, const struct finack_stack *stack)
{
    for (size_t i = 0; i < sim->stack_count; i++)
        if (sim->stacks[i] == stack) return true;
    return false;
}

int finack_sim_add_stack(struct finack_sim *sim, struct finack_stack *stack)
{
    if (!sim || !stack) return -EINVAL;
    if (has_stack(sim, stack)) return 0;
    int err =
        grow((void **)&sim->stacks, &sim->stack_cap, sim->stack_count + 1, sizeof *sim->stacks);
    if (err) return err;
    sim->stacks[sim->stack_count++] = stack;
    return 0;
}

void finack_sim_remove_stack(struct finack_sim *sim, struct finack_stack *stack)
{
    if (!sim || !stack) return;
    for (size_t i = 0; i < sim->stack_count; i++) {
        if (sim->stacks[i] != stack) continue;
        /* keep the others in order: polls happen in the order of adding */
        memmove(&sim->stacks[i], &sim->stacks[i + 1],
                (sim->stack_count - i - 1) * sizeof *sim->stacks);
        sim->stack_count--;
        break;
    }
    for (size_t i = 0; i < sim->link_count; i++)
        for (int side = 0; side < 2; side++)
            if (sim->links[i]->ends[side].stack == stack) sim->links[i]->ends[side].stack = NULL;
}

/* ---- Running --------------------------------------------------------------------------- */

finack_time_t finack_sim_next_event(const struct finack_sim *sim)
{
    finack_time_t t = sim->heap_len ? sim->heap[0].at : FINACK_TIME_NEVER;
    for (size_t i = 0; i < sim->stack_count; i++)
        t = time_min(t, finack_stack_next_deadline(sim->stacks[i]));
    return t;
}

/* Hand the earliest packet in flight to whoever is at its end. */
static void deliver_next(struct finack_sim *sim)
{
    struct sim_packet *p = heap_pop(sim).packet;
    struct sim_end *dst = p->dst;
    dst->owner->paths[!dst->side].stats.delivered++;
    if (dst->capture) finack_pcap_write(dst->capture, p->data, p->len, sim->now);
    if (dst->stack)
        finack_stack_input(dst->stack, &dst->link, p->data, p->len, sim->now);
    else if (dst->receive)
        dst->receive(dst->receive_ctx, p->data, p->len, sim->now);
    /* only now: the receiver may have sent packets that needed buffers */
    packet_put(sim, p);
}

int finack_sim_step(struct finack_sim *sim)
{
    finack_time_t t = finack_sim_next_event(sim);
    if (t == FINACK_TIME_NEVER) return 0;
    sim->now = time_max(sim->now, t);
    while (sim->heap_len && sim->heap[0].at <= sim->now) deliver_next(sim);
    for (size_t i = 0; i < sim->stack_count; i++)
        if (finack_stack_next_deadline(sim->stacks[i]) <= sim->now)
            finack_stack_poll(sim->stacks[i], sim->now);
    return 1;
}

void finack_sim_run_until(struct finack_sim *sim, finack_time_t t)
{
    while (finack_sim_next_event(sim) <= t && finack_sim_step(sim)) {
    }
    sim->now = time_max(sim->now, t);
    /* Socket calls the application makes next act at the stack's time, so
     * bring every stack to the clock (an early poll is harmless). */
    for (size_t i = 0; i < sim->stack_count; i++) finack_stack_poll(sim->stacks[i], sim->now);
}

finack_time_t finack_sim_run(struct finack_sim *sim, finack_time_t limit)
{
    for (;;) {
        finack_time_t t = finack_sim_next_event(sim);
        if (t == FINACK_TIME_NEVER || t > limit) break;
        finack_sim_step(sim);
    }
    return sim->now;
}
