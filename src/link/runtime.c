/* The real-time run loop (see finack/runtime.h). */
#include "finack/runtime.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/* Packets read per wake-up before timers get a turn: under a flood the
 * stack still retransmits and acknowledges on time. */
#define RUN_BATCH 64

static uint64_t timespec_us(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000u + (uint64_t)ts->tv_nsec / 1000u;
}

finack_time_t finack_clock_now(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return timespec_us(&ts);
}

uint64_t finack_clock_epoch(void)
{
    struct timespec real;
    clock_gettime(CLOCK_REALTIME, &real);
    finack_time_t mono = finack_clock_now();
    uint64_t wall = timespec_us(&real);
    return wall > mono ? wall - mono : 0;
}

static bool run_stop_requested(const volatile int *stop_flag)
{
    return stop_flag != NULL && *stop_flag != 0;
}

/* Milliseconds epoll may sleep before wake, rounded up so the loop never
 * wakes just short of a deadline and spins; capped so a signal that lands
 * between the flag check and epoll_wait() is noticed soon anyway. */
static int run_wait_ms(finack_time_t now, finack_time_t wake)
{
    if (wake <= now) return 0;
    finack_time_t us = wake - now;
    if (us >= FINACK_MSEC(FINACK_RUN_MAX_WAIT_MS)) return FINACK_RUN_MAX_WAIT_MS;
    return (int)((us + 999u) / 1000u);
}

static int run_epoll_create(int fd)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int rc = -errno;
        close(epfd);
        return rc;
    }
    return epfd;
}

/* Fires due timers; returns the earliest time the loop must wake. */
static finack_time_t run_timers(struct finack_stack *stack, finack_time_t now,
                                finack_time_t until)
{
    finack_time_t deadline = finack_stack_next_deadline(stack);
    if (deadline <= now) deadline = finack_stack_poll(stack, now);
    return deadline < until ? deadline : until;
}

/* One wait and whatever it brought. Returns 0 to go on or a negative errno. */
static int run_once(struct finack_stack *stack, struct finack_tun *tun, int epfd,
                    finack_time_t until)
{
    finack_time_t wake = run_timers(stack, finack_clock_now(), until);
    struct epoll_event ev;
    int n = epoll_wait(epfd, &ev, 1, run_wait_ms(finack_clock_now(), wake));
    if (n < 0) return errno == EINTR ? 0 : -errno;
    if (n == 0) return 0;
    int rc = finack_tun_receive_batch(tun, stack, finack_clock_now(), RUN_BATCH);
    if (rc < 0) return rc;
    /* An error or hang-up with nothing to read would wake epoll forever:
     * the device is unusable (normally the read above already said why). */
    if (rc == 0 && (ev.events & (EPOLLERR | EPOLLHUP)) != 0) return -EIO;
    return 0;
}

int finack_run_tun(struct finack_stack *stack, struct finack_tun *tun,
                   const volatile int *stop_flag, finack_time_t until)
{
    int epfd = run_epoll_create(finack_tun_fd(tun));
    if (epfd < 0) return epfd;
    int rc = 0;
    while (rc == 0 && !run_stop_requested(stop_flag) && finack_clock_now() < until)
        rc = run_once(stack, tun, epfd, until);
    close(epfd);
    return rc;
}
