/* The article's figures as programs for the applications on two hosts. Each
 * play_*() makes the calls an application would, at the virtual times the
 * figure needs, and notes each call that matters with its result. The
 * stacks do the rest; nothing here touches a segment except the old
 * duplicate SYN, which the network, not a stack, delivers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ladder/ladder.h"
#include "sim/scenario.h"
#include "sim/world.h"

#define CLIENT SIM_LEFT
#define SERVER SIM_RIGHT
#define SERVER_PORT 80
#define MSL FINACK_SEC(60)           /* the stack's MSL: TIME_WAIT lasts 2·MSL */
#define WAIT_LIMIT FINACK_SEC(30)    /* for things that take a few RTTs at most */

void sim_params_init(struct sim_params *p)
{
    *p = (struct sim_params){.seed = 1, .delay = FINACK_MSEC(10), .bytes = 12000};
}

/* ---- Pieces the scenarios share -------------------------------------------- */

/* socket(), bind(:port) and listen() on side; -errno on failure. */
static int open_listener(struct sim_world *w, int side, uint16_t port, uint32_t rcvbuf,
                         uint32_t sndbuf)
{
    struct finack_stack *s = w->stack[side];
    int fd = finack_socket(s, AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return fd;
    if (rcvbuf) world_set_int(w, side, fd, SOL_SOCKET, SO_RCVBUF, (int)rcvbuf);
    if (sndbuf) world_set_int(w, side, fd, SOL_SOCKET, SO_SNDBUF, (int)sndbuf);
    int err = world_bind(w, side, fd, 0, port);
    if (!err) err = finack_listen(s, fd, 16);
    world_call(w, side, err, "listen(:%u)", port);
    return err ? err : fd;
}

/* socket(), bind(:lport) if lport, connect() to the other side's port:
 * the fd, or -errno if connect did not start. */
static int start_connect(struct sim_world *w, int side, uint16_t lport, uint16_t port,
                         uint32_t rcvbuf, uint32_t sndbuf)
{
    struct finack_stack *s = w->stack[side];
    int fd = finack_socket(s, AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return fd;
    if (rcvbuf) world_set_int(w, side, fd, SOL_SOCKET, SO_RCVBUF, (int)rcvbuf);
    if (sndbuf) world_set_int(w, side, fd, SOL_SOCKET, SO_SNDBUF, (int)sndbuf);
    if (lport) {
        int err = world_bind(w, side, fd, 0, lport);
        if (err) return err;
    }
    uint32_t dst = side == CLIENT ? SIM_RIGHT_ADDR : SIM_LEFT_ADDR;
    int err = world_connect(w, side, fd, dst, port);
    world_call(w, side, err, "connect(:%u)", port);
    return err == -EINPROGRESS ? fd : (err ? err : -EINVAL);
}

/* Wait for an accepted connection on lfd and note it. */
static int accept_one(struct sim_world *w, int side, int lfd)
{
    int fd = -EAGAIN;
    WORLD_WAIT(w, (fd = finack_accept(w->stack[side], lfd, NULL, NULL)) >= 0, WAIT_LIMIT);
    if (fd >= 0) world_call(w, side, fd, "accept()");
    return fd;
}

/* Wait for fd to reach state; -ETIMEDOUT if it does not. */
static int wait_state(struct sim_world *w, int side, int fd, const char *state, finack_time_t limit)
{
    WORLD_WAIT(w, world_state_is(w, side, fd, state), limit);
    return world_state_is(w, side, fd, state) ? 0 : -ETIMEDOUT;
}

/* Read until EOF (noted as recv() = 0), adding what came before it to *got
 * (if got). */
static int read_to_eof(struct sim_world *w, int side, int fd, uint64_t *got)
{
    static uint8_t buf[65536];
    finack_time_t limit = world_now(w) + WAIT_LIMIT;
    ssize_t n;
    for (;;) {
        while ((n = finack_recv(w->stack[side], fd, buf, sizeof buf, 0)) > 0)
            if (got) *got += (uint64_t)n;
        if (n != -EAGAIN || !world_step(w, limit)) break;
    }
    if (n == 0) {
        world_note(w, side, "recv() = 0 (EOF)");
        return 0;
    }
    return n < 0 && n != -EAGAIN ? (int)n : -ETIMEDOUT;
}

/* A connection from the client (from lport, if not 0) to a server listening
 * on SERVER_PORT, both ends established; the fds in *cfd and *afd. Notes
 * the accept, and with say_connected the moment connect() completes. */
static int open_connection(struct sim_world *w, int lfd, uint16_t lport, bool say_connected,
                           int *cfd, int *afd)
{
    *cfd = start_connect(w, CLIENT, lport, SERVER_PORT, 0, 0);
    if (*cfd < 0) return *cfd;
    *afd = -EAGAIN;
    bool established = false;
    finack_time_t limit = world_now(w) + WAIT_LIMIT;
    for (;;) {
        if (*afd < 0 && (*afd = finack_accept(w->stack[SERVER], lfd, NULL, NULL)) >= 0)
            world_call(w, SERVER, *afd, "accept()");
        if (!established && world_state_is(w, CLIENT, *cfd, "ESTABLISHED")) {
            established = true;
            if (say_connected) world_note(w, CLIENT, "connect() done: writable");
        }
        if (established && *afd >= 0) return 0;
        if (!world_step(w, limit)) return -ETIMEDOUT;
    }
}

/* ---- handshake ---------------------------------------------------------------- */

static int play_handshake(struct sim_world *w, const struct sim_params *p, struct sim_result *r)
{
    (void)p;
    (void)r;
    int lfd = open_listener(w, SERVER, SERVER_PORT, 0, 0);
    if (lfd < 0) return lfd;
    world_run_for(w, FINACK_MSEC(5));
    int cfd, afd;
    int err = open_connection(w, lfd, 0, true, &cfd, &afd);
    if (err) return err;
    world_run_for(w, FINACK_MSEC(20));
    return 0;
}

/* ---- old-duplicate-syn ------------------------------------------------------ */

/* RFC 9293 §3.5, Figure 8: an old SYN on the client's 4-tuple reaches the
 * server, which answers as for a new connection. The client, which has
 * nothing on that port, answers the SYN-ACK with a RST (its sequence number
 * is the SYN-ACK's ACK), and the server drops the half-open connection. The
 * client's real connection on the same 4-tuple then opens as usual. */
static int play_old_duplicate_syn(struct sim_world *w, const struct sim_params *p,
                                  struct sim_result *r)
{
    (void)p;
    r->absolute = true; /* two SYNs of the client: their numbers matter */
    int lfd = open_listener(w, SERVER, SERVER_PORT, 0, 0);
    if (lfd < 0) return lfd;
    world_run_for(w, FINACK_MSEC(5));
    const uint16_t cport = 5000;
    uint32_t old_seq = (uint32_t)finack_sim_random(w->sim);
    world_note(w, CLIENT, "(an old SYN, long delayed)");
    int err = world_inject(w, CLIENT, cport, SERVER_PORT, old_seq, 0, FINACK_TCP_SYN, 65535);
    if (err) return err;
    /* SYN-ACK, RST: two crossings and a bit. */
    world_run_for(w, FINACK_MSEC(100));
    int cfd, afd;
    err = open_connection(w, lfd, cport, false, &cfd, &afd);
    if (err) return err;
    world_run_for(w, FINACK_MSEC(20));
    return 0;
}

/* ---- isn ---------------------------------------------------------------------- */

/* One connection opened and aborted (SO_LINGER 0: RST, no TIME_WAIT to hold
 * the 4-tuple). */
static int open_and_abort(struct sim_world *w, int lfd, uint16_t lport)
{
    int cfd, afd;
    int err = open_connection(w, lfd, lport, false, &cfd, &afd);
    if (err) return err;
    world_run_for(w, FINACK_MSEC(20));
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    finack_setsockopt(w->stack[CLIENT], cfd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    world_call(w, CLIENT, finack_close(w->stack[CLIENT], cfd), "close() with SO_LINGER 0");
    world_run_for(w, FINACK_MSEC(50));
    finack_close(w->stack[SERVER], afd);
    return 0;
}

/* The client's ISS on its latest SYN since event first. */
static bool last_syn_seq(const struct sim_result *r, size_t first, int side, uint32_t *seq,
                         finack_time_t *t)
{
    bool found = false;
    for (size_t i = first; i < r->count; i++) {
        const struct sim_event *e = &r->events[i];
        if (!e->note && e->kind == FINACK_TRACE_SEG && e->out && e->side == side &&
            (e->flags & FINACK_TCP_SYN)) {
            *seq = e->seq;
            *t = e->t;
            found = true;
        }
    }
    return found;
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a clock ticking every 4 µs. Two
 * connections on one 4-tuple get ISNs M apart, so an old incarnation's
 * numbers lie behind the new one's; another 4-tuple's F is unrelated. */
static int play_isn(struct sim_world *w, const struct sim_params *p, struct sim_result *r)
{
    (void)p;
    r->absolute = true;
    int lfd = open_listener(w, SERVER, SERVER_PORT, 0, 0);
    if (lfd < 0) return lfd;
    world_run_for(w, FINACK_MSEC(5));
    static const uint16_t ports[3] = {5000, 5000, 5001};
    static const finack_time_t start[3] = {FINACK_MSEC(10), FINACK_MSEC(1010), FINACK_MSEC(2010)};
    uint32_t iss[3] = {0};
    finack_time_t at[3] = {0};
    for (int i = 0; i < 3; i++) {
        world_run_until(w, start[i]);
        size_t mark = w->r->count;
        int err = open_and_abort(w, lfd, ports[i]);
        if (err) return err;
        if (!last_syn_seq(r, mark, CLIENT, &iss[i], &at[i])) return -EPROTO;
        if (i == 0) {
            world_note(w, CLIENT, "ISS %u on :%u-:80", iss[i], ports[i]);
        } else if (ports[i] == ports[i - 1]) {
            double ms = (double)(at[i] - at[i - 1]) / 1000.0;
            world_note(w, CLIENT, "same 4-tuple %.0f ms later: ISS %+d", ms,
                       (int32_t)(iss[i] - iss[i - 1]));
            world_note(w, CLIENT, "= %.0f ms / 4 us: the clock M moved", ms);
        } else {
            world_note(w, CLIENT, "another 4-tuple :%u-:80: ISS %u", ports[i], iss[i]);
            world_note(w, CLIENT, "F(4-tuple, secret) differs: unrelated");
        }
    }
    return 0;
}

/* ---- close ------------------------------------------------------------------ */

static int play_close(struct sim_world *w, const struct sim_params *p, struct sim_result *r)
{
    (void)p;
    (void)r;
    int lfd = open_listener(w, SERVER, SERVER_PORT, 0, 0);
    if (lfd < 0) return lfd;
    int cfd, afd;
    int err = open_connection(w, lfd, 0, false, &cfd, &afd);
    if (err) return err;
    world_run_for(w, FINACK_MSEC(50));
    world_call(w, CLIENT, finack_close(w->stack[CLIENT], cfd), "close()");
    err = read_to_eof(w, SERVER, afd, NULL);
    if (err) return err;
    world_run_for(w, FINACK_MSEC(20)); /* the server app takes a moment */
    world_call(w, SERVER, finack_close(w->stack[SERVER], afd), "close()");
    world_run_for(w, 2 * MSL + FINACK_SEC(1));
    return 0;
}

/* ---- half-close ------------------------------------------------------------- */

static int play_half_close(struct sim_world *w, const struct sim_params *p, struct sim_result *r)
{
    (void)p;
    struct finack_stack *c = w->stack[CLIENT], *s = w->stack[SERVER];
    int lfd = open_listener(w, SERVER, SERVER_PORT, 0, 0);
    if (lfd < 0) return lfd;
    int cfd, afd;
    int err = open_connection(w, lfd, 0, false, &cfd, &afd);
    if (err) return err;
    static const char request[] = "GET / HTTP/1.0\r\n\r\n";
    size_t rlen = sizeof request - 1;
    world_call(w, CLIENT, finack_send(c, cfd, request, rlen, 0), "write(%zu)", rlen);
    world_call(w, CLIENT, finack_shutdown(c, cfd, SHUT_WR), "shutdown(SHUT_WR)");
    uint64_t got = 0;
    err = read_to_eof(w, SERVER, afd, &got);
    if (err) return err;
    /* The server answers on the half still open, then closes. */
    static uint8_t reply[3000];
    memset(reply, 'r', sizeof reply);
    world_run_for(w, FINACK_MSEC(20));
    world_call(w, SERVER, finack_send(s, afd, reply, sizeof reply, 0), "write(%zu)",
               sizeof reply);
    world_run_for(w, FINACK_MSEC(10));
    world_call(w, SERVER, finack_close(s, afd), "close()");
    uint64_t back = 0;
    err = read_to_eof(w, CLIENT, cfd, &back);
    if (err) return err;
    world_note(w, CLIENT, "read %llu bytes in all", (unsigned long long)back);
    r->delivered = back;
    world_call(w, CLIENT, finack_close(c, cfd), "close()");
    world_run_for(w, FINACK_MSEC(50));
    return 0;
}

/* ---- close-wait ------------------------------------------------------------ */

static int play_close_wait(struct sim_world *w, const struct sim_params *p, struct sim_result *r)
{
    (void)p;
    (void)r;
    int lfd = open_listener(w, SERVER, SERVER_PORT, 0, 0);
    if (lfd < 0) return lfd;
    int cfd, afd;
    int err = open_connection(w, lfd, 0, false, &cfd, &afd);
    if (err) return err;
    world_run_for(w, FINACK_MSEC(50));
    world_call(w, CLIENT, finack_shutdown(w->stack[CLIENT], cfd, SHUT_WR), "shutdown(SHUT_WR)");
    err = read_to_eof(w, SERVER, afd, NULL);
    if (err) return err;
    world_note(w, SERVER, "(the app never calls close())");
    world_run_for(w, FINACK_SEC(600));
    world_note(w, SERVER, "600 s later: %s", finack_socket_state(w->stack[SERVER], afd));
    world_note(w, CLIENT, "600 s later: %s", finack_socket_state(w->stack[CLIENT], cfd));
    /* Linux ends a FIN_WAIT_2 only once no socket refers to it (after
     * close(): an orphan) when tcp_fin_timeout runs out; this client used
     * shutdown() and still holds its socket. */
    world_note(w, CLIENT, "(shutdown() keeps the socket: it stays;");
    world_note(w, CLIENT, " after close(), Linux would end this");
    world_note(w, CLIENT, " orphan after tcp_fin_timeout, 60 s)");
    return 0;
}

/* ---- time-wait-lost-ack ---------------------------------------------------- */

static int play_time_wait_lost_ack(struct sim_world *w, const struct sim_params *p,
                                   struct sim_result *r)
{
    (void)p;
    (void)r;
    int lfd = open_listener(w, SERVER, SERVER_PORT, 0, 0);
    if (lfd < 0) return lfd;
    int cfd, afd;
    int err = open_connection(w, lfd, 0, false, &cfd, &afd);
    if (err) return err;
    world_run_for(w, FINACK_MSEC(50));
    world_call(w, CLIENT, finack_close(w->stack[CLIENT], cfd), "close()");
    err = read_to_eof(w, SERVER, afd, NULL);
    if (err) return err;
    world_run_for(w, FINACK_MSEC(20));
    /* The client's ACK of the server's FIN is lost: the client-to-server
     * path drops everything while that ACK crosses. */
    struct finack_sim_link_config cfg;
    finack_sim_link_config_init(&cfg);
    struct finack_sim_path path = cfg.a_to_b;
    path.latency = FINACK_MSEC(10);
    struct finack_sim_path lossy = path;
    lossy.loss = 1.0;
    finack_sim_link_set_path(w->link, CLIENT, &lossy);
    world_call(w, SERVER, finack_close(w->stack[SERVER], afd), "close()");
    world_run_for(w, FINACK_MSEC(15));
    finack_sim_link_set_path(w->link, CLIENT, &path);
    world_run_for(w, 2 * MSL + FINACK_SEC(2));
    return 0;
}

/* ---- reuseaddr ---------------------------------------------------------------- */

static int play_reuseaddr(struct sim_world *w, const struct sim_params *p, struct sim_result *r)
{
    (void)p;
    (void)r;
    struct finack_stack *s = w->stack[SERVER];
    int lfd = open_listener(w, SERVER, SERVER_PORT, 0, 0);
    if (lfd < 0) return lfd;
    /* The server sets SO_REUSEADDR, as servers do: on Linux the option
     * must be on the old socket too for the new one to bind beside its
     * TIME_WAIT. Accepted connections inherit it. */
    world_call(w, SERVER, world_set_int(w, SERVER, lfd, SOL_SOCKET, SO_REUSEADDR, 1),
               "setsockopt(SO_REUSEADDR)");
    int cfd, afd;
    int err = open_connection(w, lfd, 0, false, &cfd, &afd);
    if (err) return err;
    world_run_for(w, FINACK_MSEC(50));
    /* The server closes first: the TIME_WAIT is on its side. */
    world_call(w, SERVER, finack_close(s, afd), "close()");
    err = read_to_eof(w, CLIENT, cfd, NULL);
    if (err) return err;
    world_call(w, CLIENT, finack_close(w->stack[CLIENT], cfd), "close()");
    world_run_for(w, FINACK_MSEC(50));
    world_call(w, SERVER, finack_close(s, lfd), "^C: close(listener)");
    world_run_for(w, FINACK_MSEC(100));
    world_note(w, SERVER, "restart:");
    lfd = finack_socket(s, AF_INET, SOCK_STREAM, 0);
    if (lfd < 0) return lfd;
    if (world_call(w, SERVER, world_bind(w, SERVER, lfd, 0, SERVER_PORT), "bind(:%u)",
                   SERVER_PORT) != -EADDRINUSE)
        return -EPROTO;
    world_call(w, SERVER, world_set_int(w, SERVER, lfd, SOL_SOCKET, SO_REUSEADDR, 1),
               "setsockopt(SO_REUSEADDR)");
    err = (int)world_call(w, SERVER, world_bind(w, SERVER, lfd, 0, SERVER_PORT), "bind(:%u)",
                          SERVER_PORT);
    if (err) return err;
    world_call(w, SERVER, finack_listen(s, lfd, 16), "listen()");
    world_run_for(w, FINACK_MSEC(50));
    err = open_connection(w, lfd, 0, false, &cfd, &afd);
    if (err) return err;
    world_run_for(w, FINACK_MSEC(20));
    return 0;
}

/* ---- simultaneous-open --------------------------------------------------------- */

static int play_simultaneous_open(struct sim_world *w, const struct sim_params *p,
                                  struct sim_result *r)
{
    (void)p;
    (void)r;
    static const uint16_t port[2] = {1000, 2000};
    int fd[2];
    for (int side = 0; side < 2; side++) {
        fd[side] = finack_socket(w->stack[side], AF_INET, SOCK_STREAM, 0);
        if (fd[side] < 0) return fd[side];
        int err = world_bind(w, side, fd[side], 0, port[side]);
        if (err) return err;
    }
    for (int side = 0; side < 2; side++) {
        uint32_t dst = side == SIM_LEFT ? SIM_RIGHT_ADDR : SIM_LEFT_ADDR;
        int err = world_connect(w, side, fd[side], dst, port[!side]);
        world_call(w, side, err, "connect(:%u)", port[!side]);
        if (err != -EINPROGRESS) return err ? err : -EPROTO;
    }
    for (int side = 0; side < 2; side++) {
        int err = wait_state(w, side, fd[side], "ESTABLISHED", WAIT_LIMIT);
        if (err) return err;
    }
    world_run_for(w, FINACK_MSEC(20));
    return 0;
}

/* ---- simultaneous-close --------------------------------------------------------- */

static int play_simultaneous_close(struct sim_world *w, const struct sim_params *p,
                                   struct sim_result *r)
{
    (void)p;
    (void)r;
    int lfd = open_listener(w, SIM_RIGHT, SERVER_PORT, 0, 0);
    if (lfd < 0) return lfd;
    int fa, fb;
    int err = open_connection(w, lfd, 0, false, &fa, &fb);
    if (err) return err;
    world_run_for(w, FINACK_MSEC(50));
    world_call(w, SIM_LEFT, finack_close(w->stack[SIM_LEFT], fa), "close()");
    world_call(w, SIM_RIGHT, finack_close(w->stack[SIM_RIGHT], fb), "close()");
    world_run_for(w, 2 * MSL + FINACK_SEC(1));
    return 0;
}

/* ---- send-buffer ------------------------------------------------------------- */

/* write() copies into the send buffer and returns; the bytes leave as the
 * window and the link allow. With 16 KiB of buffer, the second write takes
 * what fits, the third finds no room (EAGAIN) until ACKs free some. */
static int play_send_buffer(struct sim_world *w, const struct sim_params *p, struct sim_result *r)
{
    (void)p;
    struct finack_stack *c = w->stack[CLIENT], *s = w->stack[SERVER];
    int lfd = open_listener(w, SERVER, SERVER_PORT, 0, 0);
    if (lfd < 0) return lfd;
    world_note(w, CLIENT, "SO_SNDBUF 16384");
    int cfd = start_connect(w, CLIENT, 0, SERVER_PORT, 0, 16384);
    if (cfd < 0) return cfd;
    int afd = accept_one(w, SERVER, lfd);
    if (afd < 0) return afd;
    int err = wait_state(w, CLIENT, cfd, "ESTABLISHED", WAIT_LIMIT);
    if (err) return err;
    static uint8_t data[12000];
    memset(data, 'd', sizeof data);
    const size_t total = 24000;
    size_t sent = 0;
    long n = world_call(w, CLIENT, finack_send(c, cfd, data, sizeof data, 0), "write(%zu)",
                        sizeof data);
    if (n > 0) sent += (size_t)n;
    n = world_call(w, CLIENT, finack_send(c, cfd, data, total - sent, 0), "write(%zu)",
                   total - sent);
    if (n > 0) sent += (size_t)n;
    if (sent < total)
        world_call(w, CLIENT, finack_send(c, cfd, data, total - sent, 0), "write(%zu)",
                   total - sent);
    /* The server reads as data comes; the client writes again when the
     * buffer has room (poll would say POLLOUT). */
    uint8_t buf[4096];
    uint64_t got = 0;
    finack_time_t limit = world_now(w) + WAIT_LIMIT;
    while (got < total && world_now(w) < limit) {
        ssize_t m;
        while ((m = finack_recv(s, afd, buf, sizeof buf, 0)) > 0) got += (uint64_t)m;
        if (sent < total && (finack_socket_events(c, cfd) & POLLOUT)) {
            n = world_call(w, CLIENT, finack_send(c, cfd, data, total - sent, 0), "write(%zu)",
                           total - sent);
            if (n > 0) sent += (size_t)n;
        }
        if (!world_step(w, limit)) break;
    }
    world_note(w, SERVER, "read %llu bytes", (unsigned long long)got);
    struct finack_tcp_info info;
    WORLD_WAIT(w, !finack_tcp_info(c, cfd, &info) && info.bytes_in_flight == 0 && !info.unsent,
               WAIT_LIMIT);
    world_note(w, CLIENT, "all %zu bytes acknowledged", sent);
    r->delivered = got;
    world_run_for(w, FINACK_MSEC(20));
    return got == total ? 0 : -ETIMEDOUT;
}

/* ---- zero-window --------------------------------------------------------------- */

static int play_zero_window(struct sim_world *w, const struct sim_params *p, struct sim_result *r)
{
    (void)p;
    struct finack_stack *c = w->stack[CLIENT], *s = w->stack[SERVER];
    const uint32_t rcvbuf = 2896; /* two full segments */
    int lfd = open_listener(w, SERVER, SERVER_PORT, rcvbuf, 0);
    if (lfd < 0) return lfd;
    world_note(w, SERVER, "SO_RCVBUF %u", rcvbuf);
    int cfd, afd;
    int err = open_connection(w, lfd, 0, false, &cfd, &afd);
    if (err) return err;
    static uint8_t data[10000];
    memset(data, 'z', sizeof data);
    world_call(w, CLIENT, finack_send(c, cfd, data, sizeof data, 0), "write(%zu)", sizeof data);
    world_note(w, SERVER, "(the app stops reading)");
    world_run_for(w, FINACK_SEC(6));
    /* The app reads again: the window opens and the rest comes. */
    uint8_t buf[4096];
    uint64_t got = 0;
    ssize_t n = finack_recv(s, afd, buf, sizeof buf, 0);
    world_call(w, SERVER, n, "recv(%zu)", sizeof buf);
    if (n > 0) got += (uint64_t)n;
    finack_time_t limit = world_now(w) + WAIT_LIMIT;
    while (got < sizeof data) {
        while ((n = finack_recv(s, afd, buf, sizeof buf, 0)) > 0) got += (uint64_t)n;
        if (got == sizeof data || !world_step(w, limit)) break;
    }
    world_note(w, SERVER, "read %llu bytes in all", (unsigned long long)got);
    r->delivered = got;
    world_run_for(w, FINACK_MSEC(50));
    return got == sizeof data ? 0 : -ETIMEDOUT;
}

/* ---- bdp and custom: one transfer --------------------------------------------- */

struct transfer {
    uint64_t bytes;
    uint32_t rcvbuf, sndbuf;   /* 0: default */
    uint64_t rate_bps;         /* the link's, 0: unlimited */
};

/* The client sends t->bytes to a fresh connection and half-closes; the
 * server reads to EOF. Notes the throughput the server's app saw, from the
 * client's first write to the last byte read. */
static int run_transfer(struct sim_world *w, struct sim_result *r, int lfd,
                        const struct transfer *t)
{
    struct finack_stack *c = w->stack[CLIENT], *s = w->stack[SERVER];
    int cfd = start_connect(w, CLIENT, 0, SERVER_PORT, t->rcvbuf, t->sndbuf);
    if (cfd < 0) return cfd;
    int afd = accept_one(w, SERVER, lfd);
    if (afd < 0) return afd;
    int err = wait_state(w, CLIENT, cfd, "ESTABLISHED", WAIT_LIMIT);
    if (err) return err;
    static uint8_t buf[65536];
    memset(buf, 'b', sizeof buf);
    uint64_t sent = 0, got = 0;
    bool eof = false, shut = false;
    finack_time_t start = world_now(w), end = start;
    finack_time_t limit = start + FINACK_SEC(3600);
    world_note(w, CLIENT, "write(%llu) in a loop", (unsigned long long)t->bytes);
    while (!eof && world_now(w) < limit) {
        while (sent < t->bytes) {
            size_t want = t->bytes - sent < sizeof buf ? (size_t)(t->bytes - sent) : sizeof buf;
            ssize_t n = finack_send(c, cfd, buf, want, 0);
            if (n <= 0) break;
            sent += (uint64_t)n;
        }
        if (sent == t->bytes && !shut) {
            /* The call that sends the FIN: noted, so FIN_WAIT_1 has a cause. */
            world_call(w, CLIENT, finack_shutdown(c, cfd, SHUT_WR), "shutdown(SHUT_WR)");
            shut = true;
        }
        ssize_t n;
        while ((n = finack_recv(s, afd, buf, sizeof buf, 0)) > 0) {
            got += (uint64_t)n;
            end = world_now(w);
        }
        if (n == 0) eof = true;
        if (!eof && !world_step(w, limit)) break;
    }
    double secs = (double)(end - start) / 1e6;
    double bps = secs > 0 ? (double)got * 8 / secs : 0;
    if (r->transfers < 2) {
        r->window[r->transfers] = t->rcvbuf;
        r->throughput_bps[r->transfers++] = bps;
    }
    r->delivered = got;
    world_note(w, SERVER, "read %llu bytes in %.3f s: %.2f Mbit/s", (unsigned long long)got, secs,
               bps / 1e6);
    if (t->rcvbuf && r->rtt) {
        /* What the window allows per round trip, and what the link does:
         * the lower bounds the transfer. Below that bound, the first round
         * trips of slow start (the window growing from 10 segments) and
         * the handshake's RTT in the timing explain the rest. */
        double window_bps = (double)t->rcvbuf * 8 / ((double)r->rtt / 1e6);
        world_note(w, SERVER, "window/RTT = %u B / %.0f ms = %.2f Mbit/s", t->rcvbuf,
                   (double)r->rtt / 1000.0, window_bps / 1e6);
        double bound = window_bps;
        if (t->rate_bps && (double)t->rate_bps < bound) bound = (double)t->rate_bps;
        if (t->rate_bps)
            world_note(w, SERVER, "bound: min(%.2f, link %.2f) = %.2f Mbit/s", window_bps / 1e6,
                       (double)t->rate_bps / 1e6, bound / 1e6);
        if (bps < bound * 0.95) world_note(w, SERVER, "less: slow start's first round trips");
    }
    world_call(w, SERVER, finack_close(s, afd), "close()");
    world_call(w, CLIENT, finack_close(c, cfd), "close()");
    world_run_for(w, FINACK_SEC(1));
    return got == t->bytes ? 0 : -ETIMEDOUT;
}

/* ---- bdp ------------------------------------------------------------------------ */

#define BDP_RATE 10000000u           /* 10 Mbit/s */
#define BDP_LATENCY FINACK_MSEC(50)  /* 100 ms round trip: BDP 125 000 bytes */
#define BDP_BYTES 1000000u
#define BDP_SMALL 16384u
#define BDP_LARGE 262144u

static int play_bdp(struct sim_world *w, const struct sim_params *p, struct sim_result *r)
{
    (void)p;
    r->collapse = true;
    r->rtt = 2 * BDP_LATENCY;
    int lfd = open_listener(w, SERVER, SERVER_PORT, 0, 0);
    if (lfd < 0) return lfd;
    world_note(w, CLIENT, "10 Mbit/s, RTT 100 ms: BDP 125000 B");
    static const uint32_t bufs[2] = {BDP_SMALL, BDP_LARGE};
    for (int i = 0; i < 2; i++) {
        world_note(w, SERVER, "SO_RCVBUF = SO_SNDBUF = %u", bufs[i]);
        /* Buffers on both ends: the listener's pass to the accepted socket. */
        world_set_int(w, SERVER, lfd, SOL_SOCKET, SO_RCVBUF, (int)bufs[i]);
        world_set_int(w, SERVER, lfd, SOL_SOCKET, SO_SNDBUF, (int)bufs[i]);
        struct transfer t = {.bytes = BDP_BYTES, .rcvbuf = bufs[i], .sndbuf = bufs[i],
                             .rate_bps = BDP_RATE};
        int err = run_transfer(w, r, lfd, &t);
        if (err) return err;
    }
    return 0;
}

/* ---- custom ------------------------------------------------------------------- */

static int play_custom(struct sim_world *w, const struct sim_params *p, struct sim_result *r)
{
    r->rtt = 2 * p->delay;
    r->collapse = p->bytes > 20000;
    int lfd = open_listener(w, SERVER, SERVER_PORT, p->rcvbuf, p->sndbuf);
    if (lfd < 0) return lfd;
    struct transfer t = {.bytes = p->bytes, .rcvbuf = p->rcvbuf, .sndbuf = p->sndbuf,
                         .rate_bps = p->rate_bps};
    return run_transfer(w, r, lfd, &t);
}

/* ---- The table ------------------------------------------------------------------ */

static const struct sim_scenario scenarios[] = {
    {"handshake", "the 3-way handshake: SYN, SYN-ACK, ACK",
     "the server becomes ESTABLISHED only when the client's ACK, the third segment, arrives: "
     "one round trip after the client did.",
     false, play_handshake},
    {"old-duplicate-syn", "an old SYN reaches the server; the client's RST ends it",
     "the client answers the SYN-ACK for a SYN it never sent with RST, so the server never "
     "reaches ESTABLISHED for it; the real connection then opens on the same 4-tuple.",
     false, play_old_duplicate_syn},
    {"isn", "ISNs of two connections on one 4-tuple and one on another (RFC 6528)",
     "on one 4-tuple the ISN moves with a 4 us clock, so a new connection starts past the old "
     "one's numbers; another 4-tuple's ISN is unrelated.",
     false, play_isn},
    {"close", "the 4-way close and TIME_WAIT's 2 MSL",
     "the client, which closed first, waits in TIME_WAIT for 2 MSL (120 s here; Linux waits "
     "60 s, TCP_TIMEWAIT_LEN) after the last ACK; the server is CLOSED as soon as that ACK "
     "arrives.",
     false, play_close},
    {"half-close", "the client shuts down its sending half; the server keeps sending, then closes",
     "after the client's FIN the server still sends 3000 bytes, and the client, in FIN_WAIT_2, "
     "still reads them.",
     false, play_half_close},
    {"close-wait", "the server's app never calls close(): CLOSE_WAIT and FIN_WAIT_2 stay",
     "nothing moves for 600 s: the server sits in CLOSE_WAIT until its app calls close(), and "
     "the client waits in FIN_WAIT_2 for a FIN that never comes (it used shutdown(); after "
     "close() Linux would end the orphaned FIN_WAIT_2 after tcp_fin_timeout, 60 s).",
     false, play_close_wait},
    {"time-wait-lost-ack", "the last ACK is lost; TIME_WAIT answers the retransmitted FIN",
     "the server, in LAST_ACK, sends its FIN again after its RTO, and the client, still in "
     "TIME_WAIT, ACKs it again, so the server can close.",
     false, play_time_wait_lost_ack},
    {"reuseaddr", "a restarted server meets its own TIME_WAIT: EADDRINUSE, then SO_REUSEADDR",
     "the server closed first, so its TIME_WAIT holds port 80: bind() fails with EADDRINUSE "
     "until SO_REUSEADDR is set.",
     false, play_reuseaddr},
    {"simultaneous-open", "both ends connect() at once: four segments, no listener",
     "each SYN crosses the other, so both ends go SYN_SENT -> SYN_RCVD -> ESTABLISHED.",
     true, play_simultaneous_open},
    {"simultaneous-close", "both ends close() at once: CLOSING, then TIME_WAIT on both",
     "each FIN arrives before the ACK of its own, so both ends pass through CLOSING and both "
     "wait out TIME_WAIT.",
     true, play_simultaneous_close},
    {"send-buffer", "write() returns once the bytes are copied, not when they arrive",
     "write() returns at once with the bytes still to be sent; with the buffer full it takes "
     "part, then EAGAIN, until ACKs make room.",
     false, play_send_buffer},
    {"zero-window", "a receiver that stops reading: window 0, persist probes, window update",
     "the window falls to 0, the sender probes at growing intervals, and one read opens the "
     "window with an update that resumes the transfer.",
     false, play_zero_window},
    {"bdp", "a small and a large buffer on a long fat link: throughput = window / RTT",
     "with a buffer below the bandwidth-delay product the sender waits for ACKs each round "
     "trip; a buffer above it lets the link's rate bound the transfer, less the slow start of "
     "the first round trips.",
     false, play_bdp},
    {"custom", "your own link and transfer: --loss --delay --bytes --rcvbuf --sndbuf --rate",
     "", false, play_custom},
};

#define SCENARIO_COUNT (sizeof scenarios / sizeof scenarios[0])

const struct sim_scenario *sim_scenarios(size_t *count)
{
    *count = SCENARIO_COUNT;
    return scenarios;
}

const struct sim_scenario *sim_scenario_find(const char *name)
{
    for (size_t i = 0; i < SCENARIO_COUNT; i++)
        if (strcmp(scenarios[i].name, name) == 0) return &scenarios[i];
    return NULL;
}

static void link_for(const struct sim_scenario *sc, const struct sim_params *p,
                     struct finack_sim_link_config *cfg)
{
    finack_sim_link_config_init(cfg);
    struct finack_sim_path path = {.latency = FINACK_MSEC(10)};
    if (sc->play == play_bdp) {
        path.latency = BDP_LATENCY;
        path.rate_bps = BDP_RATE;
    } else if (sc->play == play_send_buffer) {
        path.rate_bps = 2000000; /* 2 Mbit/s: the bytes take a while to leave */
    } else if (sc->play == play_custom) {
        path.latency = p->delay;
        path.loss = p->loss;
        path.rate_bps = p->rate_bps;
    }
    cfg->a_to_b = cfg->b_to_a = path;
}

int sim_run(const struct sim_scenario *sc, const struct sim_params *p, struct sim_result *r)
{
    memset(r, 0, sizeof *r);
    r->scenario = sc;
    snprintf(r->host[0], sizeof r->host[0], "%s", sc->symmetric ? "A" : "client");
    snprintf(r->host[1], sizeof r->host[1], "%s", sc->symmetric ? "B" : "server");
    struct finack_sim_link_config cfg;
    link_for(sc, p, &cfg);
    r->rtt = cfg.a_to_b.latency + cfg.b_to_a.latency;
    struct sim_world w;
    int err = world_open(&w, r, p->seed, &cfg, p->capture);
    if (!err) err = sc->play(&w, p, r);
    if (!err && w.error) err = w.error;
    world_close(&w);
    return err;
}

void sim_result_free(struct sim_result *r)
{
    free(r->events);
    r->events = NULL;
    r->count = r->capacity = 0;
}

bool sim_event_trace(const struct sim_result *r, const struct sim_event *e,
                     struct finack_trace_event *out)
{
    if (e->note || e->injected) return false;
    *out = (struct finack_trace_event){
        .t = e->t, .kind = e->kind, .host = r->host[e->side], .laddr = e->laddr,
        .raddr = e->raddr, .lport = e->lport, .rport = e->rport};
    switch (e->kind) {
    case FINACK_TRACE_STATE:
        out->from = e->from;
        out->to = e->to;
        break;
    case FINACK_TRACE_SEG:
        out->out = e->out;
        out->flags = e->flags;
        out->seq = e->seq;
        out->ack = e->ack;
        out->win = e->win;
        out->win_scaled = e->win_scaled;
        out->len = e->len;
        out->opts = e->opts;
        out->opts_len = e->opts_len;
        out->retransmit = e->retransmit;
        break;
    case FINACK_TRACE_DROP:
        out->reason = e->reason;
        break;
    case FINACK_TRACE_TIMER:
        out->timer = e->timer;
        break;
    }
    return true;
}

/* The ladder's matcher decides, so the demo's words and the picture agree:
 * the run becomes a ladder event by event (the same indices) and each "out"
 * is paired with the copy its receiver recorded. */
bool *sim_segments_arrived(const struct sim_result *r)
{
    struct ladder l;
    ladder_init(&l);
    bool *arrived = calloc(r->count ? r->count : 1, sizeof *arrived);
    long *peer = malloc((r->count ? r->count : 1) * sizeof *peer);
    int err = arrived && peer ? sim_result_to_ladder(r, &l) : -ENOMEM;
    if (!err && l.count != r->count) err = -EPROTO;
    if (!err) err = ladder_pair_segments(&l, peer);
    for (size_t i = 0; !err && i < r->count; i++)
        arrived[i] = l.events[i].kind == FINACK_TRACE_SEG && l.events[i].out && peer[i] >= 0;
    ladder_free(&l);
    free(peer);
    if (err) {
        free(arrived);
        return NULL;
    }
    return arrived;
}

bool sim_segment_arrived(const struct sim_result *r, size_t i)
{
    bool *arrived = sim_segments_arrived(r);
    bool yes = arrived && arrived[i];
    free(arrived);
    return yes;
}
