/*
 * The BSD socket API over a finack stack. Names and semantics follow BSD
 * sockets and Linux, with the stack as first argument: a program ports by
 * renaming calls. Socket handles are small non-negative integers local to
 * one stack.
 *
 * Every call returns a non-negative result or a negative errno value
 * (-EAGAIN, -EINPROGRESS, -ECONNREFUSED, ...) with Linux's meaning; errno
 * is never set and no signal is ever raised (EPIPE is just returned).
 * Pointers are checked as the kernel copies them: NULL where bytes are to
 * be read or written is -EFAULT, a negative length -EINVAL. A handle that
 * names no socket is -EBADF (there is no ENOTSOCK: handles are not file
 * descriptors). docs/API.md lists every call's errors, the few places
 * finack departs from Linux, and the test that pins each one.
 *
 * These calls never block: where BSD would block they return -EAGAIN
 * (send, recv, accept) or -EINPROGRESS (connect). Readiness comes from
 * finack_socket_events().
 */
#ifndef FINACK_SOCKET_H
#define FINACK_SOCKET_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "finack/finack.h"

#ifdef __cplusplus
extern "C" {
#endif

int finack_socket(struct finack_stack *stack, int domain, int type, int protocol);
int finack_bind(struct finack_stack *stack, int fd, const struct sockaddr *addr, socklen_t len);
int finack_listen(struct finack_stack *stack, int fd, int backlog);
int finack_accept(struct finack_stack *stack, int fd, struct sockaddr *addr, socklen_t *len);
int finack_connect(struct finack_stack *stack, int fd, const struct sockaddr *addr,
                   socklen_t len);
ssize_t finack_send(struct finack_stack *stack, int fd, const void *buf, size_t len, int flags);
ssize_t finack_recv(struct finack_stack *stack, int fd, void *buf, size_t len, int flags);
int finack_shutdown(struct finack_stack *stack, int fd, int how);
int finack_close(struct finack_stack *stack, int fd);
int finack_setsockopt(struct finack_stack *stack, int fd, int level, int name, const void *val,
                      socklen_t len);
int finack_getsockopt(struct finack_stack *stack, int fd, int level, int name, void *val,
                      socklen_t *len);
int finack_getsockname(struct finack_stack *stack, int fd, struct sockaddr *addr, socklen_t *len);
int finack_getpeername(struct finack_stack *stack, int fd, struct sockaddr *addr, socklen_t *len);

/* A connection's TCP state and figures, as Linux's TCP_INFO gives them
 * (getsockopt(IPPROTO_TCP, TCP_INFO) fills glibc's struct tcp_info too). */
struct finack_tcp_info {
    const char *state;           /* RFC 9293 name: "ESTABLISHED", ... */
    uint32_t rtt_us, rttvar_us;  /* smoothed RTT and its variation; 0 before a sample */
    uint32_t rto_us;             /* the retransmission timeout, backoff included */
    uint32_t snd_mss, rcv_mss;   /* payload per full segment sent; MSS we advertise */
    uint32_t cwnd, ssthresh;     /* bytes; ssthresh is UINT32_MAX until a loss */
    uint32_t snd_wnd, rcv_wnd;   /* the peer's window; ours as last advertised (bytes) */
    uint8_t snd_wscale, rcv_wscale;
    bool timestamps, sack;       /* negotiated */
    bool in_recovery;            /* in fast recovery (SACK's RFC 6675, or NewReno) */
    uint32_t sacked;             /* bytes above SND.UNA the peer SACKed (scoreboard) */
    uint32_t bytes_in_flight;    /* SND.MAX - SND.UNA */
    uint32_t unsent, unread;     /* bytes waiting to be sent; received, not yet read */
    uint32_t retransmits;        /* consecutive timeouts of the current segment */
    uint64_t total_retrans;      /* segments sent again over the connection's life */
    uint64_t bytes_acked, bytes_received;
};

/* -ENOTCONN for a socket with no connection (or a listener), -EBADF. */
int finack_tcp_info(struct finack_stack *stack, int fd, struct finack_tcp_info *info);

/* Readiness as poll(2) reports it: POLLIN, POLLOUT, POLLHUP, POLLERR,
 * POLLRDHUP. Negative errno for a bad handle. */
int finack_socket_events(struct finack_stack *stack, int fd);

/* poll(2) over finack sockets, without waiting: fills each revents from
 * finack_socket_events() masked by events (POLLERR, POLLHUP and POLLNVAL
 * always reported; POLLNVAL for a bad handle; a negative fd is skipped)
 * and returns how many have revents set. Waiting is the run loop's job. */
int finack_poll(struct finack_stack *stack, struct pollfd *fds, nfds_t nfds);

/* The TCP state of the socket's connection, by RFC name ("ESTABLISHED");
 * "CLOSED" if it has none. */
const char *finack_socket_state(struct finack_stack *stack, int fd);

/* ---- The connection table (what `ss -tan` shows) ---------------------------
 * One row per listener, connection, half-open connection and TIME_WAIT
 * record of the stack, in no particular order. */
struct finack_conn_info {
    const char *state;           /* RFC 9293 name ("SYN_RCVD", "TIME_WAIT") */
    uint32_t laddr, raddr;       /* host byte order; raddr 0 for a listener */
    uint16_t lport, rport;
    int fd;                      /* the socket handle, or -1 (no socket: a
                                  * half-open connection, TIME_WAIT record,
                                  * a child waiting in the accept queue, or
                                  * a connection closed by the app) */
    uint32_t recv_q, send_q;     /* as ss: unread bytes (the peer's FIN
                                  * counting one until the application reads
                                  * the EOF), and bytes not yet acknowledged
                                  * (sent or not, our FIN counting one); for
                                  * a listener, the accept queue length and
                                  * the backlog */
    const char *timer;           /* as ss -o: "on" (retransmit or SYN),
                                  * "persist", "keepalive", "timewait", or
                                  * NULL if no timer runs */
    finack_time_t timer_expires; /* absolute (the stack's clock);
                                  * FINACK_TIME_NEVER without a timer */
    uint32_t retransmits;        /* as ss -o's third figure: consecutive
                                  * timeouts ("on"), unanswered probes
                                  * ("persist", "keepalive"), else 0 */
    uint32_t rtt_us, rto_us, cwnd; /* smoothed RTT (0 before a sample), the
                                  * RTO with its backoff, cwnd in bytes */
};
/* Calls fn for each row until fn returns non-zero (that value is returned),
 * else returns the number of rows; -EINVAL without stack or fn. With all
 * false, the rows `ss -t` hides without -a are skipped: listeners,
 * TIME_WAIT and half-open (SYN_RCVD) connections. fn must not call into
 * the stack. */
typedef int (*finack_conn_fn)(void *ctx, const struct finack_conn_info *row);
int finack_stack_connections(struct finack_stack *stack, bool all, finack_conn_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
