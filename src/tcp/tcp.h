/* The TCP layer: connection blocks (TCBs), the RFC 9293 state machine, and
 * the user calls the socket layer makes. Private to the library. */
#ifndef FINACK_TCP_TCP_H
#define FINACK_TCP_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finack/finack.h"
#include "tcp/ring.h"
#include "tcp/seq.h"
#include "util/timer_wheel.h"
#include "wire/tcp.h"

struct finack_stack;
struct ipv4_header;

/* The 11 states of RFC 9293 §3.3.2, and the order they print in. */
#define TCP_STATES(X)                                                               \
    X(CLOSED) X(LISTEN) X(SYN_SENT) X(SYN_RCVD) X(ESTABLISHED) X(FIN_WAIT_1)        \
    X(FIN_WAIT_2) X(CLOSE_WAIT) X(CLOSING) X(LAST_ACK) X(TIME_WAIT)

enum tcp_state {
#define TCP_X_ENUM(name) TCPS_##name,
    TCP_STATES(TCP_X_ENUM)
#undef TCP_X_ENUM
    TCPS__COUNT
};

const char *tcp_state_name(enum tcp_state state);

/* State predicates with names (FreeBSD's TCPS_HAVE...): say what a check
 * means instead of listing states, and never rely on the enum's order. */
static inline bool tcp_state_synchronized(enum tcp_state s)
{
    return s != TCPS_CLOSED && s != TCPS_LISTEN && s != TCPS_SYN_SENT && s != TCPS_SYN_RCVD;
}
static inline bool tcp_state_can_receive_data(enum tcp_state s)
{
    return s == TCPS_ESTABLISHED || s == TCPS_FIN_WAIT_1 || s == TCPS_FIN_WAIT_2;
}
static inline bool tcp_state_received_fin(enum tcp_state s)
{
    return s == TCPS_CLOSE_WAIT || s == TCPS_CLOSING || s == TCPS_LAST_ACK || s == TCPS_TIME_WAIT;
}
static inline bool tcp_state_sent_fin(enum tcp_state s)
{
    return s == TCPS_FIN_WAIT_1 || s == TCPS_FIN_WAIT_2 || s == TCPS_CLOSING ||
           s == TCPS_LAST_ACK || s == TCPS_TIME_WAIT;
}

struct tcp_tuple {
    uint32_t laddr, raddr;
    uint16_t lport, rport;
};

/* Linux-like defaults (see docs/CONFORMANCE.md for each choice). */
#define TCP_DEFAULT_MSS 536               /* RFC 9293 §3.7.1 when the peer sends none */
#define TCP_INITIAL_RTO FINACK_SEC(1)     /* RFC 6298 §2.1 */
#define TCP_MIN_RTO FINACK_MSEC(200)      /* Linux TCP_RTO_MIN */
#define TCP_MAX_RTO FINACK_SEC(120)       /* Linux TCP_RTO_MAX */
#define TCP_SYN_RETRIES 6                 /* Linux tcp_syn_retries */
#define TCP_SYNACK_RETRIES 5              /* Linux tcp_synack_retries */
#define TCP_DATA_RETRIES 15               /* Linux tcp_retries2 */
#define TCP_DEFAULT_MSL FINACK_SEC(60)    /* the article's MSL; TIME_WAIT is 2·MSL */
#define TCP_FIN_TIMEOUT FINACK_SEC(60)    /* Linux tcp_fin_timeout */
#define TCP_DELACK_TIME FINACK_MSEC(40)   /* Linux TCP_DELACK_MIN */
#define TCP_DEFAULT_SNDBUF 16384          /* Linux tcp_wmem[1] */
#define TCP_DEFAULT_RCVBUF 131072         /* Linux tcp_rmem[1] */
#define TCP_INITIAL_CWND_SEGMENTS 10      /* RFC 6928 */
#define TCP_PAWS_IDLE FINACK_SEC(24 * 24 * 3600) /* RFC 7323 §5.5: TS.Recent expires */
#define TCP_DUPACK_THRESHOLD 3            /* RFC 5681 §3.2 */
#define TCP_RING_RELEASE_MAX (256 * 1024) /* rings up to this size are freed when empty */
#define TCP_OOO_RANGES 8                  /* out-of-order ranges kept past a hole */
#define TCP_SACK_RANGES 16                /* SACKed ranges a sender's scoreboard keeps */
#define TCP_CHALLENGE_ACK_INTERVAL FINACK_MSEC(500) /* Linux tcp_invalid_ratelimit */
#define TCP_ORPHAN_RETRIES 8              /* Linux tcp_orphan_retries() for a live orphan */
#define TCP_TIMEOUT_MIN FINACK_MSEC(2)    /* Linux TCP_TIMEOUT_MIN (2 jiffies) */
#define TCP_ZERO_WINDOW_RTX_LIMIT (2 * TCP_MAX_RTO) /* Linux tcp_rtx_probe0_timed_out() */
#define TCP_KEEPIDLE_DEFAULT 7200         /* s, Linux tcp_keepalive_time */
#define TCP_KEEPINTVL_DEFAULT 75          /* s, Linux tcp_keepalive_intvl */
#define TCP_KEEPCNT_DEFAULT 9             /* Linux tcp_keepalive_probes */
#define TCP_KEEPIDLE_MAX 32767            /* Linux MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL */
#define TCP_KEEPCNT_MAX 127               /* Linux MAX_TCP_KEEPCNT */

enum tcp_timer_kind {
    TCP_TIMER_RETRANSMIT, /* SYN, SYN-ACK, data and FIN */
    TCP_TIMER_PERSIST,    /* zero-window probes; armed only while nothing is in flight */
    TCP_TIMER_DELACK,
    TCP_TIMER_LINGER,     /* TIME_WAIT's 2·MSL and FIN_WAIT_2's timeout */
    TCP_TIMER_KEEPALIVE,  /* SO_KEEPALIVE; rescheduled lazily from rcv_tstamp */
    TCP_TIMER__COUNT
};

struct tcp_conn_timer {
    struct timer timer;
    struct tcp_conn *conn;
};

struct tcp_conn {
    struct tcp_conn *hash_next;
    struct tcp_stack *tcp;
    struct tcp_tuple tuple;
    enum tcp_state state;
    int socket;               /* owning socket handle, -1 if none (orphaned) */

    /* Send sequence variables (RFC 9293 §3.3.1). */
    uint32_t iss;             /* ISS: initial send sequence number */
    uint32_t snd_una;         /* SND.UNA: oldest unacknowledged */
    uint32_t snd_nxt;         /* SND.NXT: next to send */
    uint32_t snd_max;         /* highest SND.NXT reached (retransmission rewinds snd_nxt) */
    uint32_t snd_wnd;         /* SND.WND: peer's window, scaled to bytes */
    uint32_t snd_wl1, snd_wl2;/* SND.WL1/WL2: segment seq/ack of the last window update */
    uint32_t max_snd_wnd;     /* largest window the peer offered (RFC 5961 §5.2) */
    /* Receive sequence variables. */
    uint32_t irs;             /* IRS: initial receive sequence number */
    uint32_t rcv_nxt;         /* RCV.NXT: next expected */
    uint32_t rcv_adv;         /* right edge we advertised: RCV.NXT + RCV.WND as sent */

    /* Negotiated options. */
    uint16_t snd_mss;         /* largest segment payload we send */
    uint16_t rcv_mss;         /* the MSS we advertise */
    uint8_t snd_wscale, rcv_wscale;
    bool wscale_ok, ts_ok;
    bool sack_ok;             /* both offered SACK-permitted (RFC 2018): we send SACK blocks */
    uint32_t ts_recent;       /* TS.Recent (RFC 7323 §4.3) */
    finack_time_t ts_recent_stamp; /* when TS.Recent was set, for PAWS's 24 days */
    uint32_t ts_offset;       /* random per-connection offset of our TSval clock */

    /* Buffers: bytes [snd_una, snd_una + snd_buf.len) and unread bytes. */
    struct ring snd_buf, rcv_buf;
    bool fin_queued;          /* the application closed its sending side */
    bool fin_sent;            /* our FIN has a sequence number (snd_max counts it) */
    bool rcv_shutdown;        /* the application will read no more */
    bool fin_rcvd;            /* the peer's FIN arrived in order: reads end with EOF */
    bool fin_read;            /* the application read that EOF (until then ss's
                               * Recv-Q counts the FIN, as Linux's copied_seq) */

    /* Out-of-order data (RFC 9293 §3.10.7.4, seventh): received beyond a
     * hole, written into the receive ring at its final offset, and listed
     * here as sorted, disjoint sequence ranges [start, end), so filling the
     * hole only moves RCV.NXT. A FIN beyond the hole waits in ooo_fin. */
    struct tcp_seq_range {
        uint32_t start, end;
        uint32_t stamp;       /* when last added to: SACK reports the newest first */
    } ooo[TCP_OOO_RANGES];
    uint8_t ooo_count;
    uint32_t ooo_clock;       /* stamps for the ranges */
    bool ooo_fin;
    uint32_t ooo_fin_seq;     /* the FIN's sequence number */
    bool passive;             /* opened by a listener (SYN_RCVD returns to LISTEN on RST) */
    bool nodelay;             /* TCP_NODELAY: Nagle off */
    bool reuseaddr;           /* its socket's SO_REUSEADDR: a new socket with it
                               * may bind the port beside this connection */
    bool in_table;            /* in the 4-tuple table (or the listener table) */
    bool queued;              /* in its listener's accept queue */

    /* Congestion control (RFC 5681) and loss recovery: RFC 6675 with the
     * peer's SACK blocks, else RFC 6582 NewReno (tcp/sack.c, tcp/input.c). */
    const struct tcp_cc_ops *cc;
    uint32_t cwnd, ssthresh;
    /* The algorithm's own state, in the TCB (no allocation); all zeros is
     * its fresh state, so switching algorithms only clears it. */
    union {
        struct tcp_cubic {         /* RFC 9438 §4.1's variables, windows in bytes */
            uint32_t w_max;        /* W_max */
            uint32_t cwnd_prior;   /* cwnd at the last congestion event */
            uint32_t cwnd_epoch;   /* cwnd when this congestion avoidance stage began */
            uint32_t k;            /* K, in 1/1024 s */
            uint64_t w_est;        /* W_est, bytes << 16 */
            uint32_t grow_rem;     /* remainder of the per-ACK increment */
            bool in_epoch;         /* t_epoch is set */
            bool after_timeout;    /* the next stage starts after a timeout (§4.8) */
            bool idle;             /* an ACK left nothing in flight, at idle_since */
            finack_time_t t_epoch; /* the first ACK of this congestion avoidance stage */
            finack_time_t idle_since;
        } cubic;
    } cc_state;
    uint32_t dupacks;         /* duplicate ACKs in a row */
    bool in_recovery;         /* fast recovery until RECOVER is acknowledged */
    bool sack_recovery;       /* ... and it is RFC 6675's, driven by the scoreboard */
    uint32_t recover;         /* SND.MAX when recovery began (RFC 6582 "recover",
                               * RFC 6675 "RecoveryPoint") */
    /* The SACK scoreboard (RFC 6675 §3): what the peer reported holding
     * above SND.UNA, as sorted, disjoint ranges [start, end) within
     * (SND.UNA, SND.MAX]. Fixed size; when full, the highest range goes. */
    struct tcp_sack_range {
        uint32_t start, end;
    } sacked[TCP_SACK_RANGES];
    uint8_t sacked_count;
    bool rescue_sent;         /* RescueRxt is defined */
    uint32_t sacked_bytes;    /* total of the ranges */
    uint32_t high_rxt;        /* HighRxt: end of what recovery retransmitted */
    uint32_t rescue_rxt;      /* RescueRxt: RecoveryPoint at the rescue retransmission */
    uint32_t head_rxt_mark;   /* SND.MAX when the hole at SND.UNA was last resent */
    /* Proportional Rate Reduction (RFC 6937). */
    uint32_t prr_delivered, prr_out, recover_fs;

    /* RTT and retransmission (RFC 6298). */
    finack_time_t srtt, rttvar, rto;
    bool rtt_timing;
    uint32_t rtt_seq;
    finack_time_t rtt_start;
    unsigned retransmits;     /* consecutive timeouts of the current segment */
    unsigned backoff;         /* RTO doublings, kept until a valid RTT sample (Karn) */
    finack_time_t last_challenge; /* last RFC 5961 challenge ACK + 1 µs, 0 = none */
    finack_time_t retrans_stamp; /* when the retransmission clock started (TCP_USER_TIMEOUT) */
    finack_time_t msl;

    /* Liveness: Linux's rcv_tstamp, icsk_probes_out, icsk_probes_tstamp
     * and the persist timer's share of icsk_backoff. */
    finack_time_t rcv_tstamp;    /* last acceptable ACK (the keepalive idle clock) */
    finack_time_t probes_tstamp; /* first zero-window probe of this stall; NEVER if none */
    uint8_t probes_out;          /* probes (zero-window or keepalive) not answered */
    uint8_t persist_backoff;     /* doublings of the zero-window probe interval */

    /* Options: SO_KEEPALIVE, TCP_KEEPIDLE/INTVL/CNT, TCP_USER_TIMEOUT. */
    bool keepalive;
    uint8_t keepcnt;
    uint16_t keepidle, keepintvl; /* seconds */
    finack_time_t user_timeout;   /* 0: off */

    /* Acknowledgment policy. */
    bool ack_now;
    uint32_t unacked_segments; /* received segments not yet acknowledged */
    uint32_t quickacks;        /* segments still to ACK at once (Linux quick-ACK mode) */

    /* A listener's queue of established, not yet accepted connections; a
     * child's link back to its listener. */
    struct tcp_conn *listener;
    struct tcp_conn *accept_next;
    struct tcp_conn *accept_head, *accept_tail;
    unsigned backlog, accept_count, half_open_count;

    int error;                /* pending error for the socket (positive errno), 0 if none */

    /* Totals for finack_tcp_info() / TCP_INFO. */
    uint64_t total_retrans;   /* segments with text or FIN sent again */
    uint64_t bytes_acked, bytes_received;
    struct tcp_conn_timer timers[TCP_TIMER__COUNT];
};

struct tcp_stats;
struct tcp_conn;

/* Congestion control algorithms (tcp/cc.c). The core calls them and never
 * the other way: time comes in as `now`, no algorithm reads a clock. */
#define TCP_CA_NAME_MAX 16 /* Linux: names of at most 15 bytes, NUL-padded */
struct tcp_cc_ops {
    char name[TCP_CA_NAME_MAX]; /* what TCP_CONGESTION reads and sets */
    void (*init)(struct tcp_conn *conn);            /* the initial window */
    /* New data acknowledged outside recovery: grow cwnd. */
    void (*on_ack)(struct tcp_conn *conn, uint32_t acked, finack_time_t now);
    /* A congestion event (fast retransmit, or a timeout outside recovery):
     * the new ssthresh; the algorithm records what it needs of the moment. */
    uint32_t (*ssthresh)(struct tcp_conn *conn);
    /* A retransmission timeout, after ssthresh: cwnd is about to be 1 SMSS. */
    void (*on_timeout)(struct tcp_conn *conn);
};
extern const struct tcp_cc_ops tcp_cc_reno;
extern const struct tcp_cc_ops tcp_cc_cubic;
/* The algorithm named name (Linux's tcp_ca_find), NULL if none. */
const struct tcp_cc_ops *tcp_cc_find(const char *name);
/* New connections' algorithm: Reno until CUBIC is measured against it. */
#define TCP_CC_DEFAULT (&tcp_cc_reno)
/* Switch a connection's algorithm (Linux's tcp_reinit_congestion_control):
 * the new one starts from a clean state and the current cwnd. */
void tcp_cc_set(struct tcp_conn *conn, const struct tcp_cc_ops *cc);
#define TCP_PORT_PERTURB_SLOTS 256

/* A state change as observers see it (traces, tests): also reported for a
 * TIME_WAIT record, which has no TCB. */
struct tcp_state_change {
    struct tcp_tuple tuple;
    uint32_t iss, irs;
    int error;                /* what the socket will report (positive errno) */
    enum tcp_state from, to;
};
void tcp_report_state(struct finack_stack *stack, const struct tcp_state_change *ch);

/* A listener's half-open connection, kept small (tcp/synrecv.c). */
struct tcp_synrecv {
    struct tcp_synrecv *hash_next;
    struct tcp_stack *tcp;
    struct tcp_conn *listener;
    struct tcp_tuple tuple;
    uint32_t iss, irs;
    uint32_t ts_recent;       /* the SYN's TSval */
    uint16_t peer_mss, peer_window;
    uint8_t peer_wscale;
    bool has_mss, has_wscale, ts_ok, sack_ok;
    uint8_t retransmits;      /* of the SYN-ACK */
    uint32_t rcv_wnd;         /* the window our SYN-ACK offered */
    finack_time_t sent;       /* the first SYN-ACK, for the RTT sample */
    finack_time_t last_challenge;
    struct timer timer;       /* SYN-ACK retransmission, then expiry */
};

/* TIME_WAIT without a socket, kept small (tcp/timewait.c). */
struct tcp_timewait {
    struct tcp_timewait *hash_next;
    struct tcp_stack *tcp;
    struct tcp_tuple tuple;
    uint32_t iss, irs;
    uint32_t snd_nxt, rcv_nxt;
    uint32_t rcv_wnd;         /* the window last offered, bytes */
    uint32_t ts_recent, ts_offset;
    uint8_t rcv_wscale;
    uint8_t snd_wscale;       /* the peer's, for traces of what it sends */
    bool ts_ok;
    bool reuseaddr;           /* its socket had SO_REUSEADDR (Linux's tw_reuse) */
    finack_time_t msl;
    finack_time_t last_challenge;
    struct timer timer;       /* 2·MSL */
};

/* Per-stack TCP state: the connection table and listeners. */
struct tcp_stack {
    struct finack_stack *stack;
    struct tcp_conn **buckets;  /* 4-tuple hash, chained */
    size_t bucket_count;        /* a power of two */
    size_t conn_count;
    struct tcp_conn **listen_buckets; /* by local port */
    size_t listen_bucket_count;
    struct tcp_timewait **tw_buckets; /* TIME_WAIT records by 4-tuple */
    size_t tw_bucket_count, tw_count;
    struct tcp_synrecv **sr_buckets;  /* half-open records by 4-tuple */
    size_t sr_bucket_count, sr_count;
    uint16_t port_perturb[TCP_PORT_PERTURB_SLOTS]; /* RFC 6056 Algorithm 4's table */
    /* Socket layer hook: called when a connection's readiness may have changed. */
    void (*notify)(void *ctx, struct tcp_conn *conn);
    void *notify_ctx;
};

int tcp_stack_init(struct finack_stack *stack);
void tcp_stack_free(struct finack_stack *stack);

/* Table (tcp/table.c). */
struct tcp_conn *tcp_conn_new(struct tcp_stack *tcp);
void tcp_conn_init(struct tcp_conn *conn, struct tcp_stack *tcp); /* defaults, no allocation */
void tcp_conn_free(struct tcp_conn *conn);
void tcp_table_insert(struct tcp_conn *conn);
void tcp_table_remove(struct tcp_conn *conn);
struct tcp_conn *tcp_table_lookup(struct tcp_stack *tcp, const struct tcp_tuple *tuple);
/* The keyed hash of a 4-tuple, and equality: shared by the connection,
 * TIME_WAIT and half-open tables. */
size_t tcp_tuple_hash(const struct tcp_stack *tcp, const struct tcp_tuple *t);
bool tcp_tuple_equal(const struct tcp_tuple *a, const struct tcp_tuple *b);
struct tcp_conn *tcp_listener_lookup(struct tcp_stack *tcp, uint32_t laddr, uint16_t lport);
int tcp_listener_insert(struct tcp_conn *conn);
void tcp_listener_remove(struct tcp_conn *conn);
bool tcp_port_in_use(struct tcp_stack *tcp, uint32_t laddr, uint16_t lport, bool reuse);
uint32_t tcp_isn(const struct finack_stack *stack, const struct tcp_tuple *t, finack_time_t now);
int tcp_ephemeral_port(struct tcp_stack *tcp, struct tcp_tuple *t);

/* Connection setup (tcp/conn.c). */
void tcp_open_init(struct tcp_conn *conn, finack_time_t now);
/* A listener's child: its settings, the tuple, then tcp_open_init. */
void tcp_child_init(struct tcp_conn *child, struct tcp_conn *lst, const struct tcp_tuple *tuple,
                    finack_time_t now);
/* The options of the peer's SYN or SYN-ACK (tcp/input.c). */
void tcp_take_syn_options(struct tcp_conn *conn, const struct tcp_segment *seg, bool offered_ws,
                          bool offered_ts);
uint16_t tcp_route_mss(const struct finack_stack *stack, uint32_t dst);

/* State changes: the one place that changes conn->state. */
void tcp_set_state(struct tcp_conn *conn, enum tcp_state state);
/* End the connection: CLOSED, timers off, out of the table; freed now if no
 * socket holds it. err (positive errno or 0) is what the socket reports. */
void tcp_conn_close(struct tcp_conn *conn, int err);

/* Output (tcp/output.c). */
int tcp_transmit(struct finack_stack *stack, const struct tcp_tuple *tuple, size_t len,
                 uint8_t wscale, bool retransmit, finack_time_t now);
void tcp_output(struct tcp_conn *conn, finack_time_t now);
void tcp_send_ack(struct tcp_conn *conn, finack_time_t now);
void tcp_send_syn(struct tcp_conn *conn, finack_time_t now);
void tcp_send_syn_segment(struct tcp_conn *conn, finack_time_t now); /* no timer */
void tcp_send_rst_for(struct finack_stack *stack, const struct ipv4_header *ip,
                      const struct tcp_segment *seg, finack_time_t now);
void tcp_send_rst(struct tcp_conn *conn, finack_time_t now);
void tcp_send_challenge_ack(struct tcp_conn *conn, finack_time_t now);
bool tcp_challenge_ack_allowed(finack_time_t *last, finack_time_t now);
uint32_t tcp_receive_window(struct tcp_conn *conn);
uint32_t tcp_effective_mss(const struct tcp_conn *conn);
uint32_t tcp_ts_now(const struct tcp_conn *conn, finack_time_t now); /* our TSval clock, ms */
bool tcp_has_unsent(const struct tcp_conn *conn);
bool tcp_window_takes_next(const struct tcp_conn *conn);
void tcp_write_wakeup(struct tcp_conn *conn, finack_time_t now);
void tcp_send_probe_ack(struct tcp_conn *conn, finack_time_t now);
/* Resend the segment that starts at seq (fast retransmit, partial ACKs);
 * SND.NXT stays where it is. */
void tcp_retransmit_at(struct tcp_conn *conn, uint32_t seq, finack_time_t now);
/* The same with at most max sequence numbers; returns how many it sent. */
uint32_t tcp_retransmit_range(struct tcp_conn *conn, uint32_t seq, uint32_t max,
                              finack_time_t now);
/* New data from SND.NXT (rule 2 of RFC 6675's NextSeg): a segment of at
 * most max, as tcp_output would send it; returns the sequence space sent. */
uint32_t tcp_send_next_new(struct tcp_conn *conn, uint32_t max, finack_time_t now);
void tcp_retransmit_head(struct tcp_conn *conn, finack_time_t now);

/* SACK-based loss recovery as a sender (tcp/sack.c, RFC 6675 + RFC 6937). */
void tcp_sack_clear(struct tcp_conn *conn);
/* SND.UNA moved: ranges below it go; true if the peer reneged (the ACK
 * stopped at or inside data it had SACKed), and the scoreboard is cleared. */
bool tcp_sack_trim(struct tcp_conn *conn);
/* The blocks of an acceptable ACK; true if they SACKed new data. */
bool tcp_sack_update(struct tcp_conn *conn, const struct tcp_segment *seg);
bool tcp_sack_is_lost(const struct tcp_conn *conn, uint32_t seq);
uint32_t tcp_sack_pipe(const struct tcp_conn *conn);
void tcp_sack_enter_recovery(struct tcp_conn *conn, finack_time_t now);
void tcp_sack_on_ack(struct tcp_conn *conn, uint32_t delivered);
/* SACKed bytes in [SND.UNA, seq). */
uint32_t tcp_sack_bytes_below(const struct tcp_conn *conn, uint32_t seq);
/* Whether seq lies in a SACKed range; *end is that range's end. */
bool tcp_sack_covers(const struct tcp_conn *conn, uint32_t seq, uint32_t *end);
/* The first SACKed sequence number at or after seq, SND.MAX if none. */
uint32_t tcp_sack_next_start(const struct tcp_conn *conn, uint32_t seq);
/* In SACK recovery, tcp_output sends through here (RFC 6675 §5 step C). */
void tcp_sack_output(struct tcp_conn *conn, finack_time_t now);

/* Input (tcp/input.c). */
enum finack_drop_reason tcp_input(struct finack_stack *stack, const struct ipv4_header *ip,
                                  finack_time_t now);

/* Timers (tcp/timer.c). */
void tcp_timers_init(struct tcp_conn *conn);
void tcp_timer_arm(struct tcp_conn *conn, enum tcp_timer_kind kind, finack_time_t when);
void tcp_timer_cancel(struct tcp_conn *conn, enum tcp_timer_kind kind);
void tcp_timers_cancel_all(struct tcp_conn *conn);
void tcp_rtt_sample(struct tcp_conn *conn, finack_time_t rtt);
void tcp_arm_retransmit(struct tcp_conn *conn, finack_time_t now);
void tcp_enter_time_wait(struct tcp_conn *conn, finack_time_t now);
void tcp_check_probe_timer(struct tcp_conn *conn, finack_time_t now);
void tcp_ack_probe(struct tcp_conn *conn, finack_time_t now);
void tcp_persist_stop(struct tcp_conn *conn);
void tcp_set_keepalive(struct tcp_conn *conn, bool on, finack_time_t now);
void tcp_set_keepidle(struct tcp_conn *conn, unsigned seconds, finack_time_t now);
void tcp_keepalive_start(struct tcp_conn *conn, finack_time_t now);

/* TIME_WAIT records (tcp/timewait.c). tcp_tw_compact replaces an orphaned
 * TIME_WAIT connection by a record and frees it (false: it stays a TCB). */
bool tcp_tw_compact(struct tcp_conn *conn);
struct tcp_timewait *tcp_tw_lookup(struct tcp_stack *tcp, const struct tcp_tuple *tuple);
enum finack_drop_reason tcp_tw_input(struct tcp_timewait *tw, const struct tcp_segment *seg,
                                     finack_time_t now);
bool tcp_tw_reusable(const struct tcp_timewait *tw, const struct tcp_segment *seg);
void tcp_tw_close(struct tcp_timewait *tw); /* ends it: TIME_WAIT -> CLOSED */
void tcp_tw_free(struct tcp_timewait *tw);
void tcp_tw_free_all(struct tcp_stack *tcp);
/* A TIME_WAIT record holds laddr:lport, unless reuse (the new socket's
 * SO_REUSEADDR) and the record's socket had SO_REUSEADDR too. */
bool tcp_tw_port_in_use(struct tcp_stack *tcp, uint32_t laddr, uint16_t lport, bool reuse,
                        bool (*overlap)(uint32_t, uint32_t));

/* Half-open records (tcp/synrecv.c). */
/* isn: the ISS to use (a TIME_WAIT reuse), or NULL for RFC 6528's. */
int tcp_synrecv_create(struct tcp_conn *lst, const struct tcp_tuple *tuple,
                       const struct tcp_segment *syn, const uint32_t *isn, finack_time_t now);
struct tcp_synrecv *tcp_synrecv_lookup(struct tcp_stack *tcp, const struct tcp_tuple *tuple);
void tcp_synrecv_build(const struct tcp_synrecv *sr, struct tcp_conn *conn, finack_time_t now);
void tcp_synrecv_resend_synack(struct tcp_synrecv *sr, finack_time_t now);
void tcp_synrecv_send_ack(struct tcp_synrecv *sr, finack_time_t now);
/* The record becomes a TCB in SYN_RCVD (in the table); NULL without memory. */
struct tcp_conn *tcp_synrecv_promote(struct tcp_synrecv *sr, finack_time_t now);
void tcp_synrecv_drop(struct tcp_synrecv *sr);
void tcp_synrecv_drop_listener(struct tcp_conn *lst);
void tcp_synrecv_free_all(struct tcp_stack *tcp);

void tcp_listener_close(struct tcp_conn *lst, finack_time_t now);
struct tcp_conn *tcp_accept_next(struct tcp_conn *lst);

/* Wake the socket layer. */
void tcp_notify(struct tcp_conn *conn);

#endif
