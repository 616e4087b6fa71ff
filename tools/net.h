/* What the network subcommands (cat, echo, http) share: the options that
 * set up a stack on a TUN device, the session that runs it in a loop
 * thread (finack/loop.h), and a wait that a signal cuts short.
 *
 * Signals: net_open() blocks SIGINT and SIGTERM in every thread and
 * net_poll() lets them in only while it sleeps (ppoll), so a signal is
 * never lost between checking net_stop and going to sleep. */
#ifndef FINACK_TOOLS_NET_H
#define FINACK_TOOLS_NET_H

#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "finack/control.h"
#include "finack/impair.h"
#include "finack/loop.h"

/* Option values above any short option character. */
enum {
    NET_OPT_TUN = 0x100,
    NET_OPT_ADDR,
    NET_OPT_MTU,
    NET_OPT_MSS,
    NET_OPT_SNDBUF,
    NET_OPT_RCVBUF,
    NET_OPT_PCAP,
    NET_OPT_LOSS,
    NET_OPT_DELAY,
    NET_OPT_REORDER,
    NET_OPT_DUPLICATE,
    NET_OPT_SEED,
    NET_OPT_VERBOSE,
    NET_OPT_TRACE,
    NET_OPT_MSL,
    NET_OPT__END, /* a subcommand's own options start here */
};

/* The entries for a subcommand's struct option table. */
#define NET_LONG_OPTIONS                                                                        \
    {"tun", required_argument, NULL, NET_OPT_TUN},                                              \
        {"addr", required_argument, NULL, NET_OPT_ADDR},                                        \
        {"mtu", required_argument, NULL, NET_OPT_MTU},                                          \
        {"mss", required_argument, NULL, NET_OPT_MSS},                                          \
        {"sndbuf", required_argument, NULL, NET_OPT_SNDBUF},                                    \
        {"rcvbuf", required_argument, NULL, NET_OPT_RCVBUF},                                    \
        {"pcap", required_argument, NULL, NET_OPT_PCAP},                                        \
        {"loss", required_argument, NULL, NET_OPT_LOSS},                                        \
        {"delay", required_argument, NULL, NET_OPT_DELAY},                                      \
        {"reorder", required_argument, NULL, NET_OPT_REORDER},                                  \
        {"duplicate", required_argument, NULL, NET_OPT_DUPLICATE},                              \
        {"seed", required_argument, NULL, NET_OPT_SEED},                                        \
        {"verbose", no_argument, NULL, NET_OPT_VERBOSE},                                        \
        {"trace", required_argument, NULL, NET_OPT_TRACE},                                      \
        {"msl", required_argument, NULL, NET_OPT_MSL}

/* The text for the options above, for each subcommand's usage. */
#define NET_OPTIONS_USAGE                                                                       \
    "Network options (the stack and its device):\n"                                             \
    "  --tun IF         the TUN device: one made beforehand with 'ip tuntap add dev IF\n"       \
    "                   mode tun [user USER]', or created (and removed on exit) as root\n"     \
    "  --addr ADDR/LEN  the stack's IPv4 address and prefix (LEN defaults to 32)\n"             \
    "  --mtu N          set the device MTU, 68 to 65535 (default: keep it)\n"                   \
    "  --mss N          TCP_MAXSEG for every connection, 88 to 32767 (default: from MTU)\n"     \
    "  --sndbuf BYTES   SO_SNDBUF for every connection (default 262144: finack does\n"       \
    "                   not grow it by itself as Linux's autotuning would)\n"                  \
    "  --rcvbuf BYTES   SO_RCVBUF for every connection\n"                                      \
    "  --pcap FILE      write every packet read from and written to the device to FILE\n"     \
    "  --loss P         drop each packet with probability P (0 to 1)\n"                         \
    "  --delay MS       hold each packet MS milliseconds (decimals allowed)\n"                  \
    "  --reorder P      let the next packet overtake each one with probability P\n"            \
    "  --duplicate P    send each packet twice with probability P\n"                            \
    "  --seed N         seed for the impairments' random draws (default 1)\n"                   \
    "  --verbose        print the stack's counters to stderr on exit\n"                         \
    "  --trace FILE     write every state change, segment, drop and timer as JSON\n"            \
    "                   lines to FILE (docs/TRACE.md; 'finack ladder FILE' draws it)\n"        \
    "  --msl SEC        Maximum Segment Lifetime: TIME_WAIT lasts 2 x SEC (default 60;\n"    \
    "                   decimals allowed)\n"                                                     \
    "Impairments apply on finack's side of the device, in both directions, each\n"              \
    "with its own random stream (finack/impair.h); the capture sees the device side.\n"

/* The stack's 16 KiB default send buffer holds a TUN link to ~60 MB/s
 * each way on an echo; 256 KiB lets it reach ~100 MB/s, and a ring that
 * small is given back when it drains (idle connections cost nothing). */
#define NET_DEFAULT_SNDBUF (256 << 10)

struct net_options {
    const char *tun_name;
    const char *addr_text;
    uint32_t addr;  /* host byte order */
    uint8_t prefix_len;
    uint32_t mtu;   /* 0: the device's */
    int mss, sndbuf, rcvbuf; /* 0: the stack's default (sndbuf: NET_DEFAULT_SNDBUF) */
    const char *pcap_path;
    const char *trace_path;
    finack_time_t msl;       /* 0: the stack's default */
    struct finack_impair_config impair;
    bool verbose;
};

/* Defaults for every field. */
void net_options_init(struct net_options *o);
/* Takes option c (with its value) if it is one of NET_LONG_OPTIONS; a bad
 * value is a usage error. Returns whether c was taken. */
bool net_option(struct net_options *o, int c, const char *value);
/* After parsing: --tun and --addr are required, the address must parse. */
void net_options_check(struct net_options *o);

/* Set by SIGINT or SIGTERM once net_open() ran. */
extern volatile sig_atomic_t net_stop;

struct net_session {
    struct finack_tun *tun;
    struct finack_impair *impair;
    struct finack_pcap *pcap;
    struct tool_trace *trace;
    struct finack_stack *stack;
    struct finack_loop *loop;
    struct finack_control *control; /* NULL if it could not start */
    const struct net_options *options;
};

/* Attach to the device, create the stack (and the impairments and the
 * capture if asked), start the loop and the control socket that `finack
 * ss` and `finack stats` read (shown there as name). On failure, says why
 * in one line and releases what it opened; returns a negative errno. A
 * control socket that cannot start is a warning, not a failure. */
int net_open(struct net_session *s, const struct net_options *o, const char *name);
/* Stop the loop, report (with --verbose), release everything. */
void net_close(struct net_session *s);

/* A socket with the session's --mss/--sndbuf/--rcvbuf, non-blocking. */
int net_socket(struct net_session *s);

/* Wait until a finack socket in fds (finack_loop_poll semantics) or a
 * real descriptor in real (poll(2) semantics; may be NULL) is ready.
 * Returns how many finack sockets are ready (real ones show in their
 * revents), -EINTR once a signal asked to stop, or -ENETDOWN (said on
 * stderr) once the device stopped working. */
int net_poll(struct net_session *s, struct pollfd *fds, nfds_t n, struct pollfd *real,
             nfds_t nreal);
/* The same, returning 0 once the clock (finack_clock_now) reaches until
 * with nothing ready. */
int net_poll_until(struct net_session *s, struct pollfd *fds, nfds_t n, struct pollfd *real,
                   nfds_t nreal, finack_time_t until);

/* "a.b.c.d:port" of a sockaddr_in, into buf (at least 22 bytes). */
const char *net_format_endpoint(uint32_t addr, uint16_t port, char *buf);

#endif
