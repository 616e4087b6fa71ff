/* What the ladder files share and the API does not show: adding events by
 * side, segment labels, text width, and the layout (rows) that the text
 * and SVG writers both draw. */
#ifndef FINACK_LADDER_INTERNAL_H
#define FINACK_LADDER_INTERNAL_H

#include "ladder/ladder.h"

/* Width of the state column: "[ESTABLISHED]". */
#define LADDER_STATE_COLS 13
/* A steady-state run is summarized when it holds at least this many data
 * segments; shorter runs are drawn segment by segment. */
#define LADDER_COLLAPSE_MIN 4

/* "SYN+ACK", "FIN+PSH+ACK", "RST", "none": the article's names, in a fixed
 * order. buf >= 40 bytes. */
const char *ladder_flag_names(uint8_t flags, char *buf);

/* Decode one UTF-8 character at s into *cp (invalid bytes as U+FFFD, one
 * at a time). Returns the bytes used, 0 at the terminating NUL. */
size_t ladder_utf8_next(const char *s, uint32_t *cp);

/* A connection as one host sees it (host byte order); all zero for a drop
 * before TCP parsed the packet, remote zero for a listener. */
struct ladder_tuple {
    uint32_t laddr, raddr;
    uint16_t lport, rport;
};

/* Add e (side unset) recorded by host on conn: finds its side, marks the
 * side traced, may swap the sides (see ladder.h). 0 if ignored. */
int ladder_add_traced(struct ladder *l, const char *host, const struct ladder_tuple *conn,
                      struct ladder_event *e);

/* "10.0.0.1:5000", "*:80" for address 0. buf >= 24 bytes. */
void ladder_format_endpoint(uint32_t addr, uint16_t port, char *buf, size_t size);

/* The sender's side of a segment event (the event's side for "out", the
 * other one for "in"). */
int ladder_seg_sender(const struct ladder_event *e);

/* "SYN+ACK seq=0 ack=1 win=65160", " len=N" when it carries data; seq
 * relative to the sender's ISN and ack to the receiver's unless absolute or
 * the ISN is unknown. */
void ladder_seg_label(const struct ladder *l, const struct ladder_event *e, bool absolute,
                      char *buf, size_t size);
/* The same without the window, for where the full label does not fit. */
void ladder_seg_label_short(const struct ladder *l, const struct ladder_event *e, bool absolute,
                            char *buf, size_t size);

/* Indices of l->events in time order, ties in the order added (malloc'd;
 * NULL if out of memory). */
size_t *ladder_time_order(const struct ladder *l);

enum ladder_row_kind {
    LADDER_ROW_STATES,   /* only state changes */
    LADDER_ROW_ARROW,    /* one segment, maybe with states */
    LADDER_ROW_NOTE,     /* a timer or a drop, maybe with states */
    LADDER_ROW_SUMMARY,  /* a collapsed steady-state run */
    LADDER_ROW_GAP,      /* a break: nothing happens from t to t_end */
};

/* A break row goes between rows further apart than this many times the
 * median gap between rows, and at least LADDER_GAP_MIN. */
#define LADDER_GAP_FACTOR 10
#define LADDER_GAP_MIN FINACK_SEC(1)

/* "120 s", "2.5 s": a break's length. buf >= 32 bytes. */
void ladder_gap_text(finack_time_t length, char *buf, size_t size);

/* One row of the drawing. Columns are sides: 0 left, 1 right. */
struct ladder_row {
    finack_time_t t;                 /* relative to the layout's t0 */
    enum ladder_row_kind kind;
    const char *state[2];            /* new state written beside column */
    /* ARROW */
    const struct ladder_event *seg;  /* the "out" event, or an unmatched "in" (as drawn) */
    int from;                        /* column of the sender */
    bool lost;                       /* sent, never received by a traced peer */
    bool dup;                        /* received, never sent by a traced peer */
    bool has_recv;                   /* t_recv known (a matched "in") */
    finack_time_t t_recv;
    /* NOTE */
    int note_col;
    char note[128];
    /* SUMMARY */
    size_t data_count, ack_count;
    uint32_t first_byte, last_byte;  /* as labels show them */
    finack_time_t t_end;             /* SUMMARY, GAP: when it ends */
};

struct ladder_layout {
    struct ladder_row *rows;
    size_t count;
    /* The events as drawn (rows point here): l->events, but a simultaneous
     * open's SYN+ACK is not marked as a retransmission. */
    struct ladder_event *drawn;
    finack_time_t t0;                /* subtracted from every time shown */
    bool any_recv;                   /* some row has a receive time */
};

int ladder_layout_build(const struct ladder *l, const struct ladder_options *o,
                        struct ladder_layout *out);
void ladder_layout_free(struct ladder_layout *lay);

#endif
