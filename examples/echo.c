/* The echo server and client of echo.h. */
#include "echo.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "finack/tun.h"

/* ---- Server ------------------------------------------------------------------ */

struct echo_server {
    struct finack_loop *loop;
    pthread_mutex_t mu;
    pthread_cond_t done;
    unsigned running; /* connection threads still serving */
};

struct echo_conn {
    struct echo_server *server;
    int fd;
};

static void *echo_conn_main(void *arg)
{
    struct echo_conn *c = arg;
    struct finack_loop *loop = c->server->loop;
    char buf[4096];
    for (;;) {
        ssize_t n = finack_loop_recv(loop, c->fd, buf, sizeof buf, 0);
        if (n <= 0) break; /* EOF or error */
        if (finack_loop_send(loop, c->fd, buf, (size_t)n, 0) != n) break;
    }
    finack_loop_close(loop, c->fd);

    struct echo_server *s = c->server;
    free(c);
    pthread_mutex_lock(&s->mu);
    if (--s->running == 0) pthread_cond_signal(&s->done);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static int echo_listen(struct finack_loop *loop, uint16_t port)
{
    int fd = finack_loop_socket(loop, AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return fd;
    int one = 1;
    finack_loop_setsockopt(loop, fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(INADDR_ANY)};
    int rc = finack_loop_bind(loop, fd, (struct sockaddr *)&sin, sizeof sin);
    if (rc == 0) rc = finack_loop_listen(loop, fd, 128);
    if (rc < 0) {
        finack_loop_close(loop, fd);
        return rc;
    }
    return fd;
}

int echo_server_run(struct finack_loop *loop, uint16_t port, unsigned max_conns)
{
    int lfd = echo_listen(loop, port);
    if (lfd < 0) return lfd;
    struct echo_server s = {.loop = loop};
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.done, NULL);
    int rc = 0;
    for (unsigned served = 0; max_conns == 0 || served < max_conns; served++) {
        int fd = finack_loop_accept(loop, lfd, NULL, NULL);
        if (fd < 0) {
            rc = fd;
            break;
        }
        struct echo_conn *c = malloc(sizeof *c);
        pthread_t th;
        if (c) *c = (struct echo_conn){.server = &s, .fd = fd};
        pthread_mutex_lock(&s.mu);
        s.running++;
        pthread_mutex_unlock(&s.mu);
        if (!c || pthread_create(&th, NULL, echo_conn_main, c) != 0) {
            free(c);
            finack_loop_close(loop, fd);
            pthread_mutex_lock(&s.mu);
            s.running--;
            pthread_mutex_unlock(&s.mu);
            continue;
        }
        pthread_detach(th);
    }
    finack_loop_close(loop, lfd);
    /* The connection threads use s: wait for the last. */
    pthread_mutex_lock(&s.mu);
    while (s.running) pthread_cond_wait(&s.done, &s.mu);
    pthread_mutex_unlock(&s.mu);
    pthread_cond_destroy(&s.done);
    pthread_mutex_destroy(&s.mu);
    return rc;
}

/* ---- Client ------------------------------------------------------------------ */

/* The message goes out from a second thread while this one reads: a
 * client that wrote everything before reading would deadlock with the
 * server once the message outgrew both sides' buffers. */
struct echo_writer {
    struct finack_loop *loop;
    int fd;
    const void *msg;
    size_t len;
    ssize_t rc;
};

static void *echo_writer_main(void *arg)
{
    struct echo_writer *w = arg;
    w->rc = finack_loop_send(w->loop, w->fd, w->msg, w->len, 0);
    if (w->rc >= 0 && (size_t)w->rc != w->len) w->rc = -EIO;
    if (w->rc >= 0) w->rc = finack_loop_shutdown(w->loop, w->fd, SHUT_WR);
    return NULL;
}

ssize_t echo_client_run(struct finack_loop *loop, uint32_t addr, uint16_t port, const void *msg,
                        size_t len, void *reply, size_t cap)
{
    int fd = finack_loop_socket(loop, AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return fd;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr.s_addr = htonl(addr)};
    ssize_t rc = finack_loop_connect(loop, fd, (struct sockaddr *)&sin, sizeof sin);
    if (rc < 0) {
        finack_loop_close(loop, fd);
        return rc;
    }
    struct echo_writer w = {.loop = loop, .fd = fd, .msg = msg, .len = len};
    pthread_t th;
    int err = pthread_create(&th, NULL, echo_writer_main, &w);
    if (err) {
        finack_loop_close(loop, fd);
        return -err;
    }
    /* Read until the server closes too (recv returns 0). */
    size_t got = 0;
    for (;;) {
        char sink[512];
        char *dst = got < cap ? (char *)reply + got : sink;
        size_t room = got < cap ? cap - got : sizeof sink;
        rc = finack_loop_recv(loop, fd, dst, room, 0);
        if (rc <= 0) break;
        got += (size_t)rc;
    }
    pthread_join(th, NULL);
    finack_loop_close(loop, fd);
    if (rc < 0) return rc;
    if (w.rc < 0) return w.rc;
    return (ssize_t)(got < cap ? got : cap);
}

/* ---- A TUN device as the loop's link ------------------------------------------------ */

static int tun_receive(void *ctx, struct finack_stack *stack, finack_time_t now, int budget)
{
    return finack_tun_receive_batch(ctx, stack, now, (size_t)budget);
}

int echo_tun_open(struct echo_tun_net *net, const char *tun_name, const char *addr_text)
{
    memset(net, 0, sizeof *net);
    uint32_t addr;
    uint8_t prefix;
    int rc = finack_parse_ipv4(addr_text, &addr, &prefix);
    if (rc < 0) return rc;
    if ((rc = finack_tun_open(&net->tun, tun_name, 0)) < 0) return rc;
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = tun_name;
    if ((rc = finack_stack_create(&net->stack, &cfg)) < 0 ||
        (rc = finack_stack_add_interface(net->stack, finack_tun_link(net->tun), addr, prefix)) < 0)
        goto fail;
    struct finack_loop_link link = {.link = finack_tun_link(net->tun),
                                    .fd = finack_tun_fd(net->tun),
                                    .receive = tun_receive,
                                    .ctx = net->tun};
    if ((rc = finack_loop_start(&net->loop, net->stack, &link)) < 0) goto fail;
    return 0;
fail:
    echo_tun_close(net);
    return rc;
}

void echo_tun_close(struct echo_tun_net *net)
{
    if (net->loop) finack_loop_stop(net->loop);
    if (net->stack) finack_stack_destroy(net->stack);
    finack_tun_close(net->tun);
    memset(net, 0, sizeof *net);
}
