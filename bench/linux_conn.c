/* The Linux kernel's connection rate over loopback, beside finack's and
 * lwIP's: n TCP connections from this process to listeners in this process
 * over 127.0.0.1, one thread, as the other two are driven. Clients are
 * non-blocking sockets whose connect() starts the handshake (over lo the
 * kernel usually completes it inside the call, in the softirq run on the
 * way out); every 128 connects the thread accept4()s whatever is queued,
 * as finack's and lwIP's runs accept every 128. The figure is the wall
 * time from the first socket() to the last accept(), both ends then
 * ESTABLISHED (checked with TCP_INFO afterwards, untimed).
 *
 * Ports: the connections are spread over bench_conn_ports(n) listeners, as
 * for the other stacks, so no destination uses more than half the
 * ephemeral range. Closing: every descriptor gets SO_LINGER {1, 0}
 * (untimed), then all are closed, clients first: each close sends a RST,
 * which resets the peer inside the same call. No connection passes
 * through TIME_WAIT, so no port stays taken for the next run; the close
 * rate is that of an abortive close.
 *
 * Each connection takes two descriptors in this one process, so
 * RLIMIT_NOFILE bounds n; main() raises the soft limit to the hard one, and
 * when that is still short n is reduced here and the reason noted. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

#define SPARE_FDS 16 /* for /proc reads, stdio, the lwIP library, ... */

unsigned long bench_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl)) return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit up = {.rlim_cur = rl.rlim_max, .rlim_max = rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &up) == 0) rl = up;
    }
    return rl.rlim_cur == RLIM_INFINITY ? (unsigned long)-1 : (unsigned long)rl.rlim_cur;
}

static unsigned long nofile_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl)) return 0;
    return rl.rlim_cur == RLIM_INFINITY ? (unsigned long)-1 : (unsigned long)rl.rlim_cur;
}

/* Descriptors open now. */
static unsigned long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 64; /* a guess on the safe side */
    unsigned long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n ? n - 1 : 0; /* not the directory's own */
}

/* TcpExt counter from /proc/net/netstat (0 when absent). */
static unsigned long long tcpext(const char *name)
{
    FILE *f = fopen("/proc/net/netstat", "r");
    if (!f) return 0;
    static char names[8192], values[8192];
    unsigned long long v = 0;
    while (fgets(names, sizeof names, f) && fgets(values, sizeof values, f)) {
        if (strncmp(names, "TcpExt:", 7) || strncmp(values, "TcpExt:", 7)) continue;
        char *sn, *sv;
        char *kn = strtok_r(names + 7, " \n", &sn), *kv = strtok_r(values + 7, " \n", &sv);
        for (; kn && kv; kn = strtok_r(NULL, " \n", &sn), kv = strtok_r(NULL, " \n", &sv))
            if (!strcmp(kn, name)) {
                v = strtoull(kv, NULL, 10);
                break;
            }
        break;
    }
    fclose(f);
    return v;
}

static void set_linger0(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static int tcp_state(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len)) return -1;
    return ti.tcpi_state;
}

/* Accept what is queued on the listeners; -errno on a real error. */
static int accept_all(const int *lfd, unsigned ports, int *afds, unsigned *accepted, unsigned n)
{
    for (unsigned k = 0; k < ports; k++) {
        while (*accepted < n) {
            int fd = accept4(lfd[k], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0) {
                afds[(*accepted)++] = fd;
                continue;
            }
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            return -errno;
        }
    }
    return 0;
}

#define FAIL(r, ...)                                      \
    do {                                                  \
        snprintf((r)->why, sizeof (r)->why, __VA_ARGS__); \
        goto out;                                         \
    } while (0)

void linux_connect_rate(unsigned n, struct linux_conn_result *r)
{
    memset(r, 0, sizeof *r);
    r->want = n;
    /* Two descriptors per connection, plus the listeners and some spare. */
    unsigned long limit = nofile_limit(), used = open_fds();
    unsigned long reserve = used + bench_conn_ports(n) + SPARE_FDS;
    unsigned long room = limit > reserve ? (limit - reserve) / 2 : 0;
    if (room < n) {
        snprintf(r->note, sizeof r->note,
                 "ran %lu connections: RLIMIT_NOFILE %lu (the hard limit), 2 descriptors each",
                 room, limit);
        n = (unsigned)room;
    }
    unsigned ports = bench_conn_ports(n);
    int lfd[BENCH_MAX_PORTS];
    struct sockaddr_in la[BENCH_MAX_PORTS];
    for (unsigned k = 0; k < BENCH_MAX_PORTS; k++) lfd[k] = -1;
    int *cfds = malloc((size_t)(n ? n : 1) * sizeof *cfds);
    int *afds = malloc((size_t)(n ? n : 1) * sizeof *afds);
    unsigned opened = 0, accepted = 0;
    if (!cfds || !afds) FAIL(r, "out of memory");
    if (n == 0) FAIL(r, "no descriptors to spare (RLIMIT_NOFILE %lu)", limit);
    if (ports > BENCH_MAX_PORTS) FAIL(r, "too many connections");

    for (unsigned k = 0; k < ports; k++) {
        int one = 1;
        la[k] = (struct sockaddr_in){.sin_family = AF_INET,
                                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t alen = sizeof la[k];
        lfd[k] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (lfd[k] < 0 || setsockopt(lfd[k], SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
            bind(lfd[k], (struct sockaddr *)&la[k], sizeof la[k]) || listen(lfd[k], 4096) ||
            getsockname(lfd[k], (struct sockaddr *)&la[k], &alen))
            FAIL(r, "loopback listener: %s", strerror(errno));
    }

    unsigned long long overflows0 = tcpext("ListenOverflows"), drops0 = tcpext("ListenDrops");
    double w0 = bench_mono();
    for (; opened < n; opened++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) FAIL(r, "socket %u: %s", opened, strerror(errno));
        cfds[opened] = fd;
        if (connect(fd, (struct sockaddr *)&la[opened % ports], sizeof la[0]) &&
            errno != EINPROGRESS) {
            opened++; /* to be closed */
            FAIL(r, "connect %u: %s", opened - 1, strerror(errno));
        }
        if (opened % 128 == 127 || opened == n - 1) {
            int err = accept_all(lfd, ports, afds, &accepted, n);
            if (err) FAIL(r, "accept: %s", strerror(-err));
        }
    }
    for (double t = bench_mono(); accepted < n;) {
        if (bench_mono() - t > 10) FAIL(r, "only %u of %u connections accepted", accepted, n);
        struct pollfd pfd[BENCH_MAX_PORTS];
        for (unsigned k = 0; k < ports; k++)
            pfd[k] = (struct pollfd){.fd = lfd[k], .events = POLLIN};
        poll(pfd, ports, 100);
        int err = accept_all(lfd, ports, afds, &accepted, n);
        if (err) FAIL(r, "accept: %s", strerror(-err));
    }
    r->setup_s = bench_mono() - w0;
    r->conns = n;
    r->ports = ports;
    unsigned long long overflows = tcpext("ListenOverflows") - overflows0;
    unsigned long long drops = tcpext("ListenDrops") - drops0;
    if (overflows || drops) {
        size_t len = strlen(r->note);
        snprintf(r->note + len, sizeof r->note - len, "%slisten queue overflows %llu, drops %llu",
                 len ? "; " : "", overflows, drops);
    }
    for (unsigned i = 0; i < n; i++) {
        int cs = tcp_state(cfds[i]), as = tcp_state(afds[i]);
        if (cs != TCP_ESTABLISHED || as != TCP_ESTABLISHED)
            FAIL(r, "connection %u is not ESTABLISHED (client state %d, server %d)", i, cs, as);
    }

    for (unsigned i = 0; i < n; i++) {
        set_linger0(cfds[i]);
        set_linger0(afds[i]);
    }
    double c0 = bench_mono();
    for (unsigned i = 0; i < n; i++) close(cfds[i]);
    for (unsigned i = 0; i < n; i++) close(afds[i]);
    r->close_s = bench_mono() - c0;
    opened = accepted = 0;
    r->ok = true;
out:
    for (unsigned i = 0; i < opened; i++) {
        set_linger0(cfds[i]);
        close(cfds[i]);
    }
    for (unsigned i = 0; i < accepted; i++) {
        set_linger0(afds[i]);
        close(afds[i]);
    }
    for (unsigned k = 0; k < BENCH_MAX_PORTS; k++)
        if (lfd[k] >= 0) close(lfd[k]);
    free(cfds);
    free(afds);
}
