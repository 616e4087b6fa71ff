/* finack up: run a stack on a TUN device until a signal or a time limit. */
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "finack/control.h"
#include "finack/pcap.h"
#include "finack/runtime.h"
#include "finack/tun.h"
#include "tool.h"

const char cmd_up_usage[] =
    "usage: finack up --tun IF --addr ADDR[/LEN] [--mtu N] [--pcap FILE] [--duration SEC]\n"
    "\n"
    "Run a finack stack on the TUN device IF with the address ADDR until SIGINT\n"
    "or SIGTERM (or for SEC seconds). The stack answers ping. On exit, the\n"
    "non-zero counters and drop reasons are printed to stderr. While it runs,\n"
    "'finack ss' and 'finack stats' read its table and counters through its\n"
    "control socket.\n"
    "\n"
    "  --tun IF         the TUN device, made beforehand with\n"
    "                   'ip tuntap add dev IF mode tun [user USER]',\n"
    "                   or created (and removed on exit) when run as root\n"
    "  --addr ADDR/LEN  the stack's IPv4 address and prefix (LEN defaults to 32)\n"
    "  --mtu N          set the device MTU, 68 to 65535 (default: keep it)\n"
    "  --pcap FILE      write every packet read and written to FILE (pcap)\n"
    "  --duration SEC   stop after SEC seconds (decimals allowed)\n";

struct up_options {
    const char *tun_name;
    const char *addr_text;
    uint32_t addr;
    uint8_t prefix_len;
    uint32_t mtu;  /* 0 = the device's */
    const char *pcap_path;
    finack_time_t duration;  /* FINACK_TIME_NEVER = until a signal */
};

/* Everything `up` opened, released in reverse by up_release(). */
struct up_session {
    struct finack_tun *tun;
    struct finack_stack *stack;
    struct finack_pcap *pcap;
    struct finack_control *control;
};

/* up_stop is set by SIGINT and SIGTERM; up_interrupt, the flag
 * finack_run_tun() watches, by those and by the control socket's wake-up
 * (SIGUSR1 to this thread), which needs the loop to return and answer.
 * sig_atomic_t is int on Linux, which is what finack_run_tun() reads. */
static volatile sig_atomic_t up_stop;
static volatile sig_atomic_t up_interrupt;
static pthread_t up_thread;

static void up_on_signal(int sig)
{
    up_stop = sig;
    up_interrupt = 1;
}

static void up_on_wake_signal(int sig)
{
    (void)sig;
    up_interrupt = 1;
}

/* From the control thread: a command waits. The flag catches a request
 * that arrives before finack_run_tun() looks at it; the signal cuts an
 * epoll_wait() short. */
static void up_wake(void *ctx)
{
    (void)ctx;
    up_interrupt = 1;
    pthread_kill(up_thread, SIGUSR1);
}

#define UP_MAX_DURATION_S (86400u * 365)

enum { OPT_TUN = 1, OPT_ADDR, OPT_MTU, OPT_PCAP, OPT_DURATION };

static void up_parse(int argc, char **argv, struct up_options *o)
{
    static const struct option options[] = {
        {"tun", required_argument, NULL, OPT_TUN},
        {"addr", required_argument, NULL, OPT_ADDR},
        {"mtu", required_argument, NULL, OPT_MTU},
        {"pcap", required_argument, NULL, OPT_PCAP},
        {"duration", required_argument, NULL, OPT_DURATION},
        {NULL, 0, NULL, 0},
    };
    *o = (struct up_options){.duration = FINACK_TIME_NEVER};
    int c;
    while ((c = tool_next_option(argc, argv, options)) != -1) {
        switch (c) {
        case OPT_TUN: o->tun_name = optarg; break;
        case OPT_ADDR: o->addr_text = optarg; break;
        case OPT_MTU: o->mtu = (uint32_t)tool_parse_uint("--mtu", optarg, 68, 65535); break;
        case OPT_PCAP: o->pcap_path = optarg; break;
        case OPT_DURATION:
            o->duration = tool_parse_seconds("--duration", optarg, UP_MAX_DURATION_S);
            break;
        }
    }
    if (o->tun_name == NULL) tool_usage_error("--tun IF is required (try 'finack help up')");
    if (o->addr_text == NULL)
        tool_usage_error("--addr ADDR/LEN is required (try 'finack help up')");
    if (o->tun_name[0] == '\0' || strlen(o->tun_name) >= IFNAMSIZ)
        tool_usage_error("--tun '%s': a device name has 1 to %d characters", o->tun_name,
                         IFNAMSIZ - 1);
    tool_parse_ipv4_prefix("--addr", o->addr_text, &o->addr, &o->prefix_len);
}

static void up_release(struct up_session *s)
{
    finack_control_stop(s->control);
    if (s->pcap != NULL) {
        finack_tun_set_capture(s->tun, NULL);
        int rc = finack_pcap_close(s->pcap);
        if (rc < 0) tool_error("writing the capture: %s", tool_strerror(rc));
    }
    if (s->stack != NULL) finack_stack_destroy(s->stack);
    finack_tun_close(s->tun);
}

static int up_open_capture(struct up_session *s, const char *path)
{
    int rc = finack_pcap_open_file(&s->pcap, path);
    if (rc < 0) {
        tool_error("cannot write capture '%s': %s", path, tool_strerror(rc));
        return rc;
    }
    finack_pcap_set_epoch(s->pcap, finack_clock_epoch());
    finack_tun_set_capture(s->tun, s->pcap);
    return 0;
}

/* Device first: it is the step most likely to fail, and failing there
 * leaves nothing behind (no capture file, no stack). */
static int up_open(struct up_session *s, const struct up_options *o)
{
    int rc = finack_tun_open(&s->tun, o->tun_name, o->mtu);
    if (rc < 0) {
        tool_error("cannot attach to TUN device '%s': %s%s", o->tun_name, tool_strerror(rc),
                   tool_tun_hint(rc));
        return rc;
    }
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = finack_tun_name(s->tun);
    rc = finack_stack_create(&s->stack, &cfg);
    if (rc < 0) {
        tool_error("cannot create the stack: %s", tool_strerror(rc));
        return rc;
    }
    rc = finack_stack_add_interface(s->stack, finack_tun_link(s->tun), o->addr, o->prefix_len);
    if (rc < 0) {
        tool_error("cannot add address %s: %s", o->addr_text, tool_strerror(rc));
        return rc;
    }
    return o->pcap_path != NULL ? up_open_capture(s, o->pcap_path) : 0;
}

static int up_install_signals(void)
{
    /* No SA_RESTART: the signal must cut the loop's epoll_wait() short. */
    struct sigaction sa = {.sa_handler = up_on_signal};
    sigemptyset(&sa.sa_mask);
    struct sigaction wake = {.sa_handler = up_on_wake_signal};
    sigemptyset(&wake.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0 ||
        sigaction(SIGUSR1, &wake, NULL) < 0)
        return -errno;
    up_thread = pthread_self();
    return 0;
}

static void up_print_report(const struct up_session *s, const struct up_options *o)
{
    char title[64];
    char addr[16];
    snprintf(title, sizeof(title), "up %s %s/%u", finack_tun_name(s->tun),
             finack_format_ipv4(o->addr, addr), (unsigned)o->prefix_len);
    tool_print_counters(stderr, s->stack, title);
    struct finack_tun_stats st;
    finack_tun_get_stats(s->tun, &st);
    fprintf(stderr, "#finack tun\n%-32s%" PRIu64 "\n%-32s%" PRIu64 "\n", "TunRxPackets",
            st.rx_packets, "TunTxPackets", st.tx_packets);
    if (st.tx_eagain != 0) fprintf(stderr, "%-32s%" PRIu64 "\n", "TunTxEagain", st.tx_eagain);
    if (st.tx_errors != 0) fprintf(stderr, "%-32s%" PRIu64 "\n", "TunTxErrors", st.tx_errors);
}

static int up_run(struct up_session *s, const struct up_options *o)
{
    finack_time_t start = finack_clock_now();
    finack_time_t until = o->duration == FINACK_TIME_NEVER ? FINACK_TIME_NEVER
                                                            : start + o->duration;
    char addr[16];
    /* Scripts wait for this line to know the device is attached. */
    fprintf(stderr, "finack up: %s %s/%u mtu %u running\n", finack_tun_name(s->tun),
            finack_format_ipv4(o->addr, addr), (unsigned)o->prefix_len,
            (unsigned)finack_tun_link(s->tun)->mtu);
    int rc = 0;
    /* The control socket is served here, between runs of the loop, on
     * this thread: finack_run_tun() owns the stack without a lock. The
     * flag is cleared before the pending command is answered, so one that
     * arrives after the answer interrupts the next run. */
    while (rc == 0 && !up_stop && finack_clock_now() < until) {
        up_interrupt = 0;
        if (s->control) finack_control_poll(s->control, s->stack);
        rc = finack_run_tun(s->stack, s->tun, &up_interrupt, until);
    }
    if (rc < 0) tool_error("%s: %s", finack_tun_name(s->tun), tool_strerror(rc));
    up_print_report(s, o);
    return rc;
}

int cmd_up(int argc, char **argv)
{
    struct up_options o;
    up_parse(argc, argv, &o);
    int rc = up_install_signals();
    if (rc < 0) {
        tool_error("cannot install signal handlers: %s", tool_strerror(rc));
        return TOOL_EXIT_FAILURE;
    }
    struct up_session s = {0};
    rc = up_open(&s, &o);
    if (rc == 0) {
        /* Without it the stack still runs; only finack ss cannot see it. */
        int crc = finack_control_start_polled(&s.control, "up", up_wake, NULL);
        if (crc < 0) tool_error("no control socket (finack ss will not see this process): %s",
                                tool_strerror(crc));
        rc = up_run(&s, &o);
    }
    up_release(&s);
    return rc < 0 ? TOOL_EXIT_FAILURE : TOOL_EXIT_OK;
}
