/* The Linux kernel's own TCP over loopback: a server thread and the client
 * in one process, the same byte count, the same 1 MiB application buffers.
 * Socket buffers are left to the kernel's autotuning (what an application
 * gets by default); CPU time is the whole process's, both threads, user and
 * system (softirq work done on their behalf is charged to them too, unless
 * ksoftirqd takes it). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_segs_out (glibc's is older) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define SRC_LEN BENCH_SRC_LEN

struct server {
    const struct bench_opts *o;
    int lfd;
    uint64_t want, got;
    double done_at; /* bench_mono() when the last byte was read */
    int err;
};

static void *serve(void *arg)
{
    struct server *s = arg;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0) {
        s->err = errno;
        return NULL;
    }
    uint8_t *buf = malloc(SRC_LEN);
    while (buf && s->got < s->want) {
        ssize_t n = recv(fd, buf, SRC_LEN, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            s->err = n ? errno : EPIPE;
            break;
        }
        if (!bench_check(s->o, s->got, buf, (size_t)n)) {
            s->err = EILSEQ; /* corrupt data */
            break;
        }
        s->got += (uint64_t)n;
    }
    s->done_at = bench_mono();
    free(buf);
    close(fd);
    return NULL;
}

void linux_bulk(const struct bench_opts *o, bool clamp_mss, struct bulk_result *r)
{
    memset(r, 0, sizeof *r);
    struct server srv = {.o = o, .lfd = -1, .want = o->bytes};
    int cfd = -1;
    uint8_t *src = malloc(SRC_LEN);
    pthread_t th;
    bool started = false;
    if (!src) {
        snprintf(r->why, sizeof r->why, "out of memory");
        return;
    }
    bench_fill(src, SRC_LEN);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (srv.lfd < 0 || bind(srv.lfd, (struct sockaddr *)&a, sizeof a) ||
        listen(srv.lfd, 1) || getsockname(srv.lfd, (struct sockaddr *)&a, &alen)) {
        snprintf(r->why, sizeof r->why, "loopback listener: %s", strerror(errno));
        goto out;
    }
    cfd = socket(AF_INET, SOCK_STREAM, 0);
    if (cfd < 0) {
        snprintf(r->why, sizeof r->why, "socket: %s", strerror(errno));
        goto out;
    }
    if (clamp_mss) {
        int mss = 1460;
        if (setsockopt(cfd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss)) {
            snprintf(r->why, sizeof r->why, "TCP_MAXSEG: %s", strerror(errno));
            goto out;
        }
    }
    if (pthread_create(&th, NULL, serve, &srv)) {
        snprintf(r->why, sizeof r->why, "pthread_create failed");
        goto out;
    }
    started = true;
    double w0 = bench_mono(), c0 = bench_cpu();
    if (connect(cfd, (struct sockaddr *)&a, sizeof a)) {
        snprintf(r->why, sizeof r->why, "connect: %s", strerror(errno));
        goto out;
    }
    uint64_t sent = 0;
    while (sent < o->bytes) {
        size_t off = (size_t)(sent % SRC_LEN);
        uint64_t want = o->bytes - sent;
        if (want > SRC_LEN - off) want = SRC_LEN - off;
        ssize_t n = send(cfd, src + off, (size_t)want, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            snprintf(r->why, sizeof r->why, "send: %s", strerror(errno));
            goto out;
        }
        sent += (uint64_t)n;
    }
    shutdown(cfd, SHUT_WR); /* as a file transfer would; also pushes the tail */
    pthread_join(th, NULL);
    started = false;
    r->cpu_s = bench_cpu() - c0;
    r->wall_s = srv.done_at - w0;
    r->bytes = srv.got;
    if (srv.err || srv.got != o->bytes) {
        snprintf(r->why, sizeof r->why, "server: %s after %llu bytes", strerror(srv.err),
                 (unsigned long long)srv.got);
        goto out;
    }
    struct tcp_info ti;
    socklen_t tlen = sizeof ti;
    if (getsockopt(cfd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == 0) {
        /* segs_out counts MSS-sized segments, even when the stack moved them
         * as one GSO packet through lo. */
        r->data_segs = ti.tcpi_segs_out;
        r->ack_segs = ti.tcpi_segs_in;
        r->mss = ti.tcpi_snd_mss;
    }
    snprintf(r->note, sizeof r->note, "kernel TCP over 127.0.0.1, %s, default buffers (autotuning)",
             clamp_mss ? "client TCP_MAXSEG 1460" : "lo MTU");
    r->ok = true;
out:
    if (cfd >= 0) close(cfd);
    if (started) {
        shutdown(srv.lfd, SHUT_RDWR);
        pthread_join(th, NULL);
    }
    if (srv.lfd >= 0) close(srv.lfd);
    free(src);
}

size_t linux_tcp_slab_objsize(void)
{
    /* "TCP  <active> <num> <objsize> ..." (readable by root only). */
    FILE *f = fopen("/proc/slabinfo", "r");
    if (!f) return 0;
    char line[512];
    size_t objsize = 0;
    while (fgets(line, sizeof line, f)) {
        char name[64];
        unsigned long active, num, size;
        if (sscanf(line, "%63s %lu %lu %lu", name, &active, &num, &size) == 4 &&
            !strcmp(name, "TCP")) {
            objsize = size;
            break;
        }
    }
    fclose(f);
    return objsize;
}
