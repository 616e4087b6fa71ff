/*
 * Traces: what a stack did, one event at a time, for ladder diagrams,
 * debugging and tests.
 *
 * When a trace callback is set, the stack reports every TCP state change
 * (TCBs, half-open and TIME_WAIT records alike, LISTEN and CLOSED
 * included), every TCP segment it hands to IP ("out": SYN-ACKs of
 * half-open records, RSTs for segments no socket takes and TIME_WAIT ACKs
 * too) and every TCP segment it receives that parses ("in", before it is
 * processed, whether a socket takes it or not), every packet it drops (with
 * its reason) and every TCP timer that fires. The callback runs inside
 * finack_stack_input()/poll()/the socket call that caused the event; the
 * event and the strings and bytes it points to are valid only during the
 * call, and the callback must not call into the stack. With no callback set
 * the cost is one branch per event site; with one, the stack still neither
 * formats nor allocates: the event is a struct on the C stack.
 *
 * finack_trace_format_json() writes an event as one line of JSON, keys in
 * this order, the schema of docs/TRACE.md:
 *   {"t_us":1500,"host":"A","conn":"10.0.0.1:5000-10.0.0.2:80","ev":"state",
 *    "from":"SYN_SENT","to":"ESTABLISHED"}
 *   {"t_us":1500,"host":"A","conn":"...","ev":"seg","dir":"out","flags":"A",
 *    "seq":1001,"ack":2001,"win":64256,"win_raw":502,"len":0,
 *    "opts":"nop,nop,TS val 7 ecr 3"}
 *   {"t_us":...,"host":"B","conn":"0.0.0.0:0-0.0.0.0:0","ev":"drop",
 *    "reason":"TCP_BAD_CHECKSUM"}
 *   {"t_us":...,"host":"A","conn":"...","ev":"timer","timer":"RTO"}
 * "conn" is always local-remote as seen by "host" (a listener's remote is
 * 0.0.0.0:0; a drop before TCP parsed the packet has an all-zero conn).
 * "win" is the window in bytes (win_scaled), "win_raw" the 16-bit field;
 * "opts" is always there ("" for none); "rtx":true is added after "opts"
 * only on an outgoing retransmission, and is absent otherwise.
 *
 * Contract changes since the first draft (for tools/ladder and the sim and
 * ladder commands): JSON "win" is the scaled window and "win_raw" the raw
 * field; "rtx" appears only when true; "host" is the stack's configured
 * name, or "finack" when none was configured.
 */
#ifndef FINACK_TRACE_H
#define FINACK_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finack/finack.h"

#ifdef __cplusplus
extern "C" {
#endif

enum finack_trace_kind {
    FINACK_TRACE_STATE,  /* a connection changed state */
    FINACK_TRACE_SEG,    /* a TCP segment sent (out) or received (in) */
    FINACK_TRACE_DROP,   /* a packet dropped; reason says why */
    FINACK_TRACE_TIMER,  /* a TCP timer fired */
};

/* TCP header flag bits, as on the wire. */
#define FINACK_TCP_FIN 0x01
#define FINACK_TCP_SYN 0x02
#define FINACK_TCP_RST 0x04
#define FINACK_TCP_PSH 0x08
#define FINACK_TCP_ACK 0x10
#define FINACK_TCP_URG 0x20
#define FINACK_TCP_ECE 0x40
#define FINACK_TCP_CWR 0x80

struct finack_trace_event {
    finack_time_t t;
    enum finack_trace_kind kind;
    const char *host;            /* the stack's configured name ("finack" if none) */
    /* The connection, local and remote as this host sees them (host byte
     * order). All zero for a drop before TCP could parse the packet. */
    uint32_t laddr, raddr;
    uint16_t lport, rport;

    /* FINACK_TRACE_STATE: RFC 9293 names, "CLOSED" ... "TIME_WAIT". */
    const char *from, *to;

    /* FINACK_TRACE_SEG: the header fields as on the wire (absolute
     * sequence numbers; win is the raw 16-bit field, win_scaled the window
     * it means once the scale applies: the same in a SYN). */
    bool out;
    uint8_t flags;               /* FINACK_TCP_* */
    uint32_t seq, ack;
    uint16_t win;
    uint32_t win_scaled;
    uint32_t len;                /* payload bytes (SYN and FIN not counted) */
    const uint8_t *opts;         /* the raw option bytes */
    size_t opts_len;
    /* out: the segment re-sends sequence space sent before (data, FIN or
     * SYN; a bare ACK or window probe without data never is). Always
     * false on in: a receiver cannot tell. */
    bool retransmit;

    /* FINACK_TRACE_DROP */
    enum finack_drop_reason reason;

    /* FINACK_TRACE_TIMER: "SYN" (SYN_SENT's retransmission timer),
     * "SYNACK" (SYN_RCVD's, of a record or a TCB), "RTO" (data and FIN),
     * "PERSIST", "KEEPALIVE", "DELACK", "FIN_WAIT_2" (an orphan's
     * tcp_fin_timeout), "TIME_WAIT" (2·MSL). */
    const char *timer;
};

typedef void (*finack_trace_fn)(void *ctx, const struct finack_trace_event *event);

/* Start (fn non-NULL) or stop (fn NULL) tracing stack. */
void finack_stack_set_trace(struct finack_stack *stack, finack_trace_fn fn, void *ctx);

/* "S", "SA", "A", "PA", "FA", "R", "RA", ... in tcpdump's letter order
 * (F S R P A U E C, with "." never used; "" for no flag): buf at least 9
 * bytes. Returns buf. */
char *finack_trace_flags(uint8_t flags, char *buf);

/* Options as text: "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7" (the
 * tcpdump spelling; also "eol", which ends the list, and
 * "sack 2 {1000:2000}{3000:4000}"). Unknown kinds as "opt-N"; a length
 * that does not fit ends the text with "[bad opt]". Returns the length
 * written (as snprintf: the length it would have written if buf is too
 * small). */
int finack_trace_options(const uint8_t *opts, size_t len, char *buf, size_t size);

/* One event as one line of JSON with its trailing '\n', as snprintf:
 * returns the length it needs (excluding the NUL), writes at most size. */
int finack_trace_format_json(const struct finack_trace_event *event, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
