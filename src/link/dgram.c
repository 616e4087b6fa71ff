/* Two stacks joined by an AF_UNIX datagram socketpair (see finack/loop.h):
 * one IPv4 packet is one datagram. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "finack/loop.h"

/* Room in the kernel for a window's worth of datagrams: a full socket
 * buffer drops packets (transmit fails with EAGAIN, the stack counts it). */
#define DGRAM_SOCKBUF (4 << 20)

struct finack_dgram_link {
    struct finack_link link;
    int fd;
    size_t buf_len;
    uint8_t *buf; /* one datagram; only the loop thread reads */
    char name[16];
};

static int dgram_transmit(struct finack_link *link, const uint8_t *packet, size_t len,
                          finack_time_t now)
{
    (void)now;
    struct finack_dgram_link *end = link->driver;
    ssize_t n = send(end->fd, packet, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) return -errno;
    return n == (ssize_t)len ? 0 : -EMSGSIZE;
}

static const struct finack_link_ops dgram_ops = {.transmit = dgram_transmit};

static int dgram_receive(void *ctx, struct finack_stack *stack, finack_time_t now, int budget)
{
    struct finack_dgram_link *end = ctx;
    int handled = 0;
    while (handled < budget) {
        ssize_t n = recv(end->fd, end->buf, end->buf_len, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            return handled ? handled : -errno;
        }
        handled++;
        /* A datagram larger than the MTU was cut: not a packet. */
        if ((size_t)n > end->buf_len) continue;
        finack_stack_input(stack, &end->link, end->buf, (size_t)n, now);
    }
    return handled;
}

static void end_free(struct finack_dgram_link *end)
{
    if (!end) return;
    if (end->fd >= 0) close(end->fd);
    free(end->buf);
    free(end);
}

static struct finack_dgram_link *end_new(int fd, uint32_t mtu, const char *name)
{
    struct finack_dgram_link *end = calloc(1, sizeof *end);
    if (!end) return NULL;
    end->fd = fd;
    end->buf_len = mtu;
    end->buf = malloc(mtu);
    if (!end->buf) {
        free(end);
        return NULL;
    }
    int size = DGRAM_SOCKBUF;
    /* Best effort: capped at net.core.wmem_max/rmem_max. */
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    strncpy(end->name, name, sizeof end->name - 1);
    end->link = (struct finack_link){.ops = &dgram_ops, .driver = end, .mtu = mtu,
                                     .name = end->name};
    return end;
}

int finack_dgram_link_pair(struct finack_dgram_link **a, struct finack_dgram_link **b,
                           uint32_t mtu)
{
    if (!a || !b || mtu < 68 || mtu > 65535) return -EINVAL;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0) return -errno;
    struct finack_dgram_link *ea = end_new(fds[0], mtu, "dgram-a");
    struct finack_dgram_link *eb = ea ? end_new(fds[1], mtu, "dgram-b") : NULL;
    if (!ea || !eb) {
        if (ea) end_free(ea);
        else close(fds[0]);
        close(fds[1]);
        return -ENOMEM;
    }
    *a = ea;
    *b = eb;
    return 0;
}

void finack_dgram_link_free(struct finack_dgram_link *end) { end_free(end); }

struct finack_loop_link finack_dgram_link_loop(struct finack_dgram_link *end)
{
    return (struct finack_loop_link){
        .link = &end->link, .fd = end->fd, .receive = dgram_receive, .ctx = end};
}
