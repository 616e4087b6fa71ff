/* A pcap as a ladder: the first TCP connection in the file, each packet a
 * segment seen at the capture point, and each end's state inferred from
 * the segments as RFC 9293's state diagram moves it (a capture holds no
 * states): SYN_SENT when the client's SYN leaves, SYN_RCVD when the
 * server's SYN-ACK does (the server starts in LISTEN), ESTABLISHED when its
 * SYN is ACKed; FIN_WAIT_1 when the first FIN leaves, CLOSE_WAIT at that
 * FIN once its receiver's ACK shows it was not CLOSING, FIN_WAIT_2 when
 * that ACK arrives, LAST_ACK with the other FIN, TIME_WAIT when it is ACKed
 * and CLOSED when the ACK of the last FIN sent arrives (a FIN sent again
 * shows the earlier ACK was lost); CLOSING for a simultaneous close, two
 * changes one segment implies drawn a packet apart; CLOSED on a RST. */
#include <errno.h>
#include <string.h>

#include "finack/pcap.h"
#include "ladder/internal.h"
#include "wire/ipv4.h" /* IPPROTO_TCP_ */
#include "wire/tcp.h"  /* struct tcp_segment, TCP_FLAG_* */

enum tcp_state {
    ST_CLOSED, ST_LISTEN, ST_SYN_SENT, ST_SYN_RCVD, ST_ESTABLISHED, ST_FIN_WAIT_1,
    ST_FIN_WAIT_2, ST_CLOSE_WAIT, ST_CLOSING, ST_LAST_ACK, ST_TIME_WAIT,
};

static const char *const state_names[] = {
    "CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
    "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

/* What one end did, as far as the capture shows. */
struct end {
    enum tcp_state state;
    bool syn_sent, syn_acked;
    uint32_t iss;
    bool fin_sent, fin_acked, fin_rcvd;
    bool fin_pending;          /* the peer's FIN arrived, not yet taken in */
    bool fin_ack_pending;      /* the ACK of our FIN arrived with another
                                * change: taken in at the next packet */
    uint32_t fin_seq;          /* the FIN's own sequence number */
    bool have_snd_max;
    uint32_t snd_max;          /* the highest sequence number sent, plus one */
    bool has_wscale;
    uint8_t wscale;
};

/* One captured TCP segment. */
struct packet {
    uint32_t src, dst;
    struct tcp_segment seg;   /* header fields; payload not kept */
    const uint8_t *opts;      /* the option bytes captured */
    size_t opts_len;
};

struct reader {
    struct ladder *l;
    bool have_conn;
    struct end end[2];
    size_t segments;
    finack_time_t last_t;
    int err;
};

static bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

static int set_state(struct reader *r, int side, enum tcp_state to, finack_time_t t)
{
    struct end *e = &r->end[side];
    if (e->state == to) return 0;
    struct ladder_event ev = {.t = t, .kind = FINACK_TRACE_STATE, .side = side};
    snprintf(ev.from, sizeof ev.from, "%s", state_names[e->state]);
    snprintf(ev.to, sizeof ev.to, "%s", state_names[to]);
    e->state = to;
    return ladder_append(r->l, &ev);
}

/* The connection is the first TCP segment's: its sender is the client
 * (left) unless it is a SYN-ACK, whose receiver is. */
static void choose_connection(struct reader *r, const struct packet *pk)
{
    struct ladder *l = r->l;
    const struct tcp_segment *seg = &pk->seg;
    bool synack = (seg->flags & TCP_FLAG_SYN) && (seg->flags & TCP_FLAG_ACK);
    int client = synack ? 1 : 0; /* which end of this packet: 0 source, 1 destination */
    uint32_t addr[2] = {pk->src, pk->dst};
    uint16_t port[2] = {seg->src_port, seg->dst_port};
    for (int s = 0; s < 2; s++) {
        int k = s == 0 ? client : !client;
        l->addr[s] = addr[k];
        l->port[s] = port[k];
        ladder_format_endpoint(addr[k], port[k], l->endpoint[s], sizeof l->endpoint[s]);
    }
    if (seg->flags & TCP_FLAG_SYN) {
        snprintf(l->host[0], sizeof l->host[0], "client");
        snprintf(l->host[1], sizeof l->host[1], "server");
    } else {
        /* A capture started after the handshake: both ends were already
         * ESTABLISHED (or further; the close will tell), not CLOSED. */
        for (int s = 0; s < 2; s++) {
            r->end[s].state = ST_ESTABLISHED;
            r->end[s].syn_sent = r->end[s].syn_acked = true;
        }
    }
    l->sides = 2;
    l->have_conn = true;
    r->have_conn = true;
}

/* Sequence space a segment takes: its bytes, and one each for SYN and FIN. */
static uint32_t seg_space(const struct tcp_segment *seg)
{
    return (uint32_t)seg->payload_len + !!(seg->flags & TCP_FLAG_SYN) + !!(seg->flags & TCP_FLAG_FIN);
}

/* The peer's FIN taken in. At the capture point a FIN is seen before its
 * receiver gets it: the receiver has surely processed it once it ACKs it
 * or processes anything that arrived later. Until then it may still send a
 * FIN of its own not knowing (a simultaneous close: FIN_WAIT_1, then
 * CLOSING, not CLOSE_WAIT). */
static int take_fin(struct reader *r, int side, finack_time_t t)
{
    struct end *e = &r->end[side];
    if (!e->fin_pending) return 0;
    e->fin_pending = false;
    switch (e->state) {
    case ST_ESTABLISHED:
    case ST_SYN_RCVD: return set_state(r, side, ST_CLOSE_WAIT, t);
    case ST_FIN_WAIT_1: return set_state(r, side, ST_CLOSING, t);
    case ST_FIN_WAIT_2: return set_state(r, side, ST_TIME_WAIT, t);
    default: return 0;
    }
}

/* The ACK of side's FIN taken in. */
static int take_fin_ack(struct reader *r, int side, finack_time_t t)
{
    struct end *e = &r->end[side];
    e->fin_ack_pending = false;
    switch (e->state) {
    case ST_FIN_WAIT_1: return set_state(r, side, ST_FIN_WAIT_2, t);
    case ST_CLOSING: return set_state(r, side, ST_TIME_WAIT, t);
    case ST_LAST_ACK: return set_state(r, side, ST_CLOSED, t);
    default: return 0;
    }
}

/* The sender's side of things, before the segment is drawn. */
static int on_send(struct reader *r, int s, const struct tcp_segment *seg, finack_time_t t)
{
    struct end *S = &r->end[s], *R = &r->end[!s];
    int err = 0;
    if ((seg->flags & TCP_FLAG_ACK) && R->fin_sent && seq_lt(R->fin_seq, seg->ack))
        err = take_fin(r, s, t);
    if (!err && (seg->flags & TCP_FLAG_SYN)) {
        if (!S->syn_sent) {
            S->syn_sent = true;
            S->iss = seg->seq;
            S->has_wscale = seg->opt.has_wscale;
            S->wscale = seg->opt.wscale > 14 ? 14 : seg->opt.wscale;
        }
        if (!(seg->flags & TCP_FLAG_ACK)) {
            if (R->state == ST_CLOSED && !R->syn_sent) err = set_state(r, !s, ST_LISTEN, t);
            if (!err && S->state == ST_CLOSED) err = set_state(r, s, ST_SYN_SENT, t);
        } else if (S->state == ST_CLOSED || S->state == ST_LISTEN) {
            err = set_state(r, s, ST_SYN_RCVD, t);
        }
    }
    if (!err && (seg->flags & TCP_FLAG_FIN) && !S->fin_sent) {
        S->fin_sent = true;
        S->fin_seq = seg->seq + (uint32_t)seg->payload_len + !!(seg->flags & TCP_FLAG_SYN);
        if (S->state == ST_ESTABLISHED || S->state == ST_SYN_RCVD)
            err = set_state(r, s, ST_FIN_WAIT_1, t);
        else if (S->state == ST_CLOSE_WAIT)
            err = set_state(r, s, ST_LAST_ACK, t);
    }
    return err;
}

/* The receiver's side: its ACKed SYN or FIN, a SYN or FIN arriving (in
 * RFC 9293's order: the ACK first, the FIN last). */
static int on_receive(struct reader *r, int s, const struct tcp_segment *seg, finack_time_t t)
{
    struct end *R = &r->end[!s];
    enum tcp_state before = R->state;
    int d = !s, err = take_fin(r, d, t);
    if (err) return err;
    if (seg->flags & TCP_FLAG_RST) {
        err = set_state(r, s, ST_CLOSED, t);
        return err ? err : set_state(r, d, ST_CLOSED, t);
    }
    if ((seg->flags & TCP_FLAG_ACK) && R->syn_sent && !R->syn_acked && seq_lt(R->iss, seg->ack)) {
        R->syn_acked = true;
        if (R->state == ST_SYN_SENT || R->state == ST_SYN_RCVD)
            err = set_state(r, d, ST_ESTABLISHED, t);
    }
    if (!err && (seg->flags & TCP_FLAG_ACK) && R->fin_sent && !R->fin_acked &&
        seq_lt(R->fin_seq, seg->ack)) {
        R->fin_acked = true;
        /* Two changes inferred from one segment (a simultaneous close seen
         * from one end: the peer's FIN taken in, then its FIN ACKed) did
         * not happen at one instant: the second waits for the next packet,
         * which bounds it. */
        if (R->state != before)
            R->fin_ack_pending = true;
        else
            err = take_fin_ack(r, d, t);
    }
    if (!err && (seg->flags & TCP_FLAG_SYN) && !(seg->flags & TCP_FLAG_ACK) && R->state == ST_SYN_SENT)
        err = set_state(r, d, ST_SYN_RCVD, t);
    if (!err && (seg->flags & TCP_FLAG_FIN) && !R->fin_rcvd) {
        R->fin_rcvd = true;
        R->fin_pending = true;
    }
    return err;
}

static int add_segment(struct reader *r, int s, const struct packet *pk, finack_time_t t)
{
    const struct tcp_segment *seg = &pk->seg;
    struct end *S = &r->end[s], *R = &r->end[!s];
    struct ladder_event e = {.t = t, .kind = FINACK_TRACE_SEG, .side = s, .out = true,
                             .flags = seg->flags, .seq = seg->seq, .ack = seg->ack,
                             .len = (uint32_t)seg->payload_len};
    e.win = seg->window;
    e.win_raw = seg->window;
    /* RFC 7323 §2.2: scaled only when both SYNs offered it, never in a SYN. */
    if (!(seg->flags & TCP_FLAG_SYN) && S->has_wscale && R->has_wscale) e.win <<= S->wscale;
    uint32_t space = seg_space(seg), end = seg->seq + space;
    if (space && S->have_snd_max && seq_lt(seg->seq, S->snd_max)) e.retransmit = true;
    if (space && (!S->have_snd_max || seq_lt(S->snd_max, end))) {
        S->snd_max = end;
        S->have_snd_max = true;
    }
    finack_trace_options(pk->opts, pk->opts_len, e.opts, sizeof e.opts);
    return ladder_append(r->l, &e);
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)be16(p) << 16 | be16(p + 2); }

/* The window scale a SYN's options offer, if they are all captured. */
static void find_wscale(const uint8_t *o, size_t len, struct tcp_options *opt)
{
    for (size_t i = 0; i < len && o[i] != 0;) {
        if (o[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len || o[i + 1] < 2 || o[i + 1] > len - i) return;
        if (o[i] == 3 && o[i + 1] == 3) {
            opt->has_wscale = true;
            opt->wscale = o[i + 2];
        }
        i += o[i + 1];
    }
}

/* The IPv4 and TCP headers of a captured packet. Lenient where wire/ is
 * strict: checksums are not checked (captures of the sending host hold
 * checksums the NIC fills in later), and a packet cut by the capture's
 * snap length still counts with the length its IP header gives. False for
 * anything but an unfragmented IPv4 packet with a whole TCP header. */
static bool parse_packet(const uint8_t *p, size_t len, struct packet *pk)
{
    if (len < 20 || p[0] >> 4 != 4) return false;
    size_t ihl = (size_t)(p[0] & 15) * 4, total = be16(p + 2);
    if (ihl < 20 || total < ihl || len < ihl + TCP_HEADER_MIN || p[9] != IPPROTO_TCP_ ||
        (be16(p + 6) & 0x3fff) != 0)
        return false;
    if (total < len) len = total;  /* link-layer padding */
    const uint8_t *t = p + ihl;
    size_t doff = (size_t)(t[12] >> 4) * 4;
    if (doff < TCP_HEADER_MIN || ihl + doff > total) return false;
    memset(pk, 0, sizeof *pk);
    pk->src = be32(p + 12);
    pk->dst = be32(p + 16);
    struct tcp_segment *seg = &pk->seg;
    seg->src_port = be16(t);
    seg->dst_port = be16(t + 2);
    seg->seq = be32(t + 4);
    seg->ack = be32(t + 8);
    seg->flags = t[13];
    seg->window = be16(t + 14);
    seg->header_len = (uint8_t)doff;
    seg->payload_len = total - ihl - doff;
    pk->opts = t + TCP_HEADER_MIN;
    pk->opts_len = len - ihl >= doff ? doff - TCP_HEADER_MIN : len - ihl - TCP_HEADER_MIN;
    find_wscale(pk->opts, pk->opts_len, &seg->opt);
    return true;
}

static int on_packet(void *ctx, const uint8_t *packet, size_t len, uint64_t t_us)
{
    struct reader *r = ctx;
    struct packet pk;
    if (!parse_packet(packet, len, &pk)) return 0;
    if (!r->have_conn) choose_connection(r, &pk);
    const struct ladder *l = r->l;
    const struct tcp_segment *seg = &pk.seg;
    int s;
    if (pk.src == l->addr[0] && seg->src_port == l->port[0] && pk.dst == l->addr[1] &&
        seg->dst_port == l->port[1])
        s = 0;
    else if (pk.src == l->addr[1] && seg->src_port == l->port[1] && pk.dst == l->addr[0] &&
             seg->dst_port == l->port[0])
        s = 1;
    else
        return 0;
    /* A new SYN on the same 4-tuple starts the next connection: stop. */
    struct end *S = &r->end[s];
    if ((seg->flags & TCP_FLAG_SYN) && S->syn_sent && seg->seq != S->iss) return 1;
    finack_time_t t = t_us;
    r->last_t = t;
    for (int side = 0; side < 2 && !r->err; side++)
        if (r->end[side].fin_ack_pending) r->err = take_fin_ack(r, side, t);
    if (!r->err) r->err = on_send(r, s, seg, t);
    if (!r->err) r->err = add_segment(r, s, &pk, t);
    if (!r->err) r->err = on_receive(r, s, seg, t);
    r->segments++;
    return r->err ? 1 : 0;
}

/* ---- What only the whole capture tells --------------------------------- */

/* Move event from to just after event after (an index before the move),
 * at time t. */
static void move_event(struct ladder *l, size_t from, size_t after, finack_time_t t)
{
    struct ladder_event e = l->events[from];
    e.t = t;
    if (from > after) {
        memmove(&l->events[after + 2], &l->events[after + 1],
                (from - after - 1) * sizeof *l->events);
        l->events[after + 1] = e;
    } else {
        memmove(&l->events[from], &l->events[from + 1], (after - from) * sizeof *l->events);
        l->events[after] = e;
    }
}

static bool is_state_change(const struct ladder_event *e, int side, const char *from,
                            const char *to)
{
    return e->kind == FINACK_TRACE_STATE && e->side == side &&
           (!from || strcmp(e->from, from) == 0) && strcmp(e->to, to) == 0;
}

static bool is_fin_from(const struct ladder_event *e, int side)
{
    return e->kind == FINACK_TRACE_SEG && e->out && e->side == side &&
           (e->flags & FINACK_TCP_FIN);
}

/* CLOSE_WAIT begins when the peer's FIN arrives, not when its (maybe
 * delayed) ACK leaves: the ACK only showed that it was CLOSE_WAIT and not
 * CLOSING. Drawn at the last FIN before it (an earlier one may have been
 * lost). */
static void settle_close_wait(struct ladder *l)
{
    for (int side = 0; side < 2; side++) {
        size_t fin = l->count, cw = l->count;
        for (size_t i = 0; i < l->count && cw == l->count; i++) {
            if (is_fin_from(&l->events[i], !side)) fin = i;
            if (is_state_change(&l->events[i], side, NULL, "CLOSE_WAIT")) cw = i;
        }
        if (fin < cw && cw < l->count) move_event(l, cw, fin, l->events[fin].t);
    }
}

/* A FIN sent again after the ACK that seemed to close its sender shows
 * that ACK was lost: the sender stayed in LAST_ACK until the ACK of its
 * last FIN (not CLOSED while still sending). Without one in the capture
 * it stays there. */
static void settle_last_ack(struct ladder *l)
{
    for (int side = 0; side < 2; side++) {
        size_t closed = l->count, last_fin = l->count;
        for (size_t i = 0; i < l->count; i++) {
            const struct ladder_event *e = &l->events[i];
            if (closed == l->count && is_state_change(e, side, "LAST_ACK", "CLOSED")) closed = i;
            if (is_fin_from(e, side)) last_fin = i;
        }
        if (closed == l->count || last_fin == l->count || last_fin < closed) continue;
        const struct ladder_event *fin = &l->events[last_fin];
        uint32_t fin_seq = fin->seq + fin->len;
        size_t ack = l->count;
        for (size_t i = last_fin + 1; i < l->count && ack == l->count; i++) {
            const struct ladder_event *e = &l->events[i];
            if (e->kind == FINACK_TRACE_SEG && e->out && e->side != side &&
                (e->flags & FINACK_TCP_ACK) && seq_lt(fin_seq, e->ack))
                ack = i;
        }
        if (ack < l->count) {
            move_event(l, closed, ack, l->events[ack].t);
        } else {
            memmove(&l->events[closed], &l->events[closed + 1],
                    (l->count - closed - 1) * sizeof *l->events);
            l->count--;
        }
    }
}

int ladder_read_pcap(struct ladder *l, const char *path, char *err, size_t errlen)
{
    if (!l || !path) return -EINVAL;
    struct reader r = {.l = l};
    int rc = finack_pcap_read_file(path, on_packet, &r);
    if (rc < 0) {
        if (rc == -EINVAL)
            snprintf(err, errlen, "%s: not a pcap file, truncated, or a link type other than "
                                  "Ethernet, raw IPv4 or Linux cooked", path);
        else
            snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        return rc;
    }
    if (r.err) {
        snprintf(err, errlen, "%s: %s", path, strerror(-r.err));
        return r.err;
    }
    if (r.segments == 0) {
        snprintf(err, errlen, "%s: no TCP segment over IPv4 in the capture", path);
        return -EINVAL;
    }
    for (int side = 0; side < 2 && !r.err; side++)
        if (r.end[side].fin_ack_pending) r.err = take_fin_ack(&r, side, r.last_t);
    if (r.err) {
        snprintf(err, errlen, "%s: %s", path, strerror(-r.err));
        return r.err;
    }
    settle_close_wait(l);
    settle_last_ack(l);
    return 0;
}
