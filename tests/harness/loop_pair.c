#include "loop_pair.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "finack/socket.h"
#include "link/loop.h"

struct finack_stack *loop_new_stack(const char *name, struct finack_link *link, uint32_t addr)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = name;
    struct finack_stack *stack;
    if (finack_stack_create(&stack, &cfg) != 0) return NULL;
    if (finack_stack_add_interface(stack, link, addr, 24) != 0) {
        finack_stack_destroy(stack);
        return NULL;
    }
    return stack;
}

void loop_pair_close(struct loop_pair *p)
{
    if (p->loop_a) finack_loop_stop(p->loop_a);
    if (p->loop_b) finack_loop_stop(p->loop_b);
    if (p->a) finack_stack_destroy(p->a);
    if (p->b) finack_stack_destroy(p->b);
    finack_impair_destroy(p->imp);
    if (p->la) finack_dgram_link_free(p->la);
    if (p->lb) finack_dgram_link_free(p->lb);
    memset(p, 0, sizeof *p);
}

static bool start(struct loop_pair *p, struct finack_loop_link *la, struct finack_loop_link *lb)
{
    p->a = loop_new_stack("A", la->link, ADDR_A);
    p->b = loop_new_stack("B", lb->link, ADDR_B);
    if (!p->a || !p->b || finack_loop_start(&p->loop_a, p->a, la) != 0 ||
        finack_loop_start(&p->loop_b, p->b, lb) != 0) {
        loop_pair_close(p);
        return false;
    }
    return true;
}

bool loop_pair_open(struct loop_pair *p)
{
    memset(p, 0, sizeof *p);
    if (finack_dgram_link_pair(&p->la, &p->lb, 1500) != 0) return false;
    struct finack_loop_link la = finack_dgram_link_loop(p->la);
    struct finack_loop_link lb = finack_dgram_link_loop(p->lb);
    return start(p, &la, &lb);
}

static ssize_t dgram_read(void *ctx, uint8_t *buf, size_t cap, finack_time_t now)
{
    (void)now;
    int fd = *(int *)ctx;
    ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    return n;
}

bool loop_pair_open_impaired(struct loop_pair *p, const struct finack_impair_config *cfg)
{
    memset(p, 0, sizeof *p);
    if (finack_dgram_link_pair(&p->la, &p->lb, 1500) != 0) return false;
    struct finack_loop_link la = finack_dgram_link_loop(p->la);
    struct finack_loop_link lb_raw = finack_dgram_link_loop(p->lb);
    p->fd_b = lb_raw.fd;
    struct finack_impair_device dev = {.link = lb_raw.link, .fd = lb_raw.fd,
                                       .read = dgram_read, .ctx = &p->fd_b};
    struct finack_loop_link lb;
    if (finack_impair_create(&p->imp, cfg) != 0 || finack_impair_attach(p->imp, &dev, &lb) != 0) {
        loop_pair_close(p);
        return false;
    }
    return start(p, &la, &lb);
}

struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
    return (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(port),
                                .sin_addr.s_addr = htonl(addr)};
}

int loop_set_timeo(struct finack_loop *loop, int fd, int name, long ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return finack_loop_setsockopt(loop, fd, SOL_SOCKET, name, &tv, sizeof tv);
}

int loop_guarded(struct finack_loop *loop, int fd)
{
    if (fd < 0) return fd;
    loop_set_timeo(loop, fd, SO_RCVTIMEO, GUARD_MS);
    loop_set_timeo(loop, fd, SO_SNDTIMEO, GUARD_MS);
    return fd;
}

int loop_tcp_socket(struct finack_loop *loop, int type)
{
    return loop_guarded(loop, finack_loop_socket(loop, AF_INET, SOCK_STREAM | type, 0));
}

double ms_since(finack_time_t t0) { return (double)(finack_clock_now() - t0) / 1000.0; }

bool loop_await_waiters(struct finack_loop *loop, int n)
{
    finack_time_t until = finack_clock_now() + FINACK_MSEC(GUARD_MS);
    while (loop_waiters(loop) < n) {
        if (finack_clock_now() > until) return false;
        sched_yield();
    }
    return true;
}
