/*
 * finack — a user-space TCP/IP stack with a sans-IO core.
 *
 * The stack never reads a clock, a socket or a device. The caller hands it
 * received packets with finack_stack_input() and lets it run its timers with
 * finack_stack_poll(); both take the current time, and poll returns the next
 * time it wants to be called. Packets leave only through a finack_link.
 *
 * Error convention everywhere in finack: a function that acts returns 0 (or a
 * count) on success and a negative errno value (-EINVAL, -ENOMEM, ...) on
 * failure; a predicate returns bool. Nothing sets errno.
 */
#ifndef FINACK_FINACK_H
#define FINACK_FINACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Time in microseconds since an epoch the caller chooses (the simulator starts
 * at 0, the real-time drivers use CLOCK_MONOTONIC). */
typedef uint64_t finack_time_t;
#define FINACK_TIME_NEVER UINT64_MAX
#define FINACK_MSEC(ms) ((finack_time_t)(ms) * 1000u)
#define FINACK_SEC(s) ((finack_time_t)(s) * 1000000u)

/* ---- Links ----------------------------------------------------------------
 * A link carries raw IPv4 packets (no link-layer header). A driver fills in
 * ops and mtu; the stack calls ops->transmit for every packet it sends. The
 * packet buffer belongs to the stack and is valid only during the call. */
struct finack_link;

struct finack_link_ops {
    /* Send one IPv4 packet. Returns 0, or a negative errno if the driver
     * could not take it (the stack counts it as a drop). */
    int (*transmit)(struct finack_link *link, const uint8_t *packet, size_t len,
                    finack_time_t now);
};

struct finack_link {
    const struct finack_link_ops *ops;
    void *driver;      /* the driver's own state */
    uint32_t mtu;      /* largest IPv4 packet the link carries */
    const char *name;  /* for messages and traces */
};

/* ---- Counters and drop reasons ---------------------------------------------
 * Every packet the stack discards is counted under exactly one reason. */
#define FINACK_DROP_REASONS(X)                                                        \
    X(NONE, "not dropped")                                                            \
    X(IP_TRUNCATED, "IPv4 packet shorter than its 20-byte header")                    \
    X(IP_BAD_VERSION, "IP version is not 4")                                          \
    X(IP_BAD_IHL, "IPv4 header length below 5 words or past the packet")             \
    X(IP_BAD_CHECKSUM, "IPv4 header checksum mismatch")                               \
    X(IP_TOTAL_LEN_SHORT, "IPv4 total length shorter than the received bytes")        \
    X(IP_TOTAL_LEN_LONG, "IPv4 total length longer than the received bytes")          \
    X(IP_FRAGMENT, "IPv4 fragment (reassembly not supported)")                        \
    X(IP_BAD_SOURCE, "IPv4 source is multicast, broadcast, loopback or zero")         \
    X(IP_NOT_FOR_US, "IPv4 destination is not an address of this stack")             \
    X(IP_UNKNOWN_PROTOCOL, "no handler for the IP protocol number")                   \
    X(TCP_TRUNCATED, "TCP segment shorter than its 20-byte header")                   \
    X(TCP_BAD_DATA_OFFSET, "TCP data offset below 5 words")                           \
    X(TCP_DATA_OFFSET_PAST_END, "TCP data offset beyond the segment")                 \
    X(TCP_BAD_OPTION_LENGTH, "TCP option with length 0 or 1, or wrong for its kind")  \
    X(TCP_OPTION_PAST_HEADER, "TCP option runs past the TCP header")                  \
    X(TCP_BAD_CHECKSUM, "TCP checksum mismatch")                                      \
    X(TCP_NO_SOCKET, "no TCP connection or listener for the segment")                 \
    X(TCP_NOT_ACCEPTABLE, "TCP segment outside the receive window (RFC 9293 §3.10.7.4)") \
    X(TCP_BAD_ACK, "TCP ACK for data never sent, or of a SYN we did not send")       \
    X(TCP_NO_ACK, "TCP segment without ACK in a synchronized state")                  \
    X(TCP_PAWS, "TCP segment with a TSval older than TS.Recent (RFC 7323 PAWS)")       \
    X(TCP_RST_IGNORED, "TCP RST not exactly at RCV.NXT (RFC 5961), or in TIME_WAIT")   \
    X(TCP_SYN_IN_WINDOW, "TCP SYN on a synchronized connection (RFC 5961 §4)")        \
    X(TCP_LISTEN_OVERFLOW, "TCP SYN to a listener whose backlog is full")             \
    X(TCP_LISTEN_NOT_SYN, "TCP segment other than a SYN to a listener")                \
    X(TCP_SYN_SENT_NOT_SYN, "TCP segment without SYN in SYN_SENT")                    \
    X(TCP_OUT_OF_ORDER, "TCP data beyond RCV.NXT (not queued yet)")                   \
    X(TCP_RCV_BUFFER_FULL, "TCP data that did not fit the receive buffer")            \
    X(TCP_ZERO_WINDOW, "TCP data at a zero receive window (its ACK still processed)")  \
    X(TCP_DATA_AFTER_CLOSE, "TCP data after the application closed (answered by RST)") \
    X(TCP_NO_MEMORY, "TCP connection or buffer could not be allocated")               \
    X(ICMP_TRUNCATED, "ICMP message shorter than its 8-byte header")                  \
    X(ICMP_BAD_CHECKSUM, "ICMP checksum mismatch")                                    \
    X(ICMP_UNHANDLED_TYPE, "ICMP type finack does not act on")                        \
    X(ICMP_ERROR_BAD_QUOTE, "ICMP error quoting a truncated or invalid IPv4 header")  \
    X(ICMP_ERROR_NO_TRANSPORT, "ICMP error for a protocol with no handler")           \
    X(OUT_NO_ROUTE, "no interface reaches the destination")                           \
    X(OUT_TOO_BIG, "outgoing packet larger than the link MTU")                        \
    X(OUT_LINK_ERROR, "the link driver refused the packet")

enum finack_drop_reason {
#define FINACK_X_ENUM(name, text) FINACK_DROP_##name,
    FINACK_DROP_REASONS(FINACK_X_ENUM)
#undef FINACK_X_ENUM
    FINACK_DROP__COUNT
};

/* Events counted beside the drops (names follow nstat where one exists). */
#define FINACK_COUNTERS(X)                                                     \
    X(IP_IN_RECEIVES, "IpInReceives", "IPv4 packets handed to the stack")      \
    X(IP_IN_DELIVERS, "IpInDelivers", "IPv4 packets delivered to a protocol")  \
    X(IP_OUT_REQUESTS, "IpOutRequests", "IPv4 packets sent")                   \
    X(IP_IN_DISCARDS, "IpInDiscards", "IPv4 packets dropped on input")         \
    X(IP_OUT_DISCARDS, "IpOutDiscards", "IPv4 packets dropped on output")      \
    X(ICMP_IN_MSGS, "IcmpInMsgs", "ICMP messages received")                    \
    X(ICMP_IN_ECHOS, "IcmpInEchos", "ICMP echo requests received")             \
    X(ICMP_IN_ECHO_REPS, "IcmpInEchoReps", "ICMP echo replies received")       \
    X(ICMP_IN_DEST_UNREACHS, "IcmpInDestUnreachs", "ICMP unreachables received") \
    X(ICMP_IN_TIME_EXCDS, "IcmpInTimeExcds", "ICMP time exceeded received")    \
    X(ICMP_OUT_MSGS, "IcmpOutMsgs", "ICMP messages sent")                      \
    X(ICMP_OUT_ECHOS, "IcmpOutEchos", "ICMP echo requests sent")               \
    X(ICMP_OUT_ECHO_REPS, "IcmpOutEchoReps", "ICMP echo replies sent")         \
    X(ICMP_OUT_DEST_UNREACHS, "IcmpOutDestUnreachs", "ICMP unreachables sent") \
    X(TCP_IN_SEGS, "TcpInSegs", "TCP segments received")                       \
    X(TCP_OUT_SEGS, "TcpOutSegs", "TCP segments sent")                         \
    X(TCP_DUP_ACKS, "TcpExtTCPDupAcks", "TCP duplicate ACKs received (RFC 5681)") \
    X(TCP_FAST_RETRANS, "TcpExtTCPFastRetrans", "TCP fast retransmits (3 duplicate ACKs)")                         \
    X(TCP_SACK_RECOVERY, "TcpExtTCPSackRecovery", "TCP loss recoveries driven by SACK (RFC 6675)") \
    X(TCP_RENO_RECOVERY, "TcpExtTCPRenoRecovery", "TCP loss recoveries without SACK (NewReno)") \
    X(TCP_SACK_RETRANS, "TcpExtTCPSACKRetrans", "TCP segments resent in SACK recovery") \
    X(TCP_LOST_RETRANSMIT, "TcpExtTCPLostRetransmit", "TCP retransmissions found lost by SACK") \
    X(TCP_SACK_RESCUE, "TCPSackRescue", "TCP rescue retransmissions (RFC 6675 NextSeg rule 4)") \
    X(TCP_SACK_RENEGING, "TcpExtTCPSACKReneging", "TCP peers found discarding SACKed data") \
    X(TCP_TIMEOUTS, "TcpExtTCPTimeouts", "TCP retransmission timeouts of data")  \
    X(TCP_WIN_PROBE, "TCPWinProbe", "TCP zero-window probes sent")             \
    X(TCP_KEEPALIVE, "TCPKeepAlive", "TCP keepalive probes sent")              \
    X(TCP_ABORT_ON_TIMEOUT, "TCPAbortOnTimeout", "TCP connections ended by a timeout")

enum finack_counter {
#define FINACK_X_ENUM(name, nstat, text) FINACK_CTR_##name,
    FINACK_COUNTERS(FINACK_X_ENUM)
#undef FINACK_X_ENUM
    FINACK_CTR__COUNT
};

/* Short name ("IP_BAD_CHECKSUM") and one-line description of a reason. */
const char *finack_drop_reason_name(enum finack_drop_reason reason);
const char *finack_drop_reason_text(enum finack_drop_reason reason);
/* nstat-style name ("IpInReceives") and description of a counter. */
const char *finack_counter_name(enum finack_counter counter);
const char *finack_counter_text(enum finack_counter counter);

/* ---- The stack -------------------------------------------------------------- */
struct finack_stack;

struct finack_stack_config {
    const char *name;      /* shown in traces and tools ("A", "server"); NULL: "finack" */
    uint64_t secret[2];    /* keys ISNs, ports and IP IDs; both zero = draw from getrandom() */
    uint8_t default_ttl;   /* 0 = 64 */
    bool no_sack;          /* neither offer nor accept SACK-permitted (Linux's
                            * net.ipv4.tcp_sack = 0): NewReno recovery, no SACK blocks */
    finack_time_t msl;     /* Maximum Segment Lifetime: TIME_WAIT lasts 2 x msl.
                            * 0 = 60 s, the article's (Linux's TIME_WAIT is a
                            * fixed 60 s, as if MSL were 30 s) */
};

/* Defaults for every field; then set what you need. */
void finack_stack_config_init(struct finack_stack_config *cfg);

int finack_stack_create(struct finack_stack **out, const struct finack_stack_config *cfg);
void finack_stack_destroy(struct finack_stack *stack);

/* Give the stack an IPv4 address (host byte order) reached through link.
 * Destinations inside addr/prefix_len are routed to this link; the first
 * interface added is also the default route. */
int finack_stack_add_interface(struct finack_stack *stack, struct finack_link *link,
                               uint32_t addr, uint8_t prefix_len);

/* Hand one received IPv4 packet to the stack. The bytes are only read, and
 * only during the call. Returns FINACK_DROP_NONE if the packet was accepted,
 * otherwise the reason it was dropped (already counted). */
enum finack_drop_reason finack_stack_input(struct finack_stack *stack, struct finack_link *link,
                                           const uint8_t *packet, size_t len, finack_time_t now);

/* Run every timer due at or before now. Returns the time the stack next
 * needs a poll (FINACK_TIME_NEVER if nothing is pending). Calling earlier
 * is harmless. */
finack_time_t finack_stack_poll(struct finack_stack *stack, finack_time_t now);

/* The time poll next needs to run, as poll last returned it, updated by any
 * input or call since (FINACK_TIME_NEVER if nothing is pending). It may be
 * early, never late. */
finack_time_t finack_stack_next_deadline(const struct finack_stack *stack);

uint64_t finack_stack_counter(const struct finack_stack *stack, enum finack_counter counter);
uint64_t finack_stack_drops(const struct finack_stack *stack, enum finack_drop_reason reason);

/* Send an ICMP echo request (ping) from the stack; the reply is counted as
 * ICMP_IN_ECHO_REPS. dst is in host byte order. */
int finack_stack_ping(struct finack_stack *stack, uint32_t dst, uint16_t id, uint16_t seq,
                      const uint8_t *data, size_t len, finack_time_t now);

/* Called for every ICMP echo reply the stack receives (after counting it):
 * the replying address, identifier, sequence number, data and arrival time. */
typedef void (*finack_echo_reply_fn)(void *ctx, uint32_t from, uint16_t id, uint16_t seq,
                                     const uint8_t *data, size_t len, finack_time_t now);
void finack_stack_on_echo_reply(struct finack_stack *stack, finack_echo_reply_fn fn, void *ctx);

/* A TCP connection changed state (RFC 9293 names: "SYN_SENT", "TIME_WAIT").
 * Addresses in host byte order, local/remote as seen by this stack. The
 * same changes, from the same place and in the same order, as the "state"
 * events of finack/trace.h, which also reports segments, drops and timers. */
struct finack_state_event {
    finack_time_t t;
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    const char *from, *to;
};
typedef void (*finack_state_fn)(void *ctx, const struct finack_state_event *event);
void finack_stack_on_state_change(struct finack_stack *stack, finack_state_fn fn, void *ctx);

/* ---- Addresses -------------------------------------------------------------- */
/* Parse "a.b.c.d" or "a.b.c.d/len" (len defaults to 32). Host byte order. */
int finack_parse_ipv4(const char *text, uint32_t *addr, uint8_t *prefix_len);
/* Writes "a.b.c.d" into buf (at least 16 bytes). Returns buf. */
char *finack_format_ipv4(uint32_t addr, char *buf);

#ifdef __cplusplus
}
#endif
#endif
