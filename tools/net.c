/* The network subcommands' shared options and session (see net.h). */
#include "net.h"

#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "finack/control.h"
#include "finack/pcap.h"
#include "finack/trace.h"
#include "finack/runtime.h"
#include "finack/socket.h"
#include "finack/tun.h"
#include "tool.h"

volatile sig_atomic_t net_stop;

/* The signal mask net_poll() sleeps with: the caller's, SIGINT and
 * SIGTERM let in. */
static sigset_t net_sleep_mask;

#define NET_MAX_DELAY_S 60u

/* Milliseconds, decimals allowed, 0 to NET_MAX_DELAY_S seconds; in µs. */
static finack_time_t net_parse_ms(const char *option, const char *text)
{
    char *end = NULL;
    errno = 0;
    double v = text[0] >= '0' && text[0] <= '9' ? strtod(text, &end) : -1.0;
    if (end == NULL || end == text || *end != '\0' || errno != 0 || !(v >= 0.0) ||
        !(v <= NET_MAX_DELAY_S * 1000.0))
        tool_usage_error("%s '%s': expected milliseconds from 0 to %u", option, text,
                         NET_MAX_DELAY_S * 1000u);
    return (finack_time_t)(v * 1000.0 + 0.5);
}

void net_options_init(struct net_options *o)
{
    *o = (struct net_options){.impair.seed = 1, .sndbuf = NET_DEFAULT_SNDBUF};
}

bool net_option(struct net_options *o, int c, const char *value)
{
    switch (c) {
    case NET_OPT_TUN: o->tun_name = value; break;
    case NET_OPT_ADDR: o->addr_text = value; break;
    case NET_OPT_MTU: o->mtu = (uint32_t)tool_parse_uint("--mtu", value, 68, 65535); break;
    case NET_OPT_MSS: o->mss = (int)tool_parse_uint("--mss", value, 88, 32767); break;
    case NET_OPT_SNDBUF:
        o->sndbuf = (int)tool_parse_uint("--sndbuf", value, 1, 64u << 20);
        break;
    case NET_OPT_RCVBUF:
        o->rcvbuf = (int)tool_parse_uint("--rcvbuf", value, 1, 64u << 20);
        break;
    case NET_OPT_PCAP: o->pcap_path = value; break;
    case NET_OPT_LOSS: o->impair.loss = tool_parse_probability("--loss", value); break;
    case NET_OPT_REORDER: o->impair.reorder = tool_parse_probability("--reorder", value); break;
    case NET_OPT_DUPLICATE:
        o->impair.duplicate = tool_parse_probability("--duplicate", value);
        break;
    case NET_OPT_DELAY: o->impair.delay = net_parse_ms("--delay", value); break;
    case NET_OPT_SEED: o->impair.seed = tool_parse_uint("--seed", value, 0, UINT64_MAX); break;
    case NET_OPT_VERBOSE: o->verbose = true; break;
    case NET_OPT_TRACE: o->trace_path = value; break;
    case NET_OPT_MSL: o->msl = tool_parse_seconds("--msl", value, 3600); break;
    default: return false;
    }
    return true;
}

void net_options_check(struct net_options *o)
{
    if (o->tun_name == NULL) tool_usage_error("--tun IF is required");
    if (o->addr_text == NULL) tool_usage_error("--addr ADDR[/LEN] is required");
    if (o->tun_name[0] == '\0' || strlen(o->tun_name) >= IFNAMSIZ)
        tool_usage_error("--tun '%s': a device name has 1 to %d characters", o->tun_name,
                         IFNAMSIZ - 1);
    tool_parse_ipv4_prefix("--addr", o->addr_text, &o->addr, &o->prefix_len);
}

static bool net_impaired(const struct net_options *o)
{
    const struct finack_impair_config *c = &o->impair;
    return c->loss > 0 || c->duplicate > 0 || c->reorder > 0 || c->delay > 0;
}

static void net_on_signal(int sig) { net_stop = sig; }

/* Block SIGINT/SIGTERM here and in every thread started from now on
 * (the loop thread inherits the mask); net_poll() unblocks them while it
 * sleeps. */
static int net_install_signals(void)
{
    struct sigaction sa = {.sa_handler = net_on_signal};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) return -errno;
    /* A peer that goes away must not kill us through stdout. */
    signal(SIGPIPE, SIG_IGN);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    int rc = pthread_sigmask(SIG_BLOCK, &block, &net_sleep_mask);
    if (rc) return -rc;
    sigdelset(&net_sleep_mask, SIGINT);
    sigdelset(&net_sleep_mask, SIGTERM);
    return 0;
}

static ssize_t net_tun_read(void *ctx, uint8_t *buf, size_t cap, finack_time_t now)
{
    return finack_tun_read(ctx, buf, cap, now);
}

static int net_open_stack(struct net_session *s, const struct net_options *o,
                          struct finack_loop_link *link)
{
    *link = finack_tun_loop_link(s->tun);
    if (net_impaired(o)) {
        int rc = finack_impair_create(&s->impair, &o->impair);
        struct finack_impair_device dev = {.link = finack_tun_link(s->tun),
                                           .fd = finack_tun_fd(s->tun),
                                           .read = net_tun_read,
                                           .ctx = s->tun};
        if (rc == 0) rc = finack_impair_attach(s->impair, &dev, link);
        if (rc < 0) {
            tool_error("cannot set up the impairments: %s", tool_strerror(rc));
            return rc;
        }
    }
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = finack_tun_name(s->tun);
    cfg.msl = o->msl;
    int rc = finack_stack_create(&s->stack, &cfg);
    if (rc < 0) {
        tool_error("cannot create the stack: %s", tool_strerror(rc));
        return rc;
    }
    rc = finack_stack_add_interface(s->stack, link->link, o->addr, o->prefix_len);
    if (rc < 0) tool_error("cannot add address %s: %s", o->addr_text, tool_strerror(rc));
    return rc;
}

/* The kernel's own address on any of its interfaces, given to finack too,
 * would make two hosts answer for it: refuse it as "address in use" (the
 * usual mistake: --addr with the address just given to the device). */
static int net_check_address(const struct net_options *o)
{
    struct ifaddrs *list;
    if (getifaddrs(&list) < 0) return 0; /* cannot tell: let it run */
    int rc = 0;
    for (struct ifaddrs *i = list; i != NULL && rc == 0; i = i->ifa_next) {
        if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET) continue;
        const struct sockaddr_in *sin = (const struct sockaddr_in *)i->ifa_addr;
        if (ntohl(sin->sin_addr.s_addr) != o->addr) continue;
        char text[16];
        tool_error("cannot use address %s: %s (the kernel has it on %s; give finack another "
                   "address on that subnet)",
                   finack_format_ipv4(o->addr, text), tool_strerror(-EADDRINUSE), i->ifa_name);
        rc = -EADDRINUSE;
    }
    freeifaddrs(list);
    return rc;
}

int net_open(struct net_session *s, const struct net_options *o, const char *name)
{
    *s = (struct net_session){.options = o};
    int rc = net_install_signals();
    if (rc < 0) {
        tool_error("cannot install signal handlers: %s", tool_strerror(rc));
        return rc;
    }
    rc = net_check_address(o);
    if (rc < 0) return rc;
    /* Device first: it is the step most likely to fail, and failing there
     * leaves nothing behind. */
    rc = finack_tun_open(&s->tun, o->tun_name, o->mtu);
    if (rc < 0) {
        tool_error("cannot attach to TUN device '%s': %s%s", o->tun_name, tool_strerror(rc),
                   tool_tun_hint(rc));
        return rc;
    }
    struct finack_loop_link link;
    rc = net_open_stack(s, o, &link);
    if (rc == 0 && o->pcap_path != NULL) {
        rc = finack_pcap_open_file(&s->pcap, o->pcap_path);
        if (rc < 0) {
            tool_error("cannot write capture '%s': %s", o->pcap_path, tool_strerror(rc));
        } else {
            finack_pcap_set_epoch(s->pcap, finack_clock_epoch());
            finack_tun_set_capture(s->tun, s->pcap);
        }
    }
    if (rc == 0 && o->trace_path != NULL) {
        rc = tool_trace_open(&s->trace, o->trace_path);
        if (rc < 0)
            tool_error("cannot write trace '%s': %s", o->trace_path, tool_strerror(rc));
        else
            finack_stack_set_trace(s->stack, tool_trace_event, s->trace);
    }
    if (rc == 0) {
        rc = finack_loop_start(&s->loop, s->stack, &link);
        if (rc < 0) tool_error("cannot start the run loop: %s", tool_strerror(rc));
    }
    if (rc == 0) {
        /* For `finack ss` and `finack stats`; the command runs without. */
        int crc = finack_control_start(&s->control, s->loop, name);
        if (crc < 0)
            tool_error("no control socket, 'finack ss' will not see this process: %s",
                       tool_strerror(crc));
    }
    if (rc < 0) net_close(s);
    return rc;
}

static void net_report(struct net_session *s)
{
    tool_print_counters(stderr, s->stack, finack_tun_name(s->tun));
    struct finack_tun_stats st;
    finack_tun_get_stats(s->tun, &st);
    fprintf(stderr,
            "#finack tun\nTunRxPackets %" PRIu64 " TunTxPackets %" PRIu64
            " TunTxEagain %" PRIu64 " TunTxErrors %" PRIu64 "\n",
            st.rx_packets, st.tx_packets, st.tx_eagain, st.tx_errors);
    if (s->impair == NULL) return;
    static const char *const names[] = {"in", "out"};
    for (int d = 0; d < 2; d++) {
        struct finack_impair_stats is;
        finack_impair_get_stats(s->impair, (enum finack_impair_dir)d, &is);
        fprintf(stderr,
                "#finack impair %s: packets %" PRIu64 " lost %" PRIu64 " duplicated %" PRIu64
                " reordered %" PRIu64 " queue_drops %" PRIu64 " delivered %" PRIu64 "\n",
                names[d], is.packets, is.lost, is.duplicated, is.reordered, is.queue_drops,
                is.delivered);
    }
}

void net_close(struct net_session *s)
{
    finack_control_stop(s->control); /* it calls into the loop: before the loop stops */
    if (s->loop != NULL) finack_loop_stop(s->loop);
    if (s->options->verbose && s->stack != NULL) net_report(s);
    if (s->pcap != NULL) {
        finack_tun_set_capture(s->tun, NULL);
        int rc = finack_pcap_close(s->pcap);
        if (rc < 0) tool_error("writing the capture: %s", tool_strerror(rc));
    }
    if (s->trace != NULL) {
        finack_stack_set_trace(s->stack, NULL, NULL);
        int rc = tool_trace_close(s->trace);
        if (rc < 0) tool_error("writing the trace: %s", tool_strerror(rc));
    }
    if (s->stack != NULL) finack_stack_destroy(s->stack);
    finack_impair_destroy(s->impair);
    finack_tun_close(s->tun); /* a device created here goes with it */
    *s = (struct net_session){.options = s->options};
}

int net_socket(struct net_session *s)
{
    const struct net_options *o = s->options;
    int fd = finack_loop_socket(s->loop, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) return fd;
    int rc = 0;
    if (o->mss) rc = finack_loop_setsockopt(s->loop, fd, IPPROTO_TCP, TCP_MAXSEG, &o->mss,
                                            sizeof o->mss);
    if (rc == 0 && o->sndbuf)
        rc = finack_loop_setsockopt(s->loop, fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf,
                                    sizeof o->sndbuf);
    if (rc == 0 && o->rcvbuf)
        rc = finack_loop_setsockopt(s->loop, fd, SOL_SOCKET, SO_RCVBUF, &o->rcvbuf,
                                    sizeof o->rcvbuf);
    if (rc < 0) {
        finack_loop_close(s->loop, fd);
        return rc;
    }
    return fd;
}

#define NET_MAX_REAL 4

int net_poll(struct net_session *s, struct pollfd *fds, nfds_t n, struct pollfd *real,
             nfds_t nreal)
{
    return net_poll_until(s, fds, n, real, nreal, FINACK_TIME_NEVER);
}

int net_poll_until(struct net_session *s, struct pollfd *fds, nfds_t n, struct pollfd *real,
                   nfds_t nreal, finack_time_t until)
{
    if (nreal > NET_MAX_REAL) return -EINVAL;
    int readyfd = finack_loop_ready_fd(s->loop);
    for (;;) {
        if (net_stop) return -EINTR;
        int link_error = finack_loop_link_error(s->loop);
        if (link_error < 0) {
            tool_error("the device %s stopped working (deleted?): %s", s->options->tun_name,
                       tool_strerror(link_error));
            return -ENETDOWN;
        }
        /* Reset the readiness counter before looking: a change after the
         * look makes it readable again, so the sleep below cannot miss it. */
        uint64_t count;
        ssize_t r = read(readyfd, &count, sizeof count);
        (void)r;
        int ready = finack_loop_poll(s->loop, fds, n, 0);
        if (ready < 0) return ready;
        struct pollfd all[1 + NET_MAX_REAL];
        all[0] = (struct pollfd){.fd = readyfd, .events = POLLIN};
        for (nfds_t i = 0; i < nreal; i++) all[1 + i] = real[i];
        struct timespec wait = {0, 0};
        const struct timespec *timeout = &wait;
        if (ready == 0) {
            finack_time_t now = finack_clock_now();
            if (until != FINACK_TIME_NEVER && now >= until) return 0;
            if (until == FINACK_TIME_NEVER) {
                timeout = NULL;
            } else {
                wait.tv_sec = (time_t)((until - now) / 1000000u);
                wait.tv_nsec = (long)((until - now) % 1000000u) * 1000;
            }
        }
        int rr = ppoll(all, 1 + nreal, timeout, &net_sleep_mask);
        if (rr < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        bool real_ready = false;
        for (nfds_t i = 0; i < nreal; i++) {
            real[i].revents = all[1 + i].revents;
            if (real[i].revents) real_ready = true;
        }
        if (ready > 0 || real_ready) return ready;
    }
}

const char *net_format_endpoint(uint32_t addr, uint16_t port, char *buf)
{
    char a[16];
    snprintf(buf, 22, "%s:%u", finack_format_ipv4(addr, a), (unsigned)port);
    return buf;
}
