/* A scenario's run drawn: as a ladder (text or SVG, through the ladder
 * library) or as JSON lines (the trace as docs/TRACE.md writes it, with the
 * applications' notes). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ladder/ladder.h"
#include "sim/scenario.h"

/* Sequence numbers relative to each connection's ISNs. A ladder knows one
 * ISN per side; a run may hold several connections (old-duplicate-syn,
 * reuseaddr, bdp), so they are made relative here, per connection and per
 * incarnation: a SYN sets its sender's ISN anew. */
struct isn_conn {
    uint32_t addr[2];
    uint16_t port[2];       /* [0] the left side's end, [1] the right's */
    uint32_t isn[2];
    bool have[2];
};

struct isn_table {
    struct isn_conn conn[64];
    size_t count;
};

static struct isn_conn *isn_conn_of(struct isn_table *t, const struct sim_event *e)
{
    uint32_t addr[2];
    uint16_t port[2];
    addr[e->side] = e->laddr;
    port[e->side] = e->lport;
    addr[!e->side] = e->raddr;
    port[!e->side] = e->rport;
    for (size_t i = 0; i < t->count; i++) {
        struct isn_conn *c = &t->conn[i];
        if (c->addr[0] == addr[0] && c->addr[1] == addr[1] && c->port[0] == port[0] &&
            c->port[1] == port[1])
            return c;
    }
    if (t->count == sizeof t->conn / sizeof t->conn[0]) return NULL;
    struct isn_conn *c = &t->conn[t->count++];
    *c = (struct isn_conn){.addr = {addr[0], addr[1]}, .port = {port[0], port[1]}};
    return c;
}

static void segment_event(struct isn_table *t, bool absolute, const struct sim_event *e,
                          struct ladder_event *le)
{
    le->out = e->out;
    le->flags = e->flags;
    le->seq = e->seq;
    le->ack = e->ack;
    le->win = e->win_scaled;
    le->win_raw = e->win;
    le->len = e->len;
    le->retransmit = e->retransmit;
    finack_trace_options(e->opts, e->opts_len, le->opts, sizeof le->opts);
    int sender = e->out ? e->side : !e->side;
    struct isn_conn *c = isn_conn_of(t, e);
    if (!c) return;
    if (e->flags & FINACK_TCP_SYN) {
        c->isn[sender] = e->seq;
        c->have[sender] = true;
    }
    if (absolute) return;
    if (c->have[sender]) le->seq = e->seq - c->isn[sender];
    /* Without ACK the field means nothing and is drawn as sent (0). */
    if (c->have[!sender] && (e->flags & FINACK_TCP_ACK)) le->ack = e->ack - c->isn[!sender];
}

/* The states of each side's sockets, so that a change can be told in
 * words where the state column alone would mislead. */
struct socket_state {
    int side;
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    char state[16];
};

struct state_table {
    struct socket_state s[64];
    size_t count;
};

static struct socket_state *socket_of(struct state_table *t, const struct sim_event *e)
{
    for (size_t i = 0; i < t->count; i++) {
        struct socket_state *s = &t->s[i];
        if (s->side == e->side && s->laddr == e->laddr && s->raddr == e->raddr &&
            s->lport == e->lport && s->rport == e->rport)
            return s;
    }
    if (t->count == sizeof t->s / sizeof t->s[0]) return NULL;
    struct socket_state *s = &t->s[t->count++];
    *s = (struct socket_state){.side = e->side, .laddr = e->laddr, .raddr = e->raddr,
                               .lport = e->lport, .rport = e->rport};
    return s;
}

/* A state the side's other sockets are in (a connection, or a listener),
 * other than CLOSED; NULL if none. */
static const char *other_state(const struct state_table *t, const struct sim_event *e,
                               bool listener)
{
    for (size_t i = 0; i < t->count; i++) {
        const struct socket_state *s = &t->s[i];
        if (s->side != e->side || (s->rport == 0) != listener || !strcmp(s->state, "CLOSED") ||
            !s->state[0])
            continue;
        if (s->laddr == e->laddr && s->raddr == e->raddr && s->lport == e->lport &&
            s->rport == e->rport)
            continue;
        return s->state;
    }
    return NULL;
}

/* A listener's CLOSED while a connection of its host lives on (reuseaddr:
 * TIME_WAIT holds the port), or a half-open connection's CLOSED while the
 * listener still listens (old-duplicate-syn): the state column would say
 * the host is CLOSED. Words instead, as a note; false to draw the state. */
static bool state_as_note(struct state_table *t, const struct sim_event *e, struct ladder *l,
                          int *err)
{
    struct socket_state *s = socket_of(t, e);
    if (!s) return false;
    const char *other = NULL;
    bool listener = e->rport == 0;
    struct ladder_note n = {.t = e->t, .side = e->side};
    if (!strcmp(e->to, "CLOSED") && listener && (other = other_state(t, e, false)))
        snprintf(n.text, sizeof n.text, "(listener) CLOSED; %s remains", other);
    else if (!strcmp(e->to, "CLOSED") && !listener && !strcmp(e->from, "SYN_RCVD") &&
             (other = other_state(t, e, true)))
        snprintf(n.text, sizeof n.text, "(half-open) CLOSED; still %s", other);
    snprintf(s->state, sizeof s->state, "%s", e->to);
    if (!other) return false;
    *err = ladder_add_note(l, &n);
    return true;
}

int sim_result_to_ladder(const struct sim_result *r, struct ladder *l)
{
    ladder_set_hosts(l, r->host[0], r->host[1]);
    static const uint32_t addr[2] = {SIM_LEFT_ADDR, SIM_RIGHT_ADDR};
    for (int side = 0; side < 2; side++) {
        l->addr[side] = addr[side];
        l->traced[side] = true;
        snprintf(l->endpoint[side], sizeof l->endpoint[side], "%u.%u.%u.%u", addr[side] >> 24,
                 addr[side] >> 16 & 255, addr[side] >> 8 & 255, addr[side] & 255);
    }
    l->have_conn = true;
    if (r->scenario)
        snprintf(l->title, sizeof l->title, "finack sim %s: %s", r->scenario->name,
                 r->scenario->summary);
    struct isn_table *isn = calloc(1, sizeof *isn);
    struct state_table *states = calloc(1, sizeof *states);
    if (!isn || !states) {
        free(isn);
        free(states);
        return -ENOMEM;
    }
    int err = 0;
    for (size_t i = 0; i < r->count && !err; i++) {
        const struct sim_event *e = &r->events[i];
        struct ladder_event le = {.t = e->t, .side = e->side};
        if (e->note) {
            struct ladder_note n = {.t = e->t, .side = e->side};
            snprintf(n.text, sizeof n.text, "%s", e->text);
            err = ladder_add_note(l, &n);
            continue;
        }
        le.kind = e->kind;
        le.have_conn = true;
        le.laddr = e->laddr, le.raddr = e->raddr, le.lport = e->lport, le.rport = e->rport;
        switch (e->kind) {
        case FINACK_TRACE_STATE:
            if (state_as_note(states, e, l, &err)) continue;
            snprintf(le.from, sizeof le.from, "%s", e->from);
            snprintf(le.to, sizeof le.to, "%s", e->to);
            break;
        case FINACK_TRACE_SEG:
            segment_event(isn, r->absolute, e, &le);
            break;
        case FINACK_TRACE_DROP:
            snprintf(le.reason, sizeof le.reason, "%s", finack_drop_reason_name(e->reason));
            break;
        case FINACK_TRACE_TIMER:
            snprintf(le.timer, sizeof le.timer, "%s", e->timer);
            break;
        }
        err = ladder_append(l, &le);
    }
    free(isn);
    free(states);
    /* The numbers are final: drawn as they are. */
    l->have_isn[0] = l->have_isn[1] = false;
    return err;
}

static void json_note(FILE *out, finack_time_t t, const char *host, const char *text)
{
    fprintf(out, "{\"t_us\":%" PRIu64 ",\"host\":", (uint64_t)t);
    ladder_json_string(out, host);
    fputs(",\"ev\":\"note\",\"text\":", out);
    ladder_json_string(out, text);
    fputs("}\n", out);
}

int sim_write_json(const struct sim_result *r, FILE *out)
{
    char line[1024];
    for (size_t i = 0; i < r->count; i++) {
        const struct sim_event *e = &r->events[i];
        const char *host = r->host[e->side];
        struct finack_trace_event ev;
        if (e->note) {
            json_note(out, e->t, host, e->text);
        } else if (e->injected) {
            /* No stack sent it: say what the network delivered. */
            char flags[16], text[96];
            snprintf(text, sizeof text, "the network delivers an old %s seq %" PRIu32 " to :%u",
                     finack_trace_flags(e->flags, flags), e->seq, (unsigned)e->rport);
            json_note(out, e->t, host, text);
        } else if (sim_event_trace(r, e, &ev)) {
            int n = finack_trace_format_json(&ev, line, sizeof line);
            if (n < 0) return n;
            if ((size_t)n < sizeof line) {
                fputs(line, out);
            } else {
                char *big = malloc((size_t)n + 1);
                if (!big) return -ENOMEM;
                finack_trace_format_json(&ev, big, (size_t)n + 1);
                fputs(big, out);
                free(big);
            }
        }
    }
    return ferror(out) ? -EIO : 0;
}

int sim_draw(const struct sim_result *r, enum sim_format format, bool ascii, FILE *out)
{
    if (format == SIM_FORMAT_JSON) return sim_write_json(r, out);
    struct ladder l;
    ladder_init(&l);
    int err = sim_result_to_ladder(r, &l);
    struct ladder_options o = {.ascii = ascii, .absolute = true, .collapse = r->collapse};
    if (!err)
        err = format == SIM_FORMAT_SVG ? ladder_write_svg(&l, &o, out)
                                       : ladder_write_text(&l, &o, out);
    ladder_free(&l);
    if (!err && ferror(out)) err = -EIO;
    return err;
}
