/* finack demo: the main job on the built-in default. Two stacks meet over
 * the simulated link (virtual clock, seeded faults): a handshake, a
 * transfer with a half-close, the 4-way close and TIME_WAIT, printed as a
 * ladder of segments and states. No root, no network. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "finack/pcap.h"
#include "finack/sim.h"
#include "finack/socket.h"
#include "tool.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

const char cmd_demo_usage[] =
    "usage: finack demo [--seed N] [--loss P] [--delay MS] [--bytes N] [--pcap FILE]\n"
    "\n"
    "Runs a TCP connection between two finack stacks on the simulated link and\n"
    "prints it as a ladder: each segment with flags, relative seq/ack, window\n"
    "and length, each end's state where it changes, lost segments marked.\n"
    "\n"
    "  --seed N      seed of the link's faults and the stacks' secrets (default 1)\n"
    "  --loss P      loss probability each way, 0..0.5 (default 0.02)\n"
    "  --delay MS    one-way latency in milliseconds (default 10)\n"
    "  --bytes N     bytes the client sends (default 12000)\n"
    "  --pcap FILE   also write the client side's capture to FILE\n";

#define CLIENT_IP 0x0a000001u
#define SERVER_IP 0x0a000002u
#define MAX_EVENTS 4096
#define COLUMN 24

enum event_kind { EV_STATE, EV_SEGMENT };

struct event {
    finack_time_t t;
    enum event_kind kind;
    int side;            /* 0 client, 1 server: who changed state or sent */
    char text[96];
    bool lost;
};

struct demo {
    struct event events[MAX_EVENTS];
    size_t count;
    uint32_t isn[2];
    bool have_isn[2];
    struct finack_pcap *capture[2];
};

static struct event *add_event(struct demo *d, finack_time_t t, enum event_kind kind, int side)
{
    if (d->count == MAX_EVENTS) return NULL;
    struct event *e = &d->events[d->count++];
    memset(e, 0, sizeof *e);
    e->t = t;
    e->kind = kind;
    e->side = side;
    return e;
}

struct side_ctx {
    struct demo *d;
    int side;
};

static void on_state(void *ctx, const struct finack_state_event *ev)
{
    struct side_ctx *sc = ctx;
    struct event *e = add_event(sc->d, ev->t, EV_STATE, sc->side);
    if (e) snprintf(e->text, sizeof e->text, "%s", ev->to);
}

/* Packets a side sent, from its own capture; "lost" if the other side's
 * capture never saw the same IP ID arrive. */
struct capture_scan {
    struct demo *d;
    int side;
    uint32_t self;
    /* IDs delivered to the other side (filled in a first pass). */
    uint8_t *arrived;
};

static int mark_arrivals(void *ctx, const uint8_t *pkt, size_t len, uint64_t t)
{
    (void)t;
    struct capture_scan *s = ctx;
    struct ipv4_header ip;
    if (wire_ipv4_parse(pkt, len, false, &ip) != FINACK_DROP_NONE) return 0;
    if (ip.dst == s->self) s->arrived[ip.id] = 1;
    /* Learn the sender's ISN from its SYN, for relative numbers. */
    struct tcp_segment seg;
    if (ip.protocol == IPPROTO_TCP_ && ip.src != s->self &&
        wire_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, false, &seg) == FINACK_DROP_NONE &&
        (seg.flags & TCP_FLAG_SYN) && !s->d->have_isn[s->side]) {
        s->d->isn[s->side] = seg.seq;
        s->d->have_isn[s->side] = true;
    }
    return 0;
}

static void describe(const struct demo *d, int side, const struct tcp_segment *seg, char *out,
                     size_t n)
{
    char flags[16];
    uint32_t seq = seg->seq - d->isn[side];
    int w = snprintf(out, n, "%s %u", tcp_flags_string(seg->flags, flags), seq);
    if (seg->payload_len) w += snprintf(out + w, n - (size_t)w, ":%u(%zu)",
                                        seq + (uint32_t)seg->payload_len, seg->payload_len);
    if (seg->flags & TCP_FLAG_ACK)
        w += snprintf(out + w, n - (size_t)w, " ack %u", seg->ack - d->isn[!side]);
    snprintf(out + w, n - (size_t)w, " win %u", seg->window);
}

static int collect_sent(void *ctx, const uint8_t *pkt, size_t len, uint64_t t)
{
    struct capture_scan *s = ctx;
    struct ipv4_header ip;
    struct tcp_segment seg;
    if (wire_ipv4_parse(pkt, len, false, &ip) != FINACK_DROP_NONE || ip.src != s->self) return 0;
    if (ip.protocol != IPPROTO_TCP_ ||
        wire_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, false, &seg) != FINACK_DROP_NONE)
        return 0;
    struct event *e = add_event(s->d, t, EV_SEGMENT, s->side);
    if (!e) return 1;
    describe(s->d, s->side, &seg, e->text, sizeof e->text);
    e->lost = !s->arrived[ip.id];
    return 0;
}

static int event_order(const void *a, const void *b)
{
    const struct event *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x < y ? -1 : 1; /* stable: keep the order recorded */
}

static void print_arrow(const struct event *e)
{
    char line[128];
    size_t width = 46;
    if (e->side == 0) {
        snprintf(line, sizeof line, " %s ", e->text);
        size_t n = strlen(line);
        while (n < width - 1) line[n++] = '-';
        line[n++] = e->lost ? 'x' : '>';
        line[n] = 0;
    } else {
        char body[112];
        snprintf(body, sizeof body, " %s ", e->text);
        size_t pad = strlen(body) + 1 < width ? width - strlen(body) - 1 : 0;
        line[0] = e->lost ? 'x' : '<';
        memset(line + 1, '-', pad);
        snprintf(line + 1 + pad, sizeof line - 1 - pad, "%s", body);
    }
    printf("%10.3f  %-*s %s%s\n", (double)e->t / 1000.0, COLUMN, "", line,
           e->lost ? "  (lost)" : "");
}

static void print_ladder(struct demo *d)
{
    qsort(d->events, d->count, sizeof d->events[0], event_order);
    printf("%10s  %-*s %-46s %s\n", "time (ms)", COLUMN, "client 10.0.0.1", "",
           "server 10.0.0.2:80");
    for (size_t i = 0; i < d->count; i++) {
        const struct event *e = &d->events[i];
        if (e->kind == EV_SEGMENT) {
            print_arrow(e);
        } else if (e->side == 0) {
            printf("%10.3f  %-*s\n", (double)e->t / 1000.0, COLUMN, e->text);
        } else {
            printf("%10.3f  %-*s %-46s %s\n", (double)e->t / 1000.0, COLUMN, "", "", e->text);
        }
    }
}

struct options {
    uint64_t seed, bytes;
    double loss;
    finack_time_t delay;
    const char *pcap;
};

static void parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'}, {"loss", required_argument, NULL, 'l'},
        {"delay", required_argument, NULL, 'd'}, {"bytes", required_argument, NULL, 'b'},
        {"pcap", required_argument, NULL, 'p'}, {NULL, 0, NULL, 0}};
    *o = (struct options){.seed = 1, .bytes = 12000, .loss = 0.02, .delay = FINACK_MSEC(10)};
    int c;
    while ((c = tool_next_option(argc, argv, longopts)) != -1) {
        switch (c) {
        case 's': o->seed = tool_parse_uint("--seed", optarg, 0, UINT64_MAX); break;
        case 'b': o->bytes = tool_parse_uint("--bytes", optarg, 1, 100u << 20); break;
        case 'd': o->delay = FINACK_MSEC(tool_parse_uint("--delay", optarg, 0, 10000)); break;
        case 'p': o->pcap = optarg; break;
        case 'l': {
            char *end;
            o->loss = strtod(optarg, &end);
            if (*end || end == optarg || !(o->loss >= 0 && o->loss <= 0.5))
                tool_usage_error("--loss: '%s' is not a probability in 0..0.5", optarg);
            break;
        }
        }
    }
}

static struct finack_stack *new_stack(const char *name, uint64_t seed)
{
    struct finack_stack_config cfg;
    finack_stack_config_init(&cfg);
    cfg.name = name;
    cfg.secret[0] = seed * 0x9e3779b97f4a7c15ull + 1;
    cfg.secret[1] = seed ^ 0x5851f42d4c957f2dull;
    struct finack_stack *s = NULL;
    return finack_stack_create(&s, &cfg) == 0 ? s : NULL;
}

/* The application on both ends: the client sends its bytes and half-closes;
 * the server reads to EOF, answers with a short reply and closes. */
static int run_connection(struct finack_sim *sim, struct finack_stack *c, struct finack_stack *s,
                          uint64_t total, uint64_t *received)
{
    int lfd = finack_socket(s, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(80)};
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(80),
                              .sin_addr.s_addr = htonl(SERVER_IP)};
    if (lfd < 0 || finack_bind(s, lfd, (struct sockaddr *)&any, sizeof any) ||
        finack_listen(s, lfd, 8))
        return -EINVAL;
    int cfd = finack_socket(c, AF_INET, SOCK_STREAM, 0);
    int err = finack_connect(c, cfd, (struct sockaddr *)&dst, sizeof dst);
    if (err != -EINPROGRESS) return err;
    uint8_t buf[4096];
    memset(buf, 'x', sizeof buf);
    uint64_t sent = 0;
    int afd = -1;
    bool client_eof = false, server_eof = false;
    finack_time_t limit = FINACK_SEC(600);
    while (finack_sim_now(sim) < limit && !(client_eof && server_eof)) {
        if (afd < 0) afd = finack_accept(s, lfd, NULL, NULL);
        if (sent < total) {
            size_t n = total - sent < sizeof buf ? (size_t)(total - sent) : sizeof buf;
            ssize_t w = finack_send(c, cfd, buf, n, 0);
            if (w > 0 && (sent += (uint64_t)w) == total) finack_shutdown(c, cfd, SHUT_WR);
        }
        if (afd >= 0 && !server_eof) {
            ssize_t r = finack_recv(s, afd, buf, sizeof buf, 0);
            if (r > 0) *received += (uint64_t)r;
            if (r == 0) {
                server_eof = true;
                finack_send(s, afd, "thanks\n", 7, 0);
                finack_close(s, afd);
            }
        }
        if (!client_eof) {
            uint8_t reply[64];
            ssize_t r = finack_recv(c, cfd, reply, sizeof reply, 0);
            if (r == 0) client_eof = true;
        }
        finack_sim_run_until(sim, finack_sim_now(sim) + 500);
    }
    finack_close(c, cfd);
    finack_close(s, lfd);
    finack_sim_run(sim, finack_sim_now(sim) + FINACK_SEC(300)); /* TIME_WAIT runs out */
    return client_eof && server_eof ? 0 : -ETIMEDOUT;
}

int cmd_demo(int argc, char **argv)
{
    struct options o;
    parse_options(argc, argv, &o);
    static struct demo d;
    struct finack_sim *sim = NULL;
    struct finack_sim_link *link = NULL;
    struct finack_sim_link_config lc;
    finack_sim_link_config_init(&lc);
    lc.a_to_b.latency = lc.b_to_a.latency = o.delay;
    lc.a_to_b.loss = lc.b_to_a.loss = o.loss;
    struct finack_stack *client = new_stack("client", o.seed);
    struct finack_stack *server = new_stack("server", o.seed + 1);
    if (!client || !server || finack_sim_create(&sim, o.seed) ||
        finack_sim_link_create(sim, &lc, &link) ||
        finack_pcap_open_memory(&d.capture[0]) || finack_pcap_open_memory(&d.capture[1])) {
        tool_error("cannot set up the simulation: out of memory");
        return TOOL_EXIT_FAILURE;
    }
    finack_stack_add_interface(client, finack_sim_link_end(link, FINACK_SIM_A), CLIENT_IP, 24);
    finack_stack_add_interface(server, finack_sim_link_end(link, FINACK_SIM_B), SERVER_IP, 24);
    finack_sim_link_attach(link, FINACK_SIM_A, client);
    finack_sim_link_attach(link, FINACK_SIM_B, server);
    finack_sim_link_capture(link, FINACK_SIM_A, d.capture[0]);
    finack_sim_link_capture(link, FINACK_SIM_B, d.capture[1]);
    finack_sim_add_stack(sim, client);
    finack_sim_add_stack(sim, server);
    struct side_ctx sides[2] = {{&d, 0}, {&d, 1}};
    finack_stack_on_state_change(client, on_state, &sides[0]);
    finack_stack_on_state_change(server, on_state, &sides[1]);

    printf("finack demo: two stacks on a simulated link, %.0f ms each way, %.0f%% loss, "
           "seed %llu\n\n",
           (double)o.delay / 1000.0, o.loss * 100, (unsigned long long)o.seed);
    uint64_t received = 0;
    int err = run_connection(sim, client, server, o.bytes, &received);

    static uint8_t arrived[2][65536];
    uint32_t self[2] = {CLIENT_IP, SERVER_IP};
    for (int side = 0; side < 2; side++) {
        size_t len;
        const uint8_t *bytes = finack_pcap_bytes(d.capture[!side], &len);
        struct capture_scan scan = {&d, side, self[!side], arrived[side]};
        finack_pcap_read_memory(bytes, len, mark_arrivals, &scan);
    }
    for (int side = 0; side < 2; side++) {
        size_t len;
        const uint8_t *bytes = finack_pcap_bytes(d.capture[side], &len);
        struct capture_scan scan = {&d, side, self[side], arrived[side]};
        finack_pcap_read_memory(bytes, len, collect_sent, &scan);
    }
    print_ladder(&d);
    printf("\n%llu of %llu bytes delivered in order; the client ended in TIME_WAIT for 2*MSL "
           "(120 s of virtual time), the server went CLOSE_WAIT -> LAST_ACK -> CLOSED.\n",
           (unsigned long long)received, (unsigned long long)o.bytes);
    tool_print_counters(stdout, client, "client counters");
    if (o.pcap) {
        size_t len;
        const uint8_t *bytes = finack_pcap_bytes(d.capture[0], &len);
        FILE *f = fopen(o.pcap, "wb");
        if (!f || fwrite(bytes, 1, len, f) != len) {
            tool_error("cannot write %s: %s", o.pcap, strerror(errno));
            if (f) fclose(f);
            err = -EIO;
        } else {
            fclose(f);
        }
    }
    finack_pcap_close(d.capture[0]);
    finack_pcap_close(d.capture[1]);
    finack_sim_destroy(sim);
    finack_stack_destroy(client);
    finack_stack_destroy(server);
    if (err) {
        tool_error("the connection did not complete: %s", tool_strerror(err));
        return TOOL_EXIT_FAILURE;
    }
    return received == o.bytes ? TOOL_EXIT_OK : TOOL_EXIT_FAILURE;
}
