/* finack echo: an echo server on a TUN device for many clients at once.
 *
 * One thread serves every connection with non-blocking sockets and
 * finack_loop_poll(): a thread per client would wake every one of them on
 * each change of readiness (the loop has one condition variable), which
 * does not scale to hundreds of clients. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "finack/socket.h"
#include "net.h"
#include "tool.h"

const char cmd_echo_usage[] =
    "usage: finack echo --tun IF --addr ADDR[/LEN] --port P [OPTIONS]\n"
    "\n"
    "Run a stack on the TUN device IF and send every byte each TCP client sends\n"
    "to port P back to it, for any number of clients at once, until SIGINT or\n"
    "SIGTERM. A client's connection is closed once it has closed its side and\n"
    "everything is echoed. Prints 'finack echo: listening on ADDR:P' to stderr\n"
    "when ready.\n"
    "\n"
    "  --port P         the TCP port to listen on (1 to 65535)\n"
    "\n" NET_OPTIONS_USAGE;

/* Bytes read but not yet echoed, per client: enough to keep the send
 * buffer fed between two wake-ups. */
#define ECHO_BUF (64u << 10)
#define ECHO_BACKLOG 1024

struct echo_conn {
    int fd;
    bool eof;         /* the client closed its side */
    size_t off, len;  /* buf[off..len) waits to be echoed */
    uint8_t buf[ECHO_BUF];
};

struct echo_server {
    struct net_session *net;
    int lfd;
    struct echo_conn **conns;
    size_t count, cap;
    struct pollfd *pfds; /* listener first, then conns in order */
    size_t pfds_cap;
};

enum { OPT_PORT = NET_OPT__END };

static uint16_t echo_parse(int argc, char **argv, struct net_options *o)
{
    static const struct option options[] = {
        NET_LONG_OPTIONS,
        {"port", required_argument, NULL, OPT_PORT},
        {NULL, 0, NULL, 0},
    };
    net_options_init(o);
    uint16_t port = 0;
    int c;
    while ((c = tool_next_option(argc, argv, options)) != -1) {
        if (net_option(o, c, optarg)) continue;
        if (c == OPT_PORT) port = (uint16_t)tool_parse_uint("--port", optarg, 1, 65535);
    }
    net_options_check(o);
    if (port == 0) tool_usage_error("--port P is required");
    return port;
}

static int echo_listen(struct echo_server *e, uint32_t addr, uint16_t port)
{
    struct finack_loop *loop = e->net->loop;
    int fd = net_socket(e->net);
    if (fd < 0) return fd;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(addr)};
    int rc = finack_loop_bind(loop, fd, (struct sockaddr *)&sin, sizeof sin);
    if (rc == 0) rc = finack_loop_listen(loop, fd, ECHO_BACKLOG);
    if (rc < 0) {
        finack_loop_close(loop, fd);
        return rc;
    }
    e->lfd = fd;
    return 0;
}

static void echo_accept_all(struct echo_server *e)
{
    struct finack_loop *loop = e->net->loop;
    for (;;) {
        int fd = finack_loop_accept(loop, e->lfd, NULL, NULL);
        if (fd < 0) return; /* -EAGAIN: none left; anything else: the client's loss */
        if (e->count == e->cap) {
            size_t cap = e->cap ? e->cap * 2 : 64;
            struct echo_conn **conns = realloc(e->conns, cap * sizeof *conns);
            if (!conns) {
                finack_loop_close(loop, fd);
                continue;
            }
            e->conns = conns;
            e->cap = cap;
        }
        struct echo_conn *c = malloc(sizeof *c);
        if (!c || finack_loop_set_nonblock(loop, fd, true) < 0) {
            free(c);
            finack_loop_close(loop, fd);
            continue;
        }
        const struct net_options *o = e->net->options;
        if (o->sndbuf) finack_loop_setsockopt(loop, fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf,
                                              sizeof o->sndbuf);
        if (o->rcvbuf) finack_loop_setsockopt(loop, fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf,
                                              sizeof o->rcvbuf);
        c->fd = fd;
        c->eof = false;
        c->off = c->len = 0;
        e->conns[e->count++] = c;
    }
}

/* Move what can move without waiting. Returns false when the connection
 * is finished (echoed to the end, or failed) and should be closed. */
static bool echo_service(struct finack_loop *loop, struct echo_conn *c)
{
    bool progress = true;
    while (progress) {
        progress = false;
        if (!c->eof && c->len < ECHO_BUF) {
            ssize_t n = finack_loop_recv(loop, c->fd, c->buf + c->len, ECHO_BUF - c->len, 0);
            if (n > 0) {
                c->len += (size_t)n;
                progress = true;
            } else if (n == 0) {
                c->eof = true;
            } else if (n != -EAGAIN) {
                return false; /* reset or timed out: nothing more to echo to */
            }
        }
        if (c->off < c->len) {
            ssize_t n = finack_loop_send(loop, c->fd, c->buf + c->off, c->len - c->off, 0);
            if (n > 0) {
                c->off += (size_t)n;
                if (c->off == c->len) c->off = c->len = 0;
                progress = true;
            } else if (n != -EAGAIN) {
                return false;
            }
        }
    }
    return !(c->eof && c->off == c->len);
}

static short echo_events(const struct echo_conn *c)
{
    short ev = 0;
    if (!c->eof && c->len < ECHO_BUF) ev |= POLLIN;
    if (c->off < c->len) ev |= POLLOUT;
    return ev;
}

static int echo_build_pfds(struct echo_server *e)
{
    if (e->count + 1 > e->pfds_cap) {
        size_t cap = (e->count + 1) * 2;
        struct pollfd *p = realloc(e->pfds, cap * sizeof *p);
        if (!p) return -ENOMEM;
        e->pfds = p;
        e->pfds_cap = cap;
    }
    e->pfds[0] = (struct pollfd){.fd = e->lfd, .events = POLLIN};
    for (size_t i = 0; i < e->count; i++)
        e->pfds[i + 1] = (struct pollfd){.fd = e->conns[i]->fd, .events = echo_events(e->conns[i])};
    return 0;
}

static void echo_close(struct echo_server *e, size_t i)
{
    /* Close sends what is still buffered, then FIN (no linger). */
    finack_loop_close(e->net->loop, e->conns[i]->fd);
    free(e->conns[i]);
    e->conns[i] = e->conns[--e->count];
}

static int echo_serve(struct echo_server *e)
{
    struct finack_loop *loop = e->net->loop;
    for (;;) {
        int rc = echo_build_pfds(e);
        if (rc < 0) return rc;
        size_t n = e->count;
        rc = net_poll(e->net, e->pfds, n + 1, NULL, 0);
        if (rc == -EINTR) return 0; /* asked to stop */
        if (rc < 0) return rc;
        /* Walk backwards: closing swaps the last connection into place i. */
        for (size_t i = n; i-- > 0;) {
            if (e->pfds[i + 1].revents == 0) continue;
            if (!echo_service(loop, e->conns[i])) echo_close(e, i);
        }
        if (e->pfds[0].revents) echo_accept_all(e);
    }
}

int cmd_echo(int argc, char **argv)
{
    struct net_options o;
    uint16_t port = echo_parse(argc, argv, &o);
    struct net_session net;
    if (net_open(&net, &o, "echo") < 0) return TOOL_EXIT_FAILURE;
    struct echo_server e = {.net = &net, .lfd = -1};
    int rc = echo_listen(&e, o.addr, port);
    if (rc < 0) {
        tool_error("cannot listen on port %u: %s", (unsigned)port, tool_strerror(rc));
    } else {
        char ep[22];
        fprintf(stderr, "finack echo: listening on %s\n", net_format_endpoint(o.addr, port, ep));
        rc = echo_serve(&e);
        if (rc < 0 && rc != -ENETDOWN) tool_error("%s", tool_strerror(rc)); /* net_poll said */
    }
    while (e.count) echo_close(&e, e.count - 1);
    if (e.lfd >= 0) finack_loop_close(net.loop, e.lfd);
    free(e.conns);
    free(e.pfds);
    net_close(&net);
    return rc < 0 ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
}
