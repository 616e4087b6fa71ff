/* finack_tun_bench: one end of a bulk TCP transfer over a real link, for
 * bench/tun.sh, which sets up the namespaces, the TUN device and the veth
 * pair and runs two of these against each other.
 *
 *   finack_tun_bench STACK ROLE [--tun IF --addr A/LEN] [--port P]
 *                    [--peer A:P] [--bytes N] [--bufsize N]
 *
 *   STACK  finack  finack's core on the TUN device IF, driven by one thread
 *                  (epoll on the device, the stack's deadline)
 *          lwip    Debian's lwIP (raw API) on the TUN device IF, same loop
 *          linux   the kernel's sockets (the peer, and both ends over veth)
 *   ROLE   sink    listen on --port, read until EOF, close
 *          source  connect to --peer, write --bytes, half-close, wait for
 *                  the sink's FIN
 *
 * The sink prints one line: stack, role, bytes, seconds from the first byte
 * to EOF, MB/s, and TCP segments received per second (finack's and lwIP's
 * own counts; for Linux, TcpInSegs of its network namespace). Every byte is
 * checked against the sender's pattern. Exit 0 on success, 1 with a line on
 * stderr otherwise. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "finack/finack.h"
#include "finack/runtime.h"
#include "finack/socket.h"
#include "finack/tun.h"
#include "tun_bench.h"

static uint8_t pattern[BENCH_SRC_LEN];

#include <stdarg.h>

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("finack_tun_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

void tun_bench_report(const struct tun_bench_opts *o, const char *stack, uint64_t bytes,
                      double seconds, uint64_t segs_in)
{
    if (seconds <= 0) seconds = 1e-9;
    printf("%s %s bytes=%llu seconds=%.3f MB/s=%.1f segs_in/s=%.0f\n", stack, o->role,
           (unsigned long long)bytes, seconds, (double)bytes / seconds / 1e6,
           (double)segs_in / seconds);
    fflush(stdout);
}

/* Checks data received at stream offset `at`; exits on a mismatch. */
void tun_bench_check(uint64_t at, const uint8_t *data, size_t len)
{
    if (!bench_matches(pattern, at, data, len)) {
        char where[32];
        snprintf(where, sizeof where, "%llu", (unsigned long long)at);
        die("received bytes differ from the pattern near offset %s", where);
    }
}

const uint8_t *tun_bench_pattern(void) { return pattern; }

/* ---- Linux ------------------------------------------------------------------ */

static uint64_t linux_in_segs(void)
{
    FILE *f = fopen("/proc/net/snmp", "r");
    if (!f) return 0;
    char names[1024], values[1024];
    uint64_t result = 0;
    while (fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
        if (strncmp(names, "Tcp:", 4) != 0) continue;
        char *ns = NULL, *vs = NULL;
        char *n = strtok_r(names, " \n", &ns), *v = strtok_r(values, " \n", &vs);
        while (n && v) {
            if (strcmp(n, "InSegs") == 0) result = strtoull(v, NULL, 10);
            n = strtok_r(NULL, " \n", &ns);
            v = strtok_r(NULL, " \n", &vs);
        }
    }
    fclose(f);
    return result;
}

static int linux_run(const struct tun_bench_opts *o)
{
    static uint8_t buf[1 << 16];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket: %s", strerror(errno));
    if (o->bufsize) {
        int v = (int)o->bufsize;
        setsockopt(fd, SOL_SOCKET, strcmp(o->role, "sink") == 0 ? SO_RCVBUF : SO_SNDBUF, &v,
                   sizeof v);
    }
    if (strcmp(o->role, "sink") == 0) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(o->port)};
        if (bind(fd, (struct sockaddr *)&sin, sizeof sin) || listen(fd, 8))
            die("bind/listen: %s", strerror(errno));
        printf("ready\n");
        fflush(stdout);
        int c = accept(fd, NULL, NULL);
        if (c < 0) die("accept: %s", strerror(errno));
        uint64_t got = 0, segs0 = 0;
        double t0 = 0;
        for (;;) {
            ssize_t n = read(c, buf, sizeof buf);
            if (n < 0) die("read: %s", strerror(errno));
            if (n == 0) break;
            if (got == 0) {
                t0 = bench_mono();
                segs0 = linux_in_segs();
            }
            tun_bench_check(got, buf, (size_t)n);
            got += (uint64_t)n;
        }
        double t = bench_mono() - t0;
        tun_bench_report(o, "linux", got, t, linux_in_segs() - segs0);
        close(c);
    } else {
        if (connect(fd, (struct sockaddr *)&o->peer, sizeof o->peer))
            die("connect: %s", strerror(errno));
        uint64_t sent = 0;
        while (sent < o->bytes) {
            size_t off = (size_t)(sent % BENCH_SRC_LEN);
            uint64_t want = o->bytes - sent;
            if (want > BENCH_SRC_LEN - off) want = BENCH_SRC_LEN - off;
            ssize_t n = write(fd, pattern + off, (size_t)want);
            if (n < 0) die("write: %s", strerror(errno));
            sent += (uint64_t)n;
        }
        shutdown(fd, SHUT_WR);
        while (read(fd, buf, sizeof buf) > 0) {
        }
    }
    close(fd);
    return 0;
}

/* ---- finack ----------------------------------------------------------------- */

static int finack_run(const struct tun_bench_opts *o)
{
    static uint8_t buf[1 << 16];
    struct finack_tun *tun;
    int err = finack_tun_open(&tun, o->tun, 0);
    if (err) die("cannot open the TUN device: %s", strerror(-err));
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = "finack";
    struct finack_stack *stack;
    if (finack_stack_create(&stack, &cfg) ||
        finack_stack_add_interface(stack, finack_tun_link(tun), o->addr, o->prefix_len))
        die("%s", "cannot create the stack");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, finack_tun_fd(tun), &ev))
        die("epoll: %s", strerror(errno));

    bool sink = strcmp(o->role, "sink") == 0;
    int fd = finack_socket(stack, AF_INET, SOCK_STREAM, 0);
    int conn = -1;
    if (o->bufsize) {
        int v = (int)o->bufsize;
        finack_setsockopt(stack, fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
        finack_setsockopt(stack, fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    }
    finack_stack_poll(stack, finack_clock_now());
    if (sink) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(o->port),
                                  .sin_addr.s_addr = htonl(o->addr)};
        if (finack_bind(stack, fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
            finack_listen(stack, fd, 8) < 0)
            die("%s", "finack bind/listen failed");
        printf("ready\n");
        fflush(stdout);
    } else {
        err = finack_connect(stack, fd, (const struct sockaddr *)&o->peer, sizeof o->peer);
        if (err != -EINPROGRESS) die("connect: %s", strerror(-err));
        conn = fd;
    }

    uint64_t got = 0, sent = 0, segs0 = 0;
    double t0 = 0;
    bool shut = false, done = false;
    while (!done) {
        finack_time_t now = finack_clock_now();
        finack_tun_receive_batch(tun, stack, now, 0);
        finack_stack_poll(stack, now);
        if (sink && conn < 0) {
            conn = finack_accept(stack, fd, NULL, NULL);
            if (conn < 0 && conn != -EAGAIN) die("accept: %s", strerror(-conn));
        }
        if (sink && conn >= 0) {
            for (;;) {
                ssize_t n = finack_recv(stack, conn, buf, sizeof buf, 0);
                if (n == -EAGAIN) break;
                if (n < 0) die("recv: %s", strerror((int)-n));
                if (n == 0) {
                    double t = bench_mono() - t0;
                    tun_bench_report(o, "finack", got, t,
                                     finack_stack_counter(stack, FINACK_CTR_TCP_IN_SEGS) -
                                         segs0);
                    finack_close(stack, conn);
                    done = true;
                    break;
                }
                if (got == 0) {
                    t0 = bench_mono();
                    segs0 = finack_stack_counter(stack, FINACK_CTR_TCP_IN_SEGS);
                }
                tun_bench_check(got, buf, (size_t)n);
                got += (uint64_t)n;
            }
        }
        if (!sink) {
            while (sent < o->bytes) {
                size_t off = (size_t)(sent % BENCH_SRC_LEN);
                uint64_t want = o->bytes - sent;
                if (want > BENCH_SRC_LEN - off) want = BENCH_SRC_LEN - off;
                ssize_t n = finack_send(stack, conn, pattern + off, (size_t)want, 0);
                if (n == -EAGAIN || n == -ENOTCONN) break;
                if (n < 0) die("send: %s", strerror((int)-n));
                sent += (uint64_t)n;
            }
            if (sent == o->bytes && !shut) {
                finack_shutdown(stack, conn, SHUT_WR);
                shut = true;
            }
            ssize_t n = finack_recv(stack, conn, buf, sizeof buf, 0);
            if (n == 0) {
                finack_close(stack, conn);
                done = true;
            } else if (n < 0 && n != -EAGAIN && n != -ENOTCONN) {
                die("recv: %s", strerror((int)-n));
            }
        }
        if (done) break;
        /* Sleep until the device has packets or the stack's deadline. */
        finack_time_t next = finack_stack_next_deadline(stack);
        now = finack_clock_now();
        int wait_ms = next == FINACK_TIME_NEVER ? 200
                      : next <= now             ? 0
                                                : (int)((next - now + 999) / 1000);
        if (wait_ms > 200) wait_ms = 200;
        struct epoll_event out;
        epoll_wait(ep, &out, 1, wait_ms);
    }
    /* Let the last ACK/FIN go out. */
    finack_time_t end = finack_clock_now() + FINACK_MSEC(200);
    while (finack_clock_now() < end) {
        finack_time_t now = finack_clock_now();
        finack_tun_receive_batch(tun, stack, now, 0);
        finack_stack_poll(stack, now);
        struct epoll_event out;
        epoll_wait(ep, &out, 1, 10);
    }
    if (!sink) tun_bench_report(o, "finack", sent, 0, 0);
    close(ep);
    finack_stack_destroy(stack);
    finack_tun_close(tun);
    return 0;
}

/* ---- arguments -------------------------------------------------------------- */

static void usage(void)
{
    fputs("usage: finack_tun_bench finack|lwip|linux sink|source [--tun IF] [--addr A/LEN]\n"
          "       [--port P] [--peer A:P] [--bytes N] [--bufsize N]\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 3) usage();
    struct tun_bench_opts o = {.stack = argv[1], .role = argv[2], .port = 5001,
                               .bytes = 100u << 20};
    if (strcmp(o.role, "sink") && strcmp(o.role, "source")) usage();
    for (int i = 3; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--tun") == 0) {
            o.tun = v;
        } else if (strcmp(k, "--addr") == 0) {
            if (finack_parse_ipv4(v, &o.addr, &o.prefix_len)) die("bad --addr %s", v);
        } else if (strcmp(k, "--port") == 0) {
            o.port = (uint16_t)atoi(v);
        } else if (strcmp(k, "--peer") == 0) {
            char host[32];
            const char *colon = strchr(v, ':');
            if (!colon || (size_t)(colon - v) >= sizeof host) die("bad --peer %s", v);
            memcpy(host, v, (size_t)(colon - v));
            host[colon - v] = 0;
            o.peer.sin_family = AF_INET;
            o.peer.sin_port = htons((uint16_t)atoi(colon + 1));
            if (inet_pton(AF_INET, host, &o.peer.sin_addr) != 1) die("bad --peer %s", v);
        } else if (strcmp(k, "--bytes") == 0) {
            o.bytes = strtoull(v, NULL, 10);
        } else if (strcmp(k, "--bufsize") == 0) {
            o.bufsize = (uint32_t)strtoul(v, NULL, 10);
        } else {
            usage();
        }
    }
    bench_fill(pattern, sizeof pattern);
    if (strcmp(o.stack, "linux") == 0) return linux_run(&o);
    if (!o.tun || !o.addr) die("%s", "finack and lwip need --tun and --addr");
    if (strcmp(o.stack, "finack") == 0) return finack_run(&o);
    if (strcmp(o.stack, "lwip") == 0) return tun_bench_lwip(&o);
    usage();
}

#ifndef FINACK_BENCH_LWIP
int tun_bench_lwip(const struct tun_bench_opts *o)
{
    (void)o;
    fputs("finack_tun_bench: built without lwIP (apt-get install liblwip-dev, reconfigure)\n",
          stderr);
    return 1;
}
#endif
