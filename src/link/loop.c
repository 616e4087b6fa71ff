/* The run loop and the blocking calls (see finack/loop.h).
 *
 * One mutex guards the stack. The loop thread waits in epoll (the link's
 * descriptor, an eventfd, the stack's next deadline) without the lock, and
 * takes it to feed the stack packets and timer polls. Application threads
 * take it for each call. Readiness: the TCP layer calls its notify hook
 * (tcp_notify) whenever a connection's readiness may change, from
 * whichever thread drives the stack; the hook only marks the loop
 * "changed", and whoever holds the lock bumps the generation and
 * broadcasts the one condition variable before letting go. A waiter
 * re-checks its call under the lock and sleeps only while the generation
 * is the one it saw after that check, so no change is missed. */
#include "finack/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "finack/runtime.h"
#include "finack/socket.h"
#include "link/loop.h"
#include "socket/socket.h"
#include "stack.h"
#include "tcp/tcp.h"

/* Packets read per wake-up before timers get a turn (as finack_run_tun). */
#define LOOP_BATCH 64
/* The longest the loop thread sleeps without looking at the stop flag. */
#define LOOP_MAX_WAIT_MS 200

struct finack_loop {
    struct finack_stack *stack;
    struct finack_loop_link link;
    pthread_mutex_t mu;
    pthread_cond_t cond;     /* every change of readiness; CLOCK_MONOTONIC */
    pthread_t thread;
    int epfd, evfd;
    int readyfd;             /* eventfd the application may watch: readiness changed */
    int link_error;          /* 0, or why the link stopped working (for good) */
    /* Under mu: */
    bool stop;               /* finack_loop_stop() began */
    bool changed;            /* the notify hook ran since the last broadcast */
    uint64_t generation;     /* bumped at every broadcast */
    finack_time_t wake_at;   /* when the loop thread will wake by itself */
    finack_time_t entered;   /* the clock when the current call took the lock */
    int callers;             /* application threads inside a finack_loop_* call */
    int waiters;             /* of them, those asleep in loop_wait() */
};

/* ---- Locking and wake-ups ---------------------------------------------------- */

static void loop_notify(void *ctx, struct tcp_conn *conn)
{
    (void)conn;
    struct finack_loop *loop = ctx;
    loop->changed = true;
}

/* With the lock held: tell every waiter if readiness may have changed. */
static void loop_flush(struct finack_loop *loop)
{
    if (!loop->changed) return;
    loop->changed = false;
    loop->generation++;
    pthread_cond_broadcast(&loop->cond);
    uint64_t one = 1;
    /* Fails only when the counter would overflow: it is readable anyway. */
    ssize_t n = write(loop->readyfd, &one, sizeof one);
    (void)n;
}

int finack_loop_ready_fd(struct finack_loop *loop)
{
    return loop->readyfd;
}

int finack_loop_link_error(struct finack_loop *loop)
{
    pthread_mutex_lock(&loop->mu);
    int err = loop->link_error;
    pthread_mutex_unlock(&loop->mu);
    return err;
}

static void loop_kick(struct finack_loop *loop)
{
    uint64_t one = 1;
    /* Fails only when the counter is about to overflow: the loop is awake
     * (or about to be) anyway. */
    ssize_t n = write(loop->evfd, &one, sizeof one);
    (void)n;
}

/* Take the lock for an application call and bring the stack's clock up
 * to now (socket calls act at the stack's time: a stale one would arm
 * timers early and skew RTT samples), running what fell due. */
static void loop_enter(struct finack_loop *loop)
{
    pthread_mutex_lock(&loop->mu);
    loop->callers++;
    loop->entered = finack_clock_now();
    finack_stack_poll(loop->stack, loop->entered);
}

static finack_time_t earlier(finack_time_t a, finack_time_t b) { return a < b ? a : b; }

/* With the lock held: let a link that holds packets hand over what is due
 * at now; the earliest time the link or the stack needs the loop again. */
static finack_time_t loop_link_poll(struct finack_loop *loop, finack_time_t now)
{
    finack_time_t next = FINACK_TIME_NEVER;
    if (loop->link.poll) next = loop->link.poll(loop->link.ctx, loop->stack, now);
    return earlier(next, finack_stack_next_deadline(loop->stack));
}

/* With the lock held, after the call changed the stack: wake the loop
 * thread if it would sleep past the new deadline of the stack or of the
 * link (a packet the call's transmit left held). At the call's own time:
 * what it transmitted went out stamped so. */
static void loop_wake_if_earlier(struct finack_loop *loop)
{
    finack_time_t next = loop_link_poll(loop, loop->entered);
    if (!loop->stop && next < loop->wake_at) {
        loop->wake_at = 0; /* one kick is enough until the loop looks again */
        loop_kick(loop);
    }
}

/* The call may have transmitted, armed timers and changed readiness:
 * wake waiters, and the loop thread if it would sleep past the stack's
 * new deadline. */
static void loop_leave(struct finack_loop *loop)
{
    loop_wake_if_earlier(loop);
    loop_flush(loop);
    loop->callers--;
    /* finack_loop_stop() waits for the last caller to leave. */
    if (loop->stop && loop->callers == 0) pthread_cond_broadcast(&loop->cond);
    pthread_mutex_unlock(&loop->mu);
}

static finack_time_t add_us(finack_time_t t, uint64_t us)
{
    return t > FINACK_TIME_NEVER - us ? FINACK_TIME_NEVER : t + us;
}

/* The absolute deadline of a wait bounded by an SO_RCVTIMEO/SO_SNDTIMEO
 * value (µs; 0 = for ever, -1 = do not wait: now). */
static finack_time_t timeout_deadline(int64_t timeo)
{
    if (timeo == 0) return FINACK_TIME_NEVER;
    finack_time_t now = finack_clock_now();
    return timeo < 0 ? now : add_us(now, (uint64_t)timeo);
}

/* With the lock held, after a call that would block: sleep until readiness
 * may have changed. 0 to try again, -EAGAIN at the deadline, -ECANCELED if
 * the loop stops. */
static int loop_wait(struct finack_loop *loop, finack_time_t deadline)
{
    /* What the call did so far (a SYN sent, a timer armed) must not wait
     * for the loop thread's idle cap while this thread sleeps. */
    loop_wake_if_earlier(loop);
    loop_flush(loop); /* what the call itself changed wakes the others */
    uint64_t seen = loop->generation;
    int rc = 0;
    loop->waiters++;
    while (!loop->stop && loop->generation == seen) {
        if (deadline == FINACK_TIME_NEVER) {
            pthread_cond_wait(&loop->cond, &loop->mu);
            continue;
        }
        if (finack_clock_now() >= deadline) {
            rc = -EAGAIN;
            break;
        }
        struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000u),
                              .tv_nsec = (long)(deadline % 1000000u) * 1000};
        pthread_cond_timedwait(&loop->cond, &loop->mu, &ts);
    }
    loop->waiters--;
    if (loop->stop) return -ECANCELED;
    if (rc) return rc;
    /* The clock moved while we slept: run what fell due before retrying. */
    loop->entered = finack_clock_now();
    finack_stack_poll(loop->stack, loop->entered);
    return 0;
}

/* Whether a call on fd that would block should wait (the socket is
 * blocking and the call did not say MSG_DONTWAIT). */
static bool may_block(struct finack_loop *loop, int fd, int flags)
{
    return !(flags & MSG_DONTWAIT) && socket_nonblock(loop->stack, fd) == 0;
}

static finack_time_t socket_deadline(struct finack_loop *loop, int fd, bool send)
{
    int64_t timeo = 0;
    (void)socket_timeout(loop->stack, fd, send, &timeo);
    return timeout_deadline(timeo);
}

/* ---- The loop thread ------------------------------------------------------------ */

static int wait_ms(finack_time_t now, finack_time_t wake)
{
    if (wake <= now) return 0;
    finack_time_t us = wake - now;
    if (us >= FINACK_MSEC(LOOP_MAX_WAIT_MS)) return LOOP_MAX_WAIT_MS;
    return (int)((us + 999u) / 1000u); /* rounded up: never wake just short and spin */
}

static void *loop_main(void *arg)
{
    struct finack_loop *loop = arg;
    pthread_mutex_lock(&loop->mu);
    while (!loop->stop) {
        finack_time_t now = finack_clock_now();
        /* The link first: packets it releases may arm the stack's timers. */
        if (loop->link.poll) loop->link.poll(loop->link.ctx, loop->stack, now);
        finack_stack_poll(loop->stack, now);
        finack_time_t deadline = loop_link_poll(loop, now);
        loop_flush(loop);
        finack_time_t cap = now + FINACK_MSEC(LOOP_MAX_WAIT_MS);
        loop->wake_at = deadline < cap ? deadline : cap;
        int ms = wait_ms(now, loop->wake_at);
        pthread_mutex_unlock(&loop->mu);

        struct epoll_event evs[2];
        int n = epoll_wait(loop->epfd, evs, 2, ms);

        pthread_mutex_lock(&loop->mu);
        loop->wake_at = 0; /* awake: callers need not kick */
        for (int i = 0; i < n && !loop->stop; i++) {
            if (evs[i].data.fd == loop->evfd) {
                uint64_t count;
                ssize_t r = read(loop->evfd, &count, sizeof count);
                (void)r;
            } else {
                /* Level-triggered: what is left past the batch wakes the
                 * next epoll_wait at once, after the timers had a turn. */
                int rc = loop->link.receive(loop->link.ctx, loop->stack, finack_clock_now(),
                                            LOOP_BATCH);
                /* A link that fails, or reports an error or hang-up with
                 * nothing to read, would wake epoll for ever: stop
                 * watching it (timers and calls go on; its transmit
                 * reports its own errors). */
                if (rc < 0 || (rc == 0 && (evs[i].events & (EPOLLERR | EPOLLHUP)))) {
                    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, loop->link.fd, NULL);
                    /* Say so: waiters and the ready descriptor wake up,
                     * and finack_loop_link_error() tells them why. */
                    loop->link_error = rc < 0 ? rc : -ENETDOWN;
                    loop->changed = true;
                }
            }
        }
        loop_flush(loop);
    }
    pthread_mutex_unlock(&loop->mu);
    return NULL;
}

/* ---- Start and stop ------------------------------------------------------------------ */

int finack_loop_start(struct finack_loop **out, struct finack_stack *stack,
                      const struct finack_loop_link *link)
{
    if (!out || !stack || !link || !link->receive || link->fd < 0) return -EINVAL;
    struct finack_loop *loop = calloc(1, sizeof *loop);
    if (!loop) return -ENOMEM;
    loop->stack = stack;
    loop->link = *link;
    loop->epfd = loop->evfd = -1;
    int rc = -ENOMEM;
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) goto fail_alloc;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    rc = -pthread_cond_init(&loop->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc) goto fail_alloc;
    rc = -pthread_mutex_init(&loop->mu, NULL);
    if (rc) goto fail_cond;

    loop->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->readyfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->evfd < 0 || loop->readyfd < 0 || loop->epfd < 0) {
        rc = -errno;
        goto fail_fds;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = loop->evfd};
    struct epoll_event lev = {.events = EPOLLIN, .data.fd = link->fd};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->evfd, &ev) < 0 ||
        epoll_ctl(loop->epfd, EPOLL_CTL_ADD, link->fd, &lev) < 0) {
        rc = -errno;
        goto fail_fds;
    }

    stack->tcp->notify = loop_notify;
    stack->tcp->notify_ctx = loop;
    rc = -pthread_create(&loop->thread, NULL, loop_main, loop);
    if (rc) {
        stack->tcp->notify = NULL;
        stack->tcp->notify_ctx = NULL;
        goto fail_fds;
    }
    *out = loop;
    return 0;

fail_fds:
    if (loop->evfd >= 0) close(loop->evfd);
    if (loop->readyfd >= 0) close(loop->readyfd);
    if (loop->epfd >= 0) close(loop->epfd);
    pthread_mutex_destroy(&loop->mu);
fail_cond:
    pthread_cond_destroy(&loop->cond);
fail_alloc:
    free(loop);
    return rc;
}

void finack_loop_stop(struct finack_loop *loop)
{
    if (!loop) return;
    pthread_mutex_lock(&loop->mu);
    loop->stop = true;
    pthread_cond_broadcast(&loop->cond);
    pthread_mutex_unlock(&loop->mu);
    loop_kick(loop);
    pthread_join(loop->thread, NULL);

    /* Calls that were waiting return -ECANCELED; let them leave first. */
    pthread_mutex_lock(&loop->mu);
    while (loop->callers > 0) pthread_cond_wait(&loop->cond, &loop->mu);
    loop->stack->tcp->notify = NULL;
    loop->stack->tcp->notify_ctx = NULL;
    pthread_mutex_unlock(&loop->mu);

    close(loop->epfd);
    close(loop->evfd);
    close(loop->readyfd);
    pthread_mutex_destroy(&loop->mu);
    pthread_cond_destroy(&loop->cond);
    free(loop);
}

int loop_waiters(struct finack_loop *loop)
{
    pthread_mutex_lock(&loop->mu);
    int n = loop->waiters;
    pthread_mutex_unlock(&loop->mu);
    return n;
}

void finack_loop_call(struct finack_loop *loop, void (*fn)(void *ctx, struct finack_stack *stack),
                      void *ctx)
{
    loop_enter(loop);
    fn(ctx, loop->stack);
    loop_leave(loop);
}

/* ---- BSD calls ---------------------------------------------------------------------------- */

int finack_loop_socket(struct finack_loop *loop, int domain, int type, int protocol)
{
    loop_enter(loop);
    int rc = finack_socket(loop->stack, domain, type, protocol);
    loop_leave(loop);
    return rc;
}

int finack_loop_set_nonblock(struct finack_loop *loop, int fd, bool nonblock)
{
    loop_enter(loop);
    int rc = socket_set_nonblock(loop->stack, fd, nonblock);
    loop_leave(loop);
    return rc;
}

int finack_loop_bind(struct finack_loop *loop, int fd, const struct sockaddr *addr, socklen_t len)
{
    loop_enter(loop);
    int rc = finack_bind(loop->stack, fd, addr, len);
    loop_leave(loop);
    return rc;
}

int finack_loop_listen(struct finack_loop *loop, int fd, int backlog)
{
    loop_enter(loop);
    int rc = finack_listen(loop->stack, fd, backlog);
    loop_leave(loop);
    return rc;
}

int finack_loop_accept(struct finack_loop *loop, int fd, struct sockaddr *addr, socklen_t *len)
{
    loop_enter(loop);
    finack_time_t deadline = FINACK_TIME_NEVER;
    bool first = true;
    int rc;
    for (;;) {
        rc = finack_accept(loop->stack, fd, addr, len);
        if (rc != -EAGAIN || !may_block(loop, fd, 0)) break;
        if (first) deadline = socket_deadline(loop, fd, false);
        first = false;
        int w = loop_wait(loop, deadline);
        if (w) {
            rc = w;
            break;
        }
    }
    loop_leave(loop);
    return rc;
}

int finack_loop_connect(struct finack_loop *loop, int fd, const struct sockaddr *addr,
                        socklen_t len)
{
    loop_enter(loop);
    int rc = finack_connect(loop->stack, fd, addr, len);
    if (rc == -EINPROGRESS && may_block(loop, fd, 0)) {
        /* As Linux's inet_wait_for_connect: until writable or failed, then
         * connect() again says how it ended (0 or the error). SO_SNDTIMEO
         * bounds the wait; when it expires the handshake goes on and the
         * answer is EINPROGRESS, as Linux's. */
        finack_time_t deadline = socket_deadline(loop, fd, true);
        for (;;) {
            int ev = finack_socket_events(loop->stack, fd);
            if (ev < 0) {
                rc = ev;
                break;
            }
            if (ev & (POLLOUT | POLLERR | POLLHUP)) {
                rc = finack_connect(loop->stack, fd, addr, len);
                break;
            }
            int w = loop_wait(loop, deadline);
            if (w) {
                rc = w == -EAGAIN ? -EINPROGRESS : w;
                break;
            }
        }
    }
    loop_leave(loop);
    return rc;
}

ssize_t finack_loop_send(struct finack_loop *loop, int fd, const void *buf, size_t len, int flags)
{
    loop_enter(loop);
    const uint8_t *p = buf;
    size_t done = 0;
    bool first = true;
    finack_time_t deadline = FINACK_TIME_NEVER;
    int core_flags = flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL);
    ssize_t rc;
    for (;;) {
        /* With bytes of this call already in, an error ends the call with
         * their count and stays pending for the next (socket_send). */
        rc = socket_send(loop->stack, fd, p + done, len - done, core_flags, done);
        if (rc > 0) {
            done += (size_t)rc;
            if (done == len) break;
            continue; /* the rest may fit at once; else -EAGAIN below */
        }
        if (rc == 0) break; /* len 0 */
        if (rc != -EAGAIN || !may_block(loop, fd, flags)) break;
        if (first) deadline = socket_deadline(loop, fd, true);
        first = false;
        int w = loop_wait(loop, deadline);
        if (w) {
            rc = w;
            break;
        }
    }
    loop_leave(loop);
    /* Some bytes went in before the error or the timeout: their count. */
    return done ? (ssize_t)done : rc;
}

ssize_t finack_loop_recv(struct finack_loop *loop, int fd, void *buf, size_t len, int flags)
{
    loop_enter(loop);
    uint8_t *p = buf;
    size_t done = 0;
    bool first = true;
    finack_time_t deadline = FINACK_TIME_NEVER;
    /* MSG_WAITALL: until len bytes, EOF, an error or the timeout (not with
     * MSG_PEEK, as Linux). */
    bool all = (flags & MSG_WAITALL) && !(flags & MSG_PEEK);
    int core_flags = flags & ~(MSG_DONTWAIT | MSG_WAITALL);
    ssize_t rc;
    for (;;) {
        rc = finack_recv(loop->stack, fd, p + done, len - done, core_flags);
        if (rc > 0) {
            done += (size_t)rc;
            if (!all || done == len) break;
            continue;
        }
        if (rc != -EAGAIN || !may_block(loop, fd, flags)) break;
        if (first) deadline = socket_deadline(loop, fd, false);
        first = false;
        int w = loop_wait(loop, deadline);
        if (w) {
            rc = w;
            break;
        }
    }
    loop_leave(loop);
    return done ? (ssize_t)done : rc;
}

int finack_loop_shutdown(struct finack_loop *loop, int fd, int how)
{
    loop_enter(loop);
    int rc = finack_shutdown(loop->stack, fd, how);
    loop_leave(loop);
    return rc;
}

int finack_loop_close(struct finack_loop *loop, int fd)
{
    loop_enter(loop);
    int rc = finack_close(loop->stack, fd);
    loop->changed = true; /* a poll() on the handle now sees POLLNVAL */
    loop_leave(loop);
    return rc;
}

int finack_loop_setsockopt(struct finack_loop *loop, int fd, int level, int name, const void *val,
                           socklen_t len)
{
    loop_enter(loop);
    int rc = finack_setsockopt(loop->stack, fd, level, name, val, len);
    loop_leave(loop);
    return rc;
}

int finack_loop_getsockopt(struct finack_loop *loop, int fd, int level, int name, void *val,
                           socklen_t *len)
{
    loop_enter(loop);
    int rc = finack_getsockopt(loop->stack, fd, level, name, val, len);
    loop_leave(loop);
    return rc;
}

int finack_loop_poll(struct finack_loop *loop, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
    loop_enter(loop);
    finack_time_t deadline =
        timeout_ms < 0 ? FINACK_TIME_NEVER : add_us(finack_clock_now(), FINACK_MSEC(timeout_ms));
    int rc;
    for (;;) {
        rc = finack_poll(loop->stack, fds, nfds);
        if (rc != 0 || timeout_ms == 0) break;
        int w = loop_wait(loop, deadline);
        if (w == -EAGAIN) break; /* timed out: rc is 0 from the last look */
        if (w) {
            rc = w;
            break;
        }
    }
    loop_leave(loop);
    return rc;
}
