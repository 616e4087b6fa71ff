/* The ladder's events: where they come from (trace events, hand-made ones,
 * notes), which side each belongs to, and the words a segment is drawn with. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ladder/internal.h"

void ladder_init(struct ladder *l)
{
    memset(l, 0, sizeof *l);
}

void ladder_free(struct ladder *l)
{
    free(l->events);
    ladder_init(l);
}

void ladder_set_hosts(struct ladder *l, const char *host0, const char *host1)
{
    snprintf(l->host[0], sizeof l->host[0], "%s", host0 ? host0 : "");
    snprintf(l->host[1], sizeof l->host[1], "%s", host1 ? host1 : "");
    l->sides = 2;
    l->pinned = true;
}

static int push(struct ladder *l, const struct ladder_event *e)
{
    if (l->count == l->capacity) {
        size_t cap = l->capacity ? l->capacity * 2 : 64;
        if (cap > SIZE_MAX / sizeof *l->events) return -ENOMEM;
        struct ladder_event *p = realloc(l->events, cap * sizeof *p);
        if (!p) return -ENOMEM;
        l->events = p;
        l->capacity = cap;
    }
    l->events[l->count++] = *e;
    return 0;
}

int ladder_append(struct ladder *l, const struct ladder_event *e)
{
    if (!l || !e || (e->side != 0 && e->side != 1)) return -EINVAL;
    int err = push(l, e);
    if (err) return err;
    /* A SYN carries its sender's ISN, whichever end recorded it. */
    if (e->kind == FINACK_TRACE_SEG && (e->flags & FINACK_TCP_SYN)) {
        int sender = ladder_seg_sender(e);
        if (!l->have_isn[sender]) {
            l->isn[sender] = e->seq;
            l->have_isn[sender] = true;
        }
    }
    if (l->sides < e->side + 1) l->sides = e->side + 1;
    return 0;
}

int ladder_add_note(struct ladder *l, const struct ladder_note *note)
{
    if (!l || !note || (note->side != 0 && note->side != 1)) return -EINVAL;
    struct ladder_event e = {.t = note->t, .kind = LADDER_NOTE, .side = note->side};
    snprintf(e.opts, sizeof e.opts, "%s", note->text);
    return ladder_append(l, &e);
}

/* ---- Sides -------------------------------------------------------------------- */

void ladder_format_endpoint(uint32_t addr, uint16_t port, char *buf, size_t size)
{
    if (addr == 0) {
        snprintf(buf, size, "*:%u", (unsigned)port);
        return;
    }
    snprintf(buf, size, "%u.%u.%u.%u:%u", (unsigned)(addr >> 24), (unsigned)(addr >> 16 & 255),
             (unsigned)(addr >> 8 & 255), (unsigned)(addr & 255), (unsigned)port);
}

static void set_endpoint(struct ladder *l, int side, uint32_t addr, uint16_t port)
{
    l->addr[side] = addr;
    l->port[side] = port;
    ladder_format_endpoint(addr, port, l->endpoint[side], sizeof l->endpoint[side]);
}

static int side_by_host(const struct ladder *l, const char *host)
{
    if (!host[0]) return -1;
    for (int i = 0; i < l->sides; i++)
        if (strcmp(l->host[i], host) == 0) return i;
    return -1;
}

/* A side whose local end is addr:port; a listener's wildcard address
 * matches any. */
static int side_by_endpoint(const struct ladder *l, uint32_t addr, uint16_t port)
{
    for (int i = 0; i < l->sides; i++)
        if (l->port[i] == port && (l->addr[i] == addr || l->addr[i] == 0 || addr == 0) &&
            (l->port[i] || l->addr[i]))
            return i;
    return -1;
}

static int new_side(struct ladder *l, const char *host, uint32_t addr, uint16_t port)
{
    if (l->pinned || l->sides == 2) return -1;
    int s = l->sides++;
    snprintf(l->host[s], sizeof l->host[s], "%s", host);
    set_endpoint(l, s, addr, port);
    return s;
}

/* Which side an event of host with this 4-tuple belongs to, choosing the
 * connection on its first full 4-tuple; -1 to ignore the event. Two stacks
 * may share a name ("finack" when none was configured): endpoints decide
 * first where they can. */
static int side_of(struct ladder *l, const char *host, const struct ladder_tuple *c)
{
    bool no_conn = !c->laddr && !c->raddr && !c->lport && !c->rport;
    bool listener = !no_conn && !c->raddr && !c->rport;
    if (no_conn || listener) {
        int s = listener ? side_by_endpoint(l, c->laddr, c->lport) : -1;
        if (s < 0) s = side_by_host(l, host);
        if (s < 0 && listener && !l->have_conn) s = new_side(l, host, c->laddr, c->lport);
        if (s >= 0 && listener && !l->port[s]) set_endpoint(l, s, c->laddr, c->lport);
        return s;
    }
    if (l->have_conn) {
        for (int i = 0; i < 2; i++)
            if (l->addr[i] == c->laddr && l->port[i] == c->lport &&
                l->addr[!i] == c->raddr && l->port[!i] == c->rport)
                return i;
        return -1;
    }
    int s = l->pinned ? -1 : side_by_endpoint(l, c->laddr, c->lport);
    if (s < 0) {
        s = side_by_host(l, host);
        if (s >= 0 && l->port[s] && l->port[s] != c->lport) s = -1;
    }
    if (s < 0) s = new_side(l, host, c->laddr, c->lport);
    if (s < 0) return -1;
    int o = l->sides == 2 ? !s : new_side(l, "", c->raddr, c->rport);
    if (o < 0) return -1;
    set_endpoint(l, s, c->laddr, c->lport);
    set_endpoint(l, o, c->raddr, c->rport);
    l->have_conn = true;
    return s;
}

static void swap_sides(struct ladder *l)
{
    char host[32], endpoint[24];
    memcpy(host, l->host[0], sizeof host);
    memcpy(l->host[0], l->host[1], sizeof host);
    memcpy(l->host[1], host, sizeof host);
    memcpy(endpoint, l->endpoint[0], sizeof endpoint);
    memcpy(l->endpoint[0], l->endpoint[1], sizeof endpoint);
    memcpy(l->endpoint[1], endpoint, sizeof endpoint);
    uint32_t a = l->addr[0], isn = l->isn[0];
    uint16_t p = l->port[0];
    bool traced = l->traced[0], have_isn = l->have_isn[0];
    l->addr[0] = l->addr[1], l->addr[1] = a;
    l->port[0] = l->port[1], l->port[1] = p;
    l->isn[0] = l->isn[1], l->isn[1] = isn;
    l->traced[0] = l->traced[1], l->traced[1] = traced;
    l->have_isn[0] = l->have_isn[1], l->have_isn[1] = have_isn;
    for (size_t i = 0; i < l->count; i++) l->events[i].side = !l->events[i].side;
}

int ladder_add_traced(struct ladder *l, const char *host, const struct ladder_tuple *conn,
                      struct ladder_event *e)
{
    int s = side_of(l, host, conn);
    if (s < 0) return 0;
    if (!l->host[s][0] && host[0]) snprintf(l->host[s], sizeof l->host[s], "%s", host);
    e->side = s;
    if (e->kind != LADDER_NOTE) {
        e->have_conn = true;
        e->laddr = conn->laddr, e->raddr = conn->raddr;
        e->lport = conn->lport, e->rport = conn->rport;
    }
    /* The first SYN of the connection says who opened it: draw it left. */
    bool opener_on_right = !l->pinned && s == 1 && e->kind == FINACK_TRACE_SEG && e->out &&
                           (e->flags & FINACK_TCP_SYN) && !(e->flags & FINACK_TCP_ACK) &&
                           !l->have_isn[0] && !l->have_isn[1];
    if (e->kind != LADDER_NOTE) l->traced[s] = true;
    int err = ladder_append(l, e);
    if (err) return err;
    if (opener_on_right) swap_sides(l);
    return 0;
}

int ladder_add_trace(struct ladder *l, const struct finack_trace_event *ev)
{
    if (!l || !ev) return -EINVAL;
    struct ladder_event e = {.t = ev->t, .kind = ev->kind};
    switch (ev->kind) {
    case FINACK_TRACE_STATE:
        snprintf(e.from, sizeof e.from, "%s", ev->from ? ev->from : "?");
        snprintf(e.to, sizeof e.to, "%s", ev->to ? ev->to : "?");
        break;
    case FINACK_TRACE_SEG:
        e.out = ev->out;
        e.flags = ev->flags;
        e.seq = ev->seq;
        e.ack = ev->ack;
        e.win = ev->win_scaled ? ev->win_scaled : ev->win;
        e.win_raw = ev->win;
        e.len = ev->len;
        e.retransmit = ev->retransmit;
        finack_trace_options(ev->opts, ev->opts ? ev->opts_len : 0, e.opts, sizeof e.opts);
        break;
    case FINACK_TRACE_DROP:
        snprintf(e.reason, sizeof e.reason, "%s", finack_drop_reason_name(ev->reason));
        break;
    case FINACK_TRACE_TIMER:
        snprintf(e.timer, sizeof e.timer, "%s", ev->timer ? ev->timer : "?");
        break;
    default:
        return 0;
    }
    struct ladder_tuple conn = {ev->laddr, ev->raddr, ev->lport, ev->rport};
    return ladder_add_traced(l, ev->host ? ev->host : "", &conn, &e);
}

/* ---- Words ---------------------------------------------------------------------- */

const char *ladder_flag_names(uint8_t flags, char *buf)
{
    static const struct {
        uint8_t bit;
        const char *name;
    } order[] = {{FINACK_TCP_SYN, "SYN"}, {FINACK_TCP_FIN, "FIN"}, {FINACK_TCP_RST, "RST"},
                 {FINACK_TCP_PSH, "PSH"}, {FINACK_TCP_URG, "URG"}, {FINACK_TCP_ACK, "ACK"},
                 {FINACK_TCP_ECE, "ECE"}, {FINACK_TCP_CWR, "CWR"}};
    buf[0] = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!(flags & order[i].bit)) continue;
        if (buf[0]) strcat(buf, "+");
        strcat(buf, order[i].name);
    }
    if (!buf[0]) strcpy(buf, "none");
    return buf;
}

int ladder_seg_sender(const struct ladder_event *e)
{
    return e->out ? e->side : !e->side;
}

/* "FLAGS seq=S ack=A win=W len=N"; the short form, where room is scarce,
 * without the window. */
static void seg_label(const struct ladder *l, const struct ladder_event *e, bool absolute,
                      bool short_form, char *buf, size_t size)
{
    int from = ladder_seg_sender(e), to = !from;
    uint32_t seq = e->seq, ack = e->ack;
    if (!absolute && l->have_isn[from]) seq -= l->isn[from];
    if (!absolute && l->have_isn[to]) ack -= l->isn[to];
    char flags[40], len[24] = "", acks[24] = "", win[24] = "";
    if (e->len) snprintf(len, sizeof len, " len=%u", (unsigned)e->len);
    if (e->flags & FINACK_TCP_ACK) snprintf(acks, sizeof acks, " ack=%u", (unsigned)ack);
    if (!short_form) snprintf(win, sizeof win, " win=%u", (unsigned)e->win);
    snprintf(buf, size, "%s%s seq=%u%s%s%s", e->retransmit ? "rtx " : "",
             ladder_flag_names(e->flags, flags), (unsigned)seq, acks, win, len);
}

void ladder_seg_label(const struct ladder *l, const struct ladder_event *e, bool absolute,
                      char *buf, size_t size)
{
    seg_label(l, e, absolute, false, buf, size);
}

void ladder_seg_label_short(const struct ladder *l, const struct ladder_event *e, bool absolute,
                            char *buf, size_t size)
{
    seg_label(l, e, absolute, true, buf, size);
}
