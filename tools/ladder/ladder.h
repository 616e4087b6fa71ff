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
    char opts[96];
    bool retransmit;
    char reason[40];          /* DROP: finack_drop_reason_name() */
    char timer[16];           /* TIMER */
};

struct ladder {
    char host[2][32];         /* "A"/"B", "client"/"server", or addresses */
    char endpoint[2][24];     /* "10.0.0.1:5000" */
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

/* Append one trace event. The first two distinct hosts become sides 0 and
 * 1; events of other hosts, and of connections other than the first one
 * seen, are ignored (returns 0). Returns 0 or -ENOMEM. */
int ladder_add_trace(struct ladder *l, const struct finack_trace_event *ev);

/* Read a JSON-lines trace (docs/TRACE.md). -EINVAL with "line N: ..." in
 * err on a malformed line. */
int ladder_read_json(struct ladder *l, FILE *in, char *err, size_t errlen);

/* Read a pcap (Ethernet, raw IPv4 or Linux cooked; microsecond or
 * nanosecond) holding one TCP connection (the first one seen is drawn);
 * each packet becomes a segment seen at the capture point, and each end's
 * state is inferred from the segments (SYN_SENT after its SYN, ...). */
int ladder_read_pcap(struct ladder *l, const char *path, char *err, size_t errlen);

struct ladder_options {
    bool ascii;            /* plain ASCII instead of Unicode box drawing */
    bool absolute;         /* absolute seq/ack instead of relative to ISN */
    bool collapse;         /* summarize runs of data/ACK into one row */
    unsigned width;        /* columns, at most; 0 = 100 */
};

/* Text ladder, every line at most width columns. */
int ladder_write_text(const struct ladder *l, const struct ladder_options *o, FILE *out);
/* Standalone SVG (no external assets): states as labels, lost segments
 * ending in a cross, retransmissions marked. */
int ladder_write_svg(const struct ladder *l, const struct ladder_options *o, FILE *out);

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

#endif
