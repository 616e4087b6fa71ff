/* The socket table: handles to TCP connections and listeners. */
#ifndef FINACK_SOCKET_SOCKET_H
#define FINACK_SOCKET_SOCKET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "finack/finack.h"

struct tcp_conn;
struct tcp_cc_ops;
struct finack_stack;

struct finack_sock {
    bool in_use;
    bool bound, listening, connected_once;
    bool port_auto;               /* the port came from connect() or listen(), not
                                   * bind(): given back on a disconnect (Linux's
                                   * SOCK_BINDPORT_LOCK unset) */
    bool connecting;              /* connect() began and has not yet said how it ended
                                   * (Linux's SS_CONNECTING) */
    bool reuseaddr, nodelay, linger_on, shut_wr, shut_rd;
    int linger_seconds;
    uint32_t sndbuf, rcvbuf;      /* 0 = default; set = locked (SOCK_RCVBUF_LOCK) */
    bool keepalive;               /* SO_KEEPALIVE */
    uint16_t keepidle, keepintvl; /* TCP_KEEPIDLE, TCP_KEEPINTVL in seconds; 0 = default */
    uint8_t keepcnt;              /* TCP_KEEPCNT; 0 = default */
    int user_timeout;             /* TCP_USER_TIMEOUT in ms; 0 = off */
    uint16_t user_mss;            /* TCP_MAXSEG; 0 = none (Linux's user_mss) */
    const struct tcp_cc_ops *cc;  /* TCP_CONGESTION; NULL = the default */
    uint32_t laddr;
    uint16_t lport;
    struct tcp_conn *conn;        /* connection or listener; NULL before connect/listen */
    int error;                    /* SO_ERROR not yet reported (positive errno) */
    /* For the run loop (finack/loop.h); the core itself never blocks. */
    bool nonblock;                /* SOCK_NONBLOCK / O_NONBLOCK */
    int64_t rcvtimeo, sndtimeo;   /* SO_RCVTIMEO, SO_SNDTIMEO in µs: 0 = wait for
                                   * ever, -1 = do not wait (a negative tv_sec) */
};

struct socket_table {
    struct finack_sock *socks;
    int count, cap;
    /* Handles below count that are free, as a min-heap: the lowest free
     * handle in O(log n), as POSIX hands out file descriptors. */
    int *free_heap;
    int free_count, free_cap;
};

void socket_table_free(struct finack_stack *stack);
/* The socket whose options a connection opens with: its own, or for a
 * listener's child the listener's (Linux's children start as copies of the
 * listener, sk_clone_lock). NULL if there is none. */
const struct finack_sock *socket_for_open(const struct finack_stack *stack,
                                          const struct tcp_conn *conn);


/* The blocking layer's view of a socket (src/link/loop.c): its O_NONBLOCK
 * flag (1 or 0, or -EBADF) and its SO_RCVTIMEO/SO_SNDTIMEO (in µs, as
 * struct finack_sock keeps them). */
int socket_nonblock(struct finack_stack *stack, int fd);
int socket_set_nonblock(struct finack_stack *stack, int fd, bool nonblock);
int socket_timeout(struct finack_stack *stack, int fd, bool send, int64_t *us);

/* finack_send() for a blocking send() that has already put `copied` bytes
 * of the same call into the send buffer (src/link/loop.c calls it again
 * for the rest): with copied > 0 an error found now is returned as -EPIPE
 * and stays pending (SO_ERROR, the next call), since the caller returns
 * the count instead, as Linux's tcp_sendmsg_locked does (do_error with
 * copied > 0 leaves sk_err). With copied 0 it is finack_send(). */
ssize_t socket_send(struct finack_stack *stack, int fd, const void *buf, size_t len, int flags,
                    size_t copied);

#endif
