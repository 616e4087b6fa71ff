/* The scenarios of `finack sim` and `finack demo`: the figures of the seed
 * article, each played by two finack stacks on the simulated link.
 *
 * A scenario is a short program for the applications on both hosts (listen,
 * connect, write, close, ...) run against the virtual clock. sim_run() runs
 * one and returns what happened as a list of events: every trace event of
 * both stacks (finack/trace.h), copied out, and a note for each application
 * call and what it returned ("write(12000) = 12000", "bind(:80) =
 * EADDRINUSE"). The tests check facts on that list; the command draws it
 * (render.c) as a ladder, an SVG or JSON lines.
 *
 * The same seed gives the same events, byte for byte. */
#ifndef FINACK_TOOLS_SIM_SCENARIO_H
#define FINACK_TOOLS_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "finack/finack.h"
#include "finack/pcap.h"
#include "finack/trace.h"

#define SIM_LEFT 0   /* the client, or A */
#define SIM_RIGHT 1  /* the server, or B */

#define SIM_LEFT_ADDR 0x0a000001u   /* 10.0.0.1 */
#define SIM_RIGHT_ADDR 0x0a000002u  /* 10.0.0.2 */

/* One event of a run: a trace event copied out of its callback (it owns its
 * strings and option bytes), or a note about an application call. */
struct sim_event {
    finack_time_t t;
    int side;                   /* SIM_LEFT or SIM_RIGHT: whose event */
    bool note;                  /* an application's call: text */
    char text[96];

    /* A trace event (note false): the fields of struct finack_trace_event. */
    enum finack_trace_kind kind;
    uint32_t laddr, raddr;      /* as the side sees them */
    uint16_t lport, rport;
    char from[16], to[16];      /* STATE */
    bool out;                   /* SEG */
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t win;
    uint32_t win_scaled, len;
    uint8_t opts[40];
    uint8_t opts_len;
    bool retransmit;
    /* SEG out put on the wire by the scenario itself in side's name, not by
     * its stack: an old duplicate the network delivers late. No stack traced
     * it; it is kept so the picture shows where it came from. */
    bool injected;
    enum finack_drop_reason reason;  /* DROP */
    char timer[16];             /* TIMER */
};

/* What a run may be given. custom reads every field; the article's
 * scenarios read only seed (their links and buffers are part of the
 * figure). */
struct sim_params {
    uint64_t seed;
    double loss;                /* each way, 0..1 */
    finack_time_t delay;        /* one-way latency, µs */
    uint64_t bytes;             /* the client sends */
    uint32_t rcvbuf, sndbuf;    /* 0: the stack's default */
    uint64_t rate_bps;          /* 0: unlimited */
    struct finack_pcap *capture; /* NULL, or where the client's packets go */
};

/* Defaults: seed 1, no loss, 10 ms, 12000 bytes, default buffers, no rate. */

/* finack demo's default seed: its transfer (12000 bytes, 2% loss each way,
 * 10 ms) loses a data segment and sends it again, so the demo's lossy link
 * shows a cross and its retransmission rather than a lucky run. */
#define SIM_DEMO_SEED 22
#define SIM_DEMO_LOSS 0.02
void sim_params_init(struct sim_params *p);

struct sim_scenario;

struct sim_result {
    const struct sim_scenario *scenario;
    char host[2][16];           /* "client"/"server" or "A"/"B" */
    struct sim_event *events;   /* in the order they happened */
    size_t count, capacity;
    bool absolute;              /* draw absolute sequence numbers */
    bool collapse;              /* draw runs of data as one row */
    /* bdp and custom: what each transfer achieved, in order. */
    unsigned transfers;
    double throughput_bps[2];   /* payload bytes delivered to the app / time */
    uint32_t window[2];         /* the receive buffer of each transfer */
    finack_time_t rtt;          /* the link's round trip, without queueing */
    uint64_t delivered;         /* bytes the receiving app read (last transfer) */
};

struct sim_world;

struct sim_scenario {
    const char *name;
    const char *summary;        /* one line for --list */
    const char *notice;         /* one sentence for finack demo: what to see */
    bool symmetric;             /* hosts "A"/"B" rather than client/server */
    /* The applications' program. Returns 0, or a negative errno when an
     * application saw something the figure does not allow. */
    int (*play)(struct sim_world *w, const struct sim_params *p, struct sim_result *r);
};

/* The scenarios in the order --list prints them. */
const struct sim_scenario *sim_scenarios(size_t *count);
/* NULL if there is none of that name. */
const struct sim_scenario *sim_scenario_find(const char *name);

/* Run one. On success the result holds the events (free with
 * sim_result_free, also after a failure). Returns 0, -ENOMEM, or the
 * scenario's error; the events up to the failure are kept. */
int sim_run(const struct sim_scenario *scenario, const struct sim_params *p,
            struct sim_result *r);
void sim_result_free(struct sim_result *r);

/* The event as a struct finack_trace_event, pointing into e and r (host
 * name, strings, option bytes). For notes and injected segments, false. */
bool sim_event_trace(const struct sim_result *r, const struct sim_event *e,
                     struct finack_trace_event *out);

/* Whether the segment sent at index i (a SEG "out" event) was received by
 * the other host: false for a segment the link lost. Copies are told apart
 * as the ladder does (ladder_same_segment: window and options too), and
 * identical copies arrive in the order they were sent. */
bool sim_segment_arrived(const struct sim_result *r, size_t i);
/* The same for every event at once (malloc'd, r->count entries, false for
 * all but arrived "out"s); NULL if out of memory. */
bool *sim_segments_arrived(const struct sim_result *r);

/* ---- Drawing (render.c) ---------------------------------------------------- */
struct ladder;
struct ladder_options;

/* The run as a ladder: both hosts, every connection between them, the
 * notes. Sequence numbers are made relative to each connection's ISNs here
 * (unless r->absolute), so draw with o->absolute set, as sim_draw does. */
int sim_result_to_ladder(const struct sim_result *r, struct ladder *l);

/* The run as JSON lines: trace events in docs/TRACE.md's schema, notes as
 * {"t_us":..,"host":"client","ev":"note","text":"write(12000) = 12000"}. */
int sim_write_json(const struct sim_result *r, FILE *out);

enum sim_format { SIM_FORMAT_TEXT, SIM_FORMAT_SVG, SIM_FORMAT_JSON };

/* Draw the run to out in a format; ascii: plain ASCII text. */
int sim_draw(const struct sim_result *r, enum sim_format format, bool ascii, FILE *out);

#endif
