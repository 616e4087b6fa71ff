/* From events to rows: events in time order, each "in" paired with the
 * "out" it is a copy of (so an arrow knows when it arrived, or that it never
 * did), state changes written beside the arrow or note of the same instant,
 * and steady-state runs of data and ACKs folded into one row. The text and
 * SVG writers both draw these rows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ladder/internal.h"

struct timed {
    finack_time_t t;
    size_t i;
};

static int timed_order(const void *a, const void *b)
{
    const struct timed *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

size_t *ladder_time_order(const struct ladder *l)
{
    size_t n = l->count;
    struct timed *t = malloc((n ? n : 1) * sizeof *t);
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!t || !order) {
        free(t);
        free(order);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) t[i] = (struct timed){l->events[i].t, i};
    qsort(t, n, sizeof *t, timed_order);
    for (size_t i = 0; i < n; i++) order[i] = t[i].i;
    free(t);
    return order;
}

/* What the pairing found, per event (by its index in l->events). */
struct pairing {
    size_t *order;        /* event indices in time order */
    long *peer;           /* out: the matching in; in: the matching out; -1 */
    finack_time_t last_t[2];
    bool seen[2];
    bool saw_in[2];       /* the side recorded segments it received */
    const char **why;     /* per event: a drop's words when it was answered */
};

bool ladder_same_segment(const struct ladder_event *a, const struct ladder_event *b)
{
    return a->kind == FINACK_TRACE_SEG && b->kind == FINACK_TRACE_SEG &&
           ladder_seg_sender(a) == ladder_seg_sender(b) && a->seq == b->seq &&
           a->ack == b->ack && a->flags == b->flags && a->len == b->len && a->win == b->win &&
           a->win_raw == b->win_raw && strcmp(a->opts, b->opts) == 0;
}

static size_t segment_hash(const struct ladder_event *e, size_t mask)
{
    uint64_t h = (uint64_t)e->seq * 0x9e3779b97f4a7c15ull;
    h ^= ((uint64_t)e->ack << 17) ^ ((uint64_t)e->len << 3) ^ e->flags ^
         ((uint64_t)ladder_seg_sender(e) << 40) ^ ((uint64_t)e->win << 23);
    h *= 0xff51afd7ed558ccdull;
    return (size_t)(h >> 29) & mask;
}

/* Outs wait in per-bucket lists, newest first; an "in" takes the oldest
 * unpaired copy (FIFO), but none older than the newest retransmission sent
 * before it: without timestamps a retransmission looks like its original,
 * and the one that got through is the later one (the sender resent because
 * the first was lost). With timestamps the copies differ anyway. */
static int pair_in_order(const struct ladder *l, const size_t *order, long *peer)
{
    size_t n = l->count, nb = 16;
    while (nb < 2 * n) nb *= 2;
    long *head = malloc(nb * sizeof *head), *next = malloc((n ? n : 1) * sizeof *next);
    if (!head || !next) {
        free(head), free(next);
        return -ENOMEM;
    }
    for (size_t i = 0; i < nb; i++) head[i] = -1;
    for (size_t i = 0; i < n; i++) peer[i] = -1;
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        const struct ladder_event *e = &l->events[i];
        if (e->kind != FINACK_TRACE_SEG) continue;
        size_t b = segment_hash(e, nb - 1);
        if (e->out) {
            next[i] = head[b];
            head[b] = (long)i;
            continue;
        }
        long *oldest = NULL;
        for (long *link = &head[b]; *link >= 0; link = &next[*link]) {
            if (!ladder_same_segment(&l->events[*link], e)) continue;
            oldest = link;
            /* Copies older than a retransmission were given up as lost. */
            if (l->events[*link].retransmit) break;
        }
        if (!oldest) continue;
        peer[*oldest] = (long)i;
        peer[i] = *oldest;
        *oldest = next[*oldest];  /* paired: out of the list */
    }
    free(head), free(next);
    return 0;
}

int ladder_pair_segments(const struct ladder *l, long *peer)
{
    size_t *order = ladder_time_order(l);
    if (!order) return -ENOMEM;
    int err = pair_in_order(l, order, peer);
    free(order);
    return err;
}

/* Words for a drop its receiver answered: the stack did not take the
 * segment, but replied as RFC 9293 says (an ACK for an unacceptable
 * segment, §3.10.7.4; a RST where there is no connection, §3.10.7.1). NULL
 * when the drop was not answered by reply. */
static const char *answered_drop_words(const struct ladder_event *drop,
                                       const struct ladder_event *in,
                                       const struct ladder_event *reply)
{
    if (strcmp(drop->reason, "TCP_NOT_ACCEPTABLE") == 0 && (reply->flags & FINACK_TCP_ACK) &&
        !(reply->flags & (FINACK_TCP_RST | FINACK_TCP_SYN))) {
        if (in->flags & FINACK_TCP_FIN) return "(old FIN, out of window: ACKed again)";
        if (in->len == 0) return "(probe, out of window: ACKed)";
        return "(out of window: ACKed, not taken)";
    }
    if (strcmp(drop->reason, "TCP_NO_SOCKET") == 0 && (reply->flags & FINACK_TCP_RST))
        return "(no connection: answered with RST)";
    return NULL;
}

/* The core traces a dropped segment's "in", then the reply its processing
 * sent, then the drop. A drop answered that way is drawn in words that say
 * so, on a row before the reply's (where a reader looks for the cause). */
static void explain_answered_drops(const struct ladder *l, struct pairing *p)
{
    for (size_t k = 1; k < l->count; k++) {
        size_t i = p->order[k];
        const struct ladder_event *drop = &l->events[i];
        if (drop->kind != FINACK_TRACE_DROP) continue;
        long reply = -1, in = -1;
        for (size_t j = k; j-- > 0;) {
            const struct ladder_event *e = &l->events[p->order[j]];
            if (e->t != drop->t) break;
            if (e->kind != FINACK_TRACE_SEG || e->side != drop->side) continue;
            if (e->out && in < 0) {
                reply = (long)j;
            } else if (!e->out) {
                in = (long)j;
                break;
            }
        }
        if (reply < 0 || in < 0) continue;
        const char *why = answered_drop_words(drop, &l->events[p->order[in]],
                                              &l->events[p->order[reply]]);
        if (!why) continue;
        p->why[i] = why;
        memmove(&p->order[reply + 1], &p->order[reply], (k - (size_t)reply) * sizeof *p->order);
        p->order[reply] = i;
    }
}

static int pair_events(const struct ladder *l, struct pairing *p)
{
    size_t n = l->count;
    p->order = ladder_time_order(l);
    p->peer = malloc((n ? n : 1) * sizeof *p->peer);
    if (!p->order || !p->peer) return -ENOMEM;
    for (size_t k = 0; k < n; k++) {
        const struct ladder_event *e = &l->events[p->order[k]];
        p->last_t[e->side] = e->t;
        p->seen[e->side] = true;
        if (e->kind == FINACK_TRACE_SEG && !e->out) p->saw_in[e->side] = true;
    }
    p->why = calloc(n ? n : 1, sizeof *p->why);
    if (!p->why) return -ENOMEM;
    int err = pair_in_order(l, p->order, p->peer);
    if (!err) explain_answered_drops(l, p);
    return err;
}

/* Sent, never received, though the receiver records what it receives and
 * its trace went on past the sending. */
static bool is_lost(const struct ladder *l, const struct pairing *p, size_t i)
{
    const struct ladder_event *e = &l->events[i];
    int to = !e->side;
    return e->out && p->peer[i] < 0 && l->traced[to] && p->saw_in[to] && p->last_t[to] > e->t;
}

/* ---- Rows ---------------------------------------------------------------------- */

struct builder {
    struct ladder_layout *lay;
    size_t cap;
};

static struct ladder_row *new_row(struct builder *b, finack_time_t t, enum ladder_row_kind kind)
{
    struct ladder_layout *lay = b->lay;
    if (lay->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct ladder_row *rows = realloc(lay->rows, cap * sizeof *rows);
        if (!rows) return NULL;
        lay->rows = rows;
        b->cap = cap;
    }
    struct ladder_row *r = &lay->rows[lay->count++];
    memset(r, 0, sizeof *r);
    r->t = t;
    r->kind = kind;
    return r;
}

/* The row an arrow or a note of time t goes in: the last row if it holds
 * only state changes of the same instant, else a new one. */
static struct ladder_row *row_for(struct builder *b, finack_time_t t, enum ladder_row_kind kind)
{
    struct ladder_layout *lay = b->lay;
    if (lay->count) {
        struct ladder_row *last = &lay->rows[lay->count - 1];
        if (last->t == t && last->kind == LADDER_ROW_STATES) {
            last->kind = kind;
            return last;
        }
    }
    return new_row(b, t, kind);
}

static int add_state(struct builder *b, finack_time_t t, int col, const char *state,
                     bool own_row)
{
    struct ladder_layout *lay = b->lay;
    struct ladder_row *r = lay->count ? &lay->rows[lay->count - 1] : NULL;
    if (!r || r->t != t || r->state[col] || r->kind == LADDER_ROW_SUMMARY ||
        (own_row && r->kind != LADDER_ROW_STATES))
        r = new_row(b, t, LADDER_ROW_STATES);
    if (!r) return -ENOMEM;
    r->state[col] = state;
    return 0;
}

static bool is_delack_timer(const struct ladder_event *e)
{
    return e->kind == FINACK_TRACE_TIMER && strcmp(e->timer, "DELACK") == 0;
}

/* A steady-state run starting at order[k]: data one way and pure ACKs the
 * other, or pure ACKs one way only, nothing else drawn between them (paired
 * "in"s and delayed-ACK timers pass). Returns the position of its last
 * segment, or k if the run is too short to fold; fills sum's fields. */
static size_t steady_run(const struct ladder *l, const struct ladder_options *o,
                         const struct pairing *p, size_t k, struct ladder_row *sum)
{
    const struct ladder_event *first = &l->events[p->order[k]];
    int from = first->side;
    bool acks_only = first->len == 0;
    size_t data = 0, acks = 0, end = k;
    uint32_t first_byte = acks_only ? first->ack : first->seq, last_byte = first_byte;
    for (size_t j = k; j < l->count; j++) {
        size_t i = p->order[j];
        const struct ladder_event *e = &l->events[i];
        if ((e->kind == FINACK_TRACE_SEG && !e->out && p->peer[i] >= 0) || is_delack_timer(e))
            continue;
        if (e->kind != FINACK_TRACE_SEG || !e->out || e->retransmit || is_lost(l, p, i) ||
            (e->flags & (FINACK_TCP_SYN | FINACK_TCP_FIN | FINACK_TCP_RST)) ||
            !(e->flags & FINACK_TCP_ACK))
            break;
        if (!acks_only && e->side == from && e->len > 0) {
            data++;
            last_byte = e->seq + e->len - 1;
        } else if (!acks_only && e->side != from && e->len == 0) {
            acks++;
        } else if (acks_only && e->side == from && e->len == 0) {
            acks++;
            last_byte = e->ack;
        } else {
            break;
        }
        end = j;
    }
    if ((acks_only ? acks : data) < LADDER_COLLAPSE_MIN) return k;
    /* Bytes are the data sender's sequence space; ACKs number the other's. */
    int space = acks_only ? !from : from;
    if (!o->absolute && l->have_isn[space]) {
        first_byte -= l->isn[space];
        last_byte -= l->isn[space];
    }
    sum->from = from;
    sum->data_count = data;
    sum->ack_count = acks;
    sum->first_byte = first_byte;
    sum->last_byte = last_byte;
    return end;
}

/* Whether the state change at order[k] comes with a segment its side sends
 * at the same instant (SYN_SENT, FIN_WAIT_1, LAST_ACK...): it is then
 * written beside that arrow rather than beside the row before. */
static bool state_before_send(const struct ladder *l, const struct pairing *p, size_t k)
{
    const struct ladder_event *st = &l->events[p->order[k]];
    for (size_t j = k + 1; j < l->count; j++) {
        const struct ladder_event *e = &l->events[p->order[j]];
        if (e->t != st->t) return false;
        if (e->kind == FINACK_TRACE_STATE) continue;
        return e->kind == FINACK_TRACE_SEG && e->out && e->side == st->side;
    }
    return false;
}

static void note_text(const struct ladder_event *e, char *buf, size_t size)
{
    if (e->kind == FINACK_TRACE_DROP)
        snprintf(buf, size, "(drop %s)", e->reason);
    else if (e->kind == FINACK_TRACE_TIMER)
        snprintf(buf, size, "(%s timer)", e->timer);
    else
        snprintf(buf, size, "%s", e->opts);
}

static bool is_bare_syn(const struct ladder_event *e)
{
    return e->kind == FINACK_TRACE_SEG && (e->flags & FINACK_TCP_SYN) &&
           !(e->flags & FINACK_TCP_ACK);
}

/* A simultaneous open (RFC 9293 §3.5, Figure 7): a host in SYN_SENT that
 * receives the peer's SYN answers with a SYN+ACK on the sequence number
 * its SYN used. The stack flags it as a retransmission (the space was sent
 * before), but it is the handshake's next step, not a resend: the first
 * SYN+ACK of that seq from a host that sent a SYN of that seq and then saw
 * the peer's SYN. */
static bool answers_simultaneous_syn(const struct ladder *l, const struct pairing *p, size_t k)
{
    const struct ladder_event *e = &l->events[p->order[k]];
    if (!e->out || !e->retransmit ||
        (e->flags & (FINACK_TCP_SYN | FINACK_TCP_ACK)) != (FINACK_TCP_SYN | FINACK_TCP_ACK))
        return false;
    bool own_syn = false, peer_syn = false;
    for (size_t j = 0; j < k; j++) {
        const struct ladder_event *o = &l->events[p->order[j]];
        if (o->kind != FINACK_TRACE_SEG || !(o->flags & FINACK_TCP_SYN)) continue;
        int sender = ladder_seg_sender(o);
        if (sender == e->side && o->seq == e->seq) {
            if (o->out && (o->flags & FINACK_TCP_ACK)) return false; /* already answered */
            if (o->out) own_syn = true;
        } else if (sender != e->side && is_bare_syn(o) && own_syn) {
            peer_syn = true;
        }
    }
    return own_syn && peer_syn;
}

static int add_segment(struct builder *b, const struct ladder *l, const struct pairing *p,
                       size_t i, finack_time_t t0)
{
    const struct ladder_event *e = &b->lay->drawn[i];
    struct ladder_row *r = row_for(b, e->t - t0, LADDER_ROW_ARROW);
    if (!r) return -ENOMEM;
    r->seg = e;
    r->from = ladder_seg_sender(e);
    if (e->out) {
        r->lost = is_lost(l, p, i);
        if (p->peer[i] >= 0) {
            r->has_recv = true;
            r->t_recv = l->events[p->peer[i]].t - t0;
            if (r->t_recv != r->t) b->lay->any_recv = true;
        }
    } else {
        r->dup = l->traced[r->from];
    }
    return 0;
}

void ladder_gap_text(finack_time_t length, char *buf, size_t size)
{
    if (length >= FINACK_SEC(10))
        snprintf(buf, size, "%llu s", (unsigned long long)((length + FINACK_SEC(1) / 2) /
                                                            FINACK_SEC(1)));
    else
        snprintf(buf, size, "%.1f s", (double)length / 1e6);
}

static int cmp_time(const void *a, const void *b)
{
    finack_time_t x = *(const finack_time_t *)a, y = *(const finack_time_t *)b;
    return x < y ? -1 : x > y;
}

/* The time from row i (to its end, for a summary) to row i + 1. */
static finack_time_t idle_after(const struct ladder_layout *lay, size_t i)
{
    const struct ladder_row *r = &lay->rows[i];
    finack_time_t end = r->kind == LADDER_ROW_SUMMARY && r->t_end > r->t ? r->t_end : r->t;
    return lay->rows[i + 1].t > end ? lay->rows[i + 1].t - end : 0;
}

/* Rows are evenly spaced whatever time lies between them: where two are
 * far apart (LADDER_GAP_FACTOR times the median gap, LADDER_GAP_MIN at
 * least), a break row says how long nothing happened. */
static int add_gaps(struct builder *b)
{
    struct ladder_layout *lay = b->lay;
    if (lay->count < 2) return 0;
    size_t n = lay->count - 1;
    finack_time_t *gaps = malloc(n * sizeof *gaps);
    if (!gaps) return -ENOMEM;
    for (size_t i = 0; i < n; i++) gaps[i] = idle_after(lay, i);
    qsort(gaps, n, sizeof *gaps, cmp_time);
    finack_time_t limit = gaps[n / 2] * LADDER_GAP_FACTOR;
    free(gaps);
    if (limit < LADDER_GAP_MIN) limit = LADDER_GAP_MIN;
    size_t breaks = 0;
    for (size_t i = 0; i < n; i++) breaks += idle_after(lay, i) > limit;
    if (!breaks) return 0;
    size_t total = lay->count + breaks;
    struct ladder_row *rows = malloc(total * sizeof *rows);
    if (!rows) return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < lay->count; i++) {
        rows[k++] = lay->rows[i];
        if (i + 1 < lay->count && idle_after(lay, i) > limit) {
            struct ladder_row *g = &rows[k++];
            memset(g, 0, sizeof *g);
            g->kind = LADDER_ROW_GAP;
            g->t = lay->rows[i + 1].t - idle_after(lay, i);
            g->t_end = lay->rows[i + 1].t;
        }
    }
    free(lay->rows);
    lay->rows = rows;
    lay->count = total;
    b->cap = total;
    return 0;
}

int ladder_layout_build(const struct ladder *l, const struct ladder_options *o,
                        struct ladder_layout *out)
{
    memset(out, 0, sizeof *out);
    struct pairing p = {0};
    int err = pair_events(l, &p);
    struct builder b = {.lay = out};
    out->t0 = !err && l->count ? l->events[p.order[0]].t : 0;
    out->drawn = err ? NULL : malloc((l->count ? l->count : 1) * sizeof *out->drawn);
    if (!err && !out->drawn) err = -ENOMEM;
    for (size_t k = 0; !err && k < l->count; k++) {
        size_t i = p.order[k];
        out->drawn[i] = l->events[i];
        if (answers_simultaneous_syn(l, &p, k)) out->drawn[i].retransmit = false;
    }
    for (size_t k = 0; !err && k < l->count; k++) {
        size_t i = p.order[k];
        const struct ladder_event *e = &l->events[i];
        finack_time_t t = e->t - out->t0;
        if (e->kind == FINACK_TRACE_STATE) {
            err = add_state(&b, t, e->side, e->to, state_before_send(l, &p, k));
        } else if (e->kind == FINACK_TRACE_SEG) {
            if (!e->out && p.peer[i] >= 0) continue;
            struct ladder_row sum = {0};
            size_t end = o->collapse && e->out ? steady_run(l, o, &p, k, &sum) : k;
            if (end == k) {
                err = add_segment(&b, l, &p, i, out->t0);
                continue;
            }
            struct ladder_row *r = new_row(&b, t, LADDER_ROW_SUMMARY);
            if (!r) {
                err = -ENOMEM;
                break;
            }
            sum.t = t;
            sum.kind = LADDER_ROW_SUMMARY;
            sum.t_end = l->events[p.order[end]].t - out->t0;
            *r = sum;
            k = end;
        } else {
            struct ladder_row *r = row_for(&b, t, LADDER_ROW_NOTE);
            if (!r) {
                err = -ENOMEM;
                break;
            }
            r->note_col = e->side;
            if (p.why && p.why[i])
                snprintf(r->note, sizeof r->note, "%s", p.why[i]);
            else
                note_text(e, r->note, sizeof r->note);
        }
    }
    if (!err) err = add_gaps(&b);
    free(p.order);
    free(p.peer);
    free(p.why);
    if (err) ladder_layout_free(out);
    return err;
}

void ladder_layout_free(struct ladder_layout *lay)
{
    free(lay->rows);
    free(lay->drawn);
    memset(lay, 0, sizeof *lay);
}
