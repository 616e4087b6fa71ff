/*
 * The run loop and blocking calls: a thread that owns a stack, and BSD
 * blocking semantics for the application threads that use it.
 *
 * finack's core is single-threaded and never blocks (finack/socket.h). A
 * struct finack_loop puts it behind a mutex and runs it in its own thread:
 * the loop thread waits (epoll) on the link's descriptor, a wake-up
 * eventfd and the stack's next deadline, and feeds the stack packets and
 * timer polls with the lock held. Application threads call the
 * finack_loop_* functions below from any number of threads at once; each
 * takes the lock, makes the non-blocking call, and where BSD would block
 * (and the socket is not non-blocking) waits on a condition variable until
 * the loop reports that the socket's readiness may have changed, the
 * socket's timeout (SO_RCVTIMEO / SO_SNDTIMEO) expires, or the loop stops.
 * Every change of readiness wakes every waiter (no lost wake-ups: the
 * waiters re-check under the lock).
 *
 * Errors: as finack/socket.h, a negative errno (-EAGAIN after a timeout,
 * as Linux; -ECANCELED if the loop was stopped while a call waited).
 */
#ifndef FINACK_LOOP_H
#define FINACK_LOOP_H

#include <poll.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "finack/finack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct finack_loop;

/* A link the loop can wait on: its descriptor becomes readable when
 * packets arrive, and receive() hands them to the stack (it is called with
 * the loop's lock held, from the loop thread). The TUN device and the
 * datagram pair below are two. */
struct finack_loop_link {
    struct finack_link *link;  /* what the stack transmits on */
    int fd;                    /* readable when receive() has work */
    /* Read what is waiting (at most `budget` packets) into stack at now;
     * returns packets handled or a negative errno. */
    int (*receive)(void *ctx, struct finack_stack *stack, finack_time_t now, int budget);
    void *ctx;
    /* Optional (NULL: none). For a link that holds packets for later (the
     * impairments of finack/impair.h): hand over what is due at now and
     * return when the link next needs this call (FINACK_TIME_NEVER: it
     * holds nothing). Called with the lock held by the loop thread at
     * every wake-up, and after every application call (whose transmits may
     * have queued packets), so the loop sleeps no later than that time. */
    finack_time_t (*poll)(void *ctx, struct finack_stack *stack, finack_time_t now);
};

/* Start a loop thread for stack on link. The stack must have the link's
 * interface already; from now on touch the stack only through the loop
 * (finack_loop_lock() for anything not wrapped below). */
int finack_loop_start(struct finack_loop **out, struct finack_stack *stack,
                      const struct finack_loop_link *link);
/* Stop the thread (waiting calls return -ECANCELED) and free the loop. The
 * stack stays the caller's. */
void finack_loop_stop(struct finack_loop *loop);

/* A descriptor for the application's own epoll/poll set: it becomes
 * readable whenever a finack socket's readiness may have changed. Read its
 * 8-byte counter to reset it, then finack_loop_poll(..., 0) says which
 * sockets are ready. Owned by the loop (closed by finack_loop_stop). */
int finack_loop_ready_fd(struct finack_loop *loop);

/* 0 while the link works. Once reading it failed, or it reported an error
 * or hang-up with nothing to read (a TUN device deleted under the loop),
 * the negative errno (-ENETDOWN for a hang-up), for good: the loop stops
 * reading it, wakes every waiter and the ready descriptor, and timers and
 * calls go on. An application should give up then. */
int finack_loop_link_error(struct finack_loop *loop);

/* Run fn(ctx, stack) with the lock held (for calls not wrapped here). */
void finack_loop_call(struct finack_loop *loop, void (*fn)(void *ctx, struct finack_stack *stack),
                      void *ctx);

/* ---- BSD calls, blocking unless the socket is non-blocking ------------------
 * type may carry SOCK_NONBLOCK; finack_loop_set_nonblock() changes it later
 * (as fcntl O_NONBLOCK). Non-blocking sockets behave exactly as the
 * finack_* calls of finack/socket.h. */
int finack_loop_socket(struct finack_loop *loop, int domain, int type, int protocol);
int finack_loop_set_nonblock(struct finack_loop *loop, int fd, bool nonblock);
int finack_loop_bind(struct finack_loop *loop, int fd, const struct sockaddr *addr, socklen_t len);
int finack_loop_listen(struct finack_loop *loop, int fd, int backlog);
/* Waits for a connection. */
int finack_loop_accept(struct finack_loop *loop, int fd, struct sockaddr *addr, socklen_t *len);
/* Waits for the handshake: 0, or -ECONNREFUSED, -ETIMEDOUT, ... */
int finack_loop_connect(struct finack_loop *loop, int fd, const struct sockaddr *addr,
                        socklen_t len);
/* Waits until all len bytes are in the send buffer (or an error; a partial
 * count if some went in before it). */
ssize_t finack_loop_send(struct finack_loop *loop, int fd, const void *buf, size_t len, int flags);
/* Waits for data or EOF (0). */
ssize_t finack_loop_recv(struct finack_loop *loop, int fd, void *buf, size_t len, int flags);
int finack_loop_shutdown(struct finack_loop *loop, int fd, int how);
int finack_loop_close(struct finack_loop *loop, int fd);
int finack_loop_setsockopt(struct finack_loop *loop, int fd, int level, int name, const void *val,
                           socklen_t len);
int finack_loop_getsockopt(struct finack_loop *loop, int fd, int level, int name, void *val,
                           socklen_t *len);
/* poll(2): waits up to timeout_ms (-1: forever, 0: not at all). */
int finack_loop_poll(struct finack_loop *loop, struct pollfd *fds, nfds_t nfds, int timeout_ms);

/* ---- A link for tests and examples: two stacks joined by a socketpair ------
 * Each end is an AF_UNIX datagram socket; a packet one stack transmits is
 * one datagram the other end's loop reads. Real time, real threads: the
 * blocking layer exercised without a TUN device or root. */
struct finack_dgram_link;
int finack_dgram_link_pair(struct finack_dgram_link **a, struct finack_dgram_link **b,
                           uint32_t mtu);
void finack_dgram_link_free(struct finack_dgram_link *end);
/* The finack_loop_link of one end (its link, fd and receive). */
struct finack_loop_link finack_dgram_link_loop(struct finack_dgram_link *end);

#ifdef __cplusplus
}
#endif
#endif
