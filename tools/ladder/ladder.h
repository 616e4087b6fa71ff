/*
 * Ladder diagrams: the events between two TCP endpoints, drawn as the
 * article draws them — two vertical lines (the hosts), one arrow per
 * segment with its flags, seq, ack, window and length, time on the left,
 * each end's state written beside its line where it changes.
 *
 * A ladder is built from trace events (finack/trace.h) of a simulated or
 * live run, from a JSON-lines trace file, or from a pcap of any capture
 * (there the states are inferred from the segments). It is drawn as text
 * (Unicode box drawing, or plain ASCII) or as a standalone SVG.
 *
 * Errors: functions that can fail return 0 or a negative errno and, where
 * they take one, write a one-line message into err.
 *
 * Changes to the first contract (for the callers, H4):
 *  - struct ladder: addr[], port[], sides added (the connection's endpoints
 *    as numbers, how many sides are known); host[] may stay "" for a side
 *    only seen as the peer (draw endpoint[] then).
 *  - ladder_append(): add an event as is, side already chosen (pcap reader,
 *    hand-made tests).
 *  - ladder_write_json(): the events back out as JSON lines (pcap -> trace).
 *  - ladder_text_width(): display columns of a UTF-8 string, as the width
 *    limit counts them.
 *  - ladder_write_text() returns -EINVAL when width is below
 *    LADDER_MIN_WIDTH (64); ladder_write_svg() ignores width and ascii.
 *  - ladder_set_hosts(): fix which host is side 0 (left) and side 1 before
 *    adding events. Without it, sides go by first appearance, and swap once
 *    if side 1 turns out to have opened the connection (its first SYN), so
 *    that the client is drawn on the left.
 *  - Times are drawn relative to the first event.
 *  - Notes (LADDER_NOTE): side is the ladder's side number as for events
 *    (0 is drawn left); JSON lines carry them as {"ev":"note","text":...}.
 *
 * What the text looks like (golden files depend on it):
 *    time (ms)               │                                   │   rcvd (ms)
 *        1.000    [SYN_SENT] │── SYN seq=0 win=65535 ───────────→│       11.000
 *       11.000               │←── SYN+ACK seq=0 ack=1 win=65535 ──│ [SYN_RCVD]
 *       21.500               │── PSH+ACK seq=1 ack=1 len=100 ──✕  │
 *      221.500               │ (RTO timer)                       │
 *      221.500               │╌╌ rtx PSH+ACK seq=1 ack=1 len=100 ╌→│
 *       40.000               │           (drop TCP_BAD_CHECKSUM) │
 *       30.000               │ … 10 data segments, 1..14480 → / 5 ACKs ← │
 *                            │          ⋯ 120 s ⋯             │
 *  - a label is "[rtx ]FLAGS seq=S[ ack=A] win=W[ len=N]", numbers relative
 *    to each side's ISN; where it does not fit, win goes, then it is cut
 *    with "…" ("..." in ASCII);
 *  - the rcvd column (an arrow's arrival) is there when some arrival is
 *    known and at another time than the sending; it goes when the labels
 *    without win would not fit beside it;
 *  - a state change comes on the row of the arrow its side sends at the
 *    same instant, else on the row before at the same instant if its
 *    column is free there, else on a row of its own;
 *  - control characters are drawn as '?', non-ASCII in ASCII mode too.
 *  - where two rows are more than 10 times the median gap and 1 s apart,
 *    a break row says how long ("⋯ 120 s ⋯", ASCII "... 120 s ..."; in
 *    SVG the lifelines are cut there).
 */
#ifndef FINACK_LADDER_H
#define FINACK_LADDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "finack/finack.h"
#include "finack/trace.h"

/* One event, copied out of its source (owns no pointers). side is the
 * column: 0 left (the host seen first, normally the client), 1 right. */
struct ladder_event {
    finack_time_t t;
    enum finack_trace_kind kind;
    int side;                 /* whose event: the sender of a segment "out",
                               * the receiver of one "in" */
    char from[16], to[16];    /* STATE */
    bool out;                 /* SEG */
    uint8_t flags;
    uint32_t seq, ack, win, len;  /* win: the scaled window */
    uint32_t win_raw;         /* the window field as sent; 0 if unknown */
    bool have_conn;           /* the 4-tuple as the event's host saw it (a */
    uint32_t laddr, raddr;    /* listener's remote end 0, all 0 for a drop */
    uint16_t lport, rport;    /* before TCP), kept for JSON out */
    char opts[96];
    bool retransmit;
    char reason[40];          /* DROP: finack_drop_reason_name() */
    char timer[16];           /* TIMER */
};

struct ladder {
    char host[2][32];         /* "A"/"B", "client"/"server", or addresses */
    char endpoint[2][24];     /* "10.0.0.1:5000" */
    uint32_t addr[2];         /* each side's local address and port (host */
    uint16_t port[2];         /* order); addr 0 for a listener seen alone */
    int sides;                /* sides known so far: 0, 1 or 2 */
    bool have_conn;           /* the connection drawn is chosen */
    bool pinned;              /* ladder_set_hosts() fixed the sides */
    bool traced[2];           /* events of this side were recorded: a segment
                               * it sent with no "in" on a traced receiver
                               * was lost */
    uint32_t isn[2];          /* each side's ISN (from its SYN), for
                               * relative numbers */
    bool have_isn[2];
    struct ladder_event *events;
    size_t count, capacity;
    char title[128];          /* drawn above the diagram; may be empty */
};

void ladder_init(struct ladder *l);
void ladder_free(struct ladder *l);

/* Fix the host names of side 0 (drawn left) and side 1 (right): trace
 * events are then placed by their host name, and sides never swap. */
void ladder_set_hosts(struct ladder *l, const char *host0, const char *host1);

/* Append one trace event. The first two distinct hosts become sides 0 and
 * 1; events of other hosts, and of connections other than the first one
 * seen, are ignored (returns 0). Returns 0 or -ENOMEM. */
int ladder_add_trace(struct ladder *l, const struct finack_trace_event *ev);

/* Append a copy of e as it is (e->side chosen by the caller, 0 or 1); marks
 * nothing traced, learns the ISN from a SYN. Returns 0, -EINVAL or -ENOMEM. */
int ladder_append(struct ladder *l, const struct ladder_event *e);

/* Read a JSON-lines trace (docs/TRACE.md). -EINVAL with "line N: ..." in
 * err on a malformed line. */
int ladder_read_json(struct ladder *l, FILE *in, char *err, size_t errlen);

/* Read a pcap (Ethernet, raw IPv4 or Linux cooked; microsecond or
 * nanosecond) holding one TCP connection (the first one seen is drawn);
 * each packet becomes a segment "out" of its sender at the capture time,
 * and each end's state is inferred from the segments: SYN_SENT with the
 * client's SYN, LISTEN then SYN_RCVD with the server's SYN-ACK, ESTABLISHED
 * when a SYN is ACKed, FIN_WAIT_1 with the first FIN, CLOSE_WAIT at that
 * FIN (once an ACK shows it was not a simultaneous close), FIN_WAIT_2 when
 * that ACK arrives, LAST_ACK with the other FIN, TIME_WAIT / CLOSED with
 * the ACK of the last FIN (never CLOSED before a FIN sent again), CLOSING
 * when both FINs cross, CLOSED on a RST. Sides are "client" and "server" when a SYN was
 * seen; windows are scaled when both SYNs offered it. */
int ladder_read_pcap(struct ladder *l, const char *path, char *err, size_t errlen);

struct ladder_options {
    bool ascii;            /* plain ASCII instead of Unicode box drawing */
    bool absolute;         /* absolute seq/ack instead of relative to ISN */
    bool collapse;         /* summarize runs of data/ACK into one row */
    unsigned width;        /* columns, at most; 0 = 100 */
};

#define LADDER_DEFAULT_WIDTH 100
#define LADDER_MIN_WIDTH 64

/* Display columns of UTF-8 text (East Asian wide characters count 2,
 * combining marks 0). */
size_t ladder_text_width(const char *s);

/* Text ladder, every line at most width columns. */
int ladder_write_text(const struct ladder *l, const struct ladder_options *o, FILE *out);
/* Standalone SVG (no external assets): states as labels, lost segments
 * ending in a cross, retransmissions marked. */
int ladder_write_svg(const struct ladder *l, const struct ladder_options *o, FILE *out);
/* The events as JSON lines (docs/TRACE.md), one per event, in time order:
 * what ladder_read_json() reads back. */
int ladder_write_json(const struct ladder *l, FILE *out);
/* s as a quoted JSON string: '"' and backslash escaped, control characters
 * as \u00XX, other bytes (UTF-8 included) as they are. */
void ladder_json_string(FILE *out, const char *s);

/* ---- Notes: the application's side (added for `finack sim`) --------------
 * What an application called and what the call returned, written beside its
 * host's line at time t, as the article writes "close() 호출":
 * "write(12000) = 12000", "bind: EADDRINUSE", "recv() = 0 (EOF)".
 *
 * A note is a struct ladder_event whose kind is LADDER_NOTE, a value past
 * the trace kinds (test it before switching over kind); its text is in the
 * event's opts field (so struct ladder_event is unchanged), and only t and
 * side are set besides. The renderers draw it as a line of text on its
 * side's column, in time order with the other events. */
#define LADDER_NOTE ((enum finack_trace_kind)(FINACK_TRACE_TIMER + 16))

struct ladder_note {
    finack_time_t t;
    int side;                 /* 0 left, 1 right */
    char text[96];            /* = sizeof ((struct ladder_event *)0)->opts */
};

/* Append a note (text cut to 95 bytes). Returns 0 or -ENOMEM. */
int ladder_add_note(struct ladder *l, const struct ladder_note *note);

/* ---- Which copy arrived --------------------------------------------------
 * Whether a and b are copies of one segment: the same sender, seq, ack,
 * flags, length, window (scaled and raw) and options. Timestamps make the
 * copies a stack sends at different milliseconds differ. */
bool ladder_same_segment(const struct ladder_event *a, const struct ladder_event *b);

/* Pair every segment "in" with the "out" it is a copy of: peer[i] (l->count
 * entries) is the index of the event's partner, or -1 (an "out" never
 * received, an "in" never sent by a traced host, any other event). Among
 * identical copies the earliest unpaired "out" sent at or before the "in"
 * is taken (a link delivers one direction in order), but none older than
 * the newest retransmitted copy: that one is what got through. Returns 0
 * or -ENOMEM. */
int ladder_pair_segments(const struct ladder *l, long *peer);

#endif
