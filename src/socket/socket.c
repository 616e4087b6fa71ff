/* BSD sockets over the TCP layer, non-blocking, with Linux's errno values. */
#include "socket/socket.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "finack/socket.h"
#include "ip/ip.h"
#include "stack.h"
#include "tcp/tcp.h"

#define SOMAXCONN_LINUX 4096
#define MIN_SNDBUF 4608  /* Linux SOCK_MIN_SNDBUF */
#define MIN_RCVBUF 2304  /* Linux SOCK_MIN_RCVBUF */
#define MAX_BUF (64u << 20)
#define TCP_MIN_MSS_LINUX 88   /* Linux TCP_MIN_MSS: the smallest TCP_MAXSEG */
#define TCP_MAX_USER_MSS 32767 /* Linux MAX_TCP_WINDOW: the largest TCP_MAXSEG */
#define SOCK_TYPE_MASK 0xf     /* Linux: the socket type's bits; the rest are flags */
#define SOCK_TYPE_MAX 11       /* Linux SOCK_MAX: SOCK_PACKET + 1 */
#define SOCKADDR_MAX 128       /* Linux: sizeof(struct sockaddr_storage) */

void socket_table_free(struct finack_stack *stack)
{
    /* A connection that ended while its socket stayed open is in no table,
     * so tcp_stack_free() would not find it: free it with its socket. */
    for (int fd = 0; fd < stack->sockets.count; fd++) {
        struct finack_sock *s = &stack->sockets.socks[fd];
        if (s->in_use && s->conn && !s->conn->in_table) tcp_conn_free(s->conn);
    }
    free(stack->sockets.socks);
    free(stack->sockets.free_heap);
    stack->sockets.socks = NULL;
    stack->sockets.free_heap = NULL;
    stack->sockets.count = stack->sockets.cap = 0;
    stack->sockets.free_count = stack->sockets.free_cap = 0;
}

static struct finack_sock *sock_get(struct finack_stack *stack, int fd)
{
    if (!stack || fd < 0 || fd >= stack->sockets.count) return NULL;
    struct finack_sock *s = &stack->sockets.socks[fd];
    return s->in_use ? s : NULL;
}

const struct finack_sock *socket_for_open(const struct finack_stack *stack,
                                          const struct tcp_conn *conn)
{
    int fd = conn->listener ? conn->listener->socket : conn->socket;
    if (fd < 0 || fd >= stack->sockets.count) return NULL;
    const struct finack_sock *s = &stack->sockets.socks[fd];
    return s->in_use ? s : NULL;
}

static void heap_swap(int *h, int a, int b)
{
    int x = h[a];
    h[a] = h[b];
    h[b] = x;
}

static int heap_pop(struct socket_table *t)
{
    int *h = t->free_heap, top = h[0];
    h[0] = h[--t->free_count];
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->free_count && h[l] < h[m]) m = l;
        if (r < t->free_count && h[r] < h[m]) m = r;
        if (m == i) break;
        heap_swap(h, i, m);
        i = m;
    }
    return top;
}

/* A handle given back. Without memory for the heap it is simply not
 * reused (the table grows instead): no error for close(). */
static void sock_release(struct socket_table *t, int fd)
{
    if (t->free_count == t->free_cap) {
        int cap = t->free_cap ? 2 * t->free_cap : 16;
        int *h = realloc(t->free_heap, (size_t)cap * sizeof *h);
        if (!h) return;
        t->free_heap = h;
        t->free_cap = cap;
    }
    int i = t->free_count++;
    t->free_heap[i] = fd;
    while (i > 0 && t->free_heap[(i - 1) / 2] > t->free_heap[i]) {
        heap_swap(t->free_heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

/* Lowest free handle, as POSIX file descriptors are allocated. */
static int sock_alloc(struct finack_stack *stack)
{
    struct socket_table *t = &stack->sockets;
    if (t->free_count) return heap_pop(t);
    if (t->count == t->cap) {
        int cap = t->cap ? t->cap * 2 : 16;
        struct finack_sock *socks = realloc(t->socks, (size_t)cap * sizeof *socks);
        if (!socks) return -ENOMEM;
        t->socks = socks;
        t->cap = cap;
    }
    return t->count++;
}

static int sock_init(struct finack_stack *stack)
{
    int fd = sock_alloc(stack);
    if (fd < 0) return fd;
    struct finack_sock *s = &stack->sockets.socks[fd];
    memset(s, 0, sizeof *s);
    s->in_use = true;
    return fd;
}

int finack_socket(struct finack_stack *stack, int domain, int type, int protocol)
{
    if (!stack) return -EINVAL;
    /* Linux's __sys_socket and __sock_create, in their order: flags other
     * than these two, then the family, then a type out of range. */
    if ((type & ~SOCK_TYPE_MASK) & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
    if (domain != AF_INET) return -EAFNOSUPPORT;
    int base = type & SOCK_TYPE_MASK;
    if (base >= SOCK_TYPE_MAX) return -EINVAL;
    if (base != SOCK_STREAM) return -ESOCKTNOSUPPORT;
    if (protocol != 0 && protocol != IPPROTO_TCP) return -EPROTONOSUPPORT;
    int fd = sock_init(stack);
    if (fd >= 0) stack->sockets.socks[fd].nonblock = (type & SOCK_NONBLOCK) != 0;
    return fd;
}

int socket_nonblock(struct finack_stack *stack, int fd)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    return s->nonblock ? 1 : 0;
}

int socket_set_nonblock(struct finack_stack *stack, int fd, bool nonblock)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    s->nonblock = nonblock;
    return 0;
}

int socket_timeout(struct finack_stack *stack, int fd, bool send, int64_t *us)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    *us = send ? s->sndtimeo : s->rcvtimeo;
    return 0;
}

/* An address handed in, as Linux's move_addr_to_kernel copies it before
 * the protocol looks: a length past sockaddr_storage (or negative) is
 * EINVAL, bytes to copy from NULL are EFAULT. Nothing else is checked. */
static int check_sockaddr_in(const struct sockaddr *addr, socklen_t len)
{
    if ((int)len < 0 || len > SOCKADDR_MAX) return -EINVAL;
    if (len && !addr) return -EFAULT;
    return 0;
}

/* The address as inet_bind and tcp_v4_connect read it: shorter than a
 * sockaddr_in is EINVAL, another family EAFNOSUPPORT. bind() also takes
 * AF_UNSPEC with INADDR_ANY (unspec_any), as Linux does for old programs. */
static int read_sockaddr(const struct sockaddr *addr, socklen_t len, bool unspec_any,
                         uint32_t *ip, uint16_t *port)
{
    int err = check_sockaddr_in(addr, len);
    if (err) return err;
    if (len < (socklen_t)sizeof(struct sockaddr_in)) return -EINVAL;
    const struct sockaddr_in *in = (const struct sockaddr_in *)addr;
    bool any_unspec = unspec_any && in->sin_family == AF_UNSPEC && in->sin_addr.s_addr == 0;
    if (in->sin_family != AF_INET && !any_unspec) return -EAFNOSUPPORT;
    *ip = ntohl(in->sin_addr.s_addr);
    *port = ntohs(in->sin_port);
    return 0;
}

/* An address handed out, as Linux's move_addr_to_user: *len NULL is
 * EFAULT, negative EINVAL; at most *len bytes are written (to a NULL addr
 * only if none are), and *len becomes the full size. */
static int check_sockaddr_out(const struct sockaddr *addr, const socklen_t *len)
{
    if (!len) return -EFAULT;
    if ((int)*len < 0) return -EINVAL;
    if (*len && !addr) return -EFAULT;
    return 0;
}

static void write_sockaddr(struct sockaddr *addr, socklen_t *len, uint32_t ip, uint16_t port)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(ip)};
    socklen_t n = *len < (socklen_t)sizeof in ? *len : (socklen_t)sizeof in;
    if (n) memcpy(addr, &in, (size_t)n);
    *len = sizeof in;
}

/* Another socket already bound to the port (bound-only sockets hold ports
 * too, not just connections and listeners). */
static bool bound_elsewhere(struct finack_stack *stack, const struct finack_sock *self,
                            uint32_t ip, uint16_t port)
{
    for (int fd = 0; fd < stack->sockets.count; fd++) {
        const struct finack_sock *o = &stack->sockets.socks[fd];
        if (!o->in_use || o == self || !o->bound || o->lport != port) continue;
        if (o->laddr && ip && o->laddr != ip) continue;
        /* Both with SO_REUSEADDR and neither listening may share, as on Linux. */
        if (self->reuseaddr && o->reuseaddr && !o->listening) continue;
        return true;
    }
    return false;
}

/* Another socket listening on the port: sockets that shared it by
 * SO_REUSEADDR while bound cannot both listen (Linux re-checks the bind
 * conflict in inet_csk_get_port at listen(), with this one now listening). */
static bool listening_elsewhere(struct finack_stack *stack, const struct finack_sock *self)
{
    for (int fd = 0; fd < stack->sockets.count; fd++) {
        const struct finack_sock *o = &stack->sockets.socks[fd];
        if (!o->in_use || o == self || !o->listening || o->lport != self->lport) continue;
        if (o->laddr && self->laddr && o->laddr != self->laddr) continue;
        return true;
    }
    return false;
}

static int bind_port(struct finack_stack *stack, struct finack_sock *s, uint32_t ip, uint16_t port)
{
    if (port == 0) {
        struct tcp_tuple t = {.laddr = ip};
        for (int tries = 0; tries < 64; tries++) {
            t.raddr = (uint32_t)tries; /* vary the hash input per try */
            int err = tcp_ephemeral_port(stack->tcp, &t);
            if (err) return err;
            if (!bound_elsewhere(stack, s, ip, t.lport) &&
                !tcp_port_in_use(stack->tcp, ip, t.lport, false)) {
                port = t.lport;
                break;
            }
        }
        if (!port) return -EADDRINUSE;
    } else if (bound_elsewhere(stack, s, ip, port) ||
               tcp_port_in_use(stack->tcp, ip, port, s->reuseaddr)) {
        return -EADDRINUSE;
    }
    s->bound = true;
    s->laddr = ip;
    s->lport = port;
    return 0;
}

int finack_bind(struct finack_stack *stack, int fd, const struct sockaddr *addr, socklen_t len)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    uint32_t ip;
    uint16_t port;
    int err = read_sockaddr(addr, len, true, &ip, &port);
    if (err) return err;
    /* inet_bind's order: the address before the socket's state. */
    if (ip && !ip_is_local_address(stack, ip)) return -EADDRNOTAVAIL;
    if (s->bound || s->conn) return -EINVAL;
    return bind_port(stack, s, ip, port);
}

static void apply_options(const struct finack_sock *s, struct tcp_conn *conn)
{
    conn->nodelay = s->nodelay;
    conn->reuseaddr = s->reuseaddr;
    conn->keepalive = s->keepalive;
    if (s->keepidle) conn->keepidle = s->keepidle;
    if (s->keepintvl) conn->keepintvl = s->keepintvl;
    if (s->keepcnt) conn->keepcnt = s->keepcnt;
    conn->user_timeout = FINACK_MSEC(s->user_timeout);
    if (s->sndbuf) conn->snd_buf.cap = s->sndbuf;
    if (s->rcvbuf) conn->rcv_buf.cap = s->rcvbuf;
    if (s->cc) conn->cc = s->cc;
}

int finack_listen(struct finack_stack *stack, int fd, int backlog)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    if (s->conn && !s->listening) return -EINVAL;
    if (backlog < 0 || backlog > SOMAXCONN_LINUX) backlog = SOMAXCONN_LINUX;
    if (s->listening) {
        s->conn->backlog = (unsigned)backlog + 1;
        return 0;
    }
    if (!s->bound) {
        int err = bind_port(stack, s, 0, 0);
        if (err) return err;
        s->port_auto = true;
    } else if (listening_elsewhere(stack, s)) {
        return -EADDRINUSE;
    }
    struct tcp_conn *lst = tcp_conn_new(stack->tcp);
    if (!lst) return -ENOMEM;
    lst->tuple = (struct tcp_tuple){.laddr = s->laddr, .lport = s->lport};
    /* Linux accepts backlog + 1 connections into the queue. */
    lst->backlog = (unsigned)backlog + 1;
    lst->socket = fd;
    apply_options(s, lst);
    tcp_listener_insert(lst);
    tcp_set_state(lst, TCPS_LISTEN);
    s->conn = lst;
    s->listening = true;
    return 0;
}

int finack_accept(struct finack_stack *stack, int fd, struct sockaddr *addr, socklen_t *len)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    if (!s->listening) return -EINVAL;
    if (!s->conn->accept_head) return -EAGAIN;
    /* Linux finds a bad address buffer only after taking the connection
     * off the queue, and drops it; finack says so first and keeps it. */
    if (addr) {
        int err = check_sockaddr_out(addr, len);
        if (err) return err;
    }
    int nfd = sock_init(stack);
    if (nfd < 0) return nfd;
    s = sock_get(stack, fd); /* the table may have moved */
    struct tcp_conn *conn = tcp_accept_next(s->conn);
    struct finack_sock *n = &stack->sockets.socks[nfd];
    n->bound = true;
    n->connected_once = true;
    n->laddr = conn->tuple.laddr;
    n->lport = conn->tuple.lport;
    /* The new socket starts with the listener's options, as Linux's child
     * is a copy of the listener (sk_clone_lock). */
    n->reuseaddr = s->reuseaddr;
    n->nodelay = s->nodelay;
    n->linger_on = s->linger_on;
    n->linger_seconds = s->linger_seconds;
    n->user_mss = s->user_mss;
    n->cc = conn->cc; /* the listener's TCP_CONGESTION when the child was made */
    n->rcvtimeo = s->rcvtimeo; /* copied by sk_clone_lock too; O_NONBLOCK is not */
    n->sndtimeo = s->sndtimeo;
    /* The connection carries what the listener had when it was made: its
     * buffers were sized then, and are what SO_SNDBUF/SO_RCVBUF report. */
    n->sndbuf = s->sndbuf ? (uint32_t)conn->snd_buf.cap : 0;
    n->rcvbuf = s->rcvbuf ? (uint32_t)conn->rcv_buf.cap : 0;
    n->keepalive = conn->keepalive;
    n->keepidle = conn->keepidle;
    n->keepintvl = conn->keepintvl;
    n->keepcnt = conn->keepcnt;
    n->user_timeout = (int)(conn->user_timeout / 1000);
    n->conn = conn;
    conn->socket = nfd;
    if (addr) write_sockaddr(addr, len, conn->tuple.raddr, conn->tuple.rport);
    return nfd;
}

/* A pending error is reported once (SO_ERROR semantics). */
static int take_error(struct finack_sock *s)
{
    if (s->conn && s->conn->error) {
        s->error = s->conn->error;
        s->conn->error = 0;
    }
    int err = s->error;
    s->error = 0;
    return err;
}

/* Back to a socket that never connected (Linux's tcp_disconnect after a
 * failed attempt): the connection goes, and a port that connect() or
 * listen() picked is given back; one from bind() stays. */
static void disconnect(struct finack_stack *stack, struct finack_sock *s)
{
    struct tcp_conn *conn = s->conn;
    if (conn) {
        conn->socket = -1;
        if (s->listening) tcp_listener_close(conn, stack->now); /* resets its queue */
        else if (conn->state == TCPS_CLOSED) tcp_conn_free(conn);
        else tcp_conn_close(conn, 0); /* frees it: no socket holds it */
    }
    s->conn = NULL;
    s->connecting = s->connected_once = s->listening = false;
    s->error = 0;
    if (s->port_auto) {
        s->bound = s->port_auto = false;
        s->laddr = 0;
        s->lport = 0;
    }
}

int finack_connect(struct finack_stack *stack, int fd, const struct sockaddr *addr,
                   socklen_t len)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    /* Linux copies the address in first, then looks at the socket's
     * state, and only then does TCP read the address. */
    int err = check_sockaddr_in(addr, len);
    if (err) return err;
    if (s->listening) return -EISCONN;
    if (s->conn) {
        /* Linux's __inet_stream_connect: while the handshake runs EALREADY;
         * the first call after it ends says how (0, or the error), and
         * moves the socket to connected (SS_CONNECTED): later calls fail
         * with EISCONN. A failed attempt is reported once, and the socket
         * is disconnected, so that the next connect() tries again. */
        if (!s->connecting) return -EISCONN;
        if (s->conn->state == TCPS_SYN_SENT || s->conn->state == TCPS_SYN_RCVD) return -EALREADY;
        s->connecting = false;
        if (s->conn->state == TCPS_CLOSED) {
            err = take_error(s);
            disconnect(stack, s);
            return err ? -err : -ECONNABORTED;
        }
        return 0;
    }
    uint32_t ip;
    uint16_t port;
    err = read_sockaddr(addr, len, false, &ip, &port);
    if (err) return err;
    if (port == 0 || ip == 0) return -ECONNREFUSED;
    uint32_t src = s->laddr ? s->laddr : ip_source_for(stack, ip);
    if (!src) return -ENETUNREACH;
    struct tcp_tuple t = {.laddr = src, .raddr = ip, .lport = s->lport, .rport = port};
    if (!s->bound) {
        err = tcp_ephemeral_port(stack->tcp, &t);
        if (err) return err;
        s->bound = s->port_auto = true;
        s->lport = t.lport;
    }
    if (tcp_table_lookup(stack->tcp, &t)) return -EADDRNOTAVAIL;
    struct tcp_conn *conn = tcp_conn_new(stack->tcp);
    if (!conn) return -ENOMEM;
    conn->tuple = t;
    conn->socket = fd;
    apply_options(s, conn);
    tcp_open_init(conn, stack->now);
    tcp_table_insert(conn);
    s->conn = conn;
    s->connected_once = true;
    s->connecting = true;
    tcp_set_state(conn, TCPS_SYN_SENT);
    tcp_send_syn(conn, stack->now);
    return -EINPROGRESS;
}

/* Size the rings as SO_SNDBUF and SO_RCVBUF ask, whenever they are set
 * (Linux reads sk_sndbuf and sk_rcvbuf at every use), keeping what they
 * hold: a ring never shrinks below its bytes, nor the receive ring below
 * the window already offered (RFC 9293 §3.8.6.2.2 MUST NOT shrink it). A
 * shrink the bytes held do not allow yet goes as far as it can, and later
 * send() and recv() calls take it further. Out of memory leaves a ring as
 * it was, to be tried again then. */
static void fit_buffers(struct finack_sock *s)
{
    struct tcp_conn *conn = s->conn;
    if (!conn) return;
    if (s->sndbuf && conn->snd_buf.cap != s->sndbuf) (void)ring_resize(&conn->snd_buf, s->sndbuf);
    if (s->rcvbuf && conn->rcv_buf.cap != s->rcvbuf) {
        uint32_t offered = seq_gt(conn->rcv_adv, conn->rcv_nxt) ? conn->rcv_adv - conn->rcv_nxt : 0;
        size_t floor = conn->rcv_buf.len + offered;
        (void)ring_resize(&conn->rcv_buf, s->rcvbuf > floor ? s->rcvbuf : floor);
    }
}

/* The error a send() finds before copying, if any: a pending socket error,
 * then EPIPE after SHUT_WR or where the state allows no sending (Linux's
 * tcp_sendmsg_locked and sk_stream_wait_connect, in that order); -EAGAIN
 * while the handshake runs. take says whether the socket error is
 * consumed, as sock_error() does when send() reports it. */
static int send_error(struct finack_sock *s, bool take)
{
    struct tcp_conn *conn = s->conn;
    if (take) {
        int err = take_error(s);
        if (err) return -err;
    } else if (s->error || (conn && conn->error)) {
        return -(s->error ? s->error : conn->error);
    }
    /* A socket that never connected, a connection that is over: EPIPE, as
     * Linux (not ENOTCONN). A listener is ENOTCONN, as RFC 9293's SEND
     * with the foreign socket unspecified; Linux says EPIPE there too
     * (docs/API.md: unit.tcp_state_table holds the RFC's answer). */
    if (s->listening) return -ENOTCONN;
    if (s->shut_wr || !conn) return -EPIPE;
    switch (conn->state) {
    case TCPS_SYN_SENT:
    case TCPS_SYN_RCVD:
        return -EAGAIN;
    case TCPS_ESTABLISHED:
    case TCPS_CLOSE_WAIT:
        return 0;
    default:
        return -EPIPE;
    }
}

ssize_t socket_send(struct finack_stack *stack, int fd, const void *buf, size_t len, int flags,
                    size_t copied)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    /* No urgent data: finack would send it as ordinary bytes, which is
     * worse than saying so (Linux sends it urgent). */
    if (flags & MSG_OOB) return -EOPNOTSUPP;
    /* Some bytes of this same call went in already: an error now ends
     * the call with their count and stays for the next call (Linux's
     * do_error with copied > 0). */
    int err = send_error(s, copied == 0);
    if (err) return err == -EAGAIN || copied == 0 ? err : -EPIPE;
    if (!len) return 0;
    struct tcp_conn *conn = s->conn;
    fit_buffers(s);
    if (ring_reserve(&conn->snd_buf)) return -ENOMEM;
    if (!ring_free(&conn->snd_buf)) return -EAGAIN;
    if (!buf) return -EFAULT; /* found when copying, as Linux */
    size_t taken = ring_write(&conn->snd_buf, buf, len);
    if (!taken) return -EAGAIN;
    tcp_output(conn, stack->now);
    return (ssize_t)taken;
}

ssize_t finack_send(struct finack_stack *stack, int fd, const void *buf, size_t len, int flags)
{
    return socket_send(stack, fd, buf, len, flags, 0);
}

/* After a read, tell the peer if the window opened enough to matter
 * (receiver SWS avoidance decides what "enough" is). */
static void maybe_window_update(struct tcp_conn *conn, finack_time_t now)
{
    if (!tcp_state_synchronized(conn->state) || conn->state == TCPS_TIME_WAIT) return;
    uint32_t offered = seq_gt(conn->rcv_adv, conn->rcv_nxt) ? conn->rcv_adv - conn->rcv_nxt : 0;
    uint32_t wnd = tcp_receive_window(conn);
    uint32_t step = (uint32_t)conn->rcv_buf.cap / 2;
    if (step > conn->rcv_mss) step = conn->rcv_mss;
    if (wnd >= offered + step || (offered == 0 && wnd > 0)) tcp_send_ack(conn, now);
}

ssize_t finack_recv(struct finack_stack *stack, int fd, void *buf, size_t len, int flags)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    if (s->listening) return -ENOTCONN;
    /* Urgent data is always inline here (as SO_OOBINLINE): Linux's
     * tcp_recv_urg then says EINVAL, connected or not. */
    if (flags & MSG_OOB) return -EINVAL;
    struct tcp_conn *conn = s->conn;
    if (!conn) return -ENOTCONN;
    /* A zero-length read with data waiting returns 0; with none it goes on
     * to EOF, the error or EAGAIN like any read (Linux's tcp_recvmsg). */
    if (!len && conn->rcv_buf.len) return 0;
    /* After SHUT_RD too: Linux still reads what is queued, and what
     * arrives later, and says 0 only when there is nothing. */
    if (conn->rcv_buf.len && len) {
        if (!buf) return -EFAULT; /* found when copying, as Linux */
        size_t n;
        if (flags & MSG_PEEK) {
            n = len < conn->rcv_buf.len ? len : conn->rcv_buf.len;
            ring_peek(&conn->rcv_buf, 0, buf, n);
        } else {
            n = ring_read(&conn->rcv_buf, buf, len);
            /* Everything read and nothing held past a hole: give the
             * memory back until data comes again. */
            if (!conn->rcv_buf.len && !conn->rcv_buf.ahead && !conn->ooo_count &&
                conn->rcv_buf.cap <= TCP_RING_RELEASE_MAX)
                ring_free_memory(&conn->rcv_buf);
            fit_buffers(s);
            maybe_window_update(conn, stack->now);
        }
        return (ssize_t)n;
    }
    /* EOF before any pending error, as Linux's tcp_recvmsg (SOCK_DONE). */
    if (conn->fin_rcvd) {
        if (!(flags & MSG_PEEK)) conn->fin_read = true;
        return 0;
    }
    int err = take_error(s);
    if (err) return -err;
    if (s->shut_rd || tcp_state_received_fin(conn->state)) return 0;
    if (conn->state == TCPS_CLOSED) return 0;
    return -EAGAIN;
}

static void send_fin(struct tcp_conn *conn, finack_time_t now)
{
    if (conn->fin_queued) return;
    switch (conn->state) {
    case TCPS_SYN_RCVD:
    case TCPS_ESTABLISHED:
        tcp_set_state(conn, TCPS_FIN_WAIT_1);
        break;
    case TCPS_CLOSE_WAIT:
        tcp_set_state(conn, TCPS_LAST_ACK);
        break;
    default:
        return;
    }
    conn->fin_queued = true;
    tcp_output(conn, now);
}

int finack_shutdown(struct finack_stack *stack, int fd, int how)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return -EINVAL;
    struct tcp_conn *conn = s->conn;
    /* Linux's inet_shutdown: a listener stops listening on SHUT_RD or
     * SHUT_RDWR (its queue is reset; accept() then says EINVAL) and
     * ignores SHUT_WR; a connection still in SYN_SENT is dropped. Either
     * way the socket is unconnected again and the call succeeds. */
    if (conn && (s->listening ? how != SHUT_WR : conn->state == TCPS_SYN_SENT)) {
        disconnect(stack, s);
        return 0;
    }
    if (conn && s->listening) return 0;
    if (!conn || conn->state == TCPS_CLOSED) return -ENOTCONN;
    if (how != SHUT_WR) s->shut_rd = true;
    if (how != SHUT_RD) {
        s->shut_wr = true;
        send_fin(conn, stack->now);
    }
    /* Linux takes data after SHUT_RD alone (it stays readable); only once
     * both ways are shut does data beyond the FIN meet a RST, as after
     * close() (tcp_rcv_state_process in FIN_WAIT with RCV_SHUTDOWN). */
    conn->rcv_shutdown = s->shut_rd && s->shut_wr;
    return 0;
}

/* Linux's tcp_close(): unread data or SO_LINGER 0 abort with a RST;
 * otherwise the FIN goes out after any queued data. */
static void close_connection(struct finack_stack *stack, struct finack_sock *s)
{
    struct tcp_conn *conn = s->conn;
    finack_time_t now = stack->now;
    conn->socket = -1;
    if (conn->state == TCPS_CLOSED) {
        tcp_conn_free(conn);
        return;
    }
    if (conn->state == TCPS_SYN_SENT) {
        tcp_conn_close(conn, 0);
        return;
    }
    bool unread = conn->rcv_buf.len > 0;
    bool abortive = s->linger_on && s->linger_seconds == 0;
    if ((unread || abortive) && conn->state != TCPS_TIME_WAIT) {
        tcp_send_rst(conn, now);
        tcp_conn_close(conn, 0);
        return;
    }
    conn->rcv_shutdown = true;
    send_fin(conn, now);
    if (conn->state == TCPS_FIN_WAIT_2)
        tcp_timer_arm(conn, TCP_TIMER_LINGER, now + TCP_FIN_TIMEOUT);
    if (conn->state == TCPS_TIME_WAIT) tcp_tw_compact(conn); /* no socket holds it now */
}

int finack_close(struct finack_stack *stack, int fd)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    if (s->conn) {
        if (s->listening) {
            s->conn->socket = -1;
            tcp_listener_close(s->conn, stack->now);
        } else {
            close_connection(stack, s);
        }
    }
    memset(s, 0, sizeof *s);
    sock_release(&stack->sockets, fd);
    return 0;
}

/* An option value handed out as Linux's sk_getsockopt/do_tcp_getsockopt:
 * cut to the caller's length (a short buffer gets the first bytes, not
 * EINVAL), which then says how much was written. *len was checked. */
static int put_opt(void *val, socklen_t *len, const void *v, size_t size)
{
    size_t n = *len < size ? *len : size;
    if (n && !val) return -EFAULT;
    if (n) memcpy(val, v, n);
    *len = (socklen_t)n;
    return 0;
}

/* SO_RCVTIMEO/SO_SNDTIMEO as Linux's sock_set_timeout(): a struct timeval,
 * tv_usec outside [0, 1000000) is EDOM, a negative tv_sec means "do not
 * wait" (Linux stores 0 jiffies), 0 (or a time too large to count) waits
 * for ever. */
static int set_timeout(int64_t *timeo, const void *val, socklen_t len)
{
    struct timeval tv;
    if (!val || len < (socklen_t)sizeof tv) return -EINVAL;
    memcpy(&tv, val, sizeof tv);
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return -EDOM;
    if (tv.tv_sec < 0) {
        *timeo = -1;
        return 0;
    }
    if (tv.tv_sec >= INT64_MAX / 1000000 - 1) *timeo = 0;
    else *timeo = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    return 0;
}

static int get_timeout(int64_t timeo, void *val, socklen_t *len)
{
    struct timeval tv = {0, 0};
    if (timeo > 0) {
        tv.tv_sec = (time_t)(timeo / 1000000);
        tv.tv_usec = (suseconds_t)(timeo % 1000000);
    }
    return put_opt(val, len, &tv, sizeof tv);
}

static int get_int(const void *val, socklen_t len, int *out)
{
    if (!val || len < (socklen_t)sizeof(int)) return -EINVAL;
    memcpy(out, val, sizeof *out);
    return 0;
}

static uint32_t clamp_buf(int v, uint32_t min)
{
    /* Linux doubles the value to leave room for bookkeeping; finack's rings
     * hold only payload, so it keeps the value as given. */
    if (v < (int)min) return min;
    if ((unsigned)v > MAX_BUF) return MAX_BUF;
    return (uint32_t)v;
}

/* TCP_CONGESTION, a string, as Linux's do_tcp_setsockopt: at least one
 * byte, at most TCP_CA_NAME_MAX - 1 read (up to a NUL); an unknown name is
 * ENOENT. The socket's connection, a listener's future children, and a
 * connection opened later all take it. */
static int set_congestion(struct finack_sock *s, const void *val, socklen_t len)
{
    if ((int)len < 1) return -EINVAL;
    if (!val) return -EFAULT;
    char name[TCP_CA_NAME_MAX] = {0};
    size_t n = len < TCP_CA_NAME_MAX - 1 ? len : TCP_CA_NAME_MAX - 1;
    memcpy(name, val, n);
    const struct tcp_cc_ops *cc = tcp_cc_find(name);
    if (!cc) return -ENOENT;
    s->cc = cc;
    if (s->conn) tcp_cc_set(s->conn, cc);
    return 0;
}

/* getsockopt(TCP_CONGESTION): the name, NUL-padded to the length asked,
 * at most TCP_CA_NAME_MAX bytes (Linux copies its name array). */
static int get_congestion(const struct finack_sock *s, void *val, socklen_t *len)
{
    const struct tcp_cc_ops *cc = s->conn ? s->conn->cc : s->cc ? s->cc : TCP_CC_DEFAULT;
    return put_opt(val, len, cc->name, sizeof cc->name);
}

int finack_setsockopt(struct finack_stack *stack, int fd, int level, int name, const void *val,
                      socklen_t len)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    /* A string option: Linux reads it before the int the others need. */
    if (level == IPPROTO_TCP && name == TCP_CONGESTION) return set_congestion(s, val, len);
    /* Other levels are IP's (ip_setsockopt), none of whose options finack
     * has. At these two, Linux reads an int first: a shorter length is
     * EINVAL (even for an unknown option), a NULL value EFAULT. */
    if (level != SOL_SOCKET && level != IPPROTO_TCP) return -ENOPROTOOPT;
    if ((int)len < (int)sizeof(int)) return -EINVAL;
    if (!val) return -EFAULT;
    int v = 0;
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        if (!val || len < (socklen_t)sizeof l) return -EINVAL;
        memcpy(&l, val, sizeof l);
        s->linger_on = l.l_onoff != 0;
        s->linger_seconds = l.l_linger;
        return 0;
    }
    if (level == SOL_SOCKET && name == SO_RCVTIMEO) return set_timeout(&s->rcvtimeo, val, len);
    if (level == SOL_SOCKET && name == SO_SNDTIMEO) return set_timeout(&s->sndtimeo, val, len);
    int err = get_int(val, len, &v);
    if (err) return err;
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR:
            s->reuseaddr = v != 0;
            if (s->conn) s->conn->reuseaddr = s->reuseaddr;
            return 0;
        case SO_SNDBUF:
            s->sndbuf = clamp_buf(v, MIN_SNDBUF);
            fit_buffers(s);
            if (s->conn && !s->listening) tcp_notify(s->conn); /* room to write may have opened */
            return 0;
        case SO_RCVBUF:
            s->rcvbuf = clamp_buf(v, MIN_RCVBUF);
            fit_buffers(s);
            return 0;
        case SO_KEEPALIVE:
            s->keepalive = v != 0;
            if (s->conn) tcp_set_keepalive(s->conn, s->keepalive, stack->now);
            return 0;
        default:
            return -ENOPROTOOPT;
        }
    }
    if (level != IPPROTO_TCP) return -ENOPROTOOPT;
    switch (name) {
    case TCP_NODELAY:
        s->nodelay = v != 0;
        if (s->conn) {
            s->conn->nodelay = s->nodelay;
            if (s->nodelay) tcp_output(s->conn, stack->now);
        }
        return 0;
    /* The ranges and errno are Linux's (do_tcp_setsockopt). */
    case TCP_KEEPIDLE:
        if (v < 1 || v > TCP_KEEPIDLE_MAX) return -EINVAL;
        s->keepidle = (uint16_t)v;
        if (s->conn) tcp_set_keepidle(s->conn, (unsigned)v, stack->now);
        return 0;
    case TCP_KEEPINTVL:
        if (v < 1 || v > TCP_KEEPIDLE_MAX) return -EINVAL;
        s->keepintvl = (uint16_t)v;
        if (s->conn) s->conn->keepintvl = s->keepintvl;
        return 0;
    case TCP_KEEPCNT:
        if (v < 1 || v > TCP_KEEPCNT_MAX) return -EINVAL;
        s->keepcnt = (uint8_t)v;
        if (s->conn) s->conn->keepcnt = s->keepcnt;
        return 0;
    case TCP_USER_TIMEOUT:
        if (v < 0) return -EINVAL;
        s->user_timeout = v;
        if (s->conn) s->conn->user_timeout = FINACK_MSEC(v);
        return 0;
    case TCP_MAXSEG:
        /* Linux's user_mss: 0 for none, else TCP_MIN_MSS..MAX_TCP_WINDOW.
         * Connections opened afterwards (a listener's children too)
         * announce and send with no larger MSS (tcp_open_init). */
        if (v && (v < TCP_MIN_MSS_LINUX || v > TCP_MAX_USER_MSS)) return -EINVAL;
        s->user_mss = (uint16_t)v;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static int put_int(void *val, socklen_t *len, int v)
{
    return put_opt(val, len, &v, sizeof v);
}

static int get_tcp_info(struct finack_stack *stack, int fd, void *val, socklen_t *len);

int finack_getsockopt(struct finack_stack *stack, int fd, int level, int name, void *val,
                      socklen_t *len)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    /* Linux: a level no protocol of the socket knows is EOPNOTSUPP for
     * getsockopt (do_ip_getsockopt), where setsockopt says ENOPROTOOPT. */
    if (level != SOL_SOCKET && level != IPPROTO_TCP && level != IPPROTO_IP) return -EOPNOTSUPP;
    if (!len) return -EFAULT;
    if ((int)*len < 0) return -EINVAL;
    if (level == IPPROTO_TCP && name == TCP_INFO) return get_tcp_info(stack, fd, val, len);
    if (level == IPPROTO_TCP && name == TCP_CONGESTION) return get_congestion(s, val, len);
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_ERROR:
            return put_int(val, len, take_error(s));
        case SO_TYPE:
            return put_int(val, len, SOCK_STREAM);
        case SO_REUSEADDR:
            return put_int(val, len, s->reuseaddr);
        case SO_SNDBUF:
            return put_int(val, len, (int)(s->sndbuf ? s->sndbuf : TCP_DEFAULT_SNDBUF));
        case SO_RCVBUF:
            return put_int(val, len, (int)(s->rcvbuf ? s->rcvbuf : TCP_DEFAULT_RCVBUF));
        case SO_KEEPALIVE:
            return put_int(val, len, s->keepalive);
        case SO_RCVTIMEO:
            return get_timeout(s->rcvtimeo, val, len);
        case SO_SNDTIMEO:
            return get_timeout(s->sndtimeo, val, len);
        case SO_LINGER: {
            struct linger l = {.l_onoff = s->linger_on, .l_linger = s->linger_seconds};
            return put_opt(val, len, &l, sizeof l);
        }
        default:
            return -ENOPROTOOPT;
        }
    }
    if (level != IPPROTO_TCP) return -ENOPROTOOPT;
    switch (name) {
    case TCP_NODELAY:
        return put_int(val, len, s->nodelay);
    case TCP_MAXSEG:
        /* The payload a full segment carries (Linux's mss_cache): options
         * such as timestamps come off the negotiated MSS. Before that (and
         * on a listener) the TCP_MAXSEG set, as Linux, else 536. */
        if (s->conn && !s->listening && tcp_state_synchronized(s->conn->state))
            return put_int(val, len, (int)tcp_effective_mss(s->conn));
        return put_int(val, len, s->user_mss ? s->user_mss : TCP_DEFAULT_MSS);
    case TCP_KEEPIDLE:
        return put_int(val, len, s->keepidle ? s->keepidle : TCP_KEEPIDLE_DEFAULT);
    case TCP_KEEPINTVL:
        return put_int(val, len, s->keepintvl ? s->keepintvl : TCP_KEEPINTVL_DEFAULT);
    case TCP_KEEPCNT:
        return put_int(val, len, s->keepcnt ? s->keepcnt : TCP_KEEPCNT_DEFAULT);
    case TCP_USER_TIMEOUT:
        return put_int(val, len, s->user_timeout);
    default:
        return -ENOPROTOOPT;
    }
}

int finack_getsockname(struct finack_stack *stack, int fd, struct sockaddr *addr, socklen_t *len)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    int err = check_sockaddr_out(addr, len);
    if (err) return err;
    uint32_t ip = s->conn && !s->listening ? s->conn->tuple.laddr : s->laddr;
    write_sockaddr(addr, len, ip, s->lport);
    return 0;
}

int finack_getpeername(struct finack_stack *stack, int fd, struct sockaddr *addr, socklen_t *len)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    if (!s->conn || s->listening || !tcp_state_synchronized(s->conn->state)) return -ENOTCONN;
    int err = check_sockaddr_out(addr, len);
    if (err) return err;
    write_sockaddr(addr, len, s->conn->tuple.raddr, s->conn->tuple.rport);
    return 0;
}

int finack_socket_events(struct finack_stack *stack, int fd)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    struct tcp_conn *conn = s->conn;
    if (!conn) return POLLOUT | POLLHUP; /* Linux: an unconnected stream socket */
    if (s->listening) return conn->accept_head ? POLLIN : 0;
    int ev = 0;
    if (conn->error || s->error) ev |= POLLERR;
    if (conn->rcv_buf.len) ev |= POLLIN;
    if (tcp_state_received_fin(conn->state) || s->shut_rd) ev |= POLLIN | POLLRDHUP;
    bool can_write = conn->state == TCPS_ESTABLISHED || conn->state == TCPS_CLOSE_WAIT;
    /* Room below SO_SNDBUF: a ring still larger than a lowered SO_SNDBUF
     * (it held more bytes) shrinks at the next send(). */
    size_t sndbuf = conn->snd_buf.cap;
    if (s->sndbuf && s->sndbuf < sndbuf) sndbuf = s->sndbuf;
    if (can_write && !s->shut_wr && conn->snd_buf.len < sndbuf) ev |= POLLOUT;
    /* After SHUT_WR a write cannot block (it fails with EPIPE): writable,
     * as Linux's tcp_poll says, so a writer in poll() wakes. */
    if (s->shut_wr) ev |= POLLOUT;
    if (conn->state == TCPS_CLOSED) ev |= POLLIN | POLLHUP | POLLOUT;
    if (s->shut_wr && (s->shut_rd || tcp_state_received_fin(conn->state))) ev |= POLLHUP;
    return ev;
}

const char *finack_socket_state(struct finack_stack *stack, int fd)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s || !s->conn) return tcp_state_name(TCPS_CLOSED);
    return tcp_state_name(s->conn->state);
}

int finack_tcp_info(struct finack_stack *stack, int fd, struct finack_tcp_info *info)
{
    struct finack_sock *s = sock_get(stack, fd);
    if (!s) return -EBADF;
    if (!s->conn || s->listening) return -ENOTCONN;
    const struct tcp_conn *c = s->conn;
    uint32_t offered = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t sent = c->snd_max - c->snd_una;
    uint32_t queued = (uint32_t)c->snd_buf.len;
    *info = (struct finack_tcp_info){
        .state = tcp_state_name(c->state),
        .rtt_us = (uint32_t)c->srtt,
        .rttvar_us = (uint32_t)c->rttvar,
        .rto_us = (uint32_t)(c->rto << (c->backoff < 16 ? c->backoff : 16)),
        .snd_mss = tcp_effective_mss(c),
        .rcv_mss = c->rcv_mss,
        .cwnd = c->cwnd,
        .ssthresh = c->ssthresh,
        .snd_wnd = c->snd_wnd,
        .rcv_wnd = offered,
        .snd_wscale = c->snd_wscale,
        .rcv_wscale = c->rcv_wscale,
        .timestamps = c->ts_ok,
        .sack = c->sack_ok,
        .in_recovery = c->in_recovery,
        .sacked = c->sacked_bytes,
        .bytes_in_flight = sent,
        .unsent = queued > sent ? queued - sent : 0,
        .unread = (uint32_t)c->rcv_buf.len,
        .retransmits = c->retransmits,
        .total_retrans = c->total_retrans,
        .bytes_acked = c->bytes_acked,
        .bytes_received = c->bytes_received,
    };
    if (info->rto_us > TCP_MAX_RTO) info->rto_us = (uint32_t)TCP_MAX_RTO;
    return 0;
}

/* Linux's numbering of the states in struct tcp_info (include/net/tcp_states.h). */
static uint8_t linux_state(enum tcp_state s)
{
    static const uint8_t map[TCPS__COUNT] = {
        [TCPS_ESTABLISHED] = 1, [TCPS_SYN_SENT] = 2,  [TCPS_SYN_RCVD] = 3,
        [TCPS_FIN_WAIT_1] = 4,  [TCPS_FIN_WAIT_2] = 5, [TCPS_TIME_WAIT] = 6,
        [TCPS_CLOSED] = 7,      [TCPS_CLOSE_WAIT] = 8, [TCPS_LAST_ACK] = 9,
        [TCPS_LISTEN] = 10,     [TCPS_CLOSING] = 11,
    };
    return (unsigned)s < TCPS__COUNT ? map[s] : 7;
}

/* getsockopt(IPPROTO_TCP, TCP_INFO): glibc's struct tcp_info, the fields
 * finack has; the others stay 0. */
static int get_tcp_info(struct finack_stack *stack, int fd, void *val, socklen_t *len)
{
    struct finack_sock *s = sock_get(stack, fd);
    struct tcp_info ti;
    memset(&ti, 0, sizeof ti);
    ti.tcpi_state = s->conn ? linux_state(s->conn->state) : linux_state(TCPS_CLOSED);
    struct finack_tcp_info fi;
    if (finack_tcp_info(stack, fd, &fi) == 0) {
        uint32_t mss = fi.snd_mss ? fi.snd_mss : 1;
        ti.tcpi_ca_state = fi.in_recovery ? 3 : 0; /* TCP_CA_Recovery */
        ti.tcpi_retransmits = (uint8_t)(fi.retransmits > 255 ? 255 : fi.retransmits);
        ti.tcpi_backoff = (uint8_t)(s->conn->backoff > 255 ? 255 : s->conn->backoff);
        ti.tcpi_options = (uint8_t)((fi.timestamps ? 1 : 0) | (fi.sack ? 2 : 0) |
                                    (s->conn->wscale_ok ? 4 : 0));
        ti.tcpi_snd_wscale = fi.snd_wscale & 0xf;
        ti.tcpi_rcv_wscale = fi.rcv_wscale & 0xf;
        ti.tcpi_rto = fi.rto_us;
        ti.tcpi_snd_mss = fi.snd_mss;
        ti.tcpi_rcv_mss = fi.rcv_mss;
        ti.tcpi_unacked = (fi.bytes_in_flight + mss - 1) / mss;
        ti.tcpi_sacked = (fi.sacked + mss - 1) / mss;
        ti.tcpi_rtt = fi.rtt_us;
        ti.tcpi_rttvar = fi.rttvar_us;
        ti.tcpi_snd_ssthresh = fi.ssthresh == UINT32_MAX ? 0x7fffffff : fi.ssthresh / mss;
        ti.tcpi_snd_cwnd = fi.cwnd / mss;
        ti.tcpi_advmss = fi.rcv_mss;
        ti.tcpi_total_retrans = (uint32_t)fi.total_retrans;
        ti.tcpi_pmtu = fi.snd_mss + 40;
    }
    return put_opt(val, len, &ti, sizeof ti);
}

int finack_poll(struct finack_stack *stack, struct pollfd *fds, nfds_t nfds)
{
    if (!stack) return -EINVAL;
    if (!fds && nfds) return -EFAULT; /* as poll(2) */
    int ready = 0;
    for (nfds_t i = 0; i < nfds; i++) {
        fds[i].revents = 0;
        if (fds[i].fd < 0) continue;
        int ev = finack_socket_events(stack, fds[i].fd);
        if (ev < 0) fds[i].revents = POLLNVAL;
        else fds[i].revents = (short)(ev & (fds[i].events | POLLERR | POLLHUP));
        if (fds[i].revents) ready++;
    }
    return ready;
}

/* ---- The connection table (finack_stack_connections) ----------------------- */

static uint32_t rto_with_backoff(finack_time_t rto, unsigned backoff)
{
    finack_time_t t = rto << (backoff < 16 ? backoff : 16);
    return (uint32_t)(t > TCP_MAX_RTO ? TCP_MAX_RTO : t);
}

/* The timer ss -o shows for a TCB, in Linux's order of precedence
 * (tcp_diag: retransmit, then persist, then the socket timer): "on" for
 * retransmission, "persist" for zero-window probes, "timewait" for
 * TIME_WAIT's 2·MSL and an orphaned FIN_WAIT_2's timeout (Linux shows a
 * timewait socket there too), "keepalive". The delayed ACK is not shown. */
static void conn_timer(const struct tcp_conn *c, struct finack_conn_info *row)
{
    static const struct {
        enum tcp_timer_kind kind;
        const char *name;
    } shown[] = {
        {TCP_TIMER_RETRANSMIT, "on"},
        {TCP_TIMER_PERSIST, "persist"},
        {TCP_TIMER_LINGER, "timewait"},
        {TCP_TIMER_KEEPALIVE, "keepalive"},
    };
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++) {
        const struct timer *t = &c->timers[shown[i].kind].timer;
        if (!timer_armed(t)) continue;
        row->timer = shown[i].name;
        row->timer_expires = t->expiry;
        if (shown[i].kind == TCP_TIMER_RETRANSMIT) row->retransmits = c->retransmits;
        else if (shown[i].kind != TCP_TIMER_LINGER) row->retransmits = c->probes_out;
        return;
    }
}

/* Send-Q as Linux's tcp_diag (write_seq - snd_una): bytes not yet
 * acknowledged, sent or not, and our SYN and FIN until acknowledged. */
static uint32_t send_queue(const struct tcp_conn *c)
{
    uint32_t q = (uint32_t)c->snd_buf.len;
    if (c->state == TCPS_SYN_SENT) q++;
    bool fin_acked = c->fin_sent && c->snd_una == c->snd_max;
    if (c->fin_queued && !fin_acked) q++;
    return q;
}

/* Recv-Q as Linux's tcp_diag (rcv_nxt - copied_seq): unread bytes, and
 * the peer's FIN until the application has read the EOF — a CLOSE_WAIT
 * showing 1 is one whose application has not even noticed. An orphan (its
 * socket closed) or a TIME_WAIT connection has no reader left; a child in
 * the accept queue still will. */
static uint32_t receive_queue(const struct tcp_conn *c)
{
    uint32_t q = (uint32_t)c->rcv_buf.len;
    bool reader = c->socket >= 0 || c->queued;
    if (c->fin_rcvd && !c->fin_read && reader && c->state != TCPS_TIME_WAIT) q++;
    return q;
}

static struct finack_conn_info conn_row(const struct tcp_conn *c)
{
    struct finack_conn_info row = {
        .state = tcp_state_name(c->state),
        .laddr = c->tuple.laddr,
        .raddr = c->tuple.raddr,
        .lport = c->tuple.lport,
        .rport = c->tuple.rport,
        .fd = c->socket,
        .timer_expires = FINACK_TIME_NEVER,
        .rtt_us = (uint32_t)c->srtt,
        .rto_us = rto_with_backoff(c->rto, c->backoff),
        .cwnd = c->cwnd,
    };
    if (c->state == TCPS_LISTEN) {
        /* As ss: the accept queue and the backlog listen() was given
         * (finack, as Linux, queues one more). */
        row.recv_q = c->accept_count;
        row.send_q = c->backlog ? c->backlog - 1 : 0;
        row.rto_us = 0;
        row.cwnd = 0;
        return row;
    }
    row.recv_q = receive_queue(c);
    row.send_q = send_queue(c);
    conn_timer(c, &row);
    return row;
}

static struct finack_conn_info synrecv_row(const struct tcp_synrecv *sr)
{
    return (struct finack_conn_info){
        .state = tcp_state_name(TCPS_SYN_RCVD),
        .laddr = sr->tuple.laddr,
        .raddr = sr->tuple.raddr,
        .lport = sr->tuple.lport,
        .rport = sr->tuple.rport,
        .fd = -1,
        .timer = timer_armed(&sr->timer) ? "on" : NULL,
        .timer_expires = timer_armed(&sr->timer) ? sr->timer.expiry : FINACK_TIME_NEVER,
        .retransmits = sr->retransmits,
        .rto_us = rto_with_backoff(TCP_INITIAL_RTO, sr->retransmits),
    };
}

static struct finack_conn_info timewait_row(const struct tcp_timewait *tw)
{
    return (struct finack_conn_info){
        .state = tcp_state_name(TCPS_TIME_WAIT),
        .laddr = tw->tuple.laddr,
        .raddr = tw->tuple.raddr,
        .lport = tw->tuple.lport,
        .rport = tw->tuple.rport,
        .fd = -1,
        .timer = timer_armed(&tw->timer) ? "timewait" : NULL,
        .timer_expires = timer_armed(&tw->timer) ? tw->timer.expiry : FINACK_TIME_NEVER,
    };
}

/* The rows `ss -t` shows without -a: not listening, not in TIME_WAIT, not
 * half-open (iproute2's SS_CONN). A SYN_RCVD TCB (a half-open connection
 * a segment moved on) is hidden with the records. */
static bool shown_without_all(enum tcp_state state)
{
    return state != TCPS_LISTEN && state != TCPS_TIME_WAIT && state != TCPS_SYN_RCVD;
}

struct conn_walk {
    bool all;
    finack_conn_fn fn;
    void *ctx;
    int rows;
};

/* Hands one row on; non-zero stops the walk (fn's value). */
static int walk_emit(struct conn_walk *w, enum tcp_state state,
                     const struct finack_conn_info *row)
{
    if (!w->all && !shown_without_all(state)) return 0;
    int rc = w->fn(w->ctx, row);
    if (rc == 0) w->rows++;
    return rc;
}

int finack_stack_connections(struct finack_stack *stack, bool all, finack_conn_fn fn, void *ctx)
{
    if (!stack || !fn) return -EINVAL;
    const struct tcp_stack *tcp = stack->tcp;
    struct conn_walk w = {.all = all, .fn = fn, .ctx = ctx};
    int rc = 0;
    for (size_t i = 0; i < tcp->listen_bucket_count; i++) {
        for (const struct tcp_conn *c = tcp->listen_buckets[i]; c; c = c->hash_next) {
            struct finack_conn_info row = conn_row(c);
            if ((rc = walk_emit(&w, c->state, &row)) != 0) return rc;
        }
    }
    for (size_t i = 0; i < tcp->bucket_count; i++) {
        for (const struct tcp_conn *c = tcp->buckets[i]; c; c = c->hash_next) {
            struct finack_conn_info row = conn_row(c);
            if ((rc = walk_emit(&w, c->state, &row)) != 0) return rc;
        }
    }
    for (size_t i = 0; i < tcp->sr_bucket_count; i++) {
        for (const struct tcp_synrecv *sr = tcp->sr_buckets[i]; sr; sr = sr->hash_next) {
            struct finack_conn_info row = synrecv_row(sr);
            if ((rc = walk_emit(&w, TCPS_SYN_RCVD, &row)) != 0) return rc;
        }
    }
    for (size_t i = 0; i < tcp->tw_bucket_count; i++) {
        for (const struct tcp_timewait *tw = tcp->tw_buckets[i]; tw; tw = tw->hash_next) {
            struct finack_conn_info row = timewait_row(tw);
            if ((rc = walk_emit(&w, TCPS_TIME_WAIT, &row)) != 0) return rc;
        }
    }
    return w.rows;
}
