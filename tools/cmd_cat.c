/* finack cat: like nc, one TCP connection over a TUN device, stdin to the
 * connection and the connection to stdout.
 *
 * One thread: net_poll() waits on the finack socket and stdin together
 * (the loop's readiness descriptor beside stdin in one ppoll), so neither
 * direction blocks the other and a signal ends the wait at once. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "finack/socket.h"
#include "finack/runtime.h"
#include "net.h"
#include "tool.h"

const char cmd_cat_usage[] =
    "usage: finack cat --tun IF --addr ADDR[/LEN] [--port P] HOST PORT\n"
    "       finack cat -l --tun IF --addr ADDR[/LEN] --port P\n"
    "\n"
    "Like nc: connect to HOST PORT (or with -l, listen on port P and accept one\n"
    "connection), copy stdin to the connection and the connection to stdout.\n"
    "When stdin ends, the sending direction is shut down (FIN) and the output\n"
    "goes on until the peer closes too; then finack cat exits 0. A failed\n"
    "connection (refused, reset, timed out) is one line on stderr and exit 1.\n"
    "With -l, 'finack cat: listening on ADDR:P' goes to stderr when ready.\n"
    "\n"
    "  -l, --listen     listen on --port P instead of connecting\n"
    "  --port P         the local port (required with -l; else the default is\n"
    "                   an ephemeral port)\n"
    "\n" NET_OPTIONS_USAGE;

#define CAT_BUF (64u << 10)
/* After both directions are done: how long to let our FIN be
 * acknowledged before the stack goes away with the process. */
#define CAT_LINGER FINACK_SEC(2)

enum { OPT_PORT = NET_OPT__END, OPT_LISTEN };

struct cat_options {
    struct net_options net;
    bool listen;
    uint16_t port;        /* local; 0 = any */
    uint32_t peer_addr;   /* connect mode */
    uint16_t peer_port;
};

static void cat_parse(int argc, char **argv, struct cat_options *o)
{
    static const struct option options[] = {
        NET_LONG_OPTIONS,
        {"port", required_argument, NULL, OPT_PORT},
        {"listen", no_argument, NULL, OPT_LISTEN},
        {NULL, 0, NULL, 0},
    };
    *o = (struct cat_options){0};
    net_options_init(&o->net);
    int c;
    while ((c = tool_next_option_short(argc, argv, ":l", options, true)) != -1) {
        if (net_option(&o->net, c, optarg)) continue;
        switch (c) {
        case OPT_PORT: o->port = (uint16_t)tool_parse_uint("--port", optarg, 1, 65535); break;
        case 'l':
        case OPT_LISTEN: o->listen = true; break;
        }
    }
    net_options_check(&o->net);
    int rest = argc - optind;
    if (o->listen) {
        if (rest > 0) tool_usage_error("with -l, no HOST PORT (unexpected '%s')", argv[optind]);
        if (o->port == 0) tool_usage_error("-l needs --port P");
        return;
    }
    if (rest != 2) tool_usage_error("expected HOST PORT (try 'finack help cat')");
    uint8_t len;
    if (finack_parse_ipv4(argv[optind], &o->peer_addr, &len) < 0 || len != 32)
        tool_usage_error("HOST '%s': expected an IPv4 address A.B.C.D", argv[optind]);
    o->peer_port = (uint16_t)tool_parse_uint("PORT", argv[optind + 1], 1, 65535);
}

/* ---- Setting up the connection -------------------------------------------------- */

static int cat_bind(struct net_session *s, int fd, uint16_t port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(INADDR_ANY)};
    return finack_loop_bind(s->loop, fd, (struct sockaddr *)&sin, sizeof sin);
}

/* Wait for events on one finack socket; -EINTR when asked to stop. */
static int cat_wait(struct net_session *s, int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    int rc = net_poll(s, &p, 1, NULL, 0);
    return rc < 0 ? rc : p.revents;
}

static int cat_accept(struct net_session *s, const struct cat_options *o)
{
    int lfd = net_socket(s);
    if (lfd < 0) return lfd;
    int rc = cat_bind(s, lfd, o->port);
    if (rc == 0) rc = finack_loop_listen(s->loop, lfd, 1);
    if (rc < 0) {
        tool_error("cannot listen on port %u: %s", (unsigned)o->port, tool_strerror(rc));
        finack_loop_close(s->loop, lfd);
        return rc;
    }
    char ep[22];
    fprintf(stderr, "finack cat: listening on %s\n",
            net_format_endpoint(o->net.addr, o->port, ep));
    int fd;
    while ((fd = finack_loop_accept(s->loop, lfd, NULL, NULL)) == -EAGAIN) {
        rc = cat_wait(s, lfd, POLLIN);
        if (rc < 0) break;
    }
    finack_loop_close(s->loop, lfd);
    if (fd >= 0) finack_loop_set_nonblock(s->loop, fd, true);
    else if (fd != -EAGAIN) tool_error("accept: %s", tool_strerror(fd));
    return fd >= 0 ? fd : rc < 0 ? rc : fd;
}

static int cat_connect(struct net_session *s, const struct cat_options *o)
{
    char ep[22];
    net_format_endpoint(o->peer_addr, o->peer_port, ep);
    int fd = net_socket(s);
    if (fd < 0) {
        tool_error("socket: %s", tool_strerror(fd));
        return fd;
    }
    int rc = o->port ? cat_bind(s, fd, o->port) : 0;
    if (rc < 0) {
        tool_error("bind to port %u: %s", (unsigned)o->port, tool_strerror(rc));
        finack_loop_close(s->loop, fd);
        return rc;
    }
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(o->peer_port),
                              .sin_addr.s_addr = htonl(o->peer_addr)};
    rc = finack_loop_connect(s->loop, fd, (struct sockaddr *)&sin, sizeof sin);
    while (rc == -EINPROGRESS || rc == -EALREADY) {
        rc = cat_wait(s, fd, POLLOUT);
        if (rc < 0) break;
        int err = 0;
        socklen_t len = sizeof err;
        rc = finack_loop_getsockopt(s->loop, fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (rc == 0 && err) rc = -err;
    }
    if (rc < 0) {
        if (rc != -EINTR && rc != -ENETDOWN) tool_error("connect %s: %s", ep, tool_strerror(rc));
        finack_loop_close(s->loop, fd);
        return rc;
    }
    return fd;
}

/* ---- Copying both ways ----------------------------------------------------------------- */

struct cat_state {
    struct net_session *s;
    int fd;
    const char *peer;      /* for messages */
    bool stdin_eof, shut;  /* read all of stdin; sent our FIN */
    bool conn_eof;         /* the peer's FIN */
    size_t off, len;       /* out[off..len) waits to be sent */
    uint8_t out[CAT_BUF];
    uint8_t in[CAT_BUF];
};

static int write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Connection → stdout until it would block. */
static int cat_drain_conn(struct cat_state *c)
{
    while (!c->conn_eof) {
        ssize_t n = finack_loop_recv(c->s->loop, c->fd, c->in, sizeof c->in, 0);
        if (n == -EAGAIN) return 0;
        if (n < 0) {
            tool_error("%s: %s", c->peer, tool_strerror((int)n));
            return (int)n;
        }
        if (n == 0) {
            c->conn_eof = true;
            return 0;
        }
        int rc = write_all(STDOUT_FILENO, c->in, (size_t)n);
        if (rc < 0) {
            tool_error("writing stdout: %s", tool_strerror(rc));
            return rc;
        }
    }
    return 0;
}

/* stdin → connection until it would block. */
static int cat_feed_conn(struct cat_state *c)
{
    while (c->off < c->len) {
        ssize_t n = finack_loop_send(c->s->loop, c->fd, c->out + c->off, c->len - c->off, 0);
        if (n == -EAGAIN) return 0;
        if (n < 0) {
            tool_error("%s: %s", c->peer, tool_strerror((int)n));
            return (int)n;
        }
        c->off += (size_t)n;
    }
    c->off = c->len = 0;
    if (c->stdin_eof && !c->shut) {
        int rc = finack_loop_shutdown(c->s->loop, c->fd, SHUT_WR);
        if (rc < 0) {
            tool_error("%s: %s", c->peer, tool_strerror(rc));
            return rc;
        }
        c->shut = true;
    }
    return 0;
}

static int cat_read_stdin(struct cat_state *c)
{
    ssize_t n;
    do {
        n = read(STDIN_FILENO, c->out, sizeof c->out);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        int rc = -errno;
        tool_error("reading stdin: %s", tool_strerror(rc));
        return rc;
    }
    if (n == 0) c->stdin_eof = true;
    c->off = 0;
    c->len = (size_t)n;
    return 0;
}

static int cat_copy(struct cat_state *c)
{
    for (;;) {
        int rc = cat_drain_conn(c);
        if (rc == 0) rc = cat_feed_conn(c);
        if (rc < 0) return rc;
        if (c->conn_eof && c->shut) return 0;
        bool want_stdin = !c->stdin_eof && c->off == c->len;
        struct pollfd sock = {.fd = c->fd,
                              .events = (short)((c->conn_eof ? 0 : POLLIN) |
                                                (c->off < c->len ? POLLOUT : 0))};
        struct pollfd in = {.fd = STDIN_FILENO, .events = POLLIN};
        rc = net_poll(c->s, &sock, 1, &in, want_stdin ? 1 : 0);
        if (rc < 0) return rc;
        if (want_stdin && (in.revents & (POLLIN | POLLHUP | POLLERR))) {
            rc = cat_read_stdin(c);
            if (rc < 0) return rc;
        }
    }
}

static void cat_state_fn(void *ctx, struct finack_stack *stack)
{
    struct cat_state *c = ctx;
    const char *st = finack_socket_state(stack, c->fd);
    /* Done lingering once nothing of ours is unacknowledged. */
    c->shut = strcmp(st, "TIME_WAIT") != 0 && strcmp(st, "CLOSED") != 0;
}

/* Let the peer acknowledge our FIN (or retransmit it) before the stack
 * goes away with the process. */
static void cat_linger(struct cat_state *c)
{
    finack_time_t until = finack_clock_now() + CAT_LINGER;
    while (!net_stop && finack_clock_now() < until) {
        finack_loop_call(c->s->loop, cat_state_fn, c);
        if (!c->shut) return;
        usleep(5000);
    }
}

int cmd_cat(int argc, char **argv)
{
    struct cat_options o;
    cat_parse(argc, argv, &o);
    struct net_session s;
    if (net_open(&s, &o.net, "cat") < 0) return TOOL_EXIT_FAILURE;
    int fd = o.listen ? cat_accept(&s, &o) : cat_connect(&s, &o);
    int rc = fd;
    if (fd >= 0) {
        static struct cat_state c; /* 128 KiB of buffers: not on the stack */
        char ep[22];
        c = (struct cat_state){.s = &s, .fd = fd,
                               .peer = o.listen ? "connection" : net_format_endpoint(
                                                                     o.peer_addr, o.peer_port, ep)};
        rc = cat_copy(&c);
        if (rc == 0) cat_linger(&c);
        finack_loop_close(s.loop, fd);
    }
    net_close(&s);
    if (rc == -EINTR) return TOOL_EXIT_OK; /* stopped by a signal */
    return rc < 0 ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
}
